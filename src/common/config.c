/*
 * config.c: the `key = value` file -> struct config.  Every key is known,
 * every number has a unit in its name, a default and a hard range; a
 * value outside its range, an unknown key or a malformed line fails
 * start-up with "file:line: reason" (STYLE.md point 3).  `#` starts a
 * comment line.  Defaults are the product's: 512 MiB, half a CPU, 64
 * pids, 10 s default and 30 s maximum execution time, 1 MiB per stream.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <yajl/yajl_tree.h>

#include "common.h"
#include "protocol.h"

#define CONFIG_LINE_MAX 1024
#define SECCOMP_PROFILE_MAX_BYTES (256UL * 1024)
#define KIB 1024UL
#define MIB (1024UL * 1024UL)

enum config_type {
	CONFIG_UINT,
	CONFIG_SIZE,
	CONFIG_STRING,
	CONFIG_OCTAL,
	CONFIG_SECONDS_AS_MS,
	CONFIG_LOG_LEVEL
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	unsigned long long min, max; /* numbers: the accepted range */
	bool may_be_empty;           /* strings */
};

#define NUM(name, type, min, max)                                           \
	{                                                                   \
#name, type, offsetof(struct config, name), min, max, false \
	}
#define STR(name, empty)                                                         \
	{                                                                        \
#name, CONFIG_STRING, offsetof(struct config, name), 0, 0, empty \
	}

static const struct config_key config_keys[] = {
	STR(listen, false),
	STR(listen_allow, false),
	NUM(socket_mode, CONFIG_OCTAL, 0, 0777),
	STR(socket_group, true),
	STR(pidfile, true),
	NUM(workers, CONFIG_UINT, 1, CONFIG_WORKERS_MAX),
	NUM(max_executions, CONFIG_UINT, 1, 256),
	NUM(queue_wait_ms, CONFIG_UINT, 0, 600000),
	/* Workers an execution may never take (config_exec_workers()). */
	NUM(health_workers, CONFIG_UINT, 0, 16),
	NUM(client_share, CONFIG_UINT, 0, 256),
	STR(api_keys_file, true),
	STR(docker_socket, false),
	STR(docker_host, true),
	STR(docker_tls_ca, true),
	STR(docker_tls_cert, true),
	STR(docker_tls_key, true),
	NUM(docker_call_timeout_ms, CONFIG_UINT, 100, 120000),
	STR(image, false),
	STR(runtime, true),
	STR(instance, false),
	STR(user, false),
	{ "timeout_default_s", CONFIG_SECONDS_AS_MS,
	    offsetof(struct config, timeout_default_ms), 1, 3600, false },
	{ "timeout_max_s", CONFIG_SECONDS_AS_MS,
	    offsetof(struct config, timeout_max_ms), 1, 3600, false },
	NUM(memory_mb, CONFIG_UINT, 16, 65536),
	NUM(cpu_millis, CONFIG_UINT, 10, 64000),
	NUM(cpu_period_ms, CONFIG_UINT, 1, 1000),
	NUM(pids_limit, CONFIG_UINT, 8, 4096),
	NUM(tmpfs_mb, CONFIG_UINT, 1, 1024),
	NUM(nofile, CONFIG_UINT, 16, 65536),
	NUM(fsize_mb, CONFIG_UINT, 1, 1024),
	NUM(output_max_bytes, CONFIG_SIZE, 1024, 64 * MIB),
	NUM(body_max_bytes, CONFIG_SIZE, 1024, 64 * MIB),
	/* No more than the runner takes (runner/protocol.h): a larger
	 * program would pass the front and fail in the sandbox. */
	NUM(code_max_bytes, CONFIG_SIZE, 1, PROTOCOL_CODE_MAX_BYTES),
	NUM(stdin_max_bytes, CONFIG_SIZE, 0, PROTOCOL_STDIN_MAX_BYTES),
	NUM(files_max_bytes, CONFIG_SIZE, 0, PROTOCOL_FILES_MAX_BYTES),
	NUM(janitor_interval_s, CONFIG_UINT, 1, 86400),
	NUM(janitor_grace_s, CONFIG_UINT, 0, 86400),
	NUM(pool_size, CONFIG_UINT, 0, 64),
	STR(pool_preload, true),
	NUM(pool_max_age_s, CONFIG_UINT, 10, 86400),
	NUM(selfcheck_max_age_s, CONFIG_UINT, 1, 86400),
	STR(seccomp_profile, true),
	NUM(uid_base, CONFIG_UINT, 0, 2000000000),
	STR(front_user, true),
	STR(front_chroot, false),
	STR(mcp_origins, true),
	STR(executor_path, false),
	{ "log_level", CONFIG_LOG_LEVEL, offsetof(struct config, log_level), 0,
	    0, false },
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "/run/pycage/pycage.sock");
	snprintf(c->listen_allow, sizeof(c->listen_allow), "127.0.0.1");
	c->listen_allow_net[0].addr = htonl(INADDR_LOOPBACK);
	c->listen_allow_net[0].mask = 0xffffffffU;
	c->listen_allow_n = 1;
	c->socket_mode = 0660;
	snprintf(c->pidfile, sizeof(c->pidfile), "/run/pycage/pycage-fcgi.pid");
	c->workers = 32;
	c->max_executions = 4; /* 2 cores / 0.5 CPU each */
	c->queue_wait_ms = 20000;
	c->health_workers = 2;
	snprintf(c->docker_socket, sizeof(c->docker_socket),
	    "/var/run/docker.sock");
	c->docker_call_timeout_ms = 15000;
	snprintf(c->image, sizeof(c->image), "pycage-sandbox:latest");
	snprintf(c->instance, sizeof(c->instance), "default");
	snprintf(c->user, sizeof(c->user), "65534:65534");
	c->timeout_default_ms = 10000;
	c->timeout_max_ms = 30000;
	c->memory_mb = 512;
	c->cpu_millis = 500;
	c->cpu_period_ms = 1000; /* the kernel's longest CFS period */
	c->pids_limit = 64;
	c->tmpfs_mb = 16;
	c->nofile = 256;
	c->fsize_mb = 16;
	c->output_max_bytes = 1 * MIB;
	/* Code, stdin and files_max_bytes of files in base64, escaped. */
	c->body_max_bytes = 16 * MIB;
	c->code_max_bytes = PROTOCOL_CODE_MAX_BYTES;
	c->stdin_max_bytes = PROTOCOL_STDIN_MAX_BYTES;
	c->files_max_bytes = 8 * MIB;
	c->janitor_interval_s = 60;
	c->janitor_grace_s = 120;
	c->pool_size = 2;
	snprintf(c->pool_preload, sizeof(c->pool_preload), "numpy,pandas");
	c->pool_max_age_s = 300;
	c->selfcheck_max_age_s = 300;
	c->uid_base = 200000;
	snprintf(c->front_user, sizeof(c->front_user), "pycage-front");
	snprintf(c->front_chroot, sizeof(c->front_chroot), "/run/pycage-empty");
	snprintf(c->executor_path, sizeof(c->executor_path), "%s",
	    PYCAGE_EXECUTOR_PATH);
	snprintf(c->seccomp_profile, sizeof(c->seccomp_profile),
	    "/etc/pycage/seccomp.json");
	c->log_level = LOG_LEVEL_INFO;
}

