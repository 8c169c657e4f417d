/*
 * test-privsep.c: src/common/privsep.c, the channel between the front and
 * the executor.  Every message packed by one side is unpacked by the
 * other to the same fields; the executor's reader of requests (the root
 * process's only input from another process) refuses every truncation,
 * every trailing byte, lengths over its own limits, a timeout out of
 * range, a client (the fair shares' key name or address) that is empty,
 * too long or not printable, and an unknown type; the front's reader of replies refuses
 * malformed replies as 500 internal and maps unknown error codes to
 * "internal"; a message that does not fit its buffer is refused whole,
 * on the socket too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "privsep.h"
#include "tap.h"

static struct config config;

static void
msg_set(struct buf *b, const void *p, size_t n)
{
	buf_reset(b);
	if (buf_append(b, p, n) == -1)
		abort();
}

/* The client string that ends every RUN. */
static void
raw_client(struct buf *b, const char *client)
{
	uint32_t len = (uint32_t)strlen(client);

	buf_append(b, &len, 4);
	buf_append(b, client, len);
}

/* A RUN message built by hand, as a lying front could send it. */
static void
raw_run(struct buf *b, uint32_t timeout_ms, uint32_t code_len,
    uint32_t stdin_len, const char *payload, size_t payload_len)
{
	char type = PRIVSEP_RUN;

	buf_reset(b);
	buf_append(b, &type, 1);
	buf_append(b, &timeout_ms, 4);
	buf_append(b, &code_len, 4);
	buf_append(b, &stdin_len, 4);
	buf_append(b, payload, payload_len);
	buf_append(b, "\0\0\0\0", 4); /* no files */
	raw_client(b, "127.0.0.1");
}

/* A RUN with files built by hand: names and contents as given. */
static void
raw_run_files(struct buf *b, uint32_t n, const char *const *names,
    const uint32_t *sizes)
{
	char type = PRIVSEP_RUN;
	uint32_t u, i;

	buf_reset(b);
	buf_append(b, &type, 1);
	u = 1000;
	buf_append(b, &u, 4);
	u = 1;
	buf_append(b, &u, 4);
	u = 0;
	buf_append(b, &u, 4);
	buf_append(b, "x", 1);
	buf_append(b, &n, 4);
	for (i = 0; i < n; i++) {
		u = (uint32_t)strlen(names[i]);
		buf_append(b, &u, 4);
		buf_append(b, names[i], u);
		buf_append(b, &sizes[i], 4);
		if (buf_extend(b, sizes[i]) == NULL)
			abort();
	}
	raw_client(b, "alice");
}

static void
test_run_files(void)
{
	static const char *const good[] = { "a.csv", "b.bin" };
	static const char *const dup[] = { "a.csv", "a.csv" };
	static const char *const slash[] = { "../a" };
	static const char *const dot[] = { ".a" };
	static const char *many[PROTOCOL_FILES_MAX + 1];
	uint32_t sizes[PROTOCOL_FILES_MAX + 1] = { 3, 5 };
	struct job_spec in = { .client = "alice",
		.code = "x",
		.code_len = 1,
		.timeout_ms = 1000,
		.nfiles = 2 };
	struct job_spec out;
	struct api_error err;
	struct buf b;
	uint32_t big[2];
	size_t i;

	buf_init(&b, privsep_request_max(&config) + 16);
	strcpy(in.files[0].name, "a.csv");
	in.files[0].data = "x,1";
	in.files[0].len = 3;
	strcpy(in.files[1].name, "b.bin");
	in.files[1].data = "\0\xff\0\x01\x02";
	in.files[1].len = 5;
	is_int(privsep_pack_run(&b, &in), 0, "RUN with two files packs");
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUN,
	    "and unpacks");
	ok(out.nfiles == 2 && strcmp(out.files[1].name, "b.bin") == 0 &&
		out.files[1].len == 5 &&
		memcmp(out.files[1].data, "\0\xff\0\x01\x02", 5) == 0,
	    "files round trip, any bytes");
	raw_run_files(&b, 2, good, sizes);
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUN,
	    "two files by hand are taken");
	raw_run_files(&b, 2, dup, sizes);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "a name twice is refused");
	raw_run_files(&b, 1, slash, sizes);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "a name with a slash is refused");
	raw_run_files(&b, 1, dot, sizes);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "a name starting with a dot is refused");
	for (i = 0; i <= PROTOCOL_FILES_MAX; i++) {
		char *name = malloc(8);
		snprintf(name, 8, "f%zu", i);
		many[i] = name;
		sizes[i] = 0;
	}
	raw_run_files(&b, PROTOCOL_FILES_MAX, many, sizes);
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUN,
	    "32 files are taken");
	raw_run_files(&b, PROTOCOL_FILES_MAX + 1, many, sizes);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "33 files are refused");
	big[0] = (uint32_t)config.files_max_bytes;
	big[1] = 0;
	raw_run_files(&b, 2, good, big);
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUN,
	    "files_max_bytes in all is taken");
	big[1] = 1;
	raw_run_files(&b, 2, good, big);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "files_max_bytes + 1 in all is refused");
	for (i = 0; i <= PROTOCOL_FILES_MAX; i++)
		free((char *)many[i]);
	buf_free(&b);
}

