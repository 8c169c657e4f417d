/*
 * fuzz_json_in.c: libFuzzer target for src/front/json_in.c, the only code that
 * reads request JSON.  The input is a request body, passed whole with its
 * length (no NUL is added: the parser must never read past len).  Limits
 * are the shipped defaults (etc/pycage.conf), so -max_len=1100000 reaches
 * past stdin_max_bytes and code_max_bytes.
 *
 * Invariants, whatever the bytes:
 *   0:  code kept (even "" is a non-NULL string), NUL after it, within its
 *       cap; stdin absent or within its cap; timeout in (0, max].
 *   -1: an error with a code, a status of 400, 413 or 500, a message that
 *       is NUL-terminated and valid UTF-8 (request.c writes it through
 *       yajl_gen with UTF-8 validation on: an invalid message cannot be
 *       encoded), and nothing kept in the spec.
 * job_spec_free() always runs, so LeakSanitizer sees any string kept on a
 * path that forgot it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "executor.h"

#define FUZZ_CHECK(cond)                                               \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr,                                \
			    "fuzz_json_in: %s:%d: check failed: %s\n", \
			    __FILE__, __LINE__, #cond);                \
			abort();                                       \
		}                                                      \
	} while (0)

static const struct job_limits fuzz_limits = {
	.code_max_bytes = 262144,
	.stdin_max_bytes = 1048576,
	/* small, so that the files' total cap is reached by small inputs */
	.files_max_bytes = 4096,
	.timeout_default_ms = 10000,
	.timeout_max_ms = 30000,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_spec spec;
	struct api_error err;
	size_t message_len, i, k, total;
	int rc;

	/* Poisoned so a -1 that forgets to fill err is seen. */
	memset(&err, 0xa5, sizeof(err));
	memset(&spec, 0xa5, sizeof(spec));
	rc = json_in_parse_job((const char *)data, size, &fuzz_limits, &spec,
	    &err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(spec.code != NULL);
		FUZZ_CHECK(spec.code_len <= fuzz_limits.code_max_bytes);
		FUZZ_CHECK(spec.code[spec.code_len] == '\0');
		FUZZ_CHECK(spec.code_len < size);
		if (spec.stdin_data == NULL)
			FUZZ_CHECK(spec.stdin_len == 0);
		else {
			FUZZ_CHECK(spec.stdin_len <= fuzz_limits.stdin_max_bytes);
			FUZZ_CHECK(spec.stdin_data[spec.stdin_len] == '\0');
		}
		FUZZ_CHECK(spec.timeout_ms > 0);
		FUZZ_CHECK(spec.timeout_ms <= fuzz_limits.timeout_max_ms);
		FUZZ_CHECK(spec.nfiles <= PROTOCOL_FILES_MAX);
		for (i = 0, total = 0; i < spec.nfiles; i++) {
			FUZZ_CHECK(job_file_name_ok(spec.files[i].name,
			    strlen(spec.files[i].name)));
			FUZZ_CHECK(spec.files[i].data != NULL);
			total += spec.files[i].len;
			for (k = 0; k < i; k++)
				FUZZ_CHECK(strcmp(spec.files[k].name,
					       spec.files[i].name) != 0);
		}
		FUZZ_CHECK(total <= fuzz_limits.files_max_bytes);
	} else {
		FUZZ_CHECK(err.code != NULL);
		FUZZ_CHECK(err.http_status == 400 || err.http_status == 413 ||
		    err.http_status == 500);
		message_len = strnlen(err.message, sizeof(err.message));
		FUZZ_CHECK(message_len < sizeof(err.message));
		FUZZ_CHECK(utf8_valid(err.message, message_len));
		FUZZ_CHECK(spec.code == NULL && spec.code_len == 0);
		FUZZ_CHECK(spec.stdin_data == NULL && spec.stdin_len == 0);
		FUZZ_CHECK(spec.nfiles == 0);
	}
	job_spec_free(&spec);
	return 0;
}
