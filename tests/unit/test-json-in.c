/*
 * test-json-in.c: src/front/json_in.c, the only reader of request JSON.  Each
 * case is a body and either the exact job_spec it must produce or the
 * exact HTTP status and error code.  Bodies are copied into a buffer of
 * exactly their length (no NUL after them) so an over-read shows under
 * valgrind.  After every failure the spec must own nothing.
 *
 * Run under valgrind:
 *   valgrind --leak-check=full --error-exitcode=1 tests/unit/test-json-in
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

#define KIB 1024UL
#define MIB (1024UL * 1024UL)

static const struct job_limits limits = {
	.code_max_bytes = 262144,
	.stdin_max_bytes = 1048576,
	.files_max_bytes = 8388608,
	.timeout_default_ms = 10000,
	.timeout_max_ms = 30000,
};

/* Parses a private copy of exactly len bytes. */
static int
parse(const char *body, size_t len, struct job_spec *spec, struct api_error *err)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	memcpy(copy, body, len);
	memset(err, 0, sizeof(*err));
	memset(spec, 0x5a, sizeof(*spec)); /* the parser must set every field */
	rc = json_in_parse_job(copy, len, &limits, spec, err);
	free(copy);
	return rc;
}

/* ------------------------------------------------------------- good */

struct good_case {
	const char *name;
	const char *body;
	size_t body_len;
	const char *code; /* expected bytes */
	size_t code_len;
	const char *stdin_data; /* NULL: no stdin key */
	size_t stdin_len;
	unsigned timeout_ms;
};

#define GOOD(name, body, code, timeout)                                        \
	{                                                                      \
		name, body, sizeof(body) - 1, code, sizeof(code) - 1, NULL, 0, \
		    timeout                                                    \
	}
#define GOOD_IN(name, body, code, in, timeout)                            \
	{                                                                 \
		name, body, sizeof(body) - 1, code, sizeof(code) - 1, in, \
		    sizeof(in) - 1, timeout                               \
	}

static const struct good_case good_cases[] = {
	GOOD("minimal", "{\"code\":\"print(1)\"}", "print(1)", 10000),
	GOOD("whitespace around everything",
	    " \t\r\n{ \"code\" :\t\"print(1)\" \n}\r\n ", "print(1)", 10000),
	GOOD_IN("with stdin", "{\"code\":\"print(input())\",\"stdin\":\"hi\\n\"}",
	    "print(input())", "hi\n", 10000),
	GOOD_IN("stdin first", "{\"stdin\":\"x\",\"code\":\"c\"}", "c", "x",
	    10000),
	GOOD_IN("empty stdin is kept", "{\"code\":\"c\",\"stdin\":\"\"}", "c",
	    "", 10000),
	GOOD("timeout 2.5 -> 2500", "{\"code\":\"c\",\"timeout\":2.5}", "c", 2500),
	GOOD("timeout 30 (the maximum)", "{\"code\":\"c\",\"timeout\":30}", "c",
	    30000),
	GOOD("timeout 30.0", "{\"code\":\"c\",\"timeout\":30.0}", "c", 30000),
	GOOD("timeout 3e1", "{\"code\":\"c\",\"timeout\":3e1}", "c", 30000),
	GOOD("timeout 3E+1", "{\"code\":\"c\",\"timeout\":3E+1}", "c", 30000),
	GOOD("timeout 300e-1", "{\"code\":\"c\",\"timeout\":300e-1}", "c", 30000),
	GOOD("timeout 1", "{\"timeout\":1,\"code\":\"c\"}", "c", 1000),
	GOOD("timeout 0.001 -> 1 ms", "{\"code\":\"c\",\"timeout\":0.001}", "c",
	    1),
	GOOD("timeout 0.0001 rounds up to 1 ms",
	    "{\"code\":\"c\",\"timeout\":0.0001}", "c", 1),
	GOOD("timeout 29.999", "{\"code\":\"c\",\"timeout\":29.999}", "c", 29999),
	GOOD("timeout numeral of 32 chars",
	    "{\"code\":\"c\",\"timeout\":1.000000000000000000000000000000}",
	    "c", 1000),
	GOOD("escapes decoded", "{\"code\":\"a\\u00e9\\n\"}", "a\xc3\xa9\n",
	    10000),
	GOOD("all short escapes", "{\"code\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
	    "\"\\/\b\f\n\r\t", 10000),
	GOOD("raw UTF-8 passes through",
	    "{\"code\":\"print('\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80')\"}",
	    "print('\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80')", 10000),
	GOOD("surrogate pair -> 4-byte UTF-8", "{\"code\":\"\\ud83d\\ude00\"}",
	    "\xf0\x9f\x98\x80", 10000),
	GOOD("surrogate pair in capitals", "{\"code\":\"\\uD83D\\uDE00\"}",
	    "\xf0\x9f\x98\x80", 10000),
	GOOD("U+10FFFF as a pair", "{\"code\":\"\\udbff\\udfff\"}",
	    "\xf4\x8f\xbf\xbf", 10000),
	GOOD("\\u0000 inside code is a NUL byte", "{\"code\":\"a\\u0000b\"}",
	    "a\0b", 10000),
	GOOD_IN("\\u0000 inside stdin",
	    "{\"code\":\"c\",\"stdin\":\"\\u0000\"}", "c", "\0", 10000),
	GOOD("escaped backslash then ud800 is text, not a surrogate",
	    "{\"code\":\"\\\\ud800\"}", "\\ud800", 10000),
	GOOD("escaped quote then a quote-like sequence",
	    "{\"code\":\"\\\"\\\\\\\"\"}", "\"\\\"", 10000),
	GOOD("\\u escape of U+FFFF", "{\"code\":\"\\uffff\"}", "\xef\xbf\xbf",
	    10000),
	GOOD("key as an escape", "{\"c\\u006fde\":\"x\"}", "x", 10000),
};

