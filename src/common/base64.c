/*
 * base64.c: RFC 4648 base64 (standard alphabet, '=' padding), for the
 * files a request sends (front/json_in.c) and an answer returns
 * (front/answer.c).  Decoding is strict: no whitespace, no missing or
 * extra padding, no bits left over in the last group.
 */
#include <string.h>

#include "common.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t
base64_decoded_max(size_t len)
{
	return len / 4 * 3;
}

int
base64_decode(const char *s, size_t len, struct buf *out)
{
	size_t i, pad = 0;
	int v[4], k;
	char *p;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	if ((p = buf_extend(out, len / 4 * 3 - pad)) == NULL && len > 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++) {
			if (i + 4 == len && k >= 4 - (int)pad) {
				v[k] = 0;
				continue;
			}
			if ((v[k] = base64_value((unsigned char)s[i + k])) < 0)
				goto bad;
		}
		/* The bits a shorter last group leaves unused must be zero. */
		if (i + 4 == len &&
		    ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15))))
			goto bad;
		*p++ = (char)(v[0] << 2 | v[1] >> 4);
		if (i + 4 < len || pad < 2)
			*p++ = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (i + 4 < len || pad < 1)
			*p++ = (char)((v[2] & 3) << 6 | v[3]);
	}
	return 0;
bad:
	out->len -= len / 4 * 3 - pad; /* nothing appended */
	return -1;
}

int
base64_encode(const void *data, size_t len, struct buf *out)
{
	const unsigned char *s = data;
	size_t i;
	char *p;
	unsigned n;

	if ((p = buf_extend(out, (len + 2) / 3 * 4)) == NULL && len > 0)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		n = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*p++ = base64_alphabet[n >> 18];
		*p++ = base64_alphabet[(n >> 12) & 63];
		*p++ = base64_alphabet[(n >> 6) & 63];
		*p++ = base64_alphabet[n & 63];
	}
	if (i < len) {
		n = (unsigned)s[i] << 16 |
		    (i + 1 < len ? (unsigned)s[i + 1] << 8 : 0);
		*p++ = base64_alphabet[n >> 18];
		*p++ = base64_alphabet[(n >> 12) & 63];
		*p++ = i + 1 < len ? base64_alphabet[(n >> 6) & 63] : '=';
		*p++ = '=';
	}
	return 0;
}
