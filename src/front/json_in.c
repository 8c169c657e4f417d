/*
 * json_in.c: the only code that reads request JSON.  A yajl callback
 * parser fills a fixed struct job_spec from the three known keys; there is
 * no tree, so nothing recurses per nesting level and nothing outlives the
 * parse but the two strings we keep.
 *
 * Order of checks, strictest first, so the error a client sees names the
 * first real problem:
 *   1. bytes: valid UTF-8 (invalid_utf8), no NUL anywhere (yajl would stop
 *      at neither, but tree mode stops at a NUL: docs/FIELD-NOTES.md);
 *   2. lone UTF-16 surrogate escapes (yajl turns "\ud800" into "?");
 *   3. syntax, with comments, trailing bytes and multiple values refused,
 *      and nesting capped at JSON_IN_DEPTH_MAX (the callback cancels);
 *   4. meaning: top level is an object, known keys once each with the
 *      right types, code present, sizes and timeout in range.  The first
 *      such error is remembered and reported only if the syntax was fine.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "front.h"

#define JSON_IN_NUMBER_MAX 32 /* longest numeral we look at */

enum json_in_key {
	KEY_NONE,
	KEY_CODE,
	KEY_STDIN,
	KEY_TIMEOUT,
	KEY_FILES,
	KEY_UNKNOWN
};
/* Keys of one object of "files". */
enum json_in_file_key {
	FKEY_NONE,
	FKEY_NAME,
	FKEY_CONTENT,
	FKEY_ENCODING,
	FKEY_UNKNOWN
};

struct json_in {
	const struct job_limits *limits;
	struct job_spec *spec;
	struct api_error error; /* first meaning error */
	bool failed;
	bool too_deep;
	unsigned depth;
	enum json_in_key key; /* the key whose value comes next */
	unsigned seen;        /* bit per key */
	bool top_is_object;
	/* "files": the list at depth 2, each object at depth 3. */
	bool in_files;
	bool in_file;
	enum json_in_file_key fkey;
	unsigned fseen;
	struct buf content; /* the object's content, as sent */
	bool base64;
	size_t files_bytes; /* decoded so far */
};

/* Remembers the first error of meaning; later ones are not reported. */
static void __attribute__((format(printf, 4, 5))) json_in_fail(struct json_in *p,
    int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->error.http_status = status;
	p->error.code = code;
	p->error.retry_after_s = 0;
	va_start(ap, fmt);
	vsnprintf(p->error.message, sizeof(p->error.message), fmt, ap);
	va_end(ap);
}

/* A value at depth 1 is the value of p->key; deeper values belong to a
 * value we have already refused, and are only walked for syntax. */
static bool
json_in_top_value(struct json_in *p)
{
	return p->depth == 1 && p->top_is_object;
}

static void
json_in_file_wrong_type(struct json_in *p)
{
	json_in_fail(p, 400, "wrong_type",
	    "\"files\" must be a list of "
	    "{\"name\": str, \"content\": str, \"encoding\": \"utf-8\" or "
	    "\"base64\"} objects.");
}

static void
json_in_wrong_type(struct json_in *p)
{
	switch (p->key) {
	case KEY_CODE:
		json_in_fail(p, 400, "wrong_type", "\"code\" must be a string.");
		break;
	case KEY_STDIN:
		json_in_fail(p, 400, "wrong_type", "\"stdin\" must be a string.");
		break;
	case KEY_TIMEOUT:
		json_in_fail(p, 400, "wrong_type",
		    "\"timeout\" must be a number of seconds.");
		break;
	case KEY_FILES:
		json_in_file_wrong_type(p);
		break;
	default:
		break;
	}
}

/* A value inside "files": the list itself at depth 1 is handled by the
 * callers; at depth 2 an element, at depth 3 a field. */
static bool
json_in_files_value(struct json_in *p)
{
	return p->top_is_object && p->in_files && p->depth >= 2;
}

static int
json_in_scalar(struct json_in *p)
{
	if (json_in_files_value(p)) {
		json_in_file_wrong_type(p);
		return 1;
	}
	if (p->depth == 0)
		json_in_fail(p, 400, "not_an_object",
		    "The body must be a JSON object such as {\"code\": \"print(1)\"}.");
	else if (json_in_top_value(p))
		json_in_wrong_type(p);
	return 1;
}

