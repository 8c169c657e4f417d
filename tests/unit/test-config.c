/*
 * test-config.c: src/common/config.c.  The product defaults; a file with
 * comments, blank lines and odd spacing; every key landing in its own
 * field; and each way a file can be wrong, with the exact "path:line:
 * reason" it must produce (STYLE.md point 3).  Files are written with
 * mkstemp under /tmp and removed afterwards.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

#define KIB 1024UL
#define MIB (1024UL * 1024UL)

static char conf_path[64];

/* Writes text (len bytes) to a fresh temp file; its name is in conf_path. */
static int
write_conf(const char *text, size_t len)
{
	int fd;
	size_t off = 0;
	ssize_t n;

	snprintf(conf_path, sizeof(conf_path), "/tmp/pycage-test-config-XXXXXX");
	if ((fd = mkstemp(conf_path)) == -1)
		return -1;
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) <= 0) {
			close(fd);
			unlink(conf_path);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

/* config_load on text after config_defaults; err holds the message. */
static int
load_text(struct config *c, const char *text, size_t len, char *err, size_t errlen)
{
	int rc;

	config_defaults(c);
	err[0] = '\0';
	if (write_conf(text, len) == -1) {
		snprintf(err, errlen, "test setup: mkstemp/write: %s",
		    strerror(errno));
		return -2;
	}
	rc = config_load(c, conf_path, err, errlen);
	unlink(conf_path);
	return rc;
}

static void
test_defaults(void)
{
	struct config c;

	memset(&c, 0x5a, sizeof(c));
	config_defaults(&c);
	is_int(c.memory_mb, 512, "default memory_mb");
	is_int(c.cpu_millis, 500, "default cpu_millis");
	is_int(c.cpu_period_ms, 1000, "default cpu_period_ms");
	is_int(c.pids_limit, 64, "default pids_limit");
	is_int(c.timeout_default_ms, 10000, "default timeout_default_ms");
	is_int(c.timeout_max_ms, 30000, "default timeout_max_ms");
	is_int(c.output_max_bytes, 1 * MIB, "default output_max_bytes 1 MiB");
	is_int(c.code_max_bytes, 256 * KIB, "default code_max_bytes 256 KiB");
	is_int(c.stdin_max_bytes, 1 * MIB, "default stdin_max_bytes 1 MiB");
	is_int(c.body_max_bytes, 16 * MIB,
	    "default body_max_bytes 16 MiB "
	    "(code, stdin and 8 MiB of files as base64)");
	is_int(c.files_max_bytes, 8 * MIB, "default files_max_bytes 8 MiB");
	is_str(c.user, "65534:65534", "default user nobody:nogroup, numeric");
	is_str(c.runtime, "", "default runtime: engine default");
	is_int(c.socket_mode, 0660, "default socket_mode 0660");
	is_int(c.log_level, LOG_LEVEL_INFO, "default log_level info");
	is_str(c.api_keys_file, "", "default api_keys_file: none, no keys");
	is_int(c.client_share, 0, "default client_share 0 (half)");
	is_int(config_client_share(&c), 2, "a client's share: half of 4 slots");
	c.max_executions = 1;
	is_int(config_client_share(&c), 1, "half of 1 slot is at least 1");
	c.max_executions = 7;
	is_int(config_client_share(&c), 3, "half of 7 slots is 3");
	c.client_share = 7;
	is_int(config_client_share(&c), 7, "a set client_share is kept");
}

/* An empty file changes nothing. */
static void
test_empty_file(void)
{
	struct config c, d;
	char err[512];

	config_defaults(&d);
	is_int(load_text(&c, "", 0, err, sizeof(err)), 0, "empty file loads");
	ok(memcmp(&c, &d, sizeof(c)) == 0, "empty file: exactly the defaults");
	is_int(load_text(&c, "\n\n  \t\n", 5, err, sizeof(err)), 0,
	    "blank lines only load");
	ok(memcmp(&c, &d, sizeof(c)) == 0, "blank lines: exactly the defaults");
}

/* Comments, blank lines, tabs, CRLF, no final newline; each key set. */
static void
test_good_file(void)
{
	static const char text[] = "# pycage.conf for the test\n"
				   "\n"
				   "   # an indented comment\n"
				   "listen = 127.0.0.1:9000\n"
				   "socket_mode = 0600\n"
				   "socket_group=www-data\n"
				   "pidfile =\n"
				   "\tworkers\t=\t8\t\n"
				   "max_executions   =   2\r\n"
				   "queue_wait_ms = 0\n"
				   "docker_socket = /run/docker.sock\n"
				   "docker_call_timeout_ms = 100\n"
				   "image = pycage-sandbox:test\n"
				   "runtime = runsc\n"
				   "instance = unit\n"
				   "user = 1000:1001\n"
				   "timeout_default_s = 5\n"
				   "timeout_max_s = 60\n"
				   "memory_mb = 16\n"
				   "cpu_millis = 64000\n"
				   "cpu_period_ms = 250\n"
				   "pids_limit = 4096\n"
				   "tmpfs_mb = 1\n"
				   "nofile = 65536\n"
				   "fsize_mb = 1024\n"
				   "output_max_bytes = 67108864\n"
				   "body_max_bytes = 1024\n"
				   "code_max_bytes = 1\n"
				   "stdin_max_bytes = 0\n"
				   "janitor_interval_s = 86400\n"
				   "selfcheck_max_age_s = 1\n"
				   "log_level = debug"; /* no final newline */
	struct config c, expected;
	char err[512];

	config_defaults(&expected);
	snprintf(expected.listen, sizeof(expected.listen), "127.0.0.1:9000");
	expected.socket_mode = 0600;
	snprintf(expected.socket_group, sizeof(expected.socket_group),
	    "www-data");
	expected.pidfile[0] = '\0';
	expected.workers = 8;
	expected.max_executions = 2;
	expected.queue_wait_ms = 0;
	snprintf(expected.docker_socket, sizeof(expected.docker_socket),
	    "/run/docker.sock");
	expected.docker_call_timeout_ms = 100;
	snprintf(expected.image, sizeof(expected.image), "pycage-sandbox:test");
	snprintf(expected.runtime, sizeof(expected.runtime), "runsc");
	snprintf(expected.instance, sizeof(expected.instance), "unit");
	snprintf(expected.user, sizeof(expected.user), "1000:1001");
	expected.timeout_default_ms = 5000;
	expected.timeout_max_ms = 60000;
	expected.memory_mb = 16;
	expected.cpu_millis = 64000;
	expected.cpu_period_ms = 250;
	expected.pids_limit = 4096;
	expected.tmpfs_mb = 1;
	expected.nofile = 65536;
	expected.fsize_mb = 1024;
	expected.output_max_bytes = 64 * MIB;
	expected.body_max_bytes = 1024;
	expected.code_max_bytes = 1;
	expected.stdin_max_bytes = 0;
	expected.janitor_interval_s = 86400;
	expected.selfcheck_max_age_s = 1;
	expected.log_level = LOG_LEVEL_DEBUG;

	is_int(load_text(&c, text, sizeof(text) - 1, err, sizeof(err)), 0,
	    "a full file with comments, blanks, tabs and CRLF loads");
	is_str(err, "", "no error text");
	is_str(c.listen, "127.0.0.1:9000", "listen");
	is_int(c.socket_mode, 0600, "socket_mode is octal");
	is_str(c.socket_group, "www-data",
	    "socket_group without spaces round '='");
	is_str(c.pidfile, "", "pidfile may be empty");
	is_int(c.workers, 8, "workers with tabs");
	is_int(c.max_executions, 2, "max_executions with CRLF");
	is_str(c.user, "1000:1001", "user");
	is_str(c.runtime, "runsc", "runtime");
	is_int(c.timeout_default_ms, 5000, "timeout_default_s = 5 -> 5000 ms");
	is_int(c.timeout_max_ms, 60000, "timeout_max_s = 60 -> 60000 ms");
	is_int(c.output_max_bytes, 64 * MIB, "output_max_bytes at its maximum");
	is_int(c.log_level, LOG_LEVEL_DEBUG,
	    "log_level on the last line, no newline");
	/* Catches a key writing into its neighbour's field. */
	ok(memcmp(&c, &expected, sizeof(c)) == 0,
	    "every field as expected, no other field touched");
}

/* A failing file and the exact message after the path. */
struct bad_case {
	const char *name;
	const char *text;
	const char *reason; /* err is conf_path followed by this */
};

static const struct bad_case bad_cases[] = {
	{ "unknown key", "workers = 2\n# fine\nbogus = 1\n",
	    ":3: unknown key 'bogus'" },
	{ "key in other case", "Workers = 2\n", ":1: unknown key 'Workers'" },
	{ "key with a space inside", "work ers = 2\n",
	    ":1: unknown key 'work ers'" },
	{ "empty key", "= 2\n", ":1: unknown key ''" },
	{ "missing '='", "\n\nworkers 8\n", ":3: expected 'key = value'" },
	{ "section header", "[pycage]\n", ":1: expected 'key = value'" },
	{ "workers = 0", "workers = 0\n",
	    ":1: workers: '0' is not a number in [1, 256]" },
	{ "workers = 257", "workers = 257\n",
	    ":1: workers: '257' is not a number in [1, 256]" },
	{ "selfcheck_max_age_s = 0", "selfcheck_max_age_s = 0\n",
	    ":1: selfcheck_max_age_s: '0' is not a number in [1, 86400]" },
	{ "workers negative", "workers = -1\n",
	    ":1: workers: '-1' is not a number in [1, 256]" },
	{ "workers with a plus sign", "workers = +5\n",
	    ":1: workers: '+5' is not a number in [1, 256]" },
	{ "trailing junk 12x", "workers = 12x\n",
	    ":1: workers: '12x' is not a number in [1, 256]" },
	{ "hex is not decimal", "workers = 0x10\n",
	    ":1: workers: '0x10' is not a number in [1, 256]" },
	{ "trailing comment on a value line", "workers = 8 # eight\n",
	    ":1: workers: '8 # eight' is not a number in [1, 256]" },
	{ "empty number", "workers =\n",
	    ":1: workers: '' is not a number in [1, 256]" },
	{ "2^32 + 1 does not wrap to 1", "workers = 4294967297\n",
	    ":1: workers: '4294967297' is not a number in [1, 256]" },
	{ "2^64 overflows", "workers = 18446744073709551616\n",
	    ":1: workers: '18446744073709551616' is not a number in [1, 256]" },
	{ "negative wrapping to 2^64 - 1", "stdin_max_bytes = -0\n",
	    ":1: stdin_max_bytes: '-0' is not a number in [0, 1048576]" },
	/* The runner refuses more (runner/protocol.h): a larger setting
	 * would answer 500 sandbox_failed instead of failing here. */
	{ "code_max_bytes over the runner's cap", "code_max_bytes = 262145\n",
	    ":1: code_max_bytes: '262145' is not a number in [1, 262144]" },
	{ "stdin_max_bytes over the runner's cap", "stdin_max_bytes = 1048577\n",
	    ":1: stdin_max_bytes: '1048577' is not a number in [0, 1048576]" },
	{ "memory_mb below 16", "memory_mb = 15\n",
	    ":1: memory_mb: '15' is not a number in [16, 65536]" },
	{ "pids_limit 0 (unlimited to Docker)", "pids_limit = 0\n",
	    ":1: pids_limit: '0' is not a number in [8, 4096]" },
	{ "output_max_bytes above 64 MiB", "output_max_bytes = 67108865\n",
	    ":1: output_max_bytes: '67108865' is not a number in [1024, 67108864]" },
	{ "timeout_max_s 3601", "timeout_max_s = 3601\n",
	    ":1: timeout_max_s: '3601' is not a number in [1, 3600]" },
	{ "timeout_default_s 0", "timeout_default_s = 0\n",
	    ":1: timeout_default_s: '0' is not a number in [1, 3600]" },
	{ "socket_mode 0999 is not octal", "socket_mode = 0999\n",
	    ":1: socket_mode: '0999' is not a number in [0, 511]" },
	{ "socket_mode 01000 above 0777", "socket_mode = 01000\n",
	    ":1: socket_mode: '01000' is not a number in [0, 511]" },
	{ "socket_mode in hex", "socket_mode = 0x1ff\n",
	    ":1: socket_mode: '0x1ff' is not a number in [0, 511]" },
	{ "user 0:0", "user = 0:0\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user 0:65534", "user = 0:65534\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user 65534:0", "user = 65534:0\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user nobody", "user = nobody\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user nobody:nogroup", "user = nobody:nogroup\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user 65534 without gid", "user = 65534\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user 65534:", "user = 65534:\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user :65534", "user = :65534\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user 1:2:3", "user = 1:2:3\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user -1:65534", "user = -1:65534\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user uid above 2^31 - 1", "user = 2147483648:1\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "user uid 2^32 (wraps to 0 as 32 bits)", "user = 4294967296:1\n",
	    ":1: user: must be a numeric uid:gid, neither 0" },
	{ "empty image", "image =\n",
	    ":1: image: empty or longer than 255 bytes" },
	{ "empty user", "user = \n", ":1: user: empty or longer than 255 bytes" },
	{ "log_level unknown", "log_level = verbose\n",
	    ":1: log_level: one of error, warn, info, debug" },
	{ "log_level in capitals", "log_level = DEBUG\n",
	    ":1: log_level: one of error, warn, info, debug" },
	{ "pool_preload with a semicolon", "pool_preload = numpy;os\n",
	    ":1: pool_preload: module names [A-Za-z0-9_.] separated by commas" },
	{ "pool_preload with a space", "pool_preload = numpy, pandas\n",
	    ":1: pool_preload: module names [A-Za-z0-9_.] separated by commas" },
	{ "pool_size 65", "pool_size = 65\n",
	    ":1: pool_size: '65' is not a number in [0, 64]" },
	{ "uid_base 999 (system users)", "uid_base = 999\n",
	    ": uid_base must be 0 or at least 1000 (clear of system users)" },
	{ "uid_base 1", "uid_base = 1\n",
	    ": uid_base must be 0 or at least 1000 (clear of system users)" },
	{ "first error stops the load", "workers = 0\nbogus = 1\n",
	    ":1: workers: '0' is not a number in [1, 256]" },
	{ "timeout_default_s above timeout_max_s",
	    "timeout_default_s = 31\n"
	    "timeout_max_s = 30\n",
	    ": timeout_default_s is above timeout_max_s" },
	{ "client_share above max_executions",
	    "max_executions = 4\n"
	    "client_share = 5\n",
	    ": client_share is above max_executions" },
	{ "client_share 257", "client_share = 257\n",
	    ":1: client_share: '257' is not a number in [0, 256]" },
	{ "timeout_max_s below the default 10 s", "timeout_max_s = 5\n",
	    ": timeout_default_s is above timeout_max_s" },
	{ "cpu_period_ms 0", "cpu_period_ms = 0\n",
	    ":1: cpu_period_ms: '0' is not a number in [1, 1000]" },
	{ "cpu_period_ms above the kernel's 1 s", "cpu_period_ms = 1001\n",
	    ":1: cpu_period_ms: '1001' is not a number in [1, 1000]" },
	{ "a CPU quota under 1 ms", "cpu_millis = 10\ncpu_period_ms = 99\n",
	    ": cpu_millis x cpu_period_ms is under 1000 (a CPU quota under 1 ms)" },
	{ "listen on every interface without saying so", "listen = :9000\n",
	    ":1: listen: '' is not an IPv4 address (a.b.c.d:port; 0.0.0.0 for "
	    "every interface)" },
	{ "listen on a host name", "listen = localhost:9000\n",
	    ":1: listen: 'localhost' is not an IPv4 address (a.b.c.d:port; "
	    "0.0.0.0 for every interface)" },
	{ "listen on IPv6", "listen = [::1]:9000\n",
	    ":1: listen: '[::1]' is not an IPv4 address (a.b.c.d:port; "
	    "0.0.0.0 for every interface)" },
	{ "listen without a port", "listen = 127.0.0.1\n",
	    ":1: listen: a unix socket path (starting with /) or a.b.c.d:port" },
	{ "listen on a relative path", "listen = pycage.sock\n",
	    ":1: listen: a unix socket path (starting with /) or a.b.c.d:port" },
	{ "listen on a unix path with a colon", "listen = /run/pycage:9000\n",
	    ":1: listen: a unix socket path may not contain ':'" },
	{ "listen port 0", "listen = 127.0.0.1:0\n",
	    ":1: listen: port '0' is not in [1, 65535]" },
	{ "listen port 65536", "listen = 127.0.0.1:65536\n",
	    ":1: listen: port '65536' is not in [1, 65535]" },
	{ "listen port empty", "listen = 127.0.0.1:\n",
	    ":1: listen: port '' is not in [1, 65535]" },
	{ "listen on a unix path of 108 bytes",
	    "listen = /"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaa\n",
	    ":1: listen: a unix socket path is at most 107 bytes" },
	{ "listen_allow empty", "listen_allow =\n",
	    ":1: listen_allow: empty or longer than 255 bytes" },
	{ "listen_allow a host name", "listen_allow = nginx\n",
	    ":1: listen_allow: up to 16 IPv4 addresses or networks (a.b.c.d or a.b.c.d/n), separated by commas" },
	{ "listen_allow with a space", "listen_allow = 10.0.0.1, 10.0.0.2\n",
	    ":1: listen_allow: up to 16 IPv4 addresses or networks (a.b.c.d or a.b.c.d/n), separated by commas" },
	{ "listen_allow trailing comma", "listen_allow = 10.0.0.1,\n",
	    ":1: listen_allow: up to 16 IPv4 addresses or networks (a.b.c.d or a.b.c.d/n), separated by commas" },
	{ "listen_allow empty item", "listen_allow = 10.0.0.1,,10.0.0.2\n",
	    ":1: listen_allow: up to 16 IPv4 addresses or networks (a.b.c.d or a.b.c.d/n), separated by commas" },
	{ "listen_allow /33", "listen_allow = 10.0.0.0/33\n",
	    ":1: listen_allow: up to 16 IPv4 addresses or networks (a.b.c.d or a.b.c.d/n), separated by commas" },
	{ "listen_allow / without bits", "listen_allow = 10.0.0.0/\n",
	    ":1: listen_allow: up to 16 IPv4 addresses or networks (a.b.c.d or a.b.c.d/n), separated by commas" },
	{ "listen_allow 17 entries",
	    "listen_allow = 10.0.0.1,10.0.0.2,10.0.0.3,"
	    "10.0.0.4,10.0.0.5,10.0.0.6,10.0.0.7,10.0.0.8,10.0.0.9,10.0.0.10,"
	    "10.0.0.11,10.0.0.12,10.0.0.13,10.0.0.14,10.0.0.15,10.0.0.16,"
	    "10.0.0.17\n",
	    ":1: listen_allow: up to 16 IPv4 addresses or networks (a.b.c.d or a.b.c.d/n), separated by commas" },
};

static void
test_bad_files(void)
{
	char err[512], expected[600];
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct config c;
		int rc;

		rc = load_text(&c, b->text, strlen(b->text), err, sizeof(err));
		snprintf(expected, sizeof(expected), "%s%s", conf_path,
		    b->reason);
		if (!is_int(rc, -1, "refused: %s", b->name))
			continue;
		is_str(err, expected, "message: %s", b->name);
	}
}