static int
config_parse_number(const char *value, int base, unsigned long long *out)
{
	char *end;

	/* Digits only: strtoull would also take leading blanks and signs. */
	if (*value == '\0' || strspn(value, "0123456789") != strlen(value))
		return -1;
	errno = 0;
	*out = strtoull(value, &end, base);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

/* The user must be numeric uid:gid: a name would be resolved inside the
 * image, and uid 0 would undo the "non-root" promise. */
static int
config_check_user(const char *value)
{
	unsigned long long uid, gid;
	char copy[CONFIG_STR_MAX], *colon;

	snprintf(copy, sizeof(copy), "%s", value);
	if ((colon = strchr(copy, ':')) == NULL)
		return -1;
	*colon = '\0';
	if (config_parse_number(copy, 10, &uid) == -1 ||
	    config_parse_number(colon + 1, 10, &gid) == -1)
		return -1;
	return (uid == 0 || gid == 0 || uid > 2147483647ULL ||
		   gid > 2147483647ULL) ?
	    -1 :
	    0;
}

/*
 * listen: a unix socket path, or a.b.c.d:port.  The host must be an IPv4
 * literal (libfcgi binds AF_INET only, and a name would be resolved at
 * start): an empty one, which libfcgi takes as every interface, is
 * refused, so that listening everywhere is written out as 0.0.0.0.
 */
static int
config_check_listen(const char *value, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct in_addr in;
	unsigned long long port;
	char host[CONFIG_STR_MAX];
	const char *colon;

	if (value[0] == '/') {
		if (strlen(value) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen,
			    "listen: a unix socket path is at "
			    "most %zu bytes",
			    sizeof(sun.sun_path) - 1);
			return -1;
		}
		/* libfcgi reads "/a:9000" as host "/a", port 9000. */
		if (strchr(value, ':') != NULL) {
			snprintf(err, errlen,
			    "listen: a unix socket path "
			    "may not contain ':'");
			return -1;
		}
		return 0;
	}
	if ((colon = strrchr(value, ':')) == NULL ||
	    (size_t)(colon - value) >= sizeof(host)) {
		snprintf(err, errlen,
		    "listen: a unix socket path (starting "
		    "with /) or a.b.c.d:port");
		return -1;
	}
	memcpy(host, value, (size_t)(colon - value));
	host[colon - value] = '\0';
	if (inet_pton(AF_INET, host, &in) != 1) {
		snprintf(err, errlen,
		    "listen: '%s' is not an IPv4 address "
		    "(a.b.c.d:port; 0.0.0.0 for every interface)",
		    host);
		return -1;
	}
	if (config_parse_number(colon + 1, 10, &port) == -1 || port == 0 ||
	    port > 65535) {
		snprintf(err, errlen, "listen: port '%s' is not in [1, 65535]",
		    colon + 1);
		return -1;
	}
	return 0;
}