static void
test_good(void)
{
	size_t i;

	for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *g = &good_cases[i];
		struct job_spec spec;
		struct api_error err;

		if (!is_int(parse(g->body, g->body_len, &spec, &err), 0,
			"good: %s", g->name)) {
			diag("error %d %s: %s", err.http_status,
			    err.code ? err.code : "(null)", err.message);
			continue;
		}
		is_mem(spec.code, spec.code_len, g->code, g->code_len,
		    "code: %s", g->name);
		ok(spec.code[spec.code_len] == '\0', "code NUL-terminated: %s",
		    g->name);
		if (g->stdin_data != NULL)
			is_mem(spec.stdin_data, spec.stdin_len, g->stdin_data,
			    g->stdin_len, "stdin: %s", g->name);
		else
			ok(spec.stdin_data == NULL && spec.stdin_len == 0,
			    "no stdin: %s", g->name);
		is_int(spec.timeout_ms, g->timeout_ms, "timeout_ms: %s", g->name);
		job_spec_free(&spec);
		ok(spec.code == NULL && spec.stdin_data == NULL,
		    "job_spec_free clears: %s", g->name);
	}
}

/* -------------------------------------------------------------- bad */

struct bad_case {
	const char *name;
	const char *body;
	size_t body_len;
	int http_status;
	const char *code;
};

#define BAD(name, body, status, code)                      \
	{                                                  \
		name, body, sizeof(body) - 1, status, code \
	}