/* The numeric value a key ends up as, read back from its field. */
static unsigned long long
field_value(const struct config *c, const char *key)
{
	if (strcmp(key, "workers") == 0)
		return c->workers;
	if (strcmp(key, "socket_mode") == 0)
		return c->socket_mode;
	if (strcmp(key, "memory_mb") == 0)
		return c->memory_mb;
	if (strcmp(key, "cpu_millis") == 0)
		return c->cpu_millis;
	if (strcmp(key, "cpu_period_ms") == 0)
		return c->cpu_period_ms;
	if (strcmp(key, "pids_limit") == 0)
		return c->pids_limit;
	if (strcmp(key, "timeout_default_s") == 0)
		return c->timeout_default_ms;
	if (strcmp(key, "timeout_max_s") == 0)
		return c->timeout_max_ms;
	if (strcmp(key, "stdin_max_bytes") == 0)
		return c->stdin_max_bytes;
	if (strcmp(key, "output_max_bytes") == 0)
		return c->output_max_bytes;
	if (strcmp(key, "code_max_bytes") == 0)
		return c->code_max_bytes;
	if (strcmp(key, "uid_base") == 0)
		return c->uid_base;
	return 0xdeadbeef;
}

/* Boundaries that must be accepted, next to the refusals above. */
static void
test_good_values(void)
{
	static const struct {
		const char *text;
		const char *key;
		unsigned long long want;
	} good[] = {
		{ "workers = 1\n", "workers", 1 },
		{ "workers = 256\n", "workers", 256 },
		{ "workers = 0008\n", "workers", 8 }, /* decimal, not octal */
		{ "socket_mode = 0660\n", "socket_mode", 0660 },
		{ "socket_mode = 0777\n", "socket_mode", 0777 },
		{ "socket_mode = 0\n", "socket_mode", 0 },
		{ "socket_mode = 600\n", "socket_mode", 0600 },
		{ "memory_mb = 65536\n", "memory_mb", 65536 },
		{ "cpu_millis = 10\n", "cpu_millis", 10 },
		{ "cpu_period_ms = 1\ncpu_millis = 1000\n", "cpu_period_ms", 1 },
		{ "cpu_period_ms = 100\ncpu_millis = 10\n", "cpu_period_ms", 100 },
		{ "cpu_period_ms = 1000\n", "cpu_period_ms", 1000 },
		{ "pids_limit = 8\n", "pids_limit", 8 },
		{ "timeout_default_s = 30\n", "timeout_default_s", 30000 },
		{ "timeout_max_s = 3600\n", "timeout_max_s", 3600000 },
		{ "timeout_max_s = 10\n", "timeout_max_s", 10000 }, /* = default */
		{ "stdin_max_bytes = 0\n", "stdin_max_bytes", 0 },
		{ "output_max_bytes = 1024\n", "output_max_bytes", 1024 },
		{ "code_max_bytes = 262144\n", "code_max_bytes",
		    PROTOCOL_CODE_MAX_BYTES },
		{ "stdin_max_bytes = 1048576\n", "stdin_max_bytes",
		    PROTOCOL_STDIN_MAX_BYTES },
		{ "uid_base = 0\n", "uid_base", 0 },
		{ "uid_base = 1000\n", "uid_base", 1000 },
	};
	static const char *const users[] = { "65534:65534", "1:1",
		"2147483647:2147483647", "1000:100" };
	struct config c;
	char err[512], text[600];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = load_text(&c, good[i].text, strlen(good[i].text), err,
		    sizeof(err));

		if (!is_int(rc, 0, "accepted: %.*s",
			(int)strlen(good[i].text) - 1, good[i].text))
			diag("error: %s", err);
		is_int(field_value(&c, good[i].key), good[i].want,
		    "value of %.*s", (int)strlen(good[i].text) - 1, good[i].text);
	}
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		snprintf(text, sizeof(text), "user = %s\n", users[i]);
		is_int(load_text(&c, text, strlen(text), err, sizeof(err)), 0,
		    "user %s accepted", users[i]);
		is_str(c.user, users[i], "user %s kept verbatim", users[i]);
	}
}