/* listen_allow: IPv4 addresses or networks (a.b.c.d/n), comma-separated. */
static int
config_parse_allow(struct config *c, const char *value, char *err, size_t errlen)
{
	struct config_net nets[CONFIG_ALLOW_MAX];
	struct in_addr in;
	unsigned long long bits;
	unsigned n = 0;
	char item[CONFIG_STR_MAX], *slash;
	size_t len;

	while (*value != '\0') {
		len = strcspn(value, ",");
		if (len == 0 || len >= sizeof(item) || n == CONFIG_ALLOW_MAX)
			goto bad;
		memcpy(item, value, len);
		item[len] = '\0';
		bits = 32;
		if ((slash = strchr(item, '/')) != NULL) {
			*slash = '\0';
			if (config_parse_number(slash + 1, 10, &bits) == -1 ||
			    bits > 32)
				goto bad;
		}
		if (inet_pton(AF_INET, item, &in) != 1)
			goto bad;
		nets[n].mask = bits == 0 ? 0 : htonl(0xffffffffU << (32 - bits));
		nets[n].addr = in.s_addr & nets[n].mask;
		n++;
		value += len;
		if (*value == ',' && *++value == '\0')
			goto bad;
	}
	if (n == 0)
		goto bad;
	memcpy(c->listen_allow_net, nets, sizeof(nets));
	c->listen_allow_n = n;
	return 0;
bad:
	snprintf(err, errlen,
	    "listen_allow: up to %d IPv4 addresses or "
	    "networks (a.b.c.d or a.b.c.d/n), separated by commas",
	    CONFIG_ALLOW_MAX);
	return -1;
}

int
config_set(struct config *c, const char *key, const char *value, char *err,
    size_t errlen)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	const struct config_key *k = NULL;
	unsigned long long n;
	char *field;
	size_t i;

	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(config_keys[i].name, key) == 0)
			k = &config_keys[i];
	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	field = (char *)c + k->offset;
	switch (k->type) {
	case CONFIG_STRING:
		if (strlen(value) >= CONFIG_STR_MAX ||
		    (!k->may_be_empty && *value == '\0')) {
			snprintf(err, errlen, "%s: empty or longer than %d bytes",
			    key, CONFIG_STR_MAX - 1);
			return -1;
		}
		if (strcmp(key, "pool_preload") == 0 &&
		    strspn(value,
			"abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,") !=
			strlen(value)) {
			snprintf(err, errlen,
			    "pool_preload: module names "
			    "[A-Za-z0-9_.] separated by commas");
			return -1;
		}
		if (strcmp(key, "listen") == 0 &&
		    config_check_listen(value, err, errlen) == -1)
			return -1;
		if (strcmp(key, "listen_allow") == 0 &&
		    config_parse_allow(c, value, err, errlen) == -1)
			return -1;
		if (strcmp(key, "user") == 0 && config_check_user(value) == -1) {
			snprintf(err, errlen,
			    "user: must be a numeric uid:gid, "
			    "neither 0");
			return -1;
		}
		snprintf(field, CONFIG_STR_MAX, "%s", value);
		return 0;
	case CONFIG_LOG_LEVEL:
		for (i = 0; i < 4; i++)
			if (strcmp(value, levels[i]) == 0) {
				c->log_level = (enum log_level)i;
				return 0;
			}
		snprintf(err, errlen,
		    "log_level: one of error, warn, info, debug");
		return -1;
	default:
		break;
	}
	if (config_parse_number(value, k->type == CONFIG_OCTAL ? 8 : 10, &n) ==
		-1 ||
	    n < k->min || n > k->max) {
		snprintf(err, errlen, "%s: '%s' is not a number in [%llu, %llu]",
		    key, value, k->min, k->max);
		return -1;
	}
	switch (k->type) {
	case CONFIG_SIZE:
		*(size_t *)(void *)field = (size_t)n;
		break;
	case CONFIG_SECONDS_AS_MS:
		*(unsigned *)(void *)field = (unsigned)n * 1000U;
		break;
	default:
		*(unsigned *)(void *)field = (unsigned)n;
		break;
	}
	return 0;
}

