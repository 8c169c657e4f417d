/*
 * test-record.c: src/executor/record.c, the runner's exit record in the
 * output and the caps around it.  The record is found whole or in pieces
 * split anywhere across reads, only with this run's nonce and a number
 * then a newline; the output cap is the program's (exactly the cap and a
 * record after it is not over; one byte more is); a record still
 * arriving past the cap is not mistaken for output; a stream cut at its
 * cap keeps whole UTF-8 characters and loses its record.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "executor.h"
#include "tap.h"

#define NONCE "0123456789abcdef0123456789abcdef"
#define RECORD(code) "\x1epycage-exit " NONCE " " code "\n"

static void
feed(struct buf *b, const char *s, size_t n)
{
	if (buf_append(b, s, n) == -1)
		diag("feed over the cap");
}

static void
test_whole_and_split(void)
{
	struct record_watch w;
	struct buf b;
	const char text[] = "hello\n" RECORD("3");
	size_t i, first_seen = 0;

	record_watch_init(&w, NONCE);
	buf_init(&b, 1024);
	feed(&b, text, sizeof(text) - 1);
	record_watch_scan(&w, 0, &b);
	ok(w.seen[0], "a whole record on stdout is seen");
	is_int(w.at[0], 6, "where it starts: after the program's 6 bytes");
	is_int(w.code, 3, "its exit code");
	ok(!record_watch_done(&w), "not done with stderr's record missing");
	buf_free(&b);

	/* Byte by byte: seen exactly when its newline arrives. */
	record_watch_init(&w, NONCE);
	buf_init(&b, 1024);
	for (i = 0; i < sizeof(text) - 1; i++) {
		feed(&b, text + i, 1);
		record_watch_scan(&w, 1, &b);
		if (w.seen[1] && first_seen == 0)
			first_seen = i + 1;
	}
	is_int(first_seen, sizeof(text) - 1,
	    "split byte by byte: seen at its last byte");
	is_int(w.at[1], 6, "and starts where it does");
	buf_free(&b);
}

static void
test_not_records(void)
{
	static const char *const fakes[] = {
		"\x1epycage-exit fedcba9876543210fedcba9876543210 0\n", /* another nonce */
		"\x1epycage-exit " NONCE " \n",    /* no code */
		"\x1epycage-exit " NONCE " 12x\n", /* not a number */
		"\x1epycage-exit " NONCE "0\n",    /* no space */
		"pycage-exit " NONCE " 0\n",       /* no \x1e */
	};
	struct record_watch w;
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		record_watch_init(&w, NONCE);
		buf_init(&b, 1024);
		feed(&b, fakes[i], strlen(fakes[i]));
		record_watch_scan(&w, 0, &b);
		ok(!w.seen[0], "not a record: fake %zu", i);
		/* The real one after it is still found. */
		feed(&b, RECORD("0"), sizeof(RECORD("0")) - 1);
		record_watch_scan(&w, 0, &b);
		ok(w.seen[0] && w.at[0] == strlen(fakes[i]),
		    "the real record after fake %zu is found at %zu", i,
		    strlen(fakes[i]));
		buf_free(&b);
	}
	record_watch_init(&w, NONCE);
	buf_init(&b, 1024);
	feed(&b, RECORD("137"), sizeof(RECORD("137")) - 1);
	record_watch_scan(&w, 0, &b);
	record_watch_scan(&w, 1, &b);
	ok(record_watch_done(&w) && w.code == 137,
	    "code 137 on both streams: done");
	buf_free(&b);
}

static void
test_caps(void)
{
	struct record_watch w;
	struct buf b;
	char out[64];
	size_t program;
	bool truncated = false;

	/* Exactly the cap, then the record: the program is within it. */
	memset(out, 'x', sizeof(out));
	record_watch_init(&w, NONCE);
	buf_init(&b, 16 + PROTOCOL_EXIT_RECORD_MAX_BYTES);
	feed(&b, out, 16);
	feed(&b, RECORD("0"), sizeof(RECORD("0")) - 1);
	record_watch_scan(&w, 0, &b);
	ok(!record_over_cap(&w, 0, &b, 16, &program),
	    "exactly the cap and a record: not over");
	is_int(program, 16, "the program part is 16 bytes");
	ok(!record_cap_stream(&b, &truncated, &w, 0, 16) && !truncated,
	    "and is kept, not truncated");
	ok(w.seen[0] && w.at[0] == 16,
	    "its record still counts (the job cuts there)");
	buf_free(&b);

	/* One byte more. */
	record_watch_init(&w, NONCE);
	buf_init(&b, 16 + PROTOCOL_EXIT_RECORD_MAX_BYTES);
	feed(&b, out, 17);
	feed(&b, RECORD("0"), sizeof(RECORD("0")) - 1);
	record_watch_scan(&w, 0, &b);
	ok(record_over_cap(&w, 0, &b, 16, &program),
	    "the cap + 1 and a record: over");
	buf_free(&b);

	/* Past the cap with a record still arriving: not over yet. */
	record_watch_init(&w, NONCE);
	buf_init(&b, 16 + PROTOCOL_EXIT_RECORD_MAX_BYTES);
	feed(&b, out, 10);
	feed(&b, RECORD("0"), 20); /* a piece of it */
	record_watch_scan(&w, 0, &b);
	ok(b.len > 16 && !record_over_cap(&w, 0, &b, 16, &program),
	    "a record arriving past the cap is not over (%zu bytes)", b.len);
	is_int(program, 10, "the program part ends where it starts");
	buf_free(&b);

	/* Past the cap with no record: over at once. */
	record_watch_init(&w, NONCE);
	buf_init(&b, 16 + PROTOCOL_EXIT_RECORD_MAX_BYTES);
	feed(&b, out, 20);
	record_watch_scan(&w, 0, &b);
	ok(record_over_cap(&w, 0, &b, 16, &program),
	    "20 bytes and no record: over a 16-byte cap");
	buf_free(&b);

	/* Cut at the cap: whole UTF-8 characters, flagged, record dropped. */
	record_watch_init(&w, NONCE);
	buf_init(&b, 16 + PROTOCOL_EXIT_RECORD_MAX_BYTES);
	feed(&b, "aaaaaaaaaaaaaa\xc3\xa9\xc3\xa9", 18); /* e-acute at 14-15, 16-17 */
	feed(&b, RECORD("0"), sizeof(RECORD("0")) - 1);
	record_watch_scan(&w, 0, &b);
	truncated = false;
	ok(record_cap_stream(&b, &truncated, &w, 0, 15),
	    "18 bytes over a 15-byte cap: cut");
	ok(truncated && !w.seen[0],
	    "flagged truncated, its record no longer counts");
	is_int(b.len, 14, "cut before the character the cap split");
	buf_free(&b);
}

int
main(void)
{
	test_whole_and_split();
	test_not_records();
	test_caps();
	return done_testing();
}