static const struct bad_case bad_cases[] = {
	/* syntax */
	BAD("not JSON", "print(1)", 400, "invalid_json"),
	BAD("empty body", "", 400, "invalid_json"),
	BAD("whitespace only", " \n\t ", 400, "invalid_json"),
	BAD("unterminated object", "{\"code\":\"1\"", 400, "invalid_json"),
	BAD("unterminated string", "{\"code\":\"1}", 400, "invalid_json"),
	BAD("trailing comma", "{\"code\":\"1\",}", 400, "invalid_json"),
	BAD("single quotes", "{'code':'1'}", 400, "invalid_json"),
	BAD("unquoted key", "{code:\"1\"}", 400, "invalid_json"),
	BAD("raw tab in a string", "{\"code\":\"a\tb\"}", 400, "invalid_json"),
	BAD("raw newline in a string", "{\"code\":\"a\nb\"}", 400, "invalid_json"),
	BAD("bad escape \\x41", "{\"code\":\"\\x41\"}", 400, "invalid_json"),
	BAD("bad hex in \\u", "{\"code\":\"\\u00g1\"}", 400, "invalid_json"),
	BAD("short \\u at the end", "{\"code\":\"\\u00\"}", 400, "invalid_json"),
	BAD("byte order mark", "\xef\xbb\xbf{\"code\":\"1\"}", 400,
	    "invalid_json"),
	BAD("raw NUL inside a string", "{\"code\":\"a\0b\"}", 400, "invalid_json"),
	BAD("raw NUL after the document", "{\"code\":\"1\"}\0", 400,
	    "invalid_json"),
	BAD("raw NUL before the document", "\0{\"code\":\"1\"}", 400,
	    "invalid_json"),
	BAD("comment /* */", "{/* c */\"code\":\"1\"}", 400, "invalid_json"),
	BAD("comment //", "{\"code\":\"1\" // c\n}", 400, "invalid_json"),
	BAD("comment after the document", "{\"code\":\"1\"} /* c */", 400,
	    "invalid_json"),
	BAD("trailing bytes", "{\"code\":\"1\"} x", 400, "invalid_json"),
	BAD("a second document", "{\"code\":\"1\"}{}", 400, "invalid_json"),
	BAD("a second document after a newline",
	    "{\"code\":\"1\"}\n{\"code\":\"2\"}", 400, "invalid_json"),
	BAD("a number after the document", "{\"code\":\"1\"} 1", 400,
	    "invalid_json"),
	BAD("leading zero in timeout", "{\"code\":\"1\",\"timeout\":01}", 400,
	    "invalid_json"),
	BAD("NaN", "{\"code\":\"1\",\"timeout\":NaN}", 400, "invalid_json"),
	BAD("Infinity", "{\"code\":\"1\",\"timeout\":Infinity}", 400,
	    "invalid_json"),
	BAD("hex number", "{\"code\":\"1\",\"timeout\":0x10}", 400,
	    "invalid_json"),
	BAD("plus sign", "{\"code\":\"1\",\"timeout\":+1}", 400, "invalid_json"),
	BAD("a meaning error then a syntax error", "{\"code\":1,}", 400,
	    "invalid_json"),

	/* bytes: UTF-8 comes first */
	BAD("invalid UTF-8 inside code", "{\"code\":\"\xff\"}", 400,
	    "invalid_utf8"),
	BAD("invalid UTF-8 in a key", "{\"co\xc3\":\"1\"}", 400, "invalid_utf8"),
	BAD("invalid UTF-8 in whitespace", "{\xa0\"code\":\"1\"}", 400,
	    "invalid_utf8"),
	BAD("invalid UTF-8 after the document", "{\"code\":\"1\"}\xfe", 400,
	    "invalid_utf8"),
	BAD("overlong slash C0 AF", "{\"code\":\"\xc0\xaf\"}", 400,
	    "invalid_utf8"),
	BAD("overlong E0 80 80", "{\"code\":\"\xe0\x80\x80\"}", 400,
	    "invalid_utf8"),
	BAD("UTF-8 encoded surrogate", "{\"code\":\"\xed\xa0\x80\"}", 400,
	    "invalid_utf8"),
	BAD("above U+10FFFF", "{\"code\":\"\xf4\x90\x80\x80\"}", 400,
	    "invalid_utf8"),
	BAD("truncated sequence at the end", "{\"code\":\"1\"}\xe2\x82", 400,
	    "invalid_utf8"),
	BAD("invalid UTF-8 wins over NUL", "{\"code\":\"\0\xff\"}", 400,
	    "invalid_utf8"),

	/* lone surrogate escapes */
	BAD("lone high \\ud800", "{\"code\":\"\\ud800\"}", 400, "invalid_json"),
	BAD("lone low \\udc00", "{\"code\":\"\\udc00\"}", 400, "invalid_json"),
	BAD("high then \\u0041", "{\"code\":\"\\ud800\\u0041\"}", 400,
	    "invalid_json"),
	BAD("high then text", "{\"code\":\"\\ud800x\"}", 400, "invalid_json"),
	BAD("high then high", "{\"code\":\"\\ud800\\ud800\\udc00\"}", 400,
	    "invalid_json"),
	BAD("pair reversed", "{\"code\":\"\\ude00\\ud83d\"}", 400, "invalid_json"),
	BAD("lone \\udbff at the string's end", "{\"code\":\"a\\udbff\"}", 400,
	    "invalid_json"),
	BAD("lone surrogate in stdin", "{\"code\":\"1\",\"stdin\":\"\\uDFFF\"}",
	    400, "invalid_json"),
	BAD("lone surrogate in a key", "{\"\\ud800\":1}", 400, "invalid_json"),
	BAD("escaped backslash then a real lone escape",
	    "{\"code\":\"\\\\\\ud800\"}", 400, "invalid_json"),
	BAD("high surrogate cut at the body's end", "{\"code\":\"\\ud800\\u",
	    400, "invalid_json"),

	/* meaning */
	BAD("top-level array", "[]", 400, "not_an_object"),
	BAD("top-level array holding the object", "[{\"code\":\"1\"}]", 400,
	    "not_an_object"),
	BAD("top-level string", "\"print(1)\"", 400, "not_an_object"),
	BAD("top-level number", "1", 400, "not_an_object"),
	BAD("top-level float", "1.5", 400, "not_an_object"),
	BAD("top-level true", "true", 400, "not_an_object"),
	BAD("top-level null", "null", 400, "not_an_object"),
	BAD("duplicate code", "{\"code\":\"a\",\"code\":\"b\"}", 400,
	    "duplicate_key"),
	BAD("duplicate code, second spelled with an escape",
	    "{\"code\":\"a\",\"\\u0063ode\":\"b\"}", 400, "duplicate_key"),
	BAD("duplicate stdin", "{\"code\":\"a\",\"stdin\":\"\",\"stdin\":\"\"}",
	    400, "duplicate_key"),
	BAD("duplicate timeout", "{\"timeout\":1,\"code\":\"a\",\"timeout\":2}",
	    400, "duplicate_key"),
	BAD("duplicate code of another type", "{\"code\":\"a\",\"code\":1}",
	    400, "duplicate_key"),
	BAD("unknown key", "{\"code\":\"1\",\"bogus\":1}", 400, "unknown_key"),
	BAD("key in capitals", "{\"Code\":\"1\"}", 400, "unknown_key"),
	BAD("key with a NUL after it", "{\"code\\u0000\":\"1\"}", 400,
	    "unknown_key"),
	BAD("prefix of a key", "{\"cod\":\"1\"}", 400, "unknown_key"),
	BAD("key with a suffix", "{\"codes\":\"1\"}", 400, "unknown_key"),
	BAD("empty key", "{\"\":\"1\"}", 400, "unknown_key"),
	BAD("unknown key holding a code key", "{\"x\":{\"code\":\"1\"}}", 400,
	    "unknown_key"),
	BAD("first meaning error wins: unknown before wrong type",
	    "{\"bogus\":1,\"code\":2}", 400, "unknown_key"),
	BAD("first meaning error wins: wrong type before unknown",
	    "{\"code\":2,\"bogus\":1}", 400, "wrong_type"),
	BAD("code number", "{\"code\":1}", 400, "wrong_type"),
	BAD("code null", "{\"code\":null}", 400, "wrong_type"),
	BAD("code true", "{\"code\":true}", 400, "wrong_type"),
	BAD("code array", "{\"code\":[\"print(1)\"]}", 400, "wrong_type"),
	BAD("code empty array", "{\"code\":[]}", 400, "wrong_type"),
	BAD("code object", "{\"code\":{\"code\":\"1\"}}", 400, "wrong_type"),
	BAD("stdin number", "{\"code\":\"1\",\"stdin\":1}", 400, "wrong_type"),
	BAD("stdin null", "{\"code\":\"1\",\"stdin\":null}", 400, "wrong_type"),
	BAD("stdin array", "{\"code\":\"1\",\"stdin\":[]}", 400, "wrong_type"),
	BAD("timeout string", "{\"code\":\"1\",\"timeout\":\"2\"}", 400,
	    "wrong_type"),
	BAD("timeout true", "{\"code\":\"1\",\"timeout\":true}", 400,
	    "wrong_type"),
	BAD("timeout false", "{\"code\":\"1\",\"timeout\":false}", 400,
	    "wrong_type"),
	BAD("timeout null", "{\"code\":\"1\",\"timeout\":null}", 400,
	    "wrong_type"),
	BAD("timeout object", "{\"code\":\"1\",\"timeout\":{}}", 400,
	    "wrong_type"),
	BAD("missing code: empty object", "{}", 400, "missing_code"),
	BAD("missing code: stdin only", "{\"stdin\":\"x\"}", 400, "missing_code"),
	BAD("missing code: timeout only", "{\"timeout\":1}", 400, "missing_code"),
	BAD("timeout 0", "{\"code\":\"1\",\"timeout\":0}", 400,
	    "timeout_out_of_range"),
	BAD("timeout -0", "{\"code\":\"1\",\"timeout\":-0}", 400,
	    "timeout_out_of_range"),
	BAD("timeout -1", "{\"code\":\"1\",\"timeout\":-1}", 400,
	    "timeout_out_of_range"),
	BAD("timeout 30.001", "{\"code\":\"1\",\"timeout\":30.001}", 400,
	    "timeout_out_of_range"),
	BAD("timeout 31", "{\"code\":\"1\",\"timeout\":31}", 400,
	    "timeout_out_of_range"),
	BAD("timeout 1e999", "{\"code\":\"1\",\"timeout\":1e999}", 400,
	    "timeout_out_of_range"),
	BAD("timeout -1e999", "{\"code\":\"1\",\"timeout\":-1e999}", 400,
	    "timeout_out_of_range"),
	BAD("timeout 1e-999 (underflows to 0)",
	    "{\"code\":\"1\",\"timeout\":1e-999}", 400, "timeout_out_of_range"),
	BAD("timeout 4294967.296 (ms would wrap 32 bits)",
	    "{\"code\":\"1\",\"timeout\":4294967.296}", 400,
	    "timeout_out_of_range"),
	BAD("timeout numeral longer than 32 chars",
	    "{\"code\":\"1\",\"timeout\":1.0000000000000000000000000000000}",
	    400, "timeout_out_of_range"),
};

