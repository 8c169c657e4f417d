/*
 * fuzz_json_out.c: libFuzzer target for src/front/answer.c's execution answer
 * and the U+FFFD repair of src/common/utf8.c it relies on.  Program output may
 * hold any bytes; the answer must still be valid UTF-8 and valid JSON
 * whose strings are exactly the repaired output.
 *
 * Input: 8 control bytes (split point, status and flags, exit code,
 * duration), then the output bytes: stdout is the part before the split,
 * stderr the part after.  Each is copied into an exact-size allocation
 * with no NUL after it, so ASan sees any read past a buffer's len.
 *
 * Checks: answer_result succeeds; the answer is valid UTF-8
 * (utf8_valid); yajl_tree_parse reads it as an object with every field of
 * the result; and since yajl's tree stops a string at an escaped NUL
 * (docs/FIELD-NOTES.md), the two strings are also read with a callback
 * parser, which gives their lengths, and compared byte for byte with
 * utf8_sanitize() of the input slices.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "front.h"
#include "executor.h"

#define FUZZ_CHECK(cond)                                                \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr,                                 \
			    "fuzz_json_out: %s:%d: check failed: %s\n", \
			    __FILE__, __LINE__, #cond);                 \
			abort();                                        \
		}                                                       \
	} while (0)

#define FUZZ_CONTROL_BYTES 8
/* A control byte is escaped as \u00XX: 6 bytes; the rest is fixed keys. */
#define FUZZ_ANSWER_SLACK 1024

/* The two output strings of an answer, with their lengths. */
struct answer_strings {
	unsigned depth;
	int key; /* 0 stdout, 1 stderr, -1 other */
	struct buf value[2];
	unsigned seen[2];
};

static int
answer_string(void *ctx, const unsigned char *s, size_t len)
{
	struct answer_strings *a = ctx;

	if (a->depth == 1 && a->key >= 0) {
		a->seen[a->key]++;
		if (buf_append(&a->value[a->key], s, len) == -1)
			return 0;
	}
	return 1;
}

static int
answer_key(void *ctx, const unsigned char *s, size_t len)
{
	struct answer_strings *a = ctx;

	if (a->depth != 1)
		return 1;
	if (len == 6 && memcmp(s, "stdout", 6) == 0)
		a->key = 0;
	else if (len == 6 && memcmp(s, "stderr", 6) == 0)
		a->key = 1;
	else
		a->key = -1;
	return 1;
}

static int
answer_open(void *ctx)
{
	((struct answer_strings *)ctx)->depth++;
	return 1;
}

static int
answer_close(void *ctx)
{
	((struct answer_strings *)ctx)->depth--;
	return 1;
}

static const yajl_callbacks answer_callbacks = {
	.yajl_string = answer_string,
	.yajl_map_key = answer_key,
	.yajl_start_map = answer_open,
	.yajl_end_map = answer_close,
	.yajl_start_array = answer_open,
	.yajl_end_array = answer_close,
};

/* An exact-size copy: no spare byte for an overread to land in. */
static void
slice_into(struct buf *b, const uint8_t *p, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->cap_bytes = len;
	if (len == 0)
		return; /* data NULL, as job.c's buffers start */
	b->data = malloc(len);
	FUZZ_CHECK(b->data != NULL);
	memcpy(b->data, p, len);
	b->len = b->alloc = len;
}

static yajl_val
field(yajl_val top, const char *name)
{
	const char *path[] = { name, NULL };

	return yajl_tree_get(top, path, yajl_t_any);
}