static int
json_in_null(void *ctx)
{
	return json_in_scalar(ctx);
}

static int
json_in_boolean(void *ctx, int value)
{
	(void)value;
	return json_in_scalar(ctx);
}

static int
json_in_number(void *ctx, const char *s, size_t len)
{
	struct json_in *p = ctx;
	char text[JSON_IN_NUMBER_MAX + 1];
	double seconds;

	if (json_in_files_value(p) || !json_in_top_value(p) ||
	    p->key != KEY_TIMEOUT)
		return json_in_scalar(p);
	seconds = -1;
	if (len <= JSON_IN_NUMBER_MAX) {
		memcpy(text, s, len);
		text[len] = '\0';
		seconds = strtod(text, NULL);
	}
	if (!(seconds > 0) || seconds * 1000.0 > p->limits->timeout_max_ms) {
		json_in_fail(p, 400, "timeout_out_of_range",
		    "\"timeout\" must be more than 0 and at most %u seconds.",
		    p->limits->timeout_max_ms / 1000);
		return 1;
	}
	/* Round up (never shorter than asked) but not past binary noise:
	 * 2.007 * 1000.0 is 2007.0000000000002. */
	p->spec->timeout_ms = (unsigned)ceil(seconds * 1000.0 - 1e-6);
	if (p->spec->timeout_ms == 0)
		p->spec->timeout_ms = 1;
	return 1;
}

static int
json_in_keep_string(struct json_in *p, const unsigned char *s, size_t len,
    char **dst, size_t *dst_len, size_t max, const char *code, const char *what)
{
	if (len > max) {
		json_in_fail(p, 413, code,
		    "\"%s\" is %zu bytes; at most %zu are accepted.", what, len,
		    max);
		return 1;
	}
	if (p->failed)
		return 1; /* the answer is already an error: keep nothing */
	/* +1: a NUL after the data for logging; the length is what counts. */
	if ((*dst = malloc(len + 1)) == NULL) {
		json_in_fail(p, 500, "internal", "Out of memory.");
		return 0;
	}
	memcpy(*dst, s, len);
	(*dst)[len] = '\0';
	*dst_len = len;
	return 1;
}

/* A string field of one object of "files". */
static int
json_in_file_string(struct json_in *p, const unsigned char *s, size_t len)
{
	struct job_file *f;

	if (p->depth != 3 || p->fkey == FKEY_NONE || p->fkey == FKEY_UNKNOWN) {
		json_in_file_wrong_type(p);
		return 1;
	}
	if (p->failed)
		return 1;
	f = &p->spec->files[p->spec->nfiles - 1];
	switch (p->fkey) {
	case FKEY_NAME:
		if (!job_file_name_ok((const char *)s, len)) {
			json_in_fail(p, 400, "bad_file_name",
			    "File name \"%.*s\" "
			    "is not 1 to %d bytes of A-Z a-z 0-9 . _ - (not starting "
			    "with '.').",
			    (int)utf8_whole_prefix((const char *)s,
				len > 100 ? 100 : len),
			    (const char *)s, PROTOCOL_FILE_NAME_MAX_BYTES);
			return 1;
		}
		memcpy(f->name, s, len);
		f->name[len] = '\0';
		break;
	case FKEY_CONTENT:
		buf_reset(&p->content);
		if (buf_append(&p->content, s, len) == -1) {
			json_in_fail(p, 400, "files_too_large",
			    "The files are over "
			    "%zu bytes in all.",
			    p->limits->files_max_bytes);
			return 1;
		}
		break;
	case FKEY_ENCODING:
		if (len == 6 && memcmp(s, "base64", 6) == 0)
			p->base64 = true;
		else if (len == 5 && memcmp(s, "utf-8", 5) == 0)
			p->base64 = false;
		else
			json_in_fail(p, 400, "bad_file_encoding",
			    "A file's "
			    "\"encoding\" is \"utf-8\" (the default) or \"base64\".");
		break;
	default:
		break;
	}
	return 1;
}