/* request.c writes every error through answer_error; a message it
 * cannot encode turns into a generic "internal" answer. */
static bool
error_encodes(const struct api_error *err)
{
	struct buf out;
	bool encoded;

	buf_init(&out, 4096);
	encoded = answer_error(err, &out) == 0;
	buf_free(&out);
	return encoded;
}

/* After any failure the spec owns nothing. */
static void
check_failure(int rc, const struct job_spec *spec, const struct api_error *err,
    int status, const char *code, const char *name)
{
	if (!is_int(rc, -1, "refused: %s", name))
		return;
	is_int(err->http_status, status, "status %d: %s", status, name);
	is_str(err->code, code, "error code %s: %s", code, name);
	ok(err->message[0] != '\0', "has a message: %s", name);
	ok(error_encodes(err), "error answer encodes (answer_error): %s", name);
	ok(spec->code == NULL && spec->stdin_data == NULL &&
		spec->code_len == 0 && spec->stdin_len == 0,
	    "spec owns nothing after failure: %s", name);
}

static void
test_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct job_spec spec;
		struct api_error err;
		int rc;

		rc = parse(b->body, b->body_len, &spec, &err);
		check_failure(rc, &spec, &err, b->http_status, b->code, b->name);
		if (rc == 0)
			job_spec_free(&spec);
	}
}

/* ---------------------------------------------------------- nesting */

/* {"<key>": [[[...]]]} with `arrays` brackets: total depth 1 + arrays. */
static char *
nested_value(const char *key, size_t arrays, size_t *len)
{
	size_t klen = strlen(key), n = 0;
	char *s = malloc(klen + 8 + 2 * arrays);

	s[n++] = '{';
	s[n++] = '"';
	memcpy(s + n, key, klen);
	n += klen;
	s[n++] = '"';
	s[n++] = ':';
	memset(s + n, '[', arrays);
	n += arrays;
	memset(s + n, ']', arrays);
	n += arrays;
	s[n++] = '}';
	*len = n;
	return s;
}

static void
expect_nested(const char *body, size_t len, int status, const char *code,
    const char *name)
{
	struct job_spec spec;
	struct api_error err;
	int rc;

	rc = parse(body, len, &spec, &err);
	check_failure(rc, &spec, &err, status, code, name);
	if (rc == 0)
		job_spec_free(&spec);
}