static void
test_run_round_trip(void)
{
	struct buf b, copy;
	struct job_spec in = { .client = "192.0.2.7",
		.code = "print(1)\n",
		.code_len = 9,
		.stdin_data = "a\0b",
		.stdin_len = 3,
		.timeout_ms = 1234 };
	struct job_spec out;
	struct api_error err;
	size_t cut;
	int bad = 0;

	buf_init(&b, privsep_request_max(&config));
	buf_init(&copy, privsep_request_max(&config));
	is_int(privsep_pack_run(&b, &in), 0, "RUN packs");
	is_int(b.len, 1 + 12 + 9 + 3 + 4 + 4 + 9,
	    "RUN is type, three u32, the bytes, a file count and the client");
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUN,
	    "RUN unpacks as RUN");
	is_mem(out.code, out.code_len, in.code, in.code_len, "code round trip");
	is_mem(out.stdin_data, out.stdin_len, in.stdin_data, in.stdin_len,
	    "stdin round trip, NUL included");
	is_int(out.timeout_ms, 1234, "timeout round trip");
	is_str(out.client, "192.0.2.7", "client round trip");
	ok(out.code >= b.data && out.code + out.code_len <= b.data + b.len,
	    "code points into the message");

	/* Every proper prefix, and one trailing byte, is refused. */
	for (cut = 0; cut < b.len; cut++) {
		msg_set(&copy, b.data, cut);
		if (privsep_unpack_request(&copy, &config, &out, &err) != -1 ||
		    out.code != NULL)
			bad++;
	}
	is_int(bad, 0, "each of the %zu truncations is refused", b.len);
	msg_set(&copy, b.data, b.len);
	buf_append(&copy, "x", 1);
	is_int(privsep_unpack_request(&copy, &config, &out, &err), -1,
	    "a trailing byte is refused");
	is_int(err.http_status, 500, "as 500");
	is_str(err.code, "internal", "internal");
	buf_free(&b);
	buf_free(&copy);
}

