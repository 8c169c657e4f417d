/*
 * test-json-out.c: src/front/answer.c.  The execution answer and the error
 * answer byte for byte (key order is the product's contract); program
 * output with any bytes in it (invalid UTF-8 -> U+FFFD, which yajl writes
 * as the raw bytes EF BF BD; NUL and control bytes -> \u00XX with capital
 * hex digits, as yajl's encoder writes them); the output buffer's cap; and
 * the container-create body, parsed back with yajl_tree and checked field
 * by field against what the sandbox promises.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

#define MIB (1024UL * 1024UL)

/* request.c's answer cap (REQUEST_OUT_MAX_BYTES): "2 x 1 MiB, escaped". */
#define ANSWER_MAX_BYTES (16UL * MIB)

#define RESULT_TAIL(exit_code, status, out_trunc, err_trunc, ms)                 \
	"\"exit_code\":" exit_code ",\"status\":\"" status "\","                 \
	"\"stdout_truncated\":" out_trunc ",\"stderr_truncated\":" err_trunc "," \
	"\"duration_ms\":" ms AGENT_TAIL "}"
/* The keys after duration_ms of a run without a data record (issue 17). */
#define AGENT_TAIL                                                                  \
	",\"exception\":null,\"result\":null,\"result_truncated\":false,"           \
	"\"usage\":{\"cpu_ms\":null,\"memory_peak_bytes\":null,\"queue_ms\":null}," \
	"\"files\":[],\"files_truncated\":false"

/* --------------------------------------------------------- results */

struct result_case {
	const char *name;
	const char *out; /* program's stdout bytes */
	size_t out_len;
	const char *err;
	size_t err_len;
	int exit_code;
	enum job_status status;
	bool out_trunc, err_trunc;
	long duration_ms;
	const char *json; /* exact answer */
	size_t json_len;
};

#define RES(name, out, err, code, status, ot, et, ms, json)             \
	{                                                               \
		name, out, sizeof(out) - 1, err, sizeof(err) - 1, code, \
		    status, ot, et, ms, json, sizeof(json) - 1          \
	}

static const struct result_case result_cases[] = {
	RES("simple result", "2\n", "", 0, JOB_OK, false, false, 42,
	    "{\"stdout\":\"2\\n\",\"stderr\":\"\"," RESULT_TAIL("0", "ok",
		"false", "false", "42")),
	RES("both streams, exception", "partial",
	    "Traceback (most recent call "
	    "last):\n  File \"<code>\", line 1\nZeroDivisionError: division by zero\n",
	    1, JOB_ERROR, false, false, 7,
	    "{\"stdout\":\"partial\",\"stderr\":\"Traceback (most recent call "
	    "last):\\n  File \\\"<code>\\\", line 1\\nZeroDivisionError: division "
	    "by zero\\n\"," RESULT_TAIL("1", "error", "false", "false", "7")),
	RES("timeout, killed", "", "", 137, JOB_TIMEOUT, false, false, 2000,
	    "{\"stdout\":\"\",\"stderr\":\"\"," RESULT_TAIL("137", "timeout",
		"false", "false", "2000")),
	RES("oom", "", "Killed", 137, JOB_OOM, false, false, 31,
	    "{\"stdout\":\"\",\"stderr\":\"Killed\"," RESULT_TAIL("137", "oom",
		"false", "false", "31")),
	RES("output limit, both flags", "xxxx", "yy", -9, JOB_OUTPUT_LIMIT,
	    true, true, 0,
	    "{\"stdout\":\"xxxx\",\"stderr\":\"yy\"," RESULT_TAIL("-9",
		"output_limit", "true", "true", "0")),
	RES("only stderr truncated", "", "e", 0, JOB_OUTPUT_LIMIT, false, true, 1,
	    "{\"stdout\":\"\",\"stderr\":\"e\"," RESULT_TAIL("0",
		"output_limit", "false", "true", "1")),
	RES("status outside the enum is error", "", "", 0, (enum job_status)99,
	    false, false, 0,
	    "{\"stdout\":\"\",\"stderr\":\"\"," RESULT_TAIL("0", "error",
		"false", "false", "0")),
	RES("invalid UTF-8 -> raw EF BF BD",
	    "a\xff"
	    "b",
	    "\xc3", 0, JOB_OK, false, false, 1,
	    "{\"stdout\":\"a\xef\xbf\xbd"
	    "b\",\"stderr\":\""
	    "\xef\xbf\xbd\"," RESULT_TAIL("0", "ok", "false", "false", "1")),
	RES("truncated emoji at the cut -> one U+FFFD", "ok\xf0\x9f\x98", "", 0,
	    JOB_OUTPUT_LIMIT, true, false, 1,
	    "{\"stdout\":\"ok\xef\xbf\xbd\",\"stderr\":\"\"," RESULT_TAIL("0",
		"output_limit", "true", "false", "1")),
	RES("overlong and surrogate forms", "\xc0\x80\xed\xa0\x80", "", 0,
	    JOB_OK, false, false, 1,
	    "{\"stdout\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd\",\"stderr\":\"\"," RESULT_TAIL("0", "ok",
		"false", "false", "1")),
	RES("valid UTF-8 passes unescaped",
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "\xe2\x80\xa8",
	    "", 0, JOB_OK, false, false, 1,
	    "{\"stdout\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8\","
	    "\"stderr\":\"\"," RESULT_TAIL("0", "ok", "false", "false", "1")),
	RES("NUL -> \\u0000", "a\0b", "\0", 0, JOB_OK, false, false, 1,
	    "{\"stdout\":\"a\\u0000b\",\"stderr\":\"\\u0000\"," RESULT_TAIL("0",
		"ok", "false", "false", "1")),
	RES("control bytes escaped", "\x01\x1f\b\f\n\r\t\x7f", "", 0, JOB_OK,
	    false, false, 1,
	    "{\"stdout\":\"\\u0001\\u001F\\b\\f\\n\\r\\t\x7f\","
	    "\"stderr\":\"\"," RESULT_TAIL("0", "ok", "false", "false", "1")),
	RES("quote, backslash, solidus", "\"\\/", "", 0, JOB_OK, false, false, 1,
	    "{\"stdout\":\"\\\"\\\\/\",\"stderr\":\"\"," RESULT_TAIL("0", "ok",
		"false", "false", "1")),
	RES("output that looks like JSON stays a string",
	    "\",\"status\":\"ok\"}", "", 1, JOB_ERROR, false, false, 1,
	    "{\"stdout\":\"\\\",\\\"status\\\":\\\"ok\\\"}\",\"stderr\":\"\"," RESULT_TAIL(
		"1", "error", "false", "false", "1")),
	RES("large exit code and duration", "", "", 2147483647, JOB_OK, false,
	    false, 9007199254740993L,
	    "{\"stdout\":\"\",\"stderr\":\"\"," RESULT_TAIL("2147483647", "ok",
		"false", "false", "9007199254740993")),
};

