/*
 * test-protocol.c: runner/header.c, the request header both ends compile:
 * the executor's format and the runner's parse agree (a round trip at the
 * caps and at zero), the parse refuses every truncation, a byte more,
 * lengths over the caps (30 digits too), leading zeros, signs and spaces,
 * and nonces that are empty, too long or not alphanumeric; the format
 * refuses lengths over the caps.  The configuration's maxima come from
 * the same caps (tests/unit/test-config.c).
 */
#include <stdio.h>
#include <string.h>

#include "protocol.h"
#include "tap.h"

#define NONCE "0123456789abcdef0123456789abcdef"

static int
parse(const char *line, struct protocol_header *h)
{
	const char *reason;

	return protocol_parse_header(line, strlen(line), h, &reason);
}

int
main(void)
{
	static const char *const bad[] = { "", "pycage1", "pycage1 ", "pycage1 1",
		"pycage1 1 ", "pycage1 1 2", "pycage1 1 2 ", "pycage2 1 2 x",
		"Pycage1 1 2 x", "pycage1  1 2 x", "pycage1 1  2 x",
		"pycage1 +1 2 x", "pycage1 -1 2 x", "pycage1 01 2 x",
		"pycage1 1 02 x", "pycage1 262145 0 x", "pycage1 0 1048577 x",
		"pycage1 999999999999999999999999999999 0 x", "pycage1 1 2 x y",
		"pycage1 1 2 a-b", "pycage1 1 2 --", "pycage1 1 2 \xc3\xa9",
		"pycage1 1 2 " NONCE NONCE "0", /* 65 characters */
		"pycage1 0x1 2 x", "pycage1 1 2 x\r" };
	struct protocol_header h;
	char line[PROTOCOL_HEADER_MAX_BYTES + 1], cut[sizeof(line)];
	const char *reason;
	size_t i, n;
	int len, refused = 0;

	/* Round trips: what the executor writes, the runner reads. */
	len = protocol_format_header(line, sizeof(line),
	    PROTOCOL_CODE_MAX_BYTES, PROTOCOL_STDIN_MAX_BYTES, NONCE NONCE);
	ok(len > 0 && line[len - 1] == '\n',
	    "the caps and a 64-character nonce format");
	ok(len <= PROTOCOL_HEADER_MAX_BYTES,
	    "within the header's cap (%d bytes)", len);
	is_int(protocol_parse_header(line, (size_t)len - 1, &h, &reason), 0,
	    "and parse back");
	ok(h.code_len == PROTOCOL_CODE_MAX_BYTES &&
		h.stdin_len == PROTOCOL_STDIN_MAX_BYTES &&
		strcmp(h.nonce, NONCE NONCE) == 0,
	    "to the same lengths and nonce");
	len = protocol_format_header(line, sizeof(line), 0, 0, "");
	is_str(line, "pycage1 0 0 -\n", "zero lengths and no nonce: '-'");
	is_int(protocol_parse_header(line, (size_t)len - 1, &h, &reason), 0,
	    "parses");
	ok(h.code_len == 0 && h.stdin_len == 0 && h.nonce[0] == '\0',
	    "to zeros and no nonce");
	is_int(protocol_format_header(line, sizeof(line),
		   PROTOCOL_CODE_MAX_BYTES + 1, 0, NONCE),
	    -1, "a code_len over the cap does not format");
	is_int(protocol_format_header(line, sizeof(line), 0,
		   PROTOCOL_STDIN_MAX_BYTES + 1, NONCE),
	    -1, "a stdin_len over the cap does not format");
	is_int(protocol_format_header(line, 10, 1, 1, NONCE), -1,
	    "nor one that does not fit its buffer");

	/* Every truncation of a good header, and a byte more, is refused
	 * (but the ones that end inside the nonce: those are shorter nonces). */
	len = protocol_format_header(line, sizeof(line), 12, 34, NONCE);
	for (n = 0; n + 1 < (size_t)len - strlen(NONCE); n++) {
		memcpy(cut, line, n);
		cut[n] = '\0';
		if (protocol_parse_header(cut, n, &h, &reason) == 0)
			refused--;
		else
			refused++;
	}
	is_int(refused, (int)((size_t)len - 1 - strlen(NONCE)),
	    "each truncation before the nonce is refused");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(parse(bad[i], &h), -1, "refused: '%s'", bad[i]);
	parse("pycage1 262145 0 x", &h);
	is_int(protocol_parse_header("pycage1 262145 0 x", 18, &h, &reason), -1,
	    "code over the cap");
	ok(strstr(reason, "262144") != NULL, "says the cap: %s", reason);
	is_int(parse("pycage1 262144 1048576 Z9", &h), 0,
	    "exactly the caps parse");

	/* pycage2: files (issue 17). */
	len = protocol_format_header_files(line, sizeof(line),
	    PROTOCOL_CODE_MAX_BYTES, PROTOCOL_STDIN_MAX_BYTES,
	    PROTOCOL_FILES_LIST_MAX_BYTES, PROTOCOL_FILES_MAX_BYTES, NONCE NONCE);
	ok(len > 0 && len <= PROTOCOL_HEADER_MAX_BYTES &&
		strncmp(line, "pycage2 ", 8) == 0,
	    "pycage2 at every cap formats within the header's cap (%d bytes)",
	    len);
	is_int(protocol_parse_header(line, (size_t)len - 1, &h, &reason), 0,
	    "and parses back");
	ok(h.files_len == PROTOCOL_FILES_LIST_MAX_BYTES &&
		h.files_out_max == PROTOCOL_FILES_MAX_BYTES &&
		h.code_len == PROTOCOL_CODE_MAX_BYTES,
	    "to the same files_len and files_out_max");
	len = protocol_format_header_files(line, sizeof(line), 1, 2, 0, 0, NONCE);
	ok(len > 0 && strncmp(line, "pycage1 1 2 ", 12) == 0,
	    "no files and no files back is written pycage1");
	is_int(parse("pycage2 1 2 0 0 x", &h), -1,
	    "so pycage2 with both 0 is refused");
	is_int(parse("pycage2 1 2 0 8388608 x", &h), 0,
	    "pycage2 with files back only parses");
	ok(h.files_len == 0 && h.files_out_max == 8388608, "to its values");
	is_int(parse("pycage1 1 2 x", &h), 0, "pycage1 parses");
	ok(h.files_len == 0 && h.files_out_max == 0, "to no files");
	is_int(protocol_format_header_files(line, sizeof(line), 0, 0,
		   PROTOCOL_FILES_LIST_MAX_BYTES + 1, 1, NONCE),
	    -1, "a files_len over the cap does not format");
	is_int(protocol_format_header_files(line, sizeof(line), 0, 0, 1,
		   PROTOCOL_FILES_MAX_BYTES + 1, NONCE),
	    -1, "a files_out_max over the cap does not format");
	snprintf(line, sizeof(line), "pycage2 0 0 %lu 1 x",
	    (unsigned long)PROTOCOL_FILES_LIST_MAX_BYTES + 1);
	is_int(parse(line, &h), -1, "a files_len over the cap is refused");
	snprintf(line, sizeof(line), "pycage2 0 0 1 %lu x",
	    (unsigned long)PROTOCOL_FILES_MAX_BYTES + 1);
	is_int(parse(line, &h), -1, "a files_out_max over the cap is refused");
	is_int(parse("pycage2 0 0 01 1 x", &h), -1,
	    "a leading zero in files_len is refused");
	is_int(parse("pycage2 0 0 1 x", &h), -1,
	    "pycage2 without files_out_max is refused");
	return done_testing();
}
