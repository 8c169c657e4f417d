/*
 * runner/header.c - the request header's two halves side by side: the
 * executor formats it (src/executor/job.c), the runner parses it
 * (runner/runner.c), both compiled from this file (protocol.h).  Pure:
 * no Python, no I/O, so tests/unit/test-protocol.c and
 * tests/fuzz/fuzz_header.c take it whole.
 *
 * "pycage1 CODE_LEN STDIN_LEN NONCE": decimal lengths without sign or
 * leading junk, each within its cap; NONCE 1..64 of [A-Za-z0-9], or "-"
 * for none.  Nothing else is accepted, so a header parses only if
 * formatting what it says gives it back.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

#define HEADER_BAD	"bad header: want 'pycage1 <code_len> <stdin_len> <nonce>'"
#define HEADER_BAD_NONCE "bad header: nonce must be 1..64 of [A-Za-z0-9] or '-'"

int
protocol_format_header(char *out, size_t outlen, size_t code_len,
    size_t stdin_len, const char *nonce)
{
	int n;

	if (code_len > PROTOCOL_CODE_MAX_BYTES ||
	    stdin_len > PROTOCOL_STDIN_MAX_BYTES)
		return -1;
	n = snprintf(out, outlen, PROTOCOL_HEADER_MAGIC " %zu %zu %s\n",
	    code_len, stdin_len, nonce[0] != '\0' ? nonce : PROTOCOL_NO_NONCE);
	return n < 0 || (size_t)n >= outlen || (size_t)n > PROTOCOL_HEADER_MAX_BYTES ?
	    -1 : n;
}

/* A run of decimal digits at *cursor, stopping as soon as the value
 * passes max (so 30 digits cannot overflow), without leading zeros but
 * "0" itself.  0, -1 (no digits, or a leading zero) or -2 (over max). */
static int
header_length(const char **cursor, const char *end, size_t max, size_t *out)
{
	const char	*p = *cursor;
	size_t		 value = 0;

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
	static const char	 magic[] = PROTOCOL_HEADER_MAGIC " ";
	const char		*p = line, *end = line + len;
	size_t			 nonce_len, i;
	int			 parsed;

	*reason = HEADER_BAD;
	if (len < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1) != 0)
		return -1;
	p += sizeof(magic) - 1;
	parsed = header_length(&p, end, PROTOCOL_CODE_MAX_BYTES, &header->code_len);
	if (parsed == -2)
		*reason = "code_len over the cap of 262144 bytes";
	if (parsed != 0 || p == end || *p != ' ')
		return -1;
	p++;
	parsed = header_length(&p, end, PROTOCOL_STDIN_MAX_BYTES, &header->stdin_len);
	if (parsed == -2)
		*reason = "stdin_len over the cap of 1048576 bytes";
	if (parsed != 0 || p == end || *p != ' ')
		return -1;
	p++;
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
