/*
 * buf.c: a growable byte buffer whose cap is fixed when it is made.
 * Growing past the cap is refused, never silently cut: the caller turns
 * the refusal into an answer (413, output_limit).  Always NUL-terminated
 * after the data so it can be logged, but the length is what counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define BUF_ALLOC_MIN 256

void
buf_init(struct buf *b, size_t cap_bytes)
{
	memset(b, 0, sizeof(*b));
	/* Room for the NUL after the data must not overflow. */
	b->cap_bytes = cap_bytes < SIZE_MAX / 2 ? cap_bytes : SIZE_MAX / 2;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Empties the buffer, and gives its memory back if it grew past keep:
 * one large answer must not stay resident in a long-lived buffer. */
void
buf_shrink(struct buf *b, size_t keep)
{
	if (b->alloc > keep)
		buf_free(b);
	else
		buf_reset(b);
}

static int
buf_reserve(struct buf *b, size_t need)
{
	size_t want;
	char *p;

	if (need + 1 <= b->alloc)
		return 0;
	want = b->alloc ? b->alloc : BUF_ALLOC_MIN;
	while (want < need + 1)
		want *= 2;
	/* Never allocate far beyond the cap because of the doubling. */
	if (want > b->cap_bytes + 1)
		want = b->cap_bytes + 1;
	if ((p = realloc(b->data, want)) == NULL)
		return -1;
	b->data = p;
	b->alloc = want;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n > b->cap_bytes - b->len)
		return -1;
	if (buf_reserve(b, b->len + n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

char *
buf_extend(struct buf *b, size_t n)
{
	if (n > b->cap_bytes - b->len || buf_reserve(b, b->len + n) == -1)
		return NULL;
	b->len += n;
	b->data[b->len] = '\0';
	return b->data + b->len - n;
}

size_t
buf_append_upto(struct buf *b, const void *p, size_t n)
{
	size_t room = b->cap_bytes - b->len;

	if (n > room)
		n = room;
	if (n == 0 || buf_append(b, p, n) == -1)
		return 0;
	return n;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}