static void
fill_result(struct job_result *r, const struct result_case *c)
{
	job_result_init(r, 1 * MIB);
	buf_append(&r->stdout_buf, c->out, c->out_len);
	buf_append(&r->stderr_buf, c->err, c->err_len);
	r->exit_code = c->exit_code;
	r->status = c->status;
	r->stdout_truncated = c->out_trunc;
	r->stderr_truncated = c->err_trunc;
	r->duration_ms = c->duration_ms;
}

static void
test_results(void)
{
	size_t i;

	for (i = 0; i < sizeof(result_cases) / sizeof(result_cases[0]); i++) {
		const struct result_case *c = &result_cases[i];
		struct job_result r;
		struct buf out;

		fill_result(&r, c);
		buf_init(&out, 1 * MIB);
		is_int(answer_result(&r, &out), 0, "result encodes: %s", c->name);
		is_mem(out.data, out.len, c->json, c->json_len,
		    "result bytes: %s", c->name);
		ok(out.data != NULL && utf8_valid(out.data, out.len),
		    "answer is valid UTF-8: %s", c->name);
		buf_free(&out);
		job_result_free(&r);
	}
}

/* A result whose buffers were never written to (data NULL). */
static void
test_empty_result(void)
{
	static const char expected[] =
	    "{\"stdout\":\"\",\"stderr\":\"\"," RESULT_TAIL("0", "ok", "false",
		"false", "0");
	struct job_result r;
	struct buf out;

	job_result_init(&r, 1 * MIB);
	buf_init(&out, 4096);
	is_int(answer_result(&r, &out), 0, "fresh job_result encodes");
	is_mem(out.data, out.len, expected, sizeof(expected) - 1,
	    "fresh job_result bytes");
	buf_free(&out);
	job_result_free(&r);
}

static void
test_status_names(void)
{
	is_str(job_status_name(JOB_OK), "ok", "status name ok");
	is_str(job_status_name(JOB_ERROR), "error", "status name error");
	is_str(job_status_name(JOB_TIMEOUT), "timeout", "status name timeout");
	is_str(job_status_name(JOB_OOM), "oom", "status name oom");
	is_str(job_status_name(JOB_OUTPUT_LIMIT), "output_limit",
	    "status name output_limit");
	is_str(job_status_name((enum job_status) - 1), "error",
	    "status name of an unknown value is error");
}

/* The out buffer's cap: exactly enough works, one byte less is -1 and
 * leaves the buffer as it was. */
static void
test_result_cap(void)
{
	const struct result_case *c = &result_cases[0];
	struct job_result r;
	struct buf out;

	fill_result(&r, c);
	buf_init(&out, c->json_len);
	is_int(answer_result(&r, &out), 0, "out cap = answer length: ok");
	is_int(out.len, c->json_len, "out cap = answer length: whole answer");
	buf_free(&out);

	buf_init(&out, c->json_len - 1);
	is_int(answer_result(&r, &out), -1, "out cap one short: -1");
	is_int(out.len, 0, "out cap one short: nothing appended");
	buf_free(&out);

	buf_init(&out, c->json_len + 2);
	buf_append(&out, "pre", 3);
	is_int(answer_result(&r, &out), -1,
	    "out holding 3 bytes, room one "
	    "short: -1");
	is_mem(out.data, out.len, "pre", 3, "earlier contents untouched");
	buf_free(&out);
	job_result_free(&r);
}

/* Worst cases at the default 1 MiB per stream: every byte NUL (6 bytes
 * each as \u0000) or invalid (3 bytes each as U+FFFD), both streams. */
static void
test_worst_case(void)
{
	struct job_result r;
	struct buf out;
	char *junk;
	size_t i, bad;

	junk = malloc(MIB);
	memset(junk, 0, MIB);
	job_result_init(&r, MIB);
	buf_append(&r.stdout_buf, junk, MIB);
	buf_append(&r.stderr_buf, junk, MIB);
	buf_init(&out, ANSWER_MAX_BYTES);
	is_int(answer_result(&r, &out), 0, "2 x 1 MiB of NUL fits in 16 MiB");
	is_int(out.len,
	    12 * MIB + (sizeof("{\"stdout\":\"\",\"stderr\":\"\",") - 1) +
		(sizeof(RESULT_TAIL("0", "ok", "false", "false", "0")) - 1),
	    "2 x 1 MiB of NUL: 12 MiB of \\u0000 plus the frame");
	for (i = 0, bad = 0; i < MIB; i++)
		if (memcmp(out.data + 11 + 6 * i, "\\u0000", 6) != 0)
			bad++;
	is_int(bad, 0, "every NUL of stdout is \\u0000");
	buf_free(&out);
	job_result_free(&r);

	memset(junk, 0xff, MIB);
	job_result_init(&r, MIB);
	buf_append(&r.stdout_buf, junk, MIB);
	buf_append(&r.stderr_buf, junk, MIB);
	buf_init(&out, ANSWER_MAX_BYTES);
	is_int(answer_result(&r, &out), 0, "2 x 1 MiB of 0xFF encodes");
	ok(out.len > 6 * MIB && utf8_valid(out.data, out.len),
	    "2 x 1 MiB of 0xFF: 6 MiB of U+FFFD, valid UTF-8");
	buf_free(&out);
	job_result_free(&r);
	free(junk);
}

/* ------------------------------------------- the runner's data record */

#define DATA_HEAD ",\"exception\":"
#define DATA_USAGE                                         \
	",\"usage\":{\"cpu_ms\":12,\"memory_peak_bytes\":" \
	"209715200,\"queue_ms\":3},\"files\":[],\"files_truncated\":false"
#define NO_DATA \
	DATA_HEAD "null,\"result\":null,\"result_truncated\":false" DATA_USAGE

/*
 * The record is made in the sandbox: a valid one is rendered (from the
 * parsed struct, not copied), anything else says null for both keys.
 */
