/*
 * fuzz_mcp.c: libFuzzer target for src/front/mcp.c's JSON-RPC envelope
 * parser (mcp_parse), the first reader of every POST /mcp body, and for
 * json_in.c reading the tools/call arguments it located.  The input is a
 * body, passed whole with its length (no NUL is added).
 *
 * Invariants, whatever the bytes:
 *   0:  a method, NUL-terminated within its cap; an id of the kind said,
 *       within its cap; arguments, if any, are bytes of the body that
 *       begin with '{' and end with '}', and json_in reads them without
 *       a syntax, UTF-8 or depth error (they are a valid JSON object that
 *       passed the same byte checks).
 *   -1: a JSON-RPC code of the four the parser gives, and a message that
 *       is NUL-terminated, non-empty and valid UTF-8 (it is written with
 *       yajl_gen's UTF-8 validation on).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_mcp: %s:%d: check failed: %s\n", \
			    __FILE__, __LINE__, #cond);                        \
			abort();                                               \
		}                                                              \
	} while (0)

static const struct job_limits fuzz_limits = {
	.code_max_bytes = 262144,
	.stdin_max_bytes = 1048576,
	.files_max_bytes = 4096,
	.timeout_default_ms = 10000,
	.timeout_max_ms = 30000,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcp_message *m;
	struct job_spec spec;
	struct api_error err;
	size_t len;
	int rc;

	if ((m = malloc(sizeof(*m))) == NULL)
		return 0;
	memset(m, 0xa5, sizeof(*m));
	rc = mcp_parse((const char *)data, size, m);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_CHECK(m->error_code == MCP_PARSE_ERROR ||
		    m->error_code == MCP_INVALID_REQUEST ||
		    m->error_code == MCP_INVALID_PARAMS ||
		    m->error_code == MCP_INTERNAL_ERROR);
		len = strnlen(m->error_message, sizeof(m->error_message));
		FUZZ_CHECK(len > 0 && len < sizeof(m->error_message));
		FUZZ_CHECK(utf8_valid(m->error_message, len));
		free(m);
		return 0;
	}
	FUZZ_CHECK(m->has_method);
	FUZZ_CHECK(strnlen(m->method, sizeof(m->method)) <= MCP_METHOD_MAX_BYTES);
	FUZZ_CHECK(m->id_type == MCP_ID_NONE || m->id_type == MCP_ID_STRING ||
	    m->id_type == MCP_ID_NUMBER);
	FUZZ_CHECK(m->id_type == MCP_ID_NONE || m->id_len <= MCP_ID_MAX_BYTES);
	if (m->has_name)
		FUZZ_CHECK(
		    strnlen(m->name, sizeof(m->name)) <= MCP_NAME_MAX_BYTES);
	if (m->has_arguments) {
		FUZZ_CHECK(m->arguments_len >= 2);
		FUZZ_CHECK(m->arguments_offset + m->arguments_len <= size);
		FUZZ_CHECK(data[m->arguments_offset] == '{');
		FUZZ_CHECK(
		    data[m->arguments_offset + m->arguments_len - 1] == '}');
		memset(&err, 0, sizeof(err));
		rc = json_in_parse_job((const char *)data + m->arguments_offset,
		    m->arguments_len, &fuzz_limits, &spec, &err);
		if (rc == 0)
			job_spec_free(&spec);
		else {
			FUZZ_CHECK(err.code != NULL);
			FUZZ_CHECK(strcmp(err.code, "invalid_json") != 0);
			FUZZ_CHECK(strcmp(err.code, "invalid_utf8") != 0);
			FUZZ_CHECK(strcmp(err.code, "nesting_too_deep") != 0);
		}
	}
	free(m);
	return 0;
}