/* The tree's string equals want up to want's first NUL. */
static void
check_tree_string(yajl_val v, const struct buf *want)
{
	const char *nul;
	size_t prefix;

	FUZZ_CHECK(YAJL_IS_STRING(v));
	nul = want->len > 0 ? memchr(want->data, '\0', want->len) : NULL;
	prefix = nul != NULL ? (size_t)(nul - want->data) : want->len;
	FUZZ_CHECK(strlen(YAJL_GET_STRING(v)) == prefix);
	if (prefix > 0)
		FUZZ_CHECK(memcmp(YAJL_GET_STRING(v), want->data, prefix) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_result r;
	struct answer_strings a;
	struct buf answer, want[2];
	yajl_handle h;
	yajl_val top, v;
	const uint8_t *payload;
	size_t payload_len, split, k;
	char errbuf[256];

	if (size < FUZZ_CONTROL_BYTES)
		return 0;
	payload = data + FUZZ_CONTROL_BYTES;
	payload_len = size - FUZZ_CONTROL_BYTES;
	split = ((size_t)data[0] << 8 | data[1]) % (payload_len + 1);

	memset(&r, 0, sizeof(r));
	slice_into(&r.stdout_buf, payload, split);
	slice_into(&r.stderr_buf, payload + split, payload_len - split);
	r.status = (enum job_status)(data[2] % (JOB_OUTPUT_LIMIT + 1));
	r.stdout_truncated = data[2] & 0x10;
	r.stderr_truncated = data[2] & 0x20;
	r.exit_code = (int)((uint32_t)data[3] << 24 | (uint32_t)data[4] << 16 |
	    (uint32_t)data[5] << 8 | data[6]);
	r.duration_ms = (long)data[7] * 1000 - 1;

	buf_init(&answer, payload_len * 6 + FUZZ_ANSWER_SLACK);
	FUZZ_CHECK(answer_result(&r, &answer) == 0);
	FUZZ_CHECK(answer.data != NULL);
	FUZZ_CHECK(utf8_valid(answer.data, answer.len));
	/* JSON text never holds a raw NUL: yajl_tree_parse sees it all. */
	FUZZ_CHECK(memchr(answer.data, '\0', answer.len) == NULL);

	for (k = 0; k < 2; k++) {
		const struct buf *in = k == 0 ? &r.stdout_buf : &r.stderr_buf;

		buf_init(&want[k], in->len * 3 + 1);
		/* "" for NULL, as answer.c does: no offset on a null pointer. */
		FUZZ_CHECK(utf8_sanitize(in->data != NULL ? in->data : "",
			       in->len, &want[k]) == 0);
		FUZZ_CHECK(utf8_valid(want[k].data, want[k].len));
	}

	top = yajl_tree_parse(answer.data, errbuf, sizeof(errbuf));
	if (top == NULL)
		fprintf(stderr, "fuzz_json_out: yajl_tree_parse: %s\n", errbuf);
	FUZZ_CHECK(top != NULL);
	FUZZ_CHECK(YAJL_IS_OBJECT(top));
	check_tree_string(field(top, "stdout"), &want[0]);
	check_tree_string(field(top, "stderr"), &want[1]);
	v = field(top, "exit_code");
	FUZZ_CHECK(YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == r.exit_code);
	v = field(top, "status");
	FUZZ_CHECK(YAJL_IS_STRING(v) &&
	    strcmp(YAJL_GET_STRING(v), job_status_name(r.status)) == 0);
	v = field(top, "stdout_truncated");
	FUZZ_CHECK(r.stdout_truncated ? YAJL_IS_TRUE(v) : YAJL_IS_FALSE(v));
	v = field(top, "stderr_truncated");
	FUZZ_CHECK(r.stderr_truncated ? YAJL_IS_TRUE(v) : YAJL_IS_FALSE(v));
	v = field(top, "duration_ms");
	FUZZ_CHECK(YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == r.duration_ms);
	yajl_tree_free(top);

	/* Exact strings, NULs and all, from a length-aware parse. */
	memset(&a, 0, sizeof(a));
	a.key = -1;
	buf_init(&a.value[0], want[0].len);
	buf_init(&a.value[1], want[1].len);
	h = yajl_alloc(&answer_callbacks, NULL, &a);
	FUZZ_CHECK(h != NULL);
	FUZZ_CHECK(yajl_parse(h, (const unsigned char *)answer.data,
		       answer.len) == yajl_status_ok);
	FUZZ_CHECK(yajl_complete_parse(h) == yajl_status_ok);
	yajl_free(h);
	for (k = 0; k < 2; k++) {
		FUZZ_CHECK(a.seen[k] == 1);
		FUZZ_CHECK(a.value[k].len == want[k].len);
		if (want[k].len > 0)
			FUZZ_CHECK(memcmp(a.value[k].data, want[k].data,
				       want[k].len) == 0);
		buf_free(&a.value[k]);
		buf_free(&want[k]);
	}

	buf_free(&answer);
	buf_free(&r.stdout_buf);
	buf_free(&r.stderr_buf);
	return 0;
}