static void
test_runner_data(void)
{
	static const struct {
		const char *name;
		const char *record;
		const char *tail; /* the answer after duration_ms */
	} cases[] = {
		{ "no record", "", NO_DATA },
		{ "exception and result null",
		    "{\"exception\":null,\"result\":null,\"result_truncated\":false}",
		    NO_DATA },
		{ "a result",
		    "{\"exception\":null,\"result\":\"4\",\"result_truncated\":false}",
		    DATA_HEAD
		    "null,\"result\":\"4\",\"result_truncated\":false" DATA_USAGE },
		{ "a result cut, keys in another order",
		    "{\"result_truncated\":true,\"result\":\"'ab\",\"exception\":null}",
		    DATA_HEAD
		    "null,\"result\":\"'ab\",\"result_truncated\":true" DATA_USAGE },
		{ "an exception with two frames",
		    "{\"exception\":{\"type\":\"ZeroDivisionError\",\"message\":"
		    "\"division by zero\",\"line\":2,\"traceback\":[{\"line\":5,"
		    "\"function\":\"<module>\",\"text\":\"f(0)\"},{\"line\":2,"
		    "\"function\":\"f\",\"text\":\"return 1/x\"}]},\"result\":null,"
		    "\"result_truncated\":false}",
		    DATA_HEAD
		    "{\"type\":\"ZeroDivisionError\",\"message\":"
		    "\"division by zero\",\"line\":2,\"traceback\":[{\"line\":5,"
		    "\"function\":\"<module>\",\"text\":\"f(0)\"},{\"line\":2,"
		    "\"function\":\"f\",\"text\":\"return 1/x\"}]},\"result\":null,"
		    "\"result_truncated\":false" DATA_USAGE },
		{ "a SyntaxError: offset, no frames, escapes re-encoded",
		    "{\"exception\":{\"type\":\"SyntaxError\",\"message\":\"expected "
		    "\\u0027:\\u0027\\n\",\"line\":1,\"offset\":5,\"traceback\":[]},"
		    "\"result\":null,\"result_truncated\":false}",
		    DATA_HEAD
		    "{\"type\":\"SyntaxError\",\"message\":\"expected "
		    "':'\\n\",\"line\":1,\"offset\":5,\"traceback\":[]},\"result\":null,"
		    "\"result_truncated\":false" DATA_USAGE },
		{ "line null",
		    "{\"exception\":{\"type\":\"E\",\"message\":\"\","
		    "\"line\":null,\"traceback\":[]},\"result\":null,"
		    "\"result_truncated\":false}",
		    DATA_HEAD
		    "{\"type\":\"E\",\"message\":\"\",\"line\":null,"
		    "\"traceback\":[]},\"result\":null,\"result_truncated\":false" DATA_USAGE },
		/* refused whole */
		{ "not JSON", "{\"exception\":", NO_DATA },
		{ "not an object", "[1]", NO_DATA },
		{ "a key missing", "{\"exception\":null,\"result\":null}",
		    NO_DATA },
		{ "an unknown key",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false,\"status\":\"ok\"}",
		    NO_DATA },
		{ "a key twice",
		    "{\"exception\":null,\"result\":\"1\",\"result\":\"2\","
		    "\"result_truncated\":false}",
		    NO_DATA },
		{ "result a number",
		    "{\"exception\":null,\"result\":4,"
		    "\"result_truncated\":false}",
		    NO_DATA },
		{ "a negative line",
		    "{\"exception\":{\"type\":\"E\",\"message\":\"\","
		    "\"line\":-1,\"traceback\":[]},\"result\":null,"
		    "\"result_truncated\":false}",
		    NO_DATA },
		{ "a frame without text",
		    "{\"exception\":{\"type\":\"E\",\"message\":"
		    "\"\",\"line\":1,\"traceback\":[{\"line\":1,\"function\":\"f\"}]},"
		    "\"result\":null,\"result_truncated\":false}",
		    NO_DATA },
		{ "an exception without traceback",
		    "{\"exception\":{\"type\":\"E\","
		    "\"message\":\"\",\"line\":1},\"result\":null,"
		    "\"result_truncated\":false}",
		    NO_DATA },
		{ "a NUL in the type",
		    "{\"exception\":{\"type\":\"E\\u0000\","
		    "\"message\":\"\",\"line\":1,\"traceback\":[]},\"result\":null,"
		    "\"result_truncated\":false}",
		    NO_DATA },
		{ "nested deeper",
		    "{\"exception\":{\"type\":\"E\",\"message\":\"\","
		    "\"line\":1,\"traceback\":[{\"line\":1,\"function\":\"f\",\"text\":"
		    "{}}]},\"result\":null,\"result_truncated\":false}",
		    NO_DATA },
		{ "a comment",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false}/**/",
		    NO_DATA },
		{ "trailing bytes",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false} {}",
		    NO_DATA },
		{ "invalid UTF-8",
		    "{\"exception\":null,\"result\":\"\xff\","
		    "\"result_truncated\":false}",
		    NO_DATA },
		/* files: text comes back as utf-8, other bytes as base64 */
		{ "files, text and bytes",
		    "{\"exception\":null,\"result\":null,\"result_truncated\":false,"
		    "\"files\":[{\"name\":\"a.csv\",\"size\":4,\"data\":\"eCwxCg==\"},"
		    "{\"name\":\"b.bin\",\"size\":3,\"data\":\"AP+A\"}],"
		    "\"files_truncated\":true}",
		    DATA_HEAD
		    "null,\"result\":null,\"result_truncated\":false,"
		    "\"usage\":{\"cpu_ms\":12,\"memory_peak_bytes\":209715200,"
		    "\"queue_ms\":3},\"files\":[{\"name\":\"a.csv\",\"content\":"
		    "\"x,1\\n\",\"encoding\":\"utf-8\",\"size\":4},{\"name\":"
		    "\"b.bin\",\"content\":\"AP+A\",\"encoding\":\"base64\","
		    "\"size\":3}],\"files_truncated\":true" },
		{ "a file with a NUL is base64",
		    "{\"exception\":null,\"result\":null,\"result_truncated\":false,"
		    "\"files\":[{\"name\":\"n\",\"size\":1,\"data\":\"AA==\"}],"
		    "\"files_truncated\":false}",
		    DATA_HEAD
		    "null,\"result\":null,\"result_truncated\":false,"
		    "\"usage\":{\"cpu_ms\":12,\"memory_peak_bytes\":209715200,"
		    "\"queue_ms\":3},\"files\":[{\"name\":\"n\",\"content\":"
		    "\"AA==\",\"encoding\":\"base64\",\"size\":1}],"
		    "\"files_truncated\":false" },
		{ "a file name with a slash",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false,\"files\":[{\"name\":\"../x\",\"size\":0,"
		    "\"data\":\"\"}],\"files_truncated\":false}",
		    NO_DATA },
		{ "a file name twice",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false,\"files\":[{\"name\":\"x\",\"size\":0,"
		    "\"data\":\"\"},{\"name\":\"x\",\"size\":0,\"data\":\"\"}],"
		    "\"files_truncated\":false}",
		    NO_DATA },
		{ "a size that is not the data's",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false,\"files\":[{\"name\":\"x\",\"size\":2,"
		    "\"data\":\"AA==\"}],\"files_truncated\":false}",
		    NO_DATA },
		{ "bad base64",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false,\"files\":[{\"name\":\"x\",\"size\":1,"
		    "\"data\":\"A===\"}],\"files_truncated\":false}",
		    NO_DATA },
		{ "files without files_truncated",
		    "{\"exception\":null,\"result\":null,"
		    "\"result_truncated\":false,\"files\":[]}",
		    NO_DATA },
	};
	static const char head[] =
	    "{\"stdout\":\"\",\"stderr\":\"\","
	    "\"exit_code\":0,\"status\":\"ok\",\"stdout_truncated\":false,"
	    "\"stderr_truncated\":false,\"duration_ms\":1";
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job_result r;
		struct buf out, want;

		job_result_init(&r, MIB);
		r.duration_ms = 1;
		r.usage.cpu_ms = 12;
		r.usage.memory_peak_bytes = 209715200;
		r.usage.queue_ms = 3;
		buf_append(&r.data, cases[i].record, strlen(cases[i].record));
		buf_init(&out, ANSWER_MAX_BYTES);
		buf_init(&want, 64 * 1024);
		buf_append_str(&want, head);
		buf_append_str(&want, cases[i].tail);
		buf_append_str(&want, "}");
		is_int(answer_result(&r, &out), 0, "data record: %s: encodes",
		    cases[i].name);
		is_mem(out.data, out.len, want.data, want.len,
		    "data record: %s: answer", cases[i].name);
		buf_free(&want);
		buf_free(&out);
		job_result_free(&r);
	}
}