/* listen as a TCP address, and which peers listen_allow lets in. */
static void
test_listen_tcp(void)
{
	static const struct {
		const char *allow;
		const char *peer;
		bool in;
	} cases[] = {
		{ NULL, "127.0.0.1", true }, /* the default */
		{ NULL, "127.0.0.2", false },
		{ NULL, "10.0.0.1", false },
		{ "10.0.0.4", "10.0.0.4", true },
		{ "10.0.0.4", "10.0.0.5", false },
		{ "10.0.0.4", "127.0.0.1", false }, /* replaces the default */
		{ "10.1.2.0/24", "10.1.2.255", true },
		{ "10.1.2.0/24", "10.1.3.0", false },
		{ "10.1.2.77/24", "10.1.2.1", true }, /* host bits ignored */
		{ "127.0.0.1,192.168.0.0/16", "192.168.200.3", true },
		{ "127.0.0.1,192.168.0.0/16", "192.169.0.1", false },
		{ "0.0.0.0/0", "203.0.113.9", true }, /* everyone, written out */
		{ "10.0.0.1/32", "10.0.0.1", true },
		{ "10.0.0.1/32", "10.0.0.0", false },
		{ "128.0.0.0/1", "200.1.1.1", true },
		{ "128.0.0.0/1", "127.255.255.255", false },
	};
	struct config c;
	struct in_addr peer;
	char text[256], err[512];
	size_t i;
	int rc;

	rc = load_text(&c, "listen = 127.0.0.1:9000\n", 24, err, sizeof(err));
	is_int(rc, 0, "listen = 127.0.0.1:9000 accepted");
	ok(config_listen_tcp(&c), "127.0.0.1:9000 is TCP");
	config_defaults(&c);
	ok(!config_listen_tcp(&c), "the default listen is a unix socket");
	rc = load_text(&c, "listen = 0.0.0.0:65535\n", 23, err, sizeof(err));
	is_int(rc, 0,
	    "listen = 0.0.0.0:65535 accepted (every interface, "
	    "written out)");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].allow == NULL)
			config_defaults(&c);
		else {
			snprintf(text, sizeof(text), "listen_allow = %s\n",
			    cases[i].allow);
			if (!is_int(load_text(&c, text, strlen(text), err,
					sizeof(err)),
				0, "listen_allow = %s accepted", cases[i].allow))
				diag("error: %s", err);
		}
		inet_pton(AF_INET, cases[i].peer, &peer);
		is_int(config_peer_allowed(&c, peer.s_addr), cases[i].in,
		    "listen_allow %s, peer %s: %s",
		    cases[i].allow ? cases[i].allow : "(default)",
		    cases[i].peer, cases[i].in ? "in" : "out");
	}
}