static char *
config_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
		end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/*
 * docker_host: "" (docker_socket), unix:///path (sets docker_socket) or
 * tcp://host:port.  The Engine API gives whoever reaches it root on the
 * engine's host, so TCP is taken only with mutual TLS: the CA that signed
 * the engine's certificate and this client's certificate and key.  The
 * files are opened by the executor only (docker.c checks their modes).
 */
static int
config_check_docker_host(struct config *c, char *err, size_t errlen)
{
	static const char unix_scheme[] = "unix://", tcp_scheme[] = "tcp://";
	const char *h = c->docker_host, *hostport, *colon;
	unsigned long long port;
	bool tls_any;

	tls_any = c->docker_tls_ca[0] != '\0' ||
	    c->docker_tls_cert[0] != '\0' || c->docker_tls_key[0] != '\0';
	c->docker_tcp_url[0] = '\0';
	if (strncmp(h, unix_scheme, sizeof(unix_scheme) - 1) == 0) {
		h += sizeof(unix_scheme) - 1;
		if (h[0] != '/' ||
		    strlen(h) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen,
			    "docker_host: unix:// takes an "
			    "absolute socket path (unix:///var/run/docker.sock)");
			return -1;
		}
		snprintf(c->docker_socket, sizeof(c->docker_socket), "%s", h);
		h = "";
	}
	if (h[0] == '\0') {
		if (tls_any) {
			snprintf(err, errlen,
			    "docker_tls_ca, docker_tls_cert and "
			    "docker_tls_key go with docker_host = tcp://host:port "
			    "only");
			return -1;
		}
		return 0;
	}
	if (strncmp(h, tcp_scheme, sizeof(tcp_scheme) - 1) != 0) {
		snprintf(err, errlen,
		    "docker_host: unix:///path or "
		    "tcp://host:port");
		return -1;
	}
	hostport = h + sizeof(tcp_scheme) - 1;
	/* A name or an IPv4 literal: nothing that needs quoting in a URL. */
	if ((colon = strrchr(hostport, ':')) == NULL || colon == hostport ||
	    strspn(hostport,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789.-") != (size_t)(colon - hostport) ||
	    config_parse_number(colon + 1, 10, &port) == -1 || port == 0 ||
	    port > 65535) {
		snprintf(err, errlen,
		    "docker_host: tcp://host:port, the host a "
		    "name or an IPv4 address, the port in [1, 65535]");
		return -1;
	}
	if (c->docker_tls_ca[0] == '\0' || c->docker_tls_cert[0] == '\0' ||
	    c->docker_tls_key[0] == '\0') {
		snprintf(err, errlen,
		    "docker_host %s: plain TCP to the Docker "
		    "engine is refused: whoever reaches that port is root on the "
		    "engine's host.  Run dockerd with --tlsverify and set "
		    "docker_tls_ca, docker_tls_cert and docker_tls_key (mutual "
		    "TLS; scripts/engine-certs.sh makes them)",
		    c->docker_host);
		return -1;
	}
	snprintf(c->docker_tcp_url, sizeof(c->docker_tcp_url), "https://%s",
	    hostport);
	return 0;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX], reason[512], *key, *value, *eq;
	FILE *f;
	int lineno = 0, rc = 0;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes",
			    path, lineno, CONFIG_LINE_MAX - 2);
			rc = -1;
			break;
		}
		key = config_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'",
			    path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		value = config_trim(eq + 1);
		key = config_trim(key);
		if (config_set(c, key, value, reason, sizeof(reason)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, reason);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path,
		    strerror(errno ? errno : EIO));
		rc = -1;
	}
	fclose(f);
	if (rc == 0 && c->uid_base != 0 && c->uid_base < 1000) {
		snprintf(err, errlen,
		    "%s: uid_base must be 0 or at least 1000 "
		    "(clear of system users)",
		    path);
		rc = -1;
	}
	/* The engine and the kernel refuse a quota under a millisecond. */
	if (rc == 0 && config_cpu_quota_us(c) < 1000) {
		snprintf(err, errlen,
		    "%s: cpu_millis x cpu_period_ms is under "
		    "1000 (a CPU quota under 1 ms)",
		    path);
		rc = -1;
	}
	if (rc == 0 && c->client_share > c->max_executions) {
		snprintf(err, errlen,
		    "%s: client_share is above "
		    "max_executions",
		    path);
		rc = -1;
	}
	if (rc == 0 && c->timeout_default_ms > c->timeout_max_ms) {
		snprintf(err, errlen,
		    "%s: timeout_default_s is above timeout_max_s", path);
		rc = -1;
	}
	if (rc == 0 && config_check_docker_host(c, reason, sizeof(reason)) == -1) {
		snprintf(err, errlen, "%s: %s", path, reason);
		rc = -1;
	}
	return rc;
}