/* Every cap of the record: at the cap it is rendered, one over refuses it. */
static void
test_runner_data_caps(void)
{
	static const struct {
		const char *name;
		const char *before, *after;
		size_t cap;
	} cases[] = {
		{ "result", "{\"exception\":null,\"result\":\"",
		    "\",\"result_truncated\":true}", PROTOCOL_RESULT_MAX_BYTES },
		{ "type", "{\"exception\":{\"type\":\"",
		    "\",\"message\":\"\","
		    "\"line\":1,\"traceback\":[]},\"result\":null,"
		    "\"result_truncated\":false}",
		    PROTOCOL_EXC_TYPE_MAX_BYTES },
		{ "message", "{\"exception\":{\"type\":\"E\",\"message\":\"",
		    "\",\"line\":1,\"traceback\":[]},\"result\":null,"
		    "\"result_truncated\":false}",
		    PROTOCOL_EXC_MESSAGE_MAX_BYTES },
		{ "function",
		    "{\"exception\":{\"type\":\"E\",\"message\":\"\","
		    "\"line\":1,\"traceback\":[{\"line\":1,\"text\":\"\",\"function\":\"",
		    "\"}]},\"result\":null,\"result_truncated\":false}",
		    PROTOCOL_EXC_TEXT_MAX_BYTES },
		{ "text",
		    "{\"exception\":{\"type\":\"E\",\"message\":\"\","
		    "\"line\":1,\"traceback\":[{\"line\":1,\"function\":\"f\",\"text\":\"",
		    "\"}]},\"result\":null,\"result_truncated\":false}",
		    PROTOCOL_EXC_TEXT_MAX_BYTES },
	};
	struct runner_data *d = calloc(1, sizeof(*d));
	struct buf rec;
	size_t i, extra;
	char *filler = malloc(PROTOCOL_RESULT_MAX_BYTES + 1);

	memset(filler, 'a', PROTOCOL_RESULT_MAX_BYTES + 1);
	runner_data_init(d);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (extra = 0; extra <= 1; extra++) {
			buf_init(&rec, 2 * PROTOCOL_RESULT_MAX_BYTES);
			buf_append_str(&rec, cases[i].before);
			buf_append(&rec, filler, cases[i].cap + extra);
			buf_append_str(&rec, cases[i].after);
			is_int(runner_data_parse(rec.data, rec.len, d),
			    extra ? -1 : 0, "data record: %s of %zu bytes %s",
			    cases[i].name, cases[i].cap + extra,
			    extra ? "refused" : "kept");
			is_int(d->valid, !extra, "data record: %s: valid %d",
			    cases[i].name, !extra);
			buf_free(&rec);
		}
	}
	/* Frames: PROTOCOL_EXC_FRAMES_MAX kept, one more refused. */
	for (extra = 0; extra <= 1; extra++) {
		buf_init(&rec, 1 * MIB);
		buf_append_str(&rec,
		    "{\"exception\":{\"type\":\"E\",\"message\":"
		    "\"\",\"line\":1,\"traceback\":[");
		for (i = 0; i < PROTOCOL_EXC_FRAMES_MAX + extra; i++)
			buf_append_str(&rec,
			    i ? ",{\"line\":1,\"function\":\"f\","
				"\"text\":\"t\"}" :
				"{\"line\":1,\"function\":\"f\","
				"\"text\":\"t\"}");
		buf_append_str(&rec,
		    "]},\"result\":null,\"result_truncated\":false}");
		is_int(runner_data_parse(rec.data, rec.len, d), extra ? -1 : 0,
		    "data record: %d frames %s",
		    PROTOCOL_EXC_FRAMES_MAX + (int)extra,
		    extra ? "refused" : "kept");
		if (!extra)
			is_int(d->exception.nframes, PROTOCOL_EXC_FRAMES_MAX,
			    "data record: every frame kept");
		buf_free(&rec);
	}
	/* A line at RUNNER_DATA_LINE_MAX and one over. */
