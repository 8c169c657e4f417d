/*
 * record.c: the runner's exit record in a run's output, and the output
 * caps around it (runner/protocol.h has the record's format).  The
 * record, "\x1epycage-exit NONCE CODE\n", comes once on stdout and once
 * on stderr after the program ended, so the host need not wait for the
 * container to stop; only a record with this run's nonce counts, and the
 * program's output is what precedes it.  Pure functions over capped
 * buffers: no engine, no clock (tests/unit/test-record.c).
 */
#include <stdio.h>
#include <string.h>

#include "executor.h"

void
record_watch_init(struct record_watch *w, const char *nonce)
{
	memset(w, 0, sizeof(*w));
	w->marker_len = (size_t)snprintf(w->marker, sizeof(w->marker),
	    PROTOCOL_EXIT_PREFIX "%s ", nonce);
	if (w->marker_len >= sizeof(w->marker))
		w->marker_len = sizeof(w->marker) - 1;
	w->data_marker_len = (size_t)snprintf(w->data_marker,
	    sizeof(w->data_marker), PROTOCOL_DATA_PREFIX "%s ", nonce);
	if (w->data_marker_len >= sizeof(w->data_marker))
		w->data_marker_len = sizeof(w->data_marker) - 1;
}

void
record_watch_scan_data(struct record_watch *w, const struct buf *b)
{
	const char *found;
	size_t from;

	if (w->data_seen || b->len < w->data_marker_len)
		return;
	from = w->data_scanned > w->data_marker_len ?
	    w->data_scanned - w->data_marker_len :
	    0;
	if ((found = memmem(b->data + from, b->len - from, w->data_marker,
		 w->data_marker_len)) == NULL) {
		w->data_scanned = b->len;
		return;
	}
	w->data_seen = true;
	w->data_at = (size_t)(found - b->data);
}

void
record_take_data(struct record_watch *w, struct buf *b, size_t end,
    struct buf *out)
{
	const char *p, *q;
	size_t len = 0;

	if (!w->data_seen || w->data_at > end || end > b->len)
		return;
	p = b->data + w->data_at + w->data_marker_len;
	q = b->data + end;
	for (; p < q && *p >= '0' && *p <= '9' && len <= PROTOCOL_DATA_MAX_BYTES;
	     p++)
		len = len * 10 + (size_t)(*p - '0');
	if (p < q && *p == '\n' && len <= PROTOCOL_DATA_MAX_BYTES &&
	    (size_t)(q - p - 1) == len)
		(void)buf_append(out, p + 1, len);
	b->len = w->data_at;
}

/* Looks for the record in what arrived since the last look. */
void
record_watch_scan(struct record_watch *w, int i, const struct buf *b)
{
	const char *found, *p, *end;
	size_t from;
	int code = 0;

	if (w->seen[i] || b->len < w->marker_len)
		return;
	from = w->scanned[i] > w->marker_len ? w->scanned[i] - w->marker_len : 0;
	if ((found = memmem(b->data + from, b->len - from, w->marker,
		 w->marker_len)) == NULL) {
		w->scanned[i] = b->len;
		return;
	}
	end = b->data + b->len;
	for (p = found + w->marker_len;
	     p < end && *p >= '0' && *p <= '9' && code < 1000; p++)
		code = code * 10 + (*p - '0');
	if (p == end) {
		/* The record's end has not arrived: look here again. */
		w->scanned[i] = (size_t)(found - b->data);
		return;
	}
	if (*p != '\n' || p == found + w->marker_len) {
		w->scanned[i] = b->len; /* not a record after all */
		return;
	}
	w->seen[i] = true;
	w->at[i] = (size_t)(found - b->data);
	w->code = code;
}

bool
record_watch_done(const struct record_watch *w)
{
	return w->seen[0] && w->seen[1];
}

/*
 * The output cap is the program's: a program may fill it exactly and the
 * exit record still follows.  So while the run lasts each buffer takes
 * PROTOCOL_EXIT_RECORD_MAX_BYTES past the cap, and a stream is over its cap as soon
 * as its program part (what precedes its record) is: with the record seen,
 * where it starts; without, every byte, unless what follows some position
 * within the cap is the start of the record still arriving.  *program is
 * the length of the program part.
 */
bool
record_over_cap(const struct record_watch *w, int i, const struct buf *b,
    size_t cap, size_t *program)
{
	size_t p, n, k;

	*program = w->seen[i] ? w->at[i] : b->len;
	/* stdout's program part ends where the data record starts. */
	if (i == 0 && w->data_seen && w->data_at < *program)
		*program = w->data_at;
	if (w->seen[i] || (i == 0 && w->data_seen) || b->len <= cap)
		return *program > cap;
	p = b->len > PROTOCOL_EXIT_RECORD_MAX_BYTES ?
	    b->len - PROTOCOL_EXIT_RECORD_MAX_BYTES :
	    0;
	for (; p <= cap; p++) {
		n = b->len - p;
		if (memcmp(b->data + p, w->marker,
			n < w->marker_len ? n : w->marker_len) != 0)
			continue;
		for (k = w->marker_len;
		     k < n && b->data[p + k] >= '0' && b->data[p + k] <= '9'; k++)
			;
		if (k >= n) {
			*program = p;
			return false;
		}
	}
	return true;
}

/*
 * After the run: a stream over its cap is cut back to it, flagged
 * truncated, and its record, if any, is not used; one within it loses a
 * piece of record that ran past the cap and never ended.
 */
bool
record_cap_stream(struct buf *b, bool *truncated, struct record_watch *watch,
    int i, size_t cap)
{
	size_t program;

	if (!record_over_cap(watch, i, b, cap, &program) && !*truncated) {
		b->cap_bytes = cap;
		if (!watch->seen[i])
			b->len = program;
		return false;
	}
	b->cap_bytes = cap;
	*truncated = true;
	watch->seen[i] = false;
	b->len = program < cap ? program : cap;
	/* A cut at the cap can split a character: drop the piece rather than
	 * answer a U+FFFD the program never printed. */
	b->len = utf8_whole_prefix(b->data, b->len);
	return true;
}