static void
test_nesting(void)
{
	char *s;
	size_t len, i, n;

	s = nested_value("code", JSON_IN_DEPTH_MAX - 1, &len);
	expect_nested(s, len, 400, "wrong_type",
	    "depth 32 (object + 31 arrays) is walked: wrong_type, not nesting");
	free(s);
	s = nested_value("code", JSON_IN_DEPTH_MAX, &len);
	expect_nested(s, len, 400, "nesting_too_deep",
	    "depth 33 (object + 32 arrays): nesting_too_deep");
	free(s);
	s = nested_value("bogus", JSON_IN_DEPTH_MAX - 1, &len);
	expect_nested(s, len, 400, "unknown_key",
	    "depth 32 under an unknown key: unknown_key");
	free(s);
	s = nested_value("bogus", JSON_IN_DEPTH_MAX, &len);
	expect_nested(s, len, 400, "nesting_too_deep",
	    "depth 33 under an unknown key: nesting_too_deep");
	free(s);

	/* Objects inside objects: {"code":{"a":{"a":...}}}. */
	for (n = JSON_IN_DEPTH_MAX - 1; n <= JSON_IN_DEPTH_MAX; n++) {
		size_t k = 0;

		s = malloc(16 + n * 6);
		memcpy(s, "{\"code\":", 8);
		k = 8;
		for (i = 1; i < n; i++) {
			memcpy(s + k, "{\"a\":", 5);
			k += 5;
		}
		memcpy(s + k, "{}", 2);
		k += 2;
		memset(s + k, '}', n);
		k += n;
		expect_nested(s, k, 400,
		    n == JSON_IN_DEPTH_MAX - 1 ? "wrong_type" : "nesting_too_deep",
		    n == JSON_IN_DEPTH_MAX - 1 ?
			"objects to depth 32: wrong_type" :
			"objects to depth 33: nesting_too_deep");
		free(s);
	}

	/* Top-level arrays: 32 deep is just not an object, 33 is too deep. */
	s = malloc(2 * (JSON_IN_DEPTH_MAX + 1));
	memset(s, '[', JSON_IN_DEPTH_MAX);
	memset(s + JSON_IN_DEPTH_MAX, ']', JSON_IN_DEPTH_MAX);
	expect_nested(s, 2 * JSON_IN_DEPTH_MAX, 400, "not_an_object",
	    "32 nested top-level arrays: not_an_object");
	memset(s, '[', JSON_IN_DEPTH_MAX + 1);
	memset(s + JSON_IN_DEPTH_MAX + 1, ']', JSON_IN_DEPTH_MAX + 1);
	expect_nested(s, 2 * (JSON_IN_DEPTH_MAX + 1), 400, "nesting_too_deep",
	    "33 nested top-level arrays: nesting_too_deep");
	free(s);

	/* The yajl_tree crash of docs/FIELD-NOTES.md: 300,000 levels, then 1,000,000,
	 * unclosed and closed.  No recursion, no crash. */
	{
		static const size_t depths[] = { 300000, 1000000 };

		for (i = 0; i < 2; i++) {
			size_t d = depths[i];

			char name[64];

			s = malloc(2 * d);
			memset(s, '[', d);
			snprintf(name, sizeof(name), "%zu unclosed '['", d);
			expect_nested(s, d, 400, "nesting_too_deep", name);
			memset(s + d, ']', d);
			snprintf(name, sizeof(name), "%zu '[' then %zu ']'", d,
			    d);
			expect_nested(s, 2 * d, 400, "nesting_too_deep", name);
			free(s);
		}
		s = nested_value("code", 300000, &len);
		expect_nested(s, len, 400, "nesting_too_deep",
		    "300000 arrays inside code: nesting_too_deep");
		free(s);
		/* 300,000 nested objects {"a":{"a":... */
		s = malloc(300000 * 5 + 8);
		for (i = 0; i < 300000; i++)
			memcpy(s + 5 * i, "{\"a\":", 5);
		expect_nested(s, 300000 * 5, 400, "nesting_too_deep",
		    "300000 unclosed objects: nesting_too_deep");
		free(s);
	}
}

/* ------------------------------------------------------------ sizes */

/* {"<key>":"<fill x n>"<extra>} */
static char *
big_string(const char *prefix, const char *unit, size_t units,
    const char *suffix, size_t *len)
{
	size_t plen = strlen(prefix), ulen = strlen(unit), slen = strlen(suffix);
	size_t i;
	char *s = malloc(plen + ulen * units + slen);

	memcpy(s, prefix, plen);
	for (i = 0; i < units; i++)
		memcpy(s + plen + i * ulen, unit, ulen);
	memcpy(s + plen + ulen * units, suffix, slen);
	*len = plen + ulen * units + slen;
	return s;
}