/* CONFIG_STR_MAX - 1 bytes fit; one more is refused, not cut. */
static void
test_string_lengths(void)
{
	struct config c;
	char text[CONFIG_STR_MAX + 32], err[512], expected[600];
	char value[CONFIG_STR_MAX + 1];

	memset(value, 'i', CONFIG_STR_MAX - 1);
	value[CONFIG_STR_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "image = %s\n", value);
	is_int(load_text(&c, text, strlen(text), err, sizeof(err)), 0,
	    "image of 255 bytes accepted");
	is_int(strlen(c.image), CONFIG_STR_MAX - 1,
	    "image of 255 bytes kept whole");

	memset(value, 'i', CONFIG_STR_MAX);
	value[CONFIG_STR_MAX] = '\0';
	snprintf(text, sizeof(text), "\nimage = %s\n", value);
	is_int(load_text(&c, text, strlen(text), err, sizeof(err)), -1,
	    "image of 256 bytes refused");
	snprintf(expected, sizeof(expected),
	    "%s:2: image: empty or longer than 255 bytes", conf_path);
	is_str(err, expected, "image of 256 bytes: message");
	is_str(c.image, "pycage-sandbox:latest",
	    "image of 256 bytes: "
	    "default kept, nothing cut in");
}

/* fgets into 1024 bytes: 1022 characters and the newline fit. */
static void
test_long_lines(void)
{
	struct config c;
	char *text, err[512], expected[600];
	size_t n;

	text = malloc(4096);

	/* A comment of exactly 1022 bytes, then a real line. */
	text[0] = '#';
	memset(text + 1, 'x', 1021);
	n = 1022;
	memcpy(text + n, "\nworkers = 3\n", 14);
	n += 14;
	is_int(load_text(&c, text, n, err, sizeof(err)), 0,
	    "a 1022-byte line is accepted");
	is_int(c.workers, 3, "the line after it is read as its own line");

	/* 1023 bytes: refused, at the right line, not split in two. */
	text[0] = '\n';
	text[1] = '#';
	memset(text + 2, 'x', 1022);
	n = 1024;
	memcpy(text + n, "\nworkers = 3\n", 14);
	n += 14;
	is_int(load_text(&c, text, n, err, sizeof(err)), -1,
	    "a 1023-byte line is refused");
	snprintf(expected, sizeof(expected),
	    "%s:2: line longer than 1022 bytes", conf_path);
	is_str(err, expected, "over-long line: message with its line number");

	/* The tail of an over-long line must not be read as a line: here it
	 * would otherwise set workers = 9. */
	memcpy(text, "#", 1);
	memset(text + 1, ' ', 1022);
	memcpy(text + 1023, "workers = 9\n", 12);
	n = 1035;
	is_int(load_text(&c, text, n, err, sizeof(err)), -1,
	    "an over-long comment hiding 'workers = 9' is refused");
	{
		struct config defaults;

		config_defaults(&defaults);
		is_int(c.workers, defaults.workers,
		    "and the hidden tail did not set workers");
	}

	/* Last line without a newline: 1022 bytes ok, 1023 refused. */
	memcpy(text, "workers = 5", 11);
	memset(text + 11, ' ', 1022 - 11);
	is_int(load_text(&c, text, 1022, err, sizeof(err)), 0,
	    "a final 1022-byte line without newline is accepted");
	is_int(c.workers, 5, "its value is read");
	memset(text + 11, ' ', 1023 - 11);
	is_int(load_text(&c, text, 1023, err, sizeof(err)), -1,
	    "a final 1023-byte line without newline is refused");

	/* 100 KiB on one line. */
	free(text);
	text = malloc(100 * 1024);
	memset(text, 'k', 100 * 1024);
	is_int(load_text(&c, text, 100 * 1024, err, sizeof(err)), -1,
	    "a 100 KiB line is refused");
	snprintf(expected, sizeof(expected),
	    "%s:1: line longer than 1022 bytes", conf_path);
	is_str(err, expected, "100 KiB line: message");
	free(text);
}