static void
test_run_limits(void)
{
	struct buf b;
	struct job_spec out;
	struct api_error err;
	char *code;
	size_t cap = config.code_max_bytes;

	buf_init(&b, privsep_request_max(&config) + 16);
	code = calloc(1, cap + 1);
	raw_run(&b, 1000, (uint32_t)cap, 0, code, cap);
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUN,
	    "code of exactly code_max_bytes is taken");
	raw_run(&b, 1000, (uint32_t)cap + 1, 0, code, cap + 1);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "code of code_max_bytes + 1 is refused");
	raw_run(&b, 1000, 0xffffffffU, 0, "", 0);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "code_len 2^32 - 1 with no bytes is refused");
	raw_run(&b, 1000, 0, (uint32_t)config.stdin_max_bytes + 1, "", 0);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "stdin_len over stdin_max_bytes is refused");
	raw_run(&b, 1000, 4, 0xfffffffcU, "abcd", 4);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "lengths that wrap a 32-bit sum are refused");
	raw_run(&b, 0, 1, 0, "x", 1);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "timeout 0 is refused");
	raw_run(&b, config.timeout_max_ms, 1, 0, "x", 1);
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUN,
	    "timeout of exactly timeout_max_ms is taken");
	raw_run(&b, config.timeout_max_ms + 1, 1, 0, "x", 1);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "timeout_max_ms + 1 is refused");
	free(code);
	buf_free(&b);
}

/* The client: 1 to JOB_CLIENT_MAX - 1 printable bytes, no space. */
static void
test_run_client(void)
{
	static const struct {
		const char *client;
		int expected;
		const char *what;
	} cases[] = {
		{ "alice", PRIVSEP_RUN, "a key's name" },
		{ "2001:db8::1", PRIVSEP_RUN, "an IPv6 address" },
		{ "", -1, "an empty client" },
		{ "a b", -1, "a space" },
		{ "a\tb", -1, "a tab" },
		{ "a\x7f", -1, "DEL" },
		{ "\xc3\xa9", -1, "bytes over 0x7e" },
	};
	struct buf b;
	struct job_spec out;
	struct api_error err;
	char name[JOB_CLIENT_MAX + 1];
	uint32_t len;
	size_t i;
	char type = PRIVSEP_RUN;
	uint32_t head[3] = { 1000, 1, 0 };

	buf_init(&b, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		buf_append(&b, &type, 1);
		buf_append(&b, head, sizeof(head));
		buf_append(&b, "x\0\0\0\0", 5);
		raw_client(&b, cases[i].client);
		is_int(privsep_unpack_request(&b, &config, &out, &err),
		    cases[i].expected, "client: %s", cases[i].what);
	}
	memset(name, 'a', sizeof(name));
	for (len = JOB_CLIENT_MAX - 1; len <= JOB_CLIENT_MAX; len++) {
		buf_reset(&b);
		buf_append(&b, &type, 1);
		buf_append(&b, head, sizeof(head));
		buf_append(&b, "x\0\0\0\0", 5);
		buf_append(&b, &len, 4);
		buf_append(&b, name, len);
		is_int(privsep_unpack_request(&b, &config, &out, &err),
		    len < JOB_CLIENT_MAX ? PRIVSEP_RUN : -1,
		    "a client of %u bytes is %s", len,
		    len < JOB_CLIENT_MAX ? "taken" : "refused");
	}
	buf_reset(&b);
	buf_append(&b, &type, 1);
	buf_append(&b, head, sizeof(head));
	buf_append(&b, "x\0\0\0\0", 5);
	len = 5;
	buf_append(&b, &len, 4);
	buf_append(&b, "a\0bcd", 5);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "a NUL in the client is refused");
	buf_free(&b);
}

static void
test_other_requests(void)
{
	struct buf b;
	struct job_spec out;
	struct api_error err;
	static const unsigned char unknown[] = { 0, 5, 0x10, 0x11, 0xff };
	size_t i;
	int bad = 0;

	buf_init(&b, 64);
	is_int(privsep_pack_type(&b, PRIVSEP_HEALTH), 0, "HEALTH packs");
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_HEALTH,
	    "HEALTH unpacks");
	is_int(privsep_pack_type(&b, PRIVSEP_METRICS), 0, "METRICS packs");
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_METRICS,
	    "METRICS unpacks");
	buf_append(&b, "", 1);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "METRICS with a trailing byte is refused");
	for (i = 0; i < sizeof(unknown); i++) {
		msg_set(&b, &unknown[i], 1);
		if (privsep_unpack_request(&b, &config, &out, &err) != -1)
			bad++;
	}
	is_int(bad, 0, "types 0, 5, OK, ERR and 255 are not requests");
	is_int(privsep_pack_type(&b, PRIVSEP_RUNTIME), 0, "RUNTIME packs");
	is_int(privsep_unpack_request(&b, &config, &out, &err), PRIVSEP_RUNTIME,
	    "RUNTIME unpacks");
	buf_reset(&b);
	is_int(privsep_unpack_request(&b, &config, &out, &err), -1,
	    "an empty message is refused");
	buf_free(&b);
}