static void
test_sizes(void)
{
	struct job_spec spec;
	struct api_error err;
	char *s;
	size_t len;
	int rc;

	s = big_string("{\"code\":\"", "a", 262144, "\"}", &len);
	is_int(parse(s, len, &spec, &err), 0, "code of 262144 bytes accepted");
	is_int(spec.code_len, 262144, "code_len 262144");
	job_spec_free(&spec);
	free(s);

	s = big_string("{\"code\":\"", "a", 262145, "\"}", &len);
	rc = parse(s, len, &spec, &err);
	check_failure(rc, &spec, &err, 413, "code_too_large",
	    "code of 262145 bytes");
	free(s);

	/* The cap counts decoded bytes: 131072 x \u00e9 is 786432 bytes of
	 * JSON but 262144 bytes of code. */
	s = big_string("{\"code\":\"", "\\u00e9", 131072, "\"}", &len);
	is_int(parse(s, len, &spec, &err), 0,
	    "131072 x \\u00e9 (262144 decoded bytes) accepted");
	is_int(spec.code_len, 262144, "decoded code_len 262144");
	job_spec_free(&spec);
	free(s);
	s = big_string("{\"code\":\"x", "\\u00e9", 131072, "\"}", &len);
	rc = parse(s, len, &spec, &err);
	check_failure(rc, &spec, &err, 413, "code_too_large",
	    "x + 131072 x \\u00e9 (262145 decoded bytes)");
	free(s);

	s = big_string("{\"code\":\"1\",\"stdin\":\"", "s", 1048576, "\"}", &len);
	is_int(parse(s, len, &spec, &err), 0, "stdin of 1 MiB accepted");
	is_int(spec.stdin_len, 1048576, "stdin_len 1 MiB");
	job_spec_free(&spec);
	free(s);

	s = big_string("{\"code\":\"1\",\"stdin\":\"", "s", 1048577, "\"}", &len);
	rc = parse(s, len, &spec, &err);
	check_failure(rc, &spec, &err, 413, "stdin_too_large",
	    "stdin of 1 MiB + 1, after code was kept");
	free(s);

	s = big_string("{\"stdin\":\"", "s", 1048577, "\",\"code\":\"1\"}", &len);
	rc = parse(s, len, &spec, &err);
	check_failure(rc, &spec, &err, 413, "stdin_too_large",
	    "stdin of 1 MiB + 1, before code");
	free(s);

	/* Both kept, then a syntax error at the very end: both freed. */
	s = big_string("{\"code\":\"1\",\"stdin\":\"", "s", 1000, "\",}", &len);
	rc = parse(s, len, &spec, &err);
	check_failure(rc, &spec, &err, 400, "invalid_json",
	    "code and stdin kept, then a trailing comma");
	free(s);
	s = big_string("{\"code\":\"1\",\"stdin\":\"", "s", 1000, "\",\"x\":1}",
	    &len);
	rc = parse(s, len, &spec, &err);
	check_failure(rc, &spec, &err, 400, "unknown_key",
	    "code and stdin kept, then an unknown key");
	free(s);
}

/*
 * Every millisecond-exact timeout from 0.001 to 30.000 s.  Never shorter
 * than asked; exactly as asked is the aim, but ceil(seconds * 1000.0)
 * lands 1 ms high for 173 of them (2.007 * 1000.0 is 2007.0000000000002).
 */
static void
test_rounding(void)
{
	struct job_spec spec;
	struct api_error err;
	char body[64];
	unsigned ms, shorter = 0, inexact = 0, refused = 0;
	unsigned first_inexact = 0, got_inexact = 0;

	for (ms = 1; ms <= 30000; ms++) {
		int n = snprintf(body, sizeof(body),
		    "{\"code\":\"c\",\"timeout\":%u.%03u}", ms / 1000, ms % 1000);

		if (parse(body, (size_t)n, &spec, &err) != 0) {
			refused++;
			continue;
		}
		if (spec.timeout_ms < ms)
			shorter++;
		else if (spec.timeout_ms != ms && inexact++ == 0) {
			first_inexact = ms;
			got_inexact = spec.timeout_ms;
		}
		job_spec_free(&spec);
	}
	is_int(refused, 0, "timeouts 0.001 .. 30.000 s all accepted");
	is_int(shorter, 0, "no timeout comes out shorter than asked");
	if (!is_int(inexact, 0, "every millisecond-exact timeout is exact"))
		diag("first: %u.%03u s -> %u ms", first_inexact / 1000,
		    first_inexact % 1000, got_inexact);
}

/*
 * Gaps these tests found, now closed:
 *  - yajl's lexer takes \v and \f as whitespace; RFC 8259 section 2 allows
 *    only space, tab, LF and CR, so these bodies are invalid_json.
 *  - the unknown_key message echoes the key cut at 64 bytes, on a UTF-8
 *    character boundary, so answer_error can encode it.
 */
static void
test_known_gaps(void)
{
	static const struct bad_case ws[] = {
		BAD("form feed after the document", "{\"code\":\"1\"}\f", 400,
		    "invalid_json"),
		BAD("vertical tab before the document", "\v{\"code\":\"1\"}",
		    400, "invalid_json"),
		BAD("form feed between tokens", "{\f\"code\":\"1\"}", 400,
		    "invalid_json"),
	};
	struct job_spec spec;
	struct api_error err;
	char *s;
	size_t len, i;
	int rc;

	for (i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		rc = parse(ws[i].body, ws[i].body_len, &spec, &err);
		is_int(rc, -1, "refused: %s", ws[i].name);
		if (rc == 0)
			job_spec_free(&spec);
	}

	/* "a" + 40 x U+00E9: byte 64 is the middle of a sequence. */
	s = big_string("{\"a", "\xc3\xa9", 40, "\":1}", &len);
	rc = parse(s, len, &spec, &err);
	is_int(rc, -1, "long non-ASCII unknown key refused");
	is_str(err.code, "unknown_key",
	    "long non-ASCII unknown key: unknown_key");
	ok(utf8_valid(err.message, strlen(err.message)),
	    "unknown_key message is valid UTF-8");
	ok(error_encodes(&err),
	    "unknown_key answer for a long non-ASCII key "
	    "encodes");
	free(s);
	/* 64 bytes of 2-byte characters end on a boundary: fine today. */
	s = big_string("{\"", "\xc3\xa9", 40, "\":1}", &len);
	rc = parse(s, len, &spec, &err);
	ok(rc == -1 && error_encodes(&err),
	    "40 x U+00E9 unknown key: the 64-byte cut is on a boundary, encodes");
	free(s);
}

/* The NUL answer tells the client what to write instead. */
static void
test_messages(void)
{
	static const char body[] = "{\"code\":\"a\0b\"}";
	struct job_spec spec;
	struct api_error err;

	parse(body, sizeof(body) - 1, &spec, &err);
	ok(strstr(err.message, "NUL") != NULL &&
		strstr(err.message, "\\u0000") != NULL,
	    "raw NUL: the message names NUL and \\u0000 (%s)", err.message);
}