static void
test_missing_file(void)
{
	struct config c;
	char err[512], small[8];

	config_defaults(&c);
	is_int(config_load(&c, "/nonexistent/pycage.conf", err, sizeof(err)),
	    -1, "missing file refused");
	is_str(err, "/nonexistent/pycage.conf: No such file or directory",
	    "missing file: path and errno text");
	/* fopen() of a directory succeeds on Linux and fgets() then fails
	 * with EISDIR; the loop reads that as end of file. */
	is_int(config_load(&c, "/tmp", err, sizeof(err)), -1,
	    "a directory is refused");
	is_int(config_load(&c, "/nonexistent/pycage.conf", small, sizeof(small)),
	    -1, "missing file with an 8-byte error buffer");
	is_str(small, "/nonexi", "error text cut to the buffer, NUL-terminated");
}

/* config_set is public: the same checks without a file. */
static void
test_config_set(void)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	struct config c;
	char err[256];
	size_t i;

	config_defaults(&c);
	for (i = 0; i < 4; i++) {
		is_int(config_set(&c, "log_level", levels[i], err, sizeof(err)),
		    0, "log_level %s", levels[i]);
		is_int(c.log_level, i, "log_level %s -> %zu", levels[i], i);
	}
	is_int(config_set(&c, "runtime", "", err, sizeof(err)), 0,
	    "runtime may be empty");
	is_int(config_set(&c, "listen", "", err, sizeof(err)), -1,
	    "listen may not be empty");
	is_str(err, "listen: empty or longer than 255 bytes",
	    "listen empty: message");
	is_int(config_set(&c, "timeout_max_ms", "30000", err, sizeof(err)), -1,
	    "the field name timeout_max_ms is not a key (seconds in the file)");
	is_str(err, "unknown key 'timeout_max_ms'", "timeout_max_ms: message");
	is_int(config_set(&c, "log_level", "", err, sizeof(err)), -1,
	    "empty log_level refused");

	/* Whitespace inside the user's value is not a numeric uid:gid:
	 * Docker would look " 65534" up as a group name in the image. */
	is_int(config_set(&c, "user", "65534: 65534", err, sizeof(err)), -1,
	    "user '65534: 65534' refused");
	config_defaults(&c);
	is_int(config_set(&c, "user", "65534 :65534", err, sizeof(err)), -1,
	    "user '65534 :65534' refused");
}