static void
test_result_round_trip(void)
{
	struct buf b, copy;
	struct job_result in, out, small;
	struct api_error err;
	size_t cut;
	int bad = 0;

	buf_init(&b, privsep_reply_max(&config));
	buf_init(&copy, privsep_reply_max(&config));
	job_result_init(&in, 64);
	job_result_init(&out, 64);
	job_result_init(&small, 4);
	buf_append(&in.stdout_buf, "hello\n", 6);
	buf_append(&in.stderr_buf, "\xff\0err", 5);
	in.exit_code = -7;
	in.status = JOB_OUTPUT_LIMIT;
	in.stdout_truncated = true;
	in.duration_ms = 4321;
	in.usage.cpu_ms = 1016;
	in.usage.memory_peak_bytes = 215105536;
	in.usage.queue_ms = -1;
	buf_append(&in.data, "{\"result\":\0\xff}", 13);
	is_int(privsep_pack_result(&b, &in), 0, "a result packs");
	memset(&err, 0, sizeof(err));
	is_int(privsep_unpack_result(&b, &out, &err), 0, "and unpacks");
	is_int(out.exit_code, -7, "exit code round trip (negative)");
	is_int(out.status, JOB_OUTPUT_LIMIT, "status round trip");
	ok(out.stdout_truncated && !out.stderr_truncated, "flags round trip");
	is_int(out.duration_ms, 4321, "duration round trip");
	is_mem(out.stdout_buf.data, out.stdout_buf.len, "hello\n", 6,
	    "stdout round trip");
	is_mem(out.stderr_buf.data, out.stderr_buf.len, "\xff\0err", 5,
	    "stderr round trip, any bytes");
	is_int(out.usage.cpu_ms, 1016, "usage cpu_ms round trip");
	is_int(out.usage.memory_peak_bytes, 215105536,
	    "usage memory_peak_bytes round trip");
	is_int(out.usage.queue_ms, -1, "usage unknown (-1) round trip");
	is_mem(out.data.data, out.data.len, "{\"result\":\0\xff}", 13,
	    "the runner's data record round trip, bytes unread");
	is_int(privsep_unpack_result(&b, &small, &err), -1,
	    "output over the front's own cap is refused");
	is_str(err.code, "internal", "as internal");

	for (cut = 0; cut < b.len; cut++) {
		msg_set(&copy, b.data, cut);
		if (privsep_unpack_result(&copy, &out, &err) != -1 ||
		    err.http_status != 500)
			bad++;
	}
	is_int(bad, 0, "each of the %zu truncated results is a 500", b.len);
	msg_set(&copy, b.data, b.len);
	copy.data[5] = JOB_OUTPUT_LIMIT + 1; /* the status byte */
	is_int(privsep_unpack_result(&copy, &out, &err), -1,
	    "an unknown status is refused");
	job_result_free(&in);
	job_result_free(&out);
	job_result_free(&small);
	buf_free(&b);
	buf_free(&copy);
}