/* One object of "files" is complete: decode and check it. */
static int
json_in_file_done(struct json_in *p)
{
	struct job_file *f = &p->spec->files[p->spec->nfiles - 1];
	struct buf decoded;
	size_t i, left;

	if (p->failed)
		return 1;
	if ((p->fseen & ((1U << FKEY_NAME) | (1U << FKEY_CONTENT))) !=
	    ((1U << FKEY_NAME) | (1U << FKEY_CONTENT))) {
		json_in_fail(p, 400, "missing_file_field",
		    "Each file needs a "
		    "\"name\" and a \"content\".");
		return 1;
	}
	for (i = 0; i + 1 < p->spec->nfiles; i++)
		if (strcmp(p->spec->files[i].name, f->name) == 0) {
			json_in_fail(p, 400, "duplicate_file_name",
			    "File name "
			    "\"%s\" appears more than once.",
			    f->name);
			return 1;
		}
	left = p->limits->files_max_bytes - p->files_bytes;
	if (!p->base64) {
		if (p->content.len > left)
			goto too_large;
		decoded = p->content; /* the buffer moves into the file */
		buf_init(&p->content, p->content.cap_bytes);
	} else {
		if (base64_decoded_max(p->content.len) > left + 2)
			goto too_large;
		buf_init(&decoded, left);
		if (base64_decode(p->content.data ? p->content.data : "",
			p->content.len, &decoded) == -1) {
			bool too_large =
			    base64_decoded_max(p->content.len) > left;

			buf_free(&decoded);
			if (too_large)
				goto too_large;
			json_in_fail(p, 400, "bad_base64",
			    "The content of file "
			    "\"%s\" is not valid base64 (RFC 4648, with padding, "
			    "no line breaks).",
			    f->name);
			return 1;
		}
	}
	f->data = decoded.data != NULL ? decoded.data : strdup("");
	f->len = decoded.len;
	if (f->data == NULL) {
		json_in_fail(p, 500, "internal", "Out of memory.");
		return 0;
	}
	p->files_bytes += f->len;
	return 1;
too_large:
	json_in_fail(p, 400, "files_too_large",
	    "The files are over %zu bytes "
	    "in all (decoded).",
	    p->limits->files_max_bytes);
	return 1;
}

static int
json_in_string(void *ctx, const unsigned char *s, size_t len)
{
	struct json_in *p = ctx;

	if (json_in_files_value(p))
		return json_in_file_string(p, s, len);
	if (!json_in_top_value(p))
		return json_in_scalar(p);
	if (p->key == KEY_CODE)
		return json_in_keep_string(p, s, len, &p->spec->code,
		    &p->spec->code_len, p->limits->code_max_bytes,
		    "code_too_large", "code");
	if (p->key == KEY_STDIN)
		return json_in_keep_string(p, s, len, &p->spec->stdin_data,
		    &p->spec->stdin_len, p->limits->stdin_max_bytes,
		    "stdin_too_large", "stdin");
	json_in_wrong_type(p);
	return 1;
}

static int
json_in_map_key(void *ctx, const unsigned char *key, size_t len)
{
	static const struct {
		const char *name;
		enum json_in_key key;
	} keys[] = {
		{ "code", KEY_CODE },
		{ "stdin", KEY_STDIN },
		{ "timeout", KEY_TIMEOUT },
		{ "files", KEY_FILES },
	};
	struct json_in *p = ctx;
	size_t i;

	if (json_in_files_value(p)) {
		static const struct {
			const char *name;
			enum json_in_file_key key;
		} fkeys[] = { { "name", FKEY_NAME }, { "content", FKEY_CONTENT },
			{ "encoding", FKEY_ENCODING } };

		if (p->depth != 3)
			return 1;
		p->fkey = FKEY_UNKNOWN;
		for (i = 0; i < sizeof(fkeys) / sizeof(fkeys[0]); i++)
			if (strlen(fkeys[i].name) == len &&
			    memcmp(fkeys[i].name, key, len) == 0)
				p->fkey = fkeys[i].key;
		if (p->fkey == FKEY_UNKNOWN) {
			json_in_fail(p, 400, "unknown_key",
			    "Unknown key \"%.*s\" in "
			    "a file: only \"name\", \"content\" and \"encoding\".",
			    (int)utf8_whole_prefix((const char *)key,
				len > 64 ? 64 : len),
			    (const char *)key);
			return 1;
		}
		if (p->fseen & (1U << p->fkey)) {
			json_in_fail(p, 400, "duplicate_key",
			    "Key \"%.*s\" appears "
			    "more than once in a file.",
			    (int)len, (const char *)key);
			p->fkey = FKEY_UNKNOWN;
			return 1;
		}
		p->fseen |= 1U << p->fkey;
		return 1;
	}
	if (!json_in_top_value(p))
		return 1;
	p->key = KEY_UNKNOWN;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, key, len) == 0)
			p->key = keys[i].key;
	if (p->key == KEY_UNKNOWN) {
		/* Echo at most 64 bytes, cut on a character boundary so the
		 * message stays UTF-8 (json_out refuses anything else). */
		json_in_fail(p, 400, "unknown_key",
		    "Unknown key \"%.*s\": only "
		    "\"code\", \"stdin\", \"timeout\" and \"files\" are accepted.",
		    (int)utf8_whole_prefix((const char *)key, len > 64 ? 64 : len),
		    (const char *)key);
		return 1;
	}
	if (p->seen & (1U << p->key)) {
		json_in_fail(p, 400, "duplicate_key",
		    "Key \"%.*s\" appears more than once.", (int)len,
		    (const char *)key);
		p->key = KEY_UNKNOWN; /* keep the first value */
		return 1;
	}
	p->seen |= 1U << p->key;
	return 1;
}

