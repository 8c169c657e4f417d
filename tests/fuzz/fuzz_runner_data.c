/*
 * fuzz_runner_data.c: libFuzzer target for src/front/runner_data.c and the
 * keys answer.c renders from it.  The runner's data record is made inside
 * the sandbox, so a program controls every byte of it: the input is the
 * record as the executor carried it.
 *
 * Checks: runner_data_parse never reads past the record (exact-size copy,
 * no NUL after it, so ASan sees it); an accepted record keeps every cap
 * (result, message, type, frame count and texts); answer_result with the
 * record succeeds, is valid UTF-8 and parses as a JSON object whose
 * "exception" is null or an object and "result" null or a string; a
 * refused record renders both as null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "front.h"

#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr,                                    \
			    "fuzz_runner_data: %s:%d: check failed: %s\n", \
			    __FILE__, __LINE__, #cond);                    \
			abort();                                           \
		}                                                          \
	} while (0)

/* The answer: two empty streams, fixed keys, and the record's worst
 * case escaped (6 bytes per byte). */
#define FUZZ_ANSWER_MAX_BYTES (6 * PROTOCOL_DATA_MAX_BYTES + 4096)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *exc_path[] = { "exception", NULL };
	static const char *res_path[] = { "result", NULL };
	struct runner_data *d;
	struct job_result r;
	struct buf out;
	char *record, *text, errbuf[128];
	yajl_val tree, exc, res;
	size_t i;
	int rc;

	if (size > PROTOCOL_DATA_MAX_BYTES + 1)
		return 0;
	record = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(record != NULL);
	memcpy(record, data, size);

	d = malloc(sizeof(*d));
	FUZZ_CHECK(d != NULL);
	runner_data_init(d);
	rc = runner_data_parse(record, size, d);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(d->valid == (rc == 0));
	if (rc == 0) {
		FUZZ_CHECK(d->result.len <= PROTOCOL_RESULT_MAX_BYTES);
		FUZZ_CHECK(
		    d->exception.message.len <= PROTOCOL_EXC_MESSAGE_MAX_BYTES);
		FUZZ_CHECK(
		    strlen(d->exception.type) <= PROTOCOL_EXC_TYPE_MAX_BYTES);
		FUZZ_CHECK(d->exception.nframes <= PROTOCOL_EXC_FRAMES_MAX);
		for (i = 0; i < d->exception.nframes; i++) {
			FUZZ_CHECK(d->exception.frames[i].line >= 0);
			FUZZ_CHECK(strlen(d->exception.frames[i].text) <=
			    PROTOCOL_EXC_TEXT_MAX_BYTES);
		}
	} else {
		FUZZ_CHECK(
		    !d->has_exception && !d->has_result && d->result.len == 0);
	}
	runner_data_free(d);
	free(d);

	job_result_init(&r, 64);
	FUZZ_CHECK(buf_append(&r.data, record, size) == 0);
	buf_init(&out, FUZZ_ANSWER_MAX_BYTES);
	FUZZ_CHECK(answer_result(&r, &out) == 0);
	FUZZ_CHECK(utf8_valid(out.data, out.len));
	text = malloc(out.len + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, out.data, out.len);
	text[out.len] = '\0';
	tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	FUZZ_CHECK(tree != NULL && YAJL_IS_OBJECT(tree));
	exc = yajl_tree_get(tree, exc_path, yajl_t_any);
	res = yajl_tree_get(tree, res_path, yajl_t_any);
	FUZZ_CHECK(exc != NULL && (YAJL_IS_NULL(exc) || YAJL_IS_OBJECT(exc)));
	FUZZ_CHECK(res != NULL && (YAJL_IS_NULL(res) || YAJL_IS_STRING(res)));
	if (rc == -1)
		FUZZ_CHECK(YAJL_IS_NULL(exc) && YAJL_IS_NULL(res));
	yajl_tree_free(tree);
	free(text);
	buf_free(&out);
	job_result_free(&r);
	free(record);
	return 0;
}