static void
test_errors(void)
{
	struct buf b;
	struct job_result out;
	struct api_error in, err;
	char message[PRIVSEP_STR_MAX];

	buf_init(&b, privsep_reply_max(&config));
	job_result_init(&out, 64);
	memset(&in, 0, sizeof(in));
	api_error_set(&in, 503, "busy", "Every slot is busy.");
	in.retry_after_s = 2;
	is_int(privsep_pack_error(&b, &in), 0, "an error packs");
	is_int(privsep_unpack_result(&b, &out, &err), -1, "and unpacks as -1");
	is_int(err.http_status, 503, "status round trip");
	is_str(err.code, "busy", "code round trip");
	ok(!(err.code >= b.data && err.code < b.data + b.len),
	    "code points at the front's own constant, not into the message");
	is_str(err.message, "Every slot is busy.", "message round trip");
	is_int(err.retry_after_s, 2, "Retry-After round trip");

	api_error_set(&in, 500, "made_up_code", "x");
	privsep_pack_error(&b, &in);
	privsep_unpack_result(&b, &out, &err);
	is_str(err.code, "internal", "an unknown code becomes internal");

	api_error_set(&in, 200, "busy", "x");
	privsep_pack_error(&b, &in);
	privsep_unpack_result(&b, &out, &err);
	is_int(err.http_status, 500, "a status outside 400-599 becomes 500");

	memset(&in, 0, sizeof(in));
	in.http_status = 503;
	is_int(privsep_pack_error(&b, &in), 0, "an error without a code packs");
	privsep_unpack_result(&b, &out, &err);
	is_str(err.code, "internal", "as internal");

	/* A message too long for the front's api_error is refused, not cut. */
	{
		char type = PRIVSEP_ERR;
		uint32_t u;

		memset(message, 'm', sizeof(message));
		buf_reset(&b);
		buf_append(&b, &type, 1);
		u = 503;
		buf_append(&b, &u, 4);
		u = 0;
		buf_append(&b, &u, 4);
		u = 4;
		buf_append(&b, &u, 4);
		buf_append(&b, "busy", 4);
		u = sizeof(err.message);
		buf_append(&b, &u, 4);
		buf_append(&b, message, sizeof(err.message));
		privsep_unpack_result(&b, &out, &err);
		is_int(err.http_status, 500, "a message of 256 bytes is a 500");
		is_str(err.code, "internal", "internal");
	}
	job_result_free(&out);
	buf_free(&b);
}