#define LINE_RECORD(n)                                     \
	"{\"exception\":{\"type\":\"E\",\"message\":\"\"," \
	"\"line\":" n                                      \
	",\"traceback\":[]},\"result\":null,\"result_truncated\":false}"
	is_int(runner_data_parse(LINE_RECORD("100000000"),
		   strlen(LINE_RECORD("100000000")), d),
	    0, "data record: line 100000000 kept");
	is_int(runner_data_parse(LINE_RECORD("100000001"),
		   strlen(LINE_RECORD("100000001")), d),
	    -1, "data record: line 100000001 refused");
	/* The record's own cap. */
	is_int(runner_data_parse("{}", PROTOCOL_DATA_MAX_BYTES + 1, d), -1,
	    "data record over PROTOCOL_DATA_MAX_BYTES refused unread");
	runner_data_free(d);
	free(d);
	free(filler);
}

/* ---------------------------------------------------------- errors */

static void
test_errors(void)
{
	static const struct {
		const char *code;
		const char *message;
		const char *json;
	} cases[] = {
		{ "invalid_json", "The body is not valid JSON.",
		    "{\"error\":{\"code\":\"invalid_json\",\"message\":"
		    "\"The body is not valid JSON.\"}}" },
		{ "unknown_key", "Unknown key \"x\": only \"code\".",
		    "{\"error\":{\"code\":\"unknown_key\",\"message\":"
		    "\"Unknown key \\\"x\\\": only \\\"code\\\".\"}}" },
		{ "code_too_large",
		    "back\\slash, tab\there, new\nline, caf\xc3\xa9",
		    "{\"error\":{\"code\":\"code_too_large\",\"message\":"
		    "\"back\\\\slash, tab\\there, new\\nline, caf\xc3\xa9\"}}" },
		{ "internal", "",
		    "{\"error\":{\"code\":\"internal\",\"message\":\"\"}}" },
	};
	struct api_error e;
	struct buf out;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		e.http_status = 400;
		e.code = cases[i].code;
		snprintf(e.message, sizeof(e.message), "%s", cases[i].message);
		buf_init(&out, 4096);
		is_int(answer_error(&e, &out), 0, "error encodes: %s", e.code);
		is_str(out.data, cases[i].json, "error bytes: %s", e.code);
		buf_free(&out);
	}

	/* api_error_set (request.c) then answer_error. */
	api_error_set(&e, 413, "stdin_too_large",
	    "\"%s\" is %zu bytes; at most "
	    "%zu are accepted.",
	    "stdin", (size_t)1048577, (size_t)1048576);
	buf_init(&out, 4096);
	is_int(answer_error(&e, &out), 0, "api_error_set result encodes");
	is_str(out.data,
	    "{\"error\":{\"code\":\"stdin_too_large\",\"message\":"
	    "\"\\\"stdin\\\" is 1048577 bytes; at most 1048576 are accepted.\"}}",
	    "api_error_set result bytes");
	is_int(e.http_status, 413, "api_error_set keeps the status");
	buf_free(&out);

	/* Invalid UTF-8 in a message is refused, not written. */
	memset(&e, 0, sizeof(e));
	e.code = "unknown_key";
	snprintf(e.message, sizeof(e.message), "cut \xc3");
	buf_init(&out, 4096);
	is_int(answer_error(&e, &out), -1, "message with invalid UTF-8: -1");
	is_int(out.len, 0, "message with invalid UTF-8: nothing written");
	buf_free(&out);

	/* Cap. */
	api_error_set(&e, 400, "invalid_json", "x");
	buf_init(&out, 10);
	is_int(answer_error(&e, &out), -1, "error into a 10-byte buffer: -1");
	is_int(out.len, 0, "error into a 10-byte buffer: nothing written");
	buf_free(&out);

	/* A path that returns -1 without filling its error (the request's
	 * starts from api_error_init) still answers 500 internal; one whose
	 * fields were cleared or mangled is made 500 internal by the writer's
	 * api_error_normalize instead of crashing on a NULL code. */
	api_error_init(&e);
	is_int(e.http_status, 500, "api_error_init: 500");
	is_str(e.code, "internal", "api_error_init: internal");
	ok(e.message[0] != '\0', "api_error_init: a message (%s)", e.message);
	memset(&e, 0, sizeof(e));
	api_error_normalize(&e);
	is_int(e.http_status, 500, "a zeroed error normalizes to 500");
	is_str(e.code, "internal", "a zeroed error normalizes to internal");
	buf_init(&out, 4096);
	is_int(answer_error(&e, &out), 0, "and encodes");
	buf_free(&out);
	api_error_set(&e, 200, "busy", "x");
	api_error_normalize(&e);
	is_int(e.http_status, 500, "status 200 on an error normalizes to 500");
	api_error_set(&e, 503, "busy", "x");
	memset(e.message, 'm', sizeof(e.message));
	api_error_normalize(&e);
	is_str(e.code, "internal",
	    "an unterminated message normalizes to internal");
	api_error_set(&e, 429, "rate_limited", "Slow down.");
	api_error_normalize(&e);
	ok(e.http_status == 429 && strcmp(e.code, "rate_limited") == 0 &&
		strcmp(e.message, "Slow down.") == 0,
	    "a well-formed error is kept");
}

static void
test_health(void)
{
	struct health h = {
		.engine_version = "20.10.24",
		.image = "pycage-sandbox:latest",
		.executions_running = 1,
		.max_executions = 4,
		.pool_size = 2,
		.pool_ready = 0,
	};
	struct buf out;

	buf_init(&out, 4096);
	is_int(answer_health(&h, &out), 0, "health encodes");
	is_str(out.data,
	    "{\"status\":\"ok\",\"engine_version\":\"20.10.24\","
	    "\"image\":\"pycage-sandbox:latest\",\"executions_running\":1,"
	    "\"max_executions\":4,\"pool_size\":2,\"pool_ready\":0}",
	    "health bytes");
	buf_free(&out);

	/* The engine's version string comes from the engine: not trusted. */
	h.engine_version = "1.0\"}";
	buf_init(&out, 4096);
	is_int(answer_health(&h, &out), 0, "health with a quote in the version");
	ok(strstr(out.data, "\"engine_version\":\"1.0\\\"}\"") != NULL,
	    "the quote is escaped");
	buf_free(&out);
}

/* ----------------------------------------------------- create body */