/*
 * The seccomp profile goes to the engine as text inside SecurityOpt
 * ("seccomp=<json>": the API takes the profile, not a path; docs/FIELD-NOTES.md), so
 * it is read once here and checked to be JSON before the first request.
 */
int
config_load_files(struct config *c, char *err, size_t errlen)
{
	struct stat st;
	yajl_val tree;
	char reason[128];
	FILE *f;
	size_t n;

	free(c->seccomp_json);
	c->seccomp_json = NULL;
	if (c->seccomp_profile[0] == '\0')
		return 0;
	if ((f = fopen(c->seccomp_profile, "re")) == NULL ||
	    fstat(fileno(f), &st) == -1) {
		snprintf(err, errlen, "seccomp_profile %s: %s",
		    c->seccomp_profile, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if ((size_t)st.st_size > SECCOMP_PROFILE_MAX_BYTES ||
	    (c->seccomp_json = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "seccomp_profile %s: over %lu bytes",
		    c->seccomp_profile, SECCOMP_PROFILE_MAX_BYTES);
		fclose(f);
		return -1;
	}
	n = fread(c->seccomp_json, 1, (size_t)st.st_size, f);
	fclose(f);
	c->seccomp_json[n] = '\0';
	if ((tree = yajl_tree_parse(c->seccomp_json, reason, sizeof(reason))) ==
		NULL ||
	    !YAJL_IS_OBJECT(tree)) {
		snprintf(err, errlen, "seccomp_profile %s: not a JSON object",
		    c->seccomp_profile);
		yajl_tree_free(tree);
		free(c->seccomp_json);
		c->seccomp_json = NULL;
		return -1;
	}
	yajl_tree_free(tree);
	return 0;
}

/* The runtime's name as registered with the engine; only "runsc" is
 * taken for gVisor.  Under another name the self-check fails closed (no
 * no_new_privs or seccomp field where runc shows them). */
bool
config_listen_tcp(const struct config *c)
{
	return c->listen[0] != '/';
}

bool
config_peer_allowed(const struct config *c, uint32_t addr)
{
	unsigned i;

	for (i = 0; i < c->listen_allow_n; i++)
		if ((addr & c->listen_allow_net[i].mask) ==
		    c->listen_allow_net[i].addr)
			return true;
	return false;
}

/*
 * The workers that may hold an execution at once: all but health_workers,
 * and at least one.  The others stay free for /v1/health, /v1/metrics and
 * for refusing what cannot run, so a flood of executions never leaves a
 * request waiting in the listen backlog, where no deadline counts.
 */
unsigned
config_exec_workers(const struct config *c)
{
	return c->health_workers < c->workers ? c->workers - c->health_workers :
						1;
}

/*
 * The fair share (issue 19): what one client (a key, else an address) is
 * sure of when others want slots too; executor/job.c keeps it.  The
 * default, half, leaves the other half to everyone else.
 */
unsigned
config_client_share(const struct config *c)
{
	if (c->client_share != 0)
		return c->client_share;
	return c->max_executions / 2 > 0 ? c->max_executions / 2 : 1;
}

bool
config_gvisor(const struct config *c)
{
	return strcmp(c->runtime, "runsc") == 0;
}

unsigned
config_uid_count(const struct config *c)
{
	return c->uid_base ? c->max_executions + c->pool_size + CONFIG_UID_SPARE :
			     0;
}

long long
config_cpu_period_us(const struct config *c)
{
	return (long long)c->cpu_period_ms * 1000;
}

long long
config_cpu_quota_us(const struct config *c)
{
	return (long long)c->cpu_millis * c->cpu_period_ms;
}