static void
test_free(void)
{
	struct job_spec spec;

	memset(&spec, 0, sizeof(spec));
	job_spec_free(&spec);
	job_spec_free(&spec);
	ok(spec.code == NULL, "job_spec_free of an empty spec, twice");
}

/* ------------------------------------------------------------ files */

/* A body {"code":"c","files":[...]} with the given list text. */
static void
files_body(struct buf *b, const char *list)
{
	buf_reset(b);
	buf_append_str(b, "{\"code\":\"c\",\"files\":");
	buf_append_str(b, list);
	buf_append_str(b, "}");
}

static void
files_expect_error(const char *list, int status, const char *code,
    const char *name)
{
	struct buf b;
	struct job_spec spec;
	struct api_error err;

	buf_init(&b, 64 * MIB);
	files_body(&b, list);
	is_int(parse(b.data, b.len, &spec, &err), -1, "files: %s: refused", name);
	is_int(err.http_status, status, "files: %s: status %d", name, status);
	is_str(err.code, code, "files: %s: %s", name, code);
	ok(spec.code == NULL && spec.nfiles == 0,
	    "files: %s: spec owns nothing", name);
	buf_free(&b);
}

/* A file of n bytes of 'x' as utf-8 (or n bytes of 0 as base64). */
static void
files_one(struct buf *list, const char *name, size_t n, bool base64)
{
	struct buf raw;

	buf_append_str(list, "{\"name\":\"");
	buf_append_str(list, name);
	buf_append_str(list, "\",\"content\":\"");
	if (base64) {
		char *zero = calloc(1, n + 1);

		buf_init(&raw, n + 1);
		buf_append(&raw, zero, n);
		free(zero);
		base64_encode(raw.data ? raw.data : "", n, list);
		buf_free(&raw);
		buf_append_str(list, "\",\"encoding\":\"base64\"}");
	} else {
		char *x = buf_extend(list, n);

		if (x != NULL)
			memset(x, 'x', n);
		buf_append_str(list, "\"}");
	}
}

