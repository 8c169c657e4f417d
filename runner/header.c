/*
 * runner/header.c - the request header's two halves side by side: the
 * executor formats it (src/executor/job.c), the runner parses it
 * (runner/runner.c), both compiled from this file (protocol.h).  Pure:
 * no Python, no I/O, so tests/unit/test-protocol.c and
 * tests/fuzz/fuzz_header.c take it whole.
 *
 * "pycage1 CODE_LEN STDIN_LEN NONCE": decimal lengths without sign or
 * leading junk, each within its cap; NONCE 1..64 of [A-Za-z0-9], or "-"
 * for none.  "pycage2 CODE_LEN STDIN_LEN FILES_LEN FILES_OUT_MAX NONCE"
 * when there are files to send or to take back (issue 17); pycage2 with
 * both 0 is refused, being pycage1's.  Nothing else is accepted, so a
 * header parses only if formatting what it says gives it back.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

#define HEADER_BAD                                                      \
	"bad header: want 'pycage1 <code_len> <stdin_len> <nonce>' or " \
	"'pycage2 <code_len> <stdin_len> <files_len> <files_out_max> <nonce>'"
#define HEADER_BAD_NONCE "bad header: nonce must be 1..64 of [A-Za-z0-9] or '-'"

int
protocol_format_header_files(char *out, size_t outlen, size_t code_len,
    size_t stdin_len, size_t files_len, size_t files_out_max, const char *nonce)
{
	const char *shown = nonce[0] != '\0' ? nonce : PROTOCOL_NO_NONCE;
	int n;

	if (code_len > PROTOCOL_CODE_MAX_BYTES ||
	    stdin_len > PROTOCOL_STDIN_MAX_BYTES ||
	    files_len > PROTOCOL_FILES_LIST_MAX_BYTES ||
	    files_out_max > PROTOCOL_FILES_MAX_BYTES)
		return -1;
	if (files_len == 0 && files_out_max == 0)
		n = snprintf(out, outlen, PROTOCOL_HEADER_MAGIC " %zu %zu %s\n",
		    code_len, stdin_len, shown);
	else
		n = snprintf(out, outlen,
		    PROTOCOL_HEADER2_MAGIC " %zu %zu %zu %zu %s\n", code_len,
		    stdin_len, files_len, files_out_max, shown);
	return n < 0 || (size_t)n >= outlen ||
		(size_t)n > PROTOCOL_HEADER_MAX_BYTES ?
	    -1 :
	    n;
}

int
protocol_format_header(char *out, size_t outlen, size_t code_len,
    size_t stdin_len, const char *nonce)
{
	return protocol_format_header_files(out, outlen, code_len, stdin_len, 0,
	    0, nonce);
}

/* A run of decimal digits at *cursor, stopping as soon as the value
 * passes max (so 30 digits cannot overflow), without leading zeros but
 * "0" itself.  0, -1 (no digits, or a leading zero) or -2 (over max). */
static int
header_length(const char **cursor, const char *end, size_t max, size_t *out)
{
	const char *p = *cursor;
	size_t value = 0;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		value = value * 10 + (size_t)(*p - '0');
		if (value > max)
			return -2;
		p++;
	}
	*cursor = p;
	*out = value;
	return 0;
}

static bool
header_nonce_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
protocol_parse_header(const char *line, size_t len,
    struct protocol_header *header, const char **reason)
{
	static const char magic[] = PROTOCOL_HEADER_MAGIC " ";
	static const char magic2[] = PROTOCOL_HEADER2_MAGIC " ";
	const char *p = line, *end = line + len;
	size_t nonce_len, i;
	int parsed;
	bool files = false;

	*reason = HEADER_BAD;
	header->files_len = header->files_out_max = 0;
	if (len >= sizeof(magic2) - 1 &&
	    memcmp(p, magic2, sizeof(magic2) - 1) == 0)
		files = true;
	else if (len < sizeof(magic) - 1 ||
	    memcmp(p, magic, sizeof(magic) - 1) != 0)
		return -1;
	p += sizeof(magic) - 1; /* both magics are 8 bytes with the space */
	parsed =
	    header_length(&p, end, PROTOCOL_CODE_MAX_BYTES, &header->code_len);
	if (parsed == -2)
		*reason = "code_len over the cap of 262144 bytes";
	if (parsed != 0 || p == end || *p != ' ')
		return -1;
	p++;
	parsed =
	    header_length(&p, end, PROTOCOL_STDIN_MAX_BYTES, &header->stdin_len);
	if (parsed == -2)
		*reason = "stdin_len over the cap of 1048576 bytes";
	if (parsed != 0 || p == end || *p != ' ')
		return -1;
	p++;
	if (files) {
		parsed = header_length(&p, end, PROTOCOL_FILES_LIST_MAX_BYTES,
		    &header->files_len);
		if (parsed == -2)
			*reason = "files_len over its cap";
		if (parsed != 0 || p == end || *p != ' ')
			return -1;
		p++;
		parsed = header_length(&p, end, PROTOCOL_FILES_MAX_BYTES,
		    &header->files_out_max);
		if (parsed == -2)
			*reason = "files_out_max over its cap";
		if (parsed != 0 || p == end || *p != ' ')
			return -1;
		p++;
		if (header->files_len == 0 && header->files_out_max == 0)
			return -1; /* that header is written pycage1 */
	}
	nonce_len = (size_t)(end - p);
	if (nonce_len == 1 && *p == PROTOCOL_NO_NONCE[0]) {
		header->nonce[0] = '\0';
		return 0;
	}
	if (nonce_len == 0 || nonce_len > PROTOCOL_NONCE_MAX_CHARS) {
		*reason = HEADER_BAD_NONCE;
		return -1;
	}
	for (i = 0; i < nonce_len; i++)
		if (!header_nonce_char(p[i])) {
			*reason = HEADER_BAD_NONCE;
			return -1;
		}
	memcpy(header->nonce, p, nonce_len);
	header->nonce[nonce_len] = '\0';
	return 0;
}