/*
 * config_load_files: the seccomp profile is read at start and must be a
 * JSON object of at most 256 KiB; "" means the engine's own profile.
 */
static void
test_load_files(void)
{
	static const char profile[] = "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}\n";
	struct config c;
	char err[512], expected[600], *big;
	size_t n;

	config_defaults(&c);
	is_str(c.seccomp_profile, "/etc/pycage/seccomp.json",
	    "default seccomp_profile path");
	ok(c.seccomp_json == NULL, "no profile text before config_load_files");

	c.seccomp_profile[0] = '\0';
	is_int(config_load_files(&c, err, sizeof(err)), 0,
	    "empty seccomp_profile: nothing to load");
	ok(c.seccomp_json == NULL, "empty seccomp_profile: no text");

	snprintf(c.seccomp_profile, sizeof(c.seccomp_profile),
	    "/nonexistent/seccomp.json");
	is_int(config_load_files(&c, err, sizeof(err)), -1,
	    "missing seccomp profile refused");
	is_str(err,
	    "seccomp_profile /nonexistent/seccomp.json: No such file or "
	    "directory",
	    "missing seccomp profile: message");

	if (write_conf(profile, sizeof(profile) - 1) == 0) {
		snprintf(c.seccomp_profile, sizeof(c.seccomp_profile), "%s",
		    conf_path);
		is_int(config_load_files(&c, err, sizeof(err)), 0,
		    "a JSON object profile loads");
		is_str(c.seccomp_json, profile,
		    "the profile's text is kept whole");
		/* Loading again replaces, not leaks, the text. */
		is_int(config_load_files(&c, err, sizeof(err)), 0, "loads twice");
		unlink(conf_path);
		free(c.seccomp_json);
		c.seccomp_json = NULL;
	}

	{
		static const struct {
			const char *name, *text;
		} bad[] = {
			{ "a JSON array", "[]" },
			{ "a JSON string", "\"x\"" },
			{ "not JSON", "defaultAction: allow" },
			{ "an empty file", "" },
			{ "an object and trailing bytes", "{} x" },
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (write_conf(bad[i].text, strlen(bad[i].text)) == -1)
				continue;
			snprintf(c.seccomp_profile, sizeof(c.seccomp_profile),
			    "%s", conf_path);
			is_int(config_load_files(&c, err, sizeof(err)), -1,
			    "seccomp profile refused: %s", bad[i].name);
			snprintf(expected, sizeof(expected),
			    "seccomp_profile %s: not a JSON object", conf_path);
			is_str(err, expected, "seccomp profile message: %s",
			    bad[i].name);
			ok(c.seccomp_json == NULL, "no text kept: %s",
			    bad[i].name);
			unlink(conf_path);
		}
	}

	/* 256 KiB is the limit: a valid object one byte over is refused. */
	for (n = 256 * KIB; n <= 256 * KIB + 1; n++) {
		big = malloc(n);
		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		if (write_conf(big, n) == 0) {
			snprintf(c.seccomp_profile, sizeof(c.seccomp_profile),
			    "%s", conf_path);
			is_int(config_load_files(&c, err, sizeof(err)),
			    n == 256 * KIB ? 0 : -1,
			    "seccomp profile of %zu bytes %s", n,
			    n == 256 * KIB ? "loads" : "refused");
			unlink(conf_path);
			free(c.seccomp_json);
			c.seccomp_json = NULL;
		}
		free(big);
	}
}