static int
json_in_open(struct json_in *p, bool is_map)
{
	if (p->depth == 0 && is_map)
		p->top_is_object = true;
	else if (p->depth == 0)
		json_in_scalar(p);
	else if (json_in_top_value(p) && p->key == KEY_FILES && !is_map)
		p->in_files = true;
	else if (json_in_files_value(p) && p->depth == 2 && is_map) {
		if (p->spec->nfiles == PROTOCOL_FILES_MAX)
			json_in_fail(p, 400, "too_many_files",
			    "At most %d files.", PROTOCOL_FILES_MAX);
		else if (!p->failed) {
			p->spec->nfiles++;
			p->in_file = true;
		}
		p->fseen = 0;
		p->fkey = FKEY_NONE;
		p->base64 = false;
		buf_reset(&p->content);
	} else if (json_in_files_value(p))
		json_in_file_wrong_type(p);
	else if (json_in_top_value(p))
		json_in_wrong_type(p);
	if (++p->depth > JSON_IN_DEPTH_MAX) {
		p->too_deep = true;
		return 0; /* cancels the parse */
	}
	return 1;
}

static int
json_in_start_map(void *ctx)
{
	return json_in_open(ctx, true);
}

static int
json_in_start_array(void *ctx)
{
	return json_in_open(ctx, false);
}

static int
json_in_close(void *ctx)
{
	struct json_in *p = ctx;
	int rc = 1;

	p->depth--;
	if (p->in_files && p->depth == 2 && p->in_file) {
		p->in_file = false;
		rc = json_in_file_done(p);
	} else if (p->in_files && p->depth == 1)
		p->in_files = false;
	return rc;
}

static const yajl_callbacks json_in_callbacks = {
	.yajl_null = json_in_null,
	.yajl_boolean = json_in_boolean,
	.yajl_number = json_in_number,
	.yajl_string = json_in_string,
	.yajl_start_map = json_in_start_map,
	.yajl_map_key = json_in_map_key,
	.yajl_end_map = json_in_close,
	.yajl_start_array = json_in_start_array,
	.yajl_end_array = json_in_close,
};

static int
json_in_hex4(const char *s, size_t left, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (left < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * What yajl lets through but RFC 8259 does not, found in one pass:
 * a \uD800-\uDFFF escape that is not part of a high+low pair (yajl turns
 * it into '?'), and \v or \f between tokens (yajl's lexer takes them as
 * whitespace; section 2 allows only space, tab, LF and CR).  Malformed
 * escapes are left to yajl to refuse.
 */
static const char *
json_in_prescan(const char *s, size_t len)
{
	static const char lone_surrogate[] =
	    "The body holds a lone UTF-16 "
	    "surrogate escape (\\ud800-\\udfff outside a valid pair).";
	bool in_string = false;
	unsigned u, low;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '"') {
			in_string = !in_string;
			continue;
		}
		if (!in_string && (s[i] == '\v' || s[i] == '\f'))
			return "The body holds \\v or \\f outside a string; JSON "
			       "whitespace is space, tab, LF and CR.";
		if (!in_string || s[i] != '\\')
			continue;
		if (++i >= len || s[i] != 'u')
			continue;
		if (json_in_hex4(s + i + 1, len - i - 1, &u) == -1)
			continue;
		i += 4;
		if (u >= 0xdc00 && u <= 0xdfff)
			return lone_surrogate;
		if (u < 0xd800 || u > 0xdbff)
			continue;
		if (i + 2 >= len || s[i + 1] != '\\' || s[i + 2] != 'u' ||
		    json_in_hex4(s + i + 3, len - i - 3, &low) == -1 ||
		    low < 0xdc00 || low > 0xdfff)
			return lone_surrogate;
		i += 6;
	}
	return NULL;
}

