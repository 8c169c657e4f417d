/*
 * fuzz_header.c: libFuzzer target for runner/header.c, the request header
 * the runner reads from untrusted-by-construction stdin (and the executor
 * writes).  Input: one header line without its '\n', in an allocation of
 * exactly its size.  A line the parser takes must be exactly what the
 * formatter writes for what it says (one spelling per header), with its
 * lengths within their caps and its nonce 0..64 alphanumerics; a line it
 * refuses must come with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define FUZZ_CHECK(cond)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			fprintf(stderr,                               \
			    "fuzz_header: %s:%d: check failed: %s\n", \
			    __FILE__, __LINE__, #cond);               \
			abort();                                      \
		}                                                     \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct protocol_header h;
	const char *reason = NULL;
	char *line, again[PROTOCOL_HEADER_MAX_BYTES + 2];
	int n;

	if ((line = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	if (protocol_parse_header(line, size, &h, &reason) == 0) {
		FUZZ_CHECK(h.code_len <= PROTOCOL_CODE_MAX_BYTES);
		FUZZ_CHECK(h.stdin_len <= PROTOCOL_STDIN_MAX_BYTES);
		FUZZ_CHECK(strlen(h.nonce) <= PROTOCOL_NONCE_MAX_CHARS);
		FUZZ_CHECK(h.files_len <= PROTOCOL_FILES_LIST_MAX_BYTES);
		FUZZ_CHECK(h.files_out_max <= PROTOCOL_FILES_MAX_BYTES);
		n = protocol_format_header_files(again, sizeof(again), h.code_len,
		    h.stdin_len, h.files_len, h.files_out_max, h.nonce);
		FUZZ_CHECK(n > 0 && (size_t)n == size + 1);
		FUZZ_CHECK(memcmp(again, line, size) == 0 && again[size] == '\n');
	} else
		FUZZ_CHECK(reason != NULL && reason[0] != '\0');
	free(line);
	return 0;
}