static yajl_val
get(yajl_val root, yajl_type type, const char *a, const char *b)
{
	const char *path[3] = { a, b, NULL };

	return yajl_tree_get(root, path, type);
}

static long long
get_int(yajl_val root, const char *a, const char *b)
{
	yajl_val v = get(root, yajl_t_number, a, b);

	return (v != NULL && YAJL_IS_INTEGER(v)) ? YAJL_GET_INTEGER(v) : -12345;
}

static const char *
get_str(yajl_val root, const char *a, const char *b)
{
	yajl_val v = get(root, yajl_t_string, a, b);

	return v != NULL ? v->u.string : NULL;
}

static int
get_bool(yajl_val root, const char *a, const char *b)
{
	yajl_val v = get(root, yajl_t_any, a, b);

	if (v != NULL && YAJL_IS_TRUE(v))
		return 1;
	if (v != NULL && YAJL_IS_FALSE(v))
		return 0;
	return -1;
}

/* true if the array at a/b holds the string s. */
static bool
array_has(yajl_val root, const char *a, const char *b, const char *s)
{
	yajl_val v = get(root, yajl_t_array, a, b);
	size_t i;

	if (v == NULL)
		return false;
	for (i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];

		if (YAJL_IS_STRING(e) && strcmp(e->u.string, s) == 0)
			return true;
	}
	return false;
}

static size_t
array_len(yajl_val root, const char *a, const char *b)
{
	yajl_val v = get(root, yajl_t_array, a, b);

	return v != NULL ? v->u.array.len : (size_t)-1;
}

#define TEST_EXPIRES 1800000000LL

static yajl_val
parse_create_body(const struct config *c, const char *preload, struct buf *out)
{
	char errbuf[256];
	yajl_val root;

	buf_init(out, CREATE_BODY_MAX_BYTES);
	if (create_body(c, preload, false, NULL, UID_SHARED, "", TEST_EXPIRES,
		out) != 0)
		return NULL;
	root = yajl_tree_parse(out->data, errbuf, sizeof(errbuf));
	if (root == NULL)
		diag("yajl_tree_parse: %s", errbuf);
	return root;
}

/* The Hard value of the named entry of HostConfig.Ulimits, or -1. */
static long long
ulimit_hard(yajl_val root, const char *want)
{
	const char *name[] = { "Name", NULL }, *hard[] = { "Hard", NULL };
	yajl_val v = get(root, yajl_t_array, "HostConfig", "Ulimits");
	yajl_val n, h;
	size_t i;

	for (i = 0; v != NULL && i < v->u.array.len; i++) {
		n = yajl_tree_get(v->u.array.values[i], name, yajl_t_string);
		h = yajl_tree_get(v->u.array.values[i], hard, yajl_t_number);
		if (n != NULL && h != NULL && strcmp(n->u.string, want) == 0)
			return YAJL_GET_INTEGER(h);
	}
	return -1;
}

