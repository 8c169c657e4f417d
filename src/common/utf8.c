/*
 * utf8.c: UTF-8 validation (request bodies must be valid) and repair
 * (program output may hold any bytes; the answer carries U+FFFD for each
 * invalid sequence, as the WHATWG decoder does: a maximal invalid prefix
 * is replaced by one U+FFFD).  Rejects overlong forms, UTF-16 surrogates
 * encoded as UTF-8 and code points above U+10FFFF (RFC 3629 section 4).
 */
#include "common.h"

/*
 * Length of the valid sequence at s[0..len), or 0 if it is invalid.  On
 * 0, *bad is how many bytes form the maximal invalid prefix (at least 1).
 */
static size_t
utf8_sequence(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 0;
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

bool
utf8_valid(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, n, bad;

	while (i < len) {
		if ((n = utf8_sequence(s + i, len - i, &bad)) == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
utf8_whole_prefix(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t start, bad;

	/* The last sequence starts at most 3 bytes back, at a non-continuation
	 * byte; if it is valid as far as it goes but short, cut it off. */
	for (start = len; start > 0 && len - start < 4; start--) {
		if ((s[start - 1] & 0xc0) != 0x80)
			break;
	}
	if (start == 0 || len - start >= 4)
		return len;
	start--;
	/* Cut only a valid lead byte whose sequence ran out of bytes; an
	 * invalid one is left for utf8_sanitize() to replace. */
	if (s[start] >= 0xc2 && s[start] <= 0xf4 &&
	    utf8_sequence(s + start, len - start, &bad) == 0 &&
	    start + bad == len)
		return start;
	return len;
}

int
utf8_sanitize(const char *p, size_t len, struct buf *out)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, start = 0, n, bad;

	while (i < len) {
		if ((n = utf8_sequence(s + i, len - i, &bad)) != 0) {
			i += n;
			continue;
		}
		if (buf_append(out, p + start, i - start) == -1 ||
		    buf_append(out, replacement, 3) == -1)
			return -1;
		i += bad;
		start = i;
	}
	return buf_append(out, p + start, i - start);
}