int
json_in_check_bytes(const char *body, size_t len, struct api_error *err)
{
	const char *why;

	if (!utf8_valid(body, len)) {
		api_error_set(err, 400, "invalid_utf8",
		    "The body is not valid UTF-8.");
		return -1;
	}
	if (memchr(body, '\0', len) != NULL) {
		api_error_set(err, 400, "invalid_json",
		    "The body holds a NUL byte; JSON text cannot contain one "
		    "(write \\u0000 inside a string).");
		return -1;
	}
	if ((why = json_in_prescan(body, len)) != NULL) {
		api_error_set(err, 400, "invalid_json", "%s", why);
		return -1;
	}
	return 0;
}

void
job_spec_free(struct job_spec *spec)
{
	size_t i;

	for (i = 0; i < spec->nfiles && i < PROTOCOL_FILES_MAX; i++)
		free(spec->files[i].data);
	free(spec->code);
	free(spec->stdin_data);
	memset(spec, 0, sizeof(*spec));
}

void
json_in_limits(const struct config *c, struct job_limits *limits)
{
	limits->code_max_bytes = c->code_max_bytes;
	limits->stdin_max_bytes = c->stdin_max_bytes;
	limits->files_max_bytes = c->files_max_bytes;
	limits->timeout_default_ms = c->timeout_default_ms;
	limits->timeout_max_ms = c->timeout_max_ms;
}

int
json_in_parse_job(const char *body, size_t len, const struct job_limits *limits,
    struct job_spec *spec, struct api_error *err)
{
	struct json_in p;
	yajl_handle h;
	yajl_status st;

	memset(spec, 0, sizeof(*spec));
	spec->timeout_ms = limits->timeout_default_ms;
	if (json_in_check_bytes(body, len, err) == -1)
		return -1;

	memset(&p, 0, sizeof(p));
	p.limits = limits;
	p.spec = spec;
	/* A content as sent: base64 is 4/3 of what it decodes to. */
	buf_init(&p.content, limits->files_max_bytes / 3 * 4 + 4);
	if ((h = yajl_alloc(&json_in_callbacks, NULL, &p)) == NULL) {
		buf_free(&p.content);
		api_error_set(err, 500, "internal", "Out of memory.");
		return -1;
	}
	/* Strict JSON: these are yajl's defaults, set so that no future
	 * default can loosen them. */
	yajl_config(h, yajl_allow_comments, 0);
	yajl_config(h, yajl_dont_validate_strings, 0);
	yajl_config(h, yajl_allow_trailing_garbage, 0);
	yajl_config(h, yajl_allow_multiple_values, 0);
	yajl_config(h, yajl_allow_partial_values, 0);

	st = yajl_parse(h, (const unsigned char *)body, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	buf_free(&p.content);

	if (p.too_deep)
		api_error_set(err, 400, "nesting_too_deep",
		    "The body nests deeper than %d levels.", JSON_IN_DEPTH_MAX);
	else if (st == yajl_status_client_canceled && p.failed)
		*err = p.error; /* out of memory while keeping a string */
	else if (st != yajl_status_ok)
		api_error_set(err, 400, "invalid_json",
		    "The body is not valid JSON (RFC 8259; comments and trailing "
		    "bytes are refused).");
	else if (p.failed)
		*err = p.error;
	else if (!(p.seen & (1U << KEY_CODE))) {
		api_error_set(err, 400, "missing_code",
		    "The body must have a \"code\" string.");
	} else
		return 0;
	job_spec_free(spec);
	return -1;
}