static void
test_files(void)
{
	struct buf b, list;
	struct job_spec spec;
	struct api_error err;
	char name[128];
	size_t i;

	buf_init(&b, 64 * MIB);
	buf_init(&list, 64 * MIB);

	files_body(&b,
	    "[{\"name\":\"a.csv\",\"content\":\"x,1\\n\"},"
	    "{\"encoding\":\"base64\",\"content\":\"AP8=\",\"name\":\"b_2-3.bin\"},"
	    "{\"name\":\"c\",\"content\":\"\u00e9\",\"encoding\":\"utf-8\"}]");
	is_int(parse(b.data, b.len, &spec, &err), 0, "files: three files parse");
	ok(spec.nfiles == 3 && strcmp(spec.files[0].name, "a.csv") == 0 &&
		spec.files[0].len == 4 &&
		memcmp(spec.files[0].data, "x,1\n", 4) == 0,
	    "files: utf-8 content kept as its bytes");
	ok(spec.files[1].len == 2 &&
		memcmp(spec.files[1].data, "\0\xff", 2) == 0 &&
		strcmp(spec.files[1].name, "b_2-3.bin") == 0,
	    "files: base64 decoded, keys in any order");
	ok(spec.files[2].len == 2 &&
		memcmp(spec.files[2].data, "\xc3\xa9", 2) == 0,
	    "files: a \\u escape is UTF-8 bytes");
	job_spec_free(&spec);

	files_body(&b, "[]");
	is_int(parse(b.data, b.len, &spec, &err), 0, "files: [] parses");
	is_int(spec.nfiles, 0, "files: [] is no file");
	job_spec_free(&spec);

	/* names: 100 bytes kept, 101 refused */
	memset(name, 'n', 100);
	name[100] = '\0';
	buf_reset(&list);
	buf_append_str(&list, "[");
	files_one(&list, name, 1, false);
	buf_append_str(&list, "]");
	files_body(&b, list.data);
	is_int(parse(b.data, b.len, &spec, &err), 0,
	    "files: a 100-byte name parses");
	is_int(strlen(spec.files[0].name), 100, "files: the 100-byte name kept");
	job_spec_free(&spec);
	name[100] = 'n';
	name[101] = '\0';
	buf_reset(&list);
	buf_append_str(&list, "[");
	files_one(&list, name, 1, false);
	buf_append_str(&list, "]");
	files_expect_error(list.data, 400, "bad_file_name", "a 101-byte name");
	files_expect_error("[{\"name\":\"\",\"content\":\"\"}]", 400,
	    "bad_file_name", "an empty name");
	files_expect_error("[{\"name\":\".x\",\"content\":\"\"}]", 400,
	    "bad_file_name", "a name starting with a dot");
	files_expect_error("[{\"name\":\"a/b\",\"content\":\"\"}]", 400,
	    "bad_file_name", "a name with a slash");
	files_expect_error("[{\"name\":\"..\",\"content\":\"\"}]", 400,
	    "bad_file_name", "..");
	files_expect_error("[{\"name\":\"a\\u0000b\",\"content\":\"\"}]", 400,
	    "bad_file_name", "a name with a NUL");
	files_expect_error("[{\"name\":\"caf\u00e9\",\"content\":\"\"}]", 400,
	    "bad_file_name", "a name with a non-ASCII letter");
	files_expect_error("[{\"name\":\"a\",\"content\":\"\"},"
			   "{\"name\":\"a\",\"content\":\"\"}]",
	    400, "duplicate_file_name", "the same name twice");

	/* count: 32 kept, 33 refused */
	buf_reset(&list);
	buf_append_str(&list, "[");
	for (i = 0; i < PROTOCOL_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		if (i > 0)
			buf_append_str(&list, ",");
		files_one(&list, name, 0, false);
	}
	buf_append_str(&list, "]");
	files_body(&b, list.data);
	is_int(parse(b.data, b.len, &spec, &err), 0, "files: 32 files parse");
	is_int(spec.nfiles, 32, "files: 32 kept");
	job_spec_free(&spec);
	list.len--;
	buf_append_str(&list, ",{\"name\":\"f32\",\"content\":\"\"}]");
	files_expect_error(list.data, 400, "too_many_files", "33 files");

	/* size: 8 MiB decoded in all kept, one byte more refused, both ways */
	buf_reset(&list);
	buf_append_str(&list, "[");
	files_one(&list, "a", limits.files_max_bytes - 1, false);
	buf_append_str(&list, ",");
	files_one(&list, "b", 1, false);
	buf_append_str(&list, "]");
	files_body(&b, list.data);
	is_int(parse(b.data, b.len, &spec, &err), 0,
	    "files: files_max_bytes of utf-8 in two files parse");
	job_spec_free(&spec);
	buf_reset(&list);
	buf_append_str(&list, "[");
	files_one(&list, "a", limits.files_max_bytes - 1, false);
	buf_append_str(&list, ",");
	files_one(&list, "b", 2, false);
	buf_append_str(&list, "]");
	files_expect_error(list.data, 400, "files_too_large",
	    "files_max_bytes + 1 of utf-8");
	buf_reset(&list);
	buf_append_str(&list, "[");
	files_one(&list, "a", limits.files_max_bytes, true);
	buf_append_str(&list, "]");
	files_body(&b, list.data);
	is_int(parse(b.data, b.len, &spec, &err), 0,
	    "files: files_max_bytes of base64 parse");
	is_int(spec.files[0].len, limits.files_max_bytes,
	    "files: decoded length");
	job_spec_free(&spec);
	buf_reset(&list);
	buf_append_str(&list, "[");
	files_one(&list, "a", limits.files_max_bytes + 1, true);
	buf_append_str(&list, "]");
	files_expect_error(list.data, 400, "files_too_large",
	    "files_max_bytes + 1 of base64");

	/* base64 */
	files_body(&b,
	    "[{\"name\":\"a\",\"content\":\"AA==\",\"encoding\":\"base64\"}]");
	is_int(parse(b.data, b.len, &spec, &err), 0, "files: AA== parses");
	is_int(spec.files[0].len, 1, "files: AA== is one byte");
	job_spec_free(&spec);
	files_expect_error("[{\"name\":\"a\",\"content\":\"AB==\",\"encoding\":"
			   "\"base64\"}]",
	    400, "bad_base64", "AB== (bits left over)");
	files_expect_error("[{\"name\":\"a\",\"content\":\"AAA\",\"encoding\":"
			   "\"base64\"}]",
	    400, "bad_base64", "no padding");
	files_expect_error("[{\"name\":\"a\",\"content\":\"A===\",\"encoding\":"
			   "\"base64\"}]",
	    400, "bad_base64", "A===");
	files_expect_error("[{\"name\":\"a\",\"content\":\"AA==AA==\","
			   "\"encoding\":\"base64\"}]",
	    400, "bad_base64", "padding inside");
	files_expect_error("[{\"name\":\"a\",\"content\":\"AAAA\\nAAAA\","
			   "\"encoding\":\"base64\"}]",
	    400, "bad_base64", "a line break");
	files_expect_error("[{\"name\":\"a\",\"content\":\"\",\"encoding\":"
			   "\"latin-1\"}]",
	    400, "bad_file_encoding", "an unknown encoding");

	/* shape */
	files_expect_error("\"a.csv\"", 400, "wrong_type", "files a string");
	files_expect_error("{\"name\":\"a\",\"content\":\"\"}", 400,
	    "wrong_type", "files an object");
	files_expect_error("[1]", 400, "wrong_type", "a file a number");
	files_expect_error("[[]]", 400, "wrong_type", "a file a list");
	files_expect_error("[{\"name\":1,\"content\":\"\"}]", 400, "wrong_type",
	    "a name a number");
	files_expect_error("[{\"name\":\"a\",\"content\":null}]", 400,
	    "wrong_type", "content null");
	files_expect_error("[{\"name\":\"a\",\"content\":{}}]", 400,
	    "wrong_type", "content an object");
	files_expect_error("[{\"name\":\"a\"}]", 400, "missing_file_field",
	    "no content");
	files_expect_error("[{\"content\":\"\"}]", 400, "missing_file_field",
	    "no name");
	files_expect_error("[{\"name\":\"a\",\"content\":\"\",\"mode\":\"w\"}]",
	    400, "unknown_key", "an unknown key in a file");
	files_expect_error("[{\"name\":\"a\",\"name\":\"b\",\"content\":\"\"}]",
	    400, "duplicate_key", "a key twice in a file");
	buf_free(&b);
	buf_free(&list);
}

int
main(void)
{
	test_good();
	test_bad();
	test_nesting();
	test_sizes();
	test_rounding();
	test_known_gaps();
	test_messages();
	test_free();
	test_files();
	return done_testing();
}