static void
test_create_body(void)
{
	struct config c;
	struct buf out;
	yajl_val root, v;
	const char *s;

	config_defaults(&c);
	root = parse_create_body(&c, "", &out);
	if (!ok(root != NULL, "create body encodes and parses back")) {
		buf_free(&out);
		return;
	}
	ok(memchr(out.data, '\0', out.len) == NULL, "create body has no NUL");
	is_int(get_int(root, "HostConfig", "Memory"), 536870912,
	    "HostConfig.Memory 512 MiB");
	is_int(get_int(root, "HostConfig", "MemorySwap"), 536870912,
	    "HostConfig.MemorySwap = Memory (no swap)");
	is_int(get_int(root, "HostConfig", "CpuPeriod"), 1000000,
	    "HostConfig.CpuPeriod 1 s");
	is_int(get_int(root, "HostConfig", "CpuQuota"), 500000,
	    "HostConfig.CpuQuota 0.5 s of it: half a CPU");
	ok(get(root, yajl_t_any, "HostConfig", "NanoCpus") == NULL,
	    "no NanoCpus (the engine refuses it beside CpuPeriod)");
	is_int(get_int(root, "HostConfig", "PidsLimit"), 64,
	    "HostConfig.PidsLimit 64");
	is_int(get_bool(root, "HostConfig", "ReadonlyRootfs"), 1,
	    "HostConfig.ReadonlyRootfs true");
	is_str(get_str(root, "HostConfig", "NetworkMode"), "none",
	    "HostConfig.NetworkMode none");
	is_int(get_bool(root, "NetworkDisabled", NULL), 1,
	    "NetworkDisabled true");
	is_int(array_len(root, "HostConfig", "CapDrop"), 1,
	    "CapDrop has one entry");
	ok(array_has(root, "HostConfig", "CapDrop", "ALL"), "CapDrop [\"ALL\"]");
	ok(get(root, yajl_t_any, "HostConfig", "CapAdd") == NULL, "no CapAdd");
	ok(array_has(root, "HostConfig", "SecurityOpt", "no-new-privileges"),
	    "SecurityOpt has no-new-privileges");
	is_int(array_len(root, "HostConfig", "SecurityOpt"), 1,
	    "SecurityOpt without a profile: only no-new-privileges");
	ok(!array_has(root, "HostConfig", "SecurityOpt", "seccomp=unconfined") &&
		!array_has(root, "HostConfig", "SecurityOpt",
		    "apparmor=unconfined"),
	    "SecurityOpt does not switch seccomp or apparmor off");
	is_int(get_bool(root, "HostConfig", "Privileged"), -1,
	    "no Privileged key");
	is_str(get_str(root, "User", NULL), "65534:65534", "User 65534:65534");
	is_int(get_bool(root, "HostConfig", "Init"), 1, "HostConfig.Init true");
	{
		const char *path[] = { "HostConfig", "Tmpfs", "/tmp", NULL };

		v = yajl_tree_get(root, path, yajl_t_string);
		s = v != NULL ? v->u.string : NULL;
	}
	ok(s != NULL, "Tmpfs has /tmp");
	ok(s != NULL && strstr(s, "noexec") != NULL,
	    "Tmpfs /tmp is noexec (%s)", s ? s : "missing");
	ok(s != NULL && strstr(s, "nosuid") != NULL &&
		strstr(s, "size=16m") != NULL,
	    "Tmpfs /tmp is nosuid with size=16m");
	is_str(get_str(root, "Labels", DOCKER_LABEL_MANAGED), "1",
	    "Labels org.pycage.managed \"1\"");
	is_str(get_str(root, "Labels", DOCKER_LABEL_INSTANCE), "default",
	    "Labels org.pycage.instance is the instance");
	is_str(get_str(root, "Labels", DOCKER_LABEL_EXPIRES), "1800000000",
	    "Labels org.pycage.expires is the expiry, in decimal");
	is_str(get_str(root, "Labels", DOCKER_LABEL_UIDS), "200000-200013",
	    "Labels org.pycage.uids: uid_base and max_executions + pool_size + 8");
	{
		long long now = (long long)time(NULL);
		long long cold = janitor_expiry(&c, false) - now;
		long long pooled = janitor_expiry(&c, true) - now;

		ok(cold >= 30 + 120 && cold <= 30 + 120 + 1,
		    "cold expiry: timeout_max_s 30 + grace 120 (%lld)", cold);
		ok(pooled - cold == c.pool_max_age_s,
		    "pooled expiry adds pool_max_age_s (%lld)", pooled - cold);
	}
	ok(get(root, yajl_t_any, "Runtime", NULL) == NULL &&
		get(root, yajl_t_any, "HostConfig", "Runtime") == NULL,
	    "no Runtime key by default");
	is_int(get_bool(root, "OpenStdin", NULL), 1, "OpenStdin true");
	is_int(get_bool(root, "StdinOnce", NULL), 1, "StdinOnce true");
	is_int(get_bool(root, "AttachStdin", NULL), 1, "AttachStdin true");
	is_int(get_bool(root, "Tty", NULL), 0, "Tty false (framed output)");
	ok(get(root, yajl_t_array, "Cmd", NULL) != NULL, "Cmd is an array");
	is_int(array_len(root, "Cmd", NULL), 0,
	    "Cmd empty: code travels on stdin");
	is_str(get_str(root, "Image", NULL), "pycage-sandbox:latest", "Image");
	is_int(get_bool(root, "HostConfig", "AutoRemove"), 0, "AutoRemove false");
	is_str(get_str(root, "HostConfig", "IpcMode"), "none",
	    "IpcMode none: no /dev/shm");
	ok(get(root, yajl_t_any, "HostConfig", "MaskedPaths") == NULL &&
		get(root, yajl_t_any, "HostConfig", "ReadonlyPaths") == NULL,
	    "MaskedPaths/ReadonlyPaths left to Docker's defaults");
	is_int(ulimit_hard(root, "core"), 0, "Ulimits core 0");
	is_int(ulimit_hard(root, "nproc"), -1,
	    "no nproc with the shared uid (it would count across runs)");
	yajl_tree_free(root);
	buf_free(&out);

	/* Runtime runsc, other limits. */
	config_defaults(&c);
	snprintf(c.runtime, sizeof(c.runtime), "runsc");
	c.memory_mb = 65536;
	c.cpu_millis = 64000;
	c.pids_limit = 4096;
	root = parse_create_body(&c, "", &out);
	if (ok(root != NULL, "create body with runtime runsc parses")) {
		is_str(get_str(root, "HostConfig", "Runtime"), "runsc",
		    "HostConfig.Runtime runsc");
		is_int(get_int(root, "HostConfig", "Memory"),
		    65536LL * 1024 * 1024, "Memory 64 GiB does not overflow");
		is_int(get_int(root, "HostConfig", "MemorySwap"),
		    65536LL * 1024 * 1024, "MemorySwap 64 GiB");
		is_int(get_int(root, "HostConfig", "CpuQuota"), 64000000LL,
		    "CpuQuota 64 CPUs over 1 s does not overflow");
		is_int(get_int(root, "HostConfig", "PidsLimit"),
		    4096LL * CREATE_BODY_RUNSC_HOST_TASKS,
		    "PidsLimit under gVisor: 4096 x CREATE_BODY_RUNSC_HOST_TASKS host tasks");
		is_int(ulimit_hard(root, "nproc"), 4096,
		    "nproc 4096 under gVisor, even with the shared uid");
		yajl_tree_free(root);
	}
	buf_free(&out);

	/* The runner's preload list is the only thing in Cmd; NULL and ""
	 * both mean none. */
	config_defaults(&c);
	root = parse_create_body(&c, "numpy,pandas", &out);
	if (ok(root != NULL, "create body with preload parses")) {
		is_int(array_len(root, "Cmd", NULL), 1,
		    "preload: Cmd has one entry");
		ok(array_has(root, "Cmd", NULL, "--preload=numpy,pandas"),
		    "preload: Cmd [\"--preload=numpy,pandas\"]");
		yajl_tree_free(root);
	}
	buf_free(&out);
	root = parse_create_body(&c, NULL, &out);
	if (ok(root != NULL, "create body with preload NULL parses")) {
		is_int(array_len(root, "Cmd", NULL), 0,
		    "preload NULL: Cmd empty");
		yajl_tree_free(root);
	}
	buf_free(&out);

	/* A pool container's runner announces when it is ready: --ready. */
	{
		struct {
			const char *preload;
			size_t len;
			const char *first;
		} pooled[] = { { "numpy,pandas", 2, "--preload=numpy,pandas" },
			{ "", 1, "--ready" } };

		for (size_t i = 0; i < sizeof(pooled) / sizeof(pooled[0]); i++) {
			char errbuf[128];
			const char *path[] = { "Cmd", NULL };
			yajl_val cmd;

			buf_init(&out, CREATE_BODY_MAX_BYTES);
			is_int(create_body(&c, pooled[i].preload, true, NULL,
				   UID_SHARED, "", TEST_EXPIRES, &out),
			    0, "pooled body, preload '%s'", pooled[i].preload);
			root = yajl_tree_parse(out.data, errbuf, sizeof(errbuf));
			cmd = root != NULL ?
			    yajl_tree_get(root, path, yajl_t_array) :
			    NULL;
			if (ok(cmd != NULL, "pooled body parses, Cmd an array")) {
				is_int(cmd->u.array.len, pooled[i].len,
				    "pooled, preload '%s': Cmd has %zu entries",
				    pooled[i].preload, pooled[i].len);
				is_str(YAJL_GET_STRING(cmd->u.array.values[0]),
				    pooled[i].first, "pooled: Cmd[0]");
				is_str(
				    YAJL_GET_STRING(
					cmd->u.array.values[cmd->u.array.len - 1]),
				    "--ready", "pooled: --ready last");
			}
			yajl_tree_free(root);
			buf_free(&out);
		}
	}

	/* Entrypoint: absent by default (the image's pycage-runner), an argv
	 * when given. */
	{
		static const char *const argv[] = { "/bin/sh", "-c", "exit 0",
			NULL };
		const char *path[] = { "Entrypoint", NULL };
		yajl_val ep;
		char errbuf[128];

		config_defaults(&c);
		root = parse_create_body(&c, "", &out);
		ok(root != NULL && yajl_tree_get(root, path, yajl_t_any) == NULL,
		    "no Entrypoint key by default");
		if (root != NULL)
			yajl_tree_free(root);
		buf_free(&out);

		buf_init(&out, CREATE_BODY_MAX_BYTES);
		is_int(create_body(&c, "", false, argv, UID_SHARED, "",
			   TEST_EXPIRES, &out),
		    0, "create body with an entrypoint encodes");
		root = yajl_tree_parse(out.data, errbuf, sizeof(errbuf));
		ep = root != NULL ? yajl_tree_get(root, path, yajl_t_array) :
				    NULL;
		ok(ep != NULL && ep->u.array.len == 3 &&
			array_has(root, "Entrypoint", NULL, "/bin/sh") &&
			array_has(root, "Entrypoint", NULL, "exit 0"),
		    "Entrypoint [\"/bin/sh\", \"-c\", \"exit 0\"]");
		if (root != NULL)
			yajl_tree_free(root);
		buf_free(&out);
	}

	/* A per-container uid (uid.c) replaces the uid, keeps the group. */
	{
		char errbuf[128];

		config_defaults(&c);
		buf_init(&out, CREATE_BODY_MAX_BYTES);
		is_int(create_body(&c, "", false, NULL, 200007, "",
			   TEST_EXPIRES, &out),
		    0, "create body with uid 200007 encodes");
		root = yajl_tree_parse(out.data, errbuf, sizeof(errbuf));
		is_str(root ? get_str(root, "User", NULL) : NULL, "200007:65534",
		    "User 200007:65534 (own uid, configured gid)");
		is_int(root ? ulimit_hard(root, "nproc") : -2, 64,
		    "nproc 64 (pids_limit) with a uid of its own");
		is_int(root ? get_int(root, "HostConfig", "PidsLimit") : -2, 64,
		    "PidsLimit 64 under runc");
		if (root != NULL)
			yajl_tree_free(root);
		buf_free(&out);
	}

	/* A seccomp profile travels as text: "seccomp=<json>". */
	{
		static const char profile[] =
		    "{\"defaultAction\":\"SCMP_ACT_ERRNO\","
		    "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
		char opt[sizeof(profile) + 16];

		config_defaults(&c);
		c.seccomp_json = (char *)profile;
		snprintf(opt, sizeof(opt), "seccomp=%s", profile);
		root = parse_create_body(&c, "", &out);
		if (ok(root != NULL, "create body with a seccomp profile parses")) {
			ok(array_has(root, "HostConfig", "SecurityOpt", opt),
			    "SecurityOpt has seccomp=<the profile's text>");
			ok(array_has(root, "HostConfig", "SecurityOpt",
			       "no-new-privileges"),
			    "and still no-new-privileges");
			is_int(array_len(root, "HostConfig", "SecurityOpt"), 2,
			    "SecurityOpt has exactly those two");
			yajl_tree_free(root);
		}
		buf_free(&out);
		c.seccomp_json = NULL;
	}

	/* CpusetCpus: present with a cpuset, absent without one. */
	config_defaults(&c);
	root = parse_create_body(&c, "", &out);
	if (ok(root != NULL, "create body without a cpuset parses")) {
		ok(get(root, yajl_t_any, "HostConfig", "CpusetCpus") == NULL,
		    "no CpusetCpus without a cpuset");
		yajl_tree_free(root);
	}
	buf_free(&out);
	{
		char errbuf[128];

		buf_init(&out, CREATE_BODY_MAX_BYTES);
		is_int(create_body(&c, "", false, NULL, UID_SHARED, "1",
			   TEST_EXPIRES, &out),
		    0, "create body with cpuset 1");
		root = yajl_tree_parse(out.data, errbuf, sizeof(errbuf));
		if (ok(root != NULL, "and parses")) {
			is_str(get_str(root, "HostConfig", "CpusetCpus"), "1",
			    "HostConfig.CpusetCpus is \"1\"");
			yajl_tree_free(root);
		}
		buf_free(&out);
	}

	/* Config strings with JSON metacharacters stay strings. */
	config_defaults(&c);
	snprintf(c.image, sizeof(c.image), "img\",\"Privileged\":true,\"x\":\"");
	snprintf(c.instance, sizeof(c.instance), "a\\b\n");
	root = parse_create_body(&c, "", &out);
	if (ok(root != NULL, "create body with quotes in config strings parses")) {
		is_str(get_str(root, "Image", NULL),
		    "img\",\"Privileged\":true,\"x\":\"", "Image kept verbatim");
		ok(get(root, yajl_t_any, "Privileged", NULL) == NULL,
		    "no Privileged key injected");
		is_str(get_str(root, "Labels", DOCKER_LABEL_INSTANCE), "a\\b\n",
		    "instance label kept verbatim");
		yajl_tree_free(root);
	}
	buf_free(&out);

	/* Invalid UTF-8 in config (start-up: executor_new fails). */
	config_defaults(&c);
	snprintf(c.instance, sizeof(c.instance), "bad\xff");
	buf_init(&out, 64 * 1024);
	is_int(create_body(&c, "", false, NULL, UID_SHARED, "", TEST_EXPIRES,
		   &out),
	    -1, "invalid UTF-8 in a config string: -1");
	is_int(out.len, 0, "invalid UTF-8 in a config string: nothing written");
	buf_free(&out);

	/* Cap. */
	config_defaults(&c);
	buf_init(&out, 100);
	is_int(create_body(&c, "", false, NULL, UID_SHARED, "", TEST_EXPIRES,
		   &out),
	    -1, "create body into 100 bytes: -1");
	is_int(out.len, 0, "create body into 100 bytes: nothing written");
	buf_free(&out);
}

int
main(void)
{
	test_results();
	test_empty_result();
	test_status_names();
	test_result_cap();
	test_worst_case();
	test_runner_data();
	test_runner_data_caps();
	test_errors();
	test_health();
	test_create_body();
	return done_testing();
}