/* Only the runtime named "runsc" is gVisor; the rest fail closed in the
 * self-check rather than being guessed at. */
static void
test_gvisor(void)
{
	static const struct {
		const char *runtime;
		bool gvisor;
	} cases[] = {
		{ "", false },
		{ "runc", false },
		{ "runsc", true },
		{ "runsc-kvm", false },
		{ "RUNSC", false },
		{ "runs", false },
	};
	struct config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_defaults(&c);
		if (config_set(&c, "runtime", cases[i].runtime, err,
			sizeof(err)) == -1) {
			ok(0, "runtime = %s accepted: %s", cases[i].runtime, err);
			continue;
		}
		ok(config_gvisor(&c) == cases[i].gvisor, "runtime = \"%s\": %s",
		    cases[i].runtime, cases[i].gvisor ? "gVisor" : "not gVisor");
	}
	config_defaults(&c);
	ok(!config_gvisor(&c), "the default runtime is not gVisor");
}

/*
 * docker_host: the unix socket (plain path or unix://), or TCP only with
 * all three TLS files; plain TCP is refused with the reason.  Then the
 * executor's start-up check of the files' owner and modes.
 */
static void
test_docker_host(void)
{
	static const char tls[] =
	    "docker_tls_ca = /x/ca.pem\n"
	    "docker_tls_cert = /x/cert.pem\ndocker_tls_key = /x/key.pem\n";
	struct config c;
	char err[512], text[1024], dir[] = "/tmp/pycage-test-tls-XXXXXX";
	char ca[128], cert[128], key[128];
	FILE *f;

	ok(load_text(&c, "", 0, err, sizeof(err)) == 0 &&
		strcmp(c.docker_socket, "/var/run/docker.sock") == 0 &&
		c.docker_tcp_url[0] == '\0',
	    "no docker_host: the default socket");
	snprintf(text, sizeof(text), "docker_host = unix:///run/other.sock\n");
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == 0 &&
		strcmp(c.docker_socket, "/run/other.sock") == 0 &&
		c.docker_tcp_url[0] == '\0',
	    "docker_host unix:// sets the socket: %s", err);
	snprintf(text, sizeof(text), "docker_socket = /run/d.sock\n");
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == 0 &&
		strcmp(c.docker_socket, "/run/d.sock") == 0,
	    "docker_socket alone still works");
	snprintf(text, sizeof(text), "docker_host = tcp://127.0.0.1:2376\n%s",
	    tls);
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == 0 &&
		strcmp(c.docker_tcp_url, "https://127.0.0.1:2376") == 0,
	    "tcp:// with the three TLS files: https://127.0.0.1:2376 (%s)", err);
	snprintf(text, sizeof(text),
	    "docker_host = tcp://engine-2.example:2376\n%s", tls);
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == 0 &&
		strcmp(c.docker_tcp_url, "https://engine-2.example:2376") == 0,
	    "tcp:// with a host name (%s)", err);
	snprintf(text, sizeof(text), "docker_host = tcp://127.0.0.1:2375\n");
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == -1 &&
		strstr(err, "plain TCP to the Docker engine is refused") != NULL &&
		strstr(err, "--tlsverify") != NULL,
	    "plain TCP refused, saying why: %s", err);
	snprintf(text, sizeof(text),
	    "docker_host = tcp://127.0.0.1:2376\n"
	    "docker_tls_ca = /x/ca.pem\ndocker_tls_key = /x/key.pem\n");
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == -1 &&
		strstr(err, "plain TCP to the Docker engine is refused") != NULL,
	    "TCP without a client certificate refused: %s", err);
	snprintf(text, sizeof(text), "%s", tls);
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == -1 &&
		strstr(err, "go with docker_host = tcp://") != NULL,
	    "TLS files without tcp:// refused: %s", err);
	snprintf(text, sizeof(text), "docker_host = http://127.0.0.1:2376\n%s",
	    tls);
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == -1 &&
		strstr(err, "unix:///path or tcp://host:port") != NULL,
	    "another scheme refused: %s", err);
	snprintf(text, sizeof(text), "docker_host = tcp://a/b:2376\n%s", tls);
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == -1,
	    "a host with a '/' refused: %s", err);
	snprintf(text, sizeof(text), "docker_host = tcp://127.0.0.1:0\n%s", tls);
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == -1,
	    "port 0 refused: %s", err);
	snprintf(text, sizeof(text), "docker_host = unix://relative.sock\n");
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == -1,
	    "a relative unix:// path refused: %s", err);

	/* The executor's check of the files (needs root to own them). */
	if (geteuid() != 0 || mkdtemp(dir) == NULL) {
		ok(1, "# SKIP the TLS files' modes: not root");
		return;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(text, sizeof(text),
	    "docker_host = tcp://127.0.0.1:2376\n"
	    "docker_tls_ca = %s\ndocker_tls_cert = %s\ndocker_tls_key = %s\n",
	    ca, cert, key);
	ok(load_text(&c, text, strlen(text), err, sizeof(err)) == 0,
	    "loads: %s", err);
	ok(docker_check_tls_files(&c, err, sizeof(err)) == -1 &&
		strstr(err, "docker_tls_ca") != NULL,
	    "a missing CA file: %s", err);
	if ((f = fopen(ca, "w")) != NULL)
		fclose(f);
	if ((f = fopen(cert, "w")) != NULL)
		fclose(f);
	if ((f = fopen(key, "w")) != NULL)
		fclose(f);
	chmod(ca, 0644);
	chmod(cert, 0644);
	chmod(key, 0640);
	ok(docker_check_tls_files(&c, err, sizeof(err)) == -1 &&
		strstr(err, "docker_tls_key") != NULL &&
		strstr(err, "readable by root only") != NULL,
	    "a key readable by its group refused: %s", err);
	chmod(key, 0600);
	err[0] = '\0';
	ok(docker_check_tls_files(&c, err, sizeof(err)) == 0,
	    "root's 0644 CA and certificate, 0600 key: accepted (%s)", err);
	chmod(ca, 0666);
	ok(docker_check_tls_files(&c, err, sizeof(err)) == -1 &&
		strstr(err, "docker_tls_ca") != NULL,
	    "a CA writable by others refused: %s", err);
	chmod(ca, 0644);
	if (chown(cert, 65534, 65534) == 0)
		ok(docker_check_tls_files(&c, err, sizeof(err)) == -1 &&
			strstr(err, "docker_tls_cert") != NULL,
		    "a certificate not root's refused: %s", err);
	unlink(ca);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int
main(void)
{
	test_defaults();
	test_empty_file();
	test_good_file();
	test_bad_files();
	test_good_values();
	test_string_lengths();
	test_listen_tcp();
	test_long_lines();
	test_missing_file();
	test_config_set();
	test_load_files();
	test_gvisor();
	test_docker_host();
	return done_testing();
}