static void
test_health_and_metrics(void)
{
	struct buf b, out;
	struct health h;
	struct api_error err;
	char version[PRIVSEP_VERSION_MAX], longer[PRIVSEP_VERSION_MAX + 1];

	buf_init(&b, privsep_reply_max(&config));
	buf_init(&out, 1 << 20);
	memset(&h, 0, sizeof(h));
	is_int(privsep_pack_health(&b, 3, 2, "20.10.24+dfsg1"), 0,
	    "health packs");
	is_int(privsep_unpack_health(&b, &h, version, &err), 0, "and unpacks");
	is_int(h.executions_running, 3, "running round trip");
	is_int(h.pool_ready, 2, "pool_ready round trip");
	is_str(h.engine_version, "20.10.24+dfsg1", "version round trip");

	memset(longer, 'v', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	privsep_pack_health(&b, 0, 0, longer);
	is_int(privsep_unpack_health(&b, &h, version, &err), -1,
	    "a version of %zu bytes is refused", sizeof(longer) - 1);
	buf_reset(&b);
	{
		char type = PRIVSEP_OK;
		uint32_t u = 0, len = 3;

		buf_append(&b, &type, 1);
		buf_append(&b, &u, 4);
		buf_append(&b, &u, 4);
		buf_append(&b, &len, 4);
		buf_append(&b, "a\0b", 3);
	}
	is_int(privsep_unpack_health(&b, &h, version, &err), -1,
	    "a version with a NUL is refused");

	is_int(privsep_pack_metrics(&b), 0, "the executor's metrics pack");
	is_int(privsep_unpack_metrics(&b, &out, &err), 0, "and unpack");
	ok(out.len > 0 && memmem(out.data, out.len, "pycage_", 7) != NULL,
	    "as Prometheus text (%zu bytes)", out.len);
	buf_free(&b);
	buf_free(&out);
}

/* A message over the writer's or the reader's cap is refused whole. */
static void
test_caps(void)
{
	struct buf small, big, got;
	struct job_spec spec = { .code = "0123456789",
		.code_len = 10,
		.stdin_data = "",
		.stdin_len = 0,
		.timeout_ms = 1 };
	int sv[2];

	buf_init(&small, 8);
	is_int(privsep_pack_run(&small, &spec), -1,
	    "a RUN over the buffer's cap is refused");
	is_int(small.len, 0, "and leaves nothing behind");

	buf_init(&big, 64);
	buf_init(&got, 16);
	privsep_pack_run(&big, &spec);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	is_int(privsep_send(sv[0], &big), 0, "a 23-byte message is sent");
	is_int(privsep_recv(sv[1], &got), -1, "a 16-byte reader refuses it");
	close(sv[0]);
	close(sv[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	close(sv[0]);
	is_int(privsep_recv(sv[1], &got), -1, "EOF is -1");
	close(sv[1]);
	buf_free(&small);
	buf_free(&big);
	buf_free(&got);
}

/* GET /v1/runtime's reply: every name within RUNTIME_NAME_MAX, counts
 * within their caps, anything else a 500. */
static void
test_runtime(void)
{
	struct runtime_info *in = calloc(1, sizeof(*in));
	struct runtime_info *out = calloc(1, sizeof(*out));
	struct api_error err;
	struct buf b, copy;
	size_t cut, i;
	int bad = 0;

	buf_init(&b, privsep_reply_max(&config));
	buf_init(&copy, privsep_reply_max(&config));
	in->known = true;
	strcpy(in->python, "3.11.2");
	in->nmodules = RUNTIME_MODULES_MAX;
	for (i = 0; i < RUNTIME_MODULES_MAX; i++)
		memset(in->modules[i], 'm', RUNTIME_NAME_MAX - 1);
	in->nlibraries = 2;
	strcpy(in->library[0], "numpy");
	strcpy(in->version[0], "1.24.2");
	strcpy(in->library[1], "pandas");
	strcpy(in->version[1], "1.5.3");
	is_int(privsep_pack_runtime(&b, in), 0, "a runtime at every cap packs");
	is_int(privsep_unpack_runtime(&b, out, &err), 0, "and unpacks");
	ok(out->known && strcmp(out->python, "3.11.2") == 0 &&
		out->nmodules == RUNTIME_MODULES_MAX &&
		strlen(out->modules[RUNTIME_MODULES_MAX - 1]) ==
		    RUNTIME_NAME_MAX - 1 &&
		out->nlibraries == 2 && strcmp(out->library[1], "pandas") == 0 &&
		strcmp(out->version[0], "1.24.2") == 0,
	    "runtime round trip");
	for (cut = 0; cut < b.len; cut++) {
		msg_set(&copy, b.data, cut);
		if (privsep_unpack_runtime(&copy, out, &err) != -1 ||
		    err.http_status != 500 || out->known)
			bad++;
	}
	is_int(bad, 0, "each of the %zu truncated runtime replies is a 500",
	    b.len);
	/* A module count one over the cap. */
	msg_set(&copy, b.data, b.len);
	{
		uint32_t n = RUNTIME_MODULES_MAX + 1;

		memcpy(copy.data + 1 + 1 + 4 + 6, &n, sizeof(n));
	}
	is_int(privsep_unpack_runtime(&copy, out, &err), -1,
	    "129 modules are refused");
	in->nlibraries = RUNTIME_LIBRARIES_MAX + 1;
	is_int(privsep_pack_runtime(&b, in), -1, "33 libraries do not pack");
	buf_free(&b);
	buf_free(&copy);
	free(in);
	free(out);
}

int
main(void)
{
	config_defaults(&config);
	log_set_level(LOG_LEVEL_ERROR);
	test_run_round_trip();
	test_run_limits();
	test_run_client();
	test_run_files();
	test_other_requests();
	test_result_round_trip();
	test_errors();
	test_health_and_metrics();
	test_runtime();
	test_caps();
	return done_testing();
}
