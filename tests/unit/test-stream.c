/*
 * test-stream.c: src/executor/stream.c, Docker's multiplexed attach stream (Engine
 * API "Attach to a container / Stream format": 8-byte header {type, 0, 0,
 * 0, size as big-endian u32}; 0 stdin, 1 stdout, 2 stderr).  A stream is
 * fed whole, split at every byte position, split at every pair of
 * positions, byte by byte and in pseudo-random chunks; each way must give
 * the same two outputs.  Hostile headers: unknown types, zero sizes, a
 * size of 4 GiB - 1 with little data behind it; caps hit exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

/* -------------------------------------------------------- helpers */

/* A stream under construction: frames appended to a plain byte array. */
struct wire {
	unsigned char data[65536];
	size_t len;
};

static void
frame_header(struct wire *w, unsigned char type, uint32_t size)
{
	unsigned char *h = w->data + w->len;

	h[0] = type;
	h[1] = h[2] = h[3] = 0;
	h[4] = (unsigned char)(size >> 24);
	h[5] = (unsigned char)(size >> 16);
	h[6] = (unsigned char)(size >> 8);
	h[7] = (unsigned char)size;
	w->len += 8;
}

static void
frame(struct wire *w, unsigned char type, const char *payload, size_t len)
{
	frame_header(w, type, (uint32_t)len);
	memcpy(w->data + w->len, payload, len);
	w->len += len;
}

static void
frame_str(struct wire *w, unsigned char type, const char *payload)
{
	frame(w, type, payload, strlen(payload));
}

/* A demuxer with two fresh buffers of the given cap. */
struct sink {
	struct buf out, err;
	struct stream_demux d;
	bool over; /* last return of feed */
};

static void
sink_init(struct sink *s, size_t cap)
{
	buf_init(&s->out, cap);
	buf_init(&s->err, cap);
	stream_demux_init(&s->d, &s->out, &s->err);
	s->over = false;
}

static void
sink_free(struct sink *s)
{
	buf_free(&s->out);
	buf_free(&s->err);
}

static void
feed(struct sink *s, const void *p, size_t len)
{
	s->over = stream_demux_feed(&s->d, p, len);
}

/* The sink holds exactly these outputs and flags. */
static bool
sink_equals(const struct sink *s, const char *out, size_t out_len,
    const char *err, size_t err_len, bool bad_type)
{
	return s->out.len == out_len && s->err.len == err_len &&
	    (out_len == 0 || memcmp(s->out.data, out, out_len) == 0) &&
	    (err_len == 0 || memcmp(s->err.data, err, err_len) == 0) &&
	    s->d.bad_type == bad_type && !s->d.truncated[0] &&
	    !s->d.truncated[1] && !s->over && s->d.header_len == 0 &&
	    s->d.frame_left == 0;
}

/* Same expectations, reported as one test point with diagnostics. */
static void
check_sink(const struct sink *s, const char *out, size_t out_len,
    const char *err, size_t err_len, bool bad_type, const char *name)
{
	is_mem(s->out.data ? s->out.data : "", s->out.len, out, out_len,
	    "%s: stdout", name);
	is_mem(s->err.data ? s->err.data : "", s->err.len, err, err_len,
	    "%s: stderr", name);
	is_int(s->d.bad_type, bad_type, "%s: bad_type %d", name, bad_type);
	ok(!s->d.truncated[0] && !s->d.truncated[1] && !s->over,
	    "%s: nothing truncated", name);
	ok(s->d.header_len == 0 && s->d.frame_left == 0,
	    "%s: ends between frames", name);
}

/* ------------------------------------------------------------ tests */

static void
test_single_frames(void)
{
	struct wire w = { .len = 0 };
	struct sink s;

	frame_str(&w, 1, "hello\n");
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, "hello\n", 6, "", 0, false, "one stdout frame");
	ok(s.out.data[s.out.len] == '\0', "stdout NUL-terminated");
	sink_free(&s);

	w.len = 0;
	frame_str(&w, 2, "oops\n");
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, "", 0, "oops\n", 5, false, "one stderr frame");
	sink_free(&s);

	/* Binary payload, including bytes that look like a header. */
	w.len = 0;
	frame(&w, 1, "\x01\0\0\0\0\0\0\x05\xff\0", 10);
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, "\x01\0\0\0\0\0\0\x05\xff\0", 10, "", 0, false,
	    "binary payload with a header inside");
	sink_free(&s);

	sink_init(&s, 1024);
	feed(&s, "", 0);
	check_sink(&s, "", 0, "", 0, false, "feeding 0 bytes");
	sink_free(&s);
}

/* The reference stream for the split tests, and what it must give. */
static void
build_mixed(struct wire *w)
{
	w->len = 0;
	frame_str(w, 1, "out1 ");
	frame_str(w, 2, "err1 ");
	frame(w, 1, "", 0);            /* zero-length stdout */
	frame_str(w, 0, "stdin echo"); /* type 0: skipped, not flagged */
	frame_str(w, 1, "out2");
	frame(w, 2, "", 0); /* zero-length stderr */
	frame_str(w, 2, "err2\n");
	frame_str(w, 1, "\xe2\x82\xac\n"); /* a UTF-8 sequence to split */
}

#define MIXED_OUT "out1 out2\xe2\x82\xac\n"
#define MIXED_ERR "err1 err2\n"

static void
test_splits(void)
{
	struct wire w;
	struct sink s;
	size_t i, j, bad;

	build_mixed(&w);
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, MIXED_OUT, sizeof(MIXED_OUT) - 1, MIXED_ERR,
	    sizeof(MIXED_ERR) - 1, false, "mixed stream in one feed");
	sink_free(&s);

	/* Two feeds, split at every position 0..len. */
	for (i = 0, bad = 0; i <= w.len; i++) {
		sink_init(&s, 1024);
		feed(&s, w.data, i);
		feed(&s, w.data + i, w.len - i);
		if (!sink_equals(&s, MIXED_OUT, sizeof(MIXED_OUT) - 1,
			MIXED_ERR, sizeof(MIXED_ERR) - 1, false)) {
			if (bad++ == 0)
				diag("first bad split at %zu", i);
		}
		sink_free(&s);
	}
	is_int(bad, 0, "split at each of %zu positions: same outputs", w.len + 1);

	/* Three feeds, every pair of split points. */
	for (i = 0, bad = 0; i <= w.len; i++)
		for (j = i; j <= w.len; j++) {
			sink_init(&s, 1024);
			feed(&s, w.data, i);
			feed(&s, w.data + i, j - i);
			feed(&s, w.data + j, w.len - j);
			if (!sink_equals(&s, MIXED_OUT, sizeof(MIXED_OUT) - 1,
				MIXED_ERR, sizeof(MIXED_ERR) - 1, false))
				bad++;
			sink_free(&s);
		}
	is_int(bad, 0, "three feeds at every pair of split points: same outputs");

	/* Byte by byte: headers split at every byte. */
	sink_init(&s, 1024);
	for (i = 0; i < w.len; i++) {
		feed(&s, w.data + i, 1);
		if (i < 7)
			is_int(s.d.header_len, i + 1,
			    "byte %zu of the first header is held", i + 1);
	}
	check_sink(&s, MIXED_OUT, sizeof(MIXED_OUT) - 1, MIXED_ERR,
	    sizeof(MIXED_ERR) - 1, false, "mixed stream byte by byte");
	sink_free(&s);
}

/* Interleaved frames keep each stream's order, whatever the chunking. */
static void
test_interleaved(void)
{
	struct wire w = { .len = 0 };
	struct sink s;
	char expect_out[2048], expect_err[2048], payload[16];
	size_t n_out = 0, n_err = 0, i, off, bad = 0;
	unsigned seed = 12345, round;

	for (i = 0; i < 200; i++) {
		int len;
		bool to_err = (i % 3 == 1) || (i % 7 == 0);

		len = snprintf(payload, sizeof(payload), "%c%03zu,",
		    to_err ? 'e' : 'o', i);
		frame(&w, to_err ? 2 : 1, payload, (size_t)len);
		if (to_err) {
			memcpy(expect_err + n_err, payload, (size_t)len);
			n_err += (size_t)len;
		} else {
			memcpy(expect_out + n_out, payload, (size_t)len);
			n_out += (size_t)len;
		}
	}
	sink_init(&s, 4096);
	feed(&s, w.data, w.len);
	check_sink(&s, expect_out, n_out, expect_err, n_err, false,
	    "200 interleaved frames in one feed");
	sink_free(&s);

	/* 200 rounds of pseudo-random chunk sizes 1..29 (fixed seed). */
	for (round = 0; round < 200; round++) {
		sink_init(&s, 4096);
		for (off = 0; off < w.len;) {
			size_t n;

			seed = seed * 1103515245U + 12345U;
			n = 1 + (seed >> 16) % 29;
			if (n > w.len - off)
				n = w.len - off;
			feed(&s, w.data + off, n);
			off += n;
		}
		if (!sink_equals(&s, expect_out, n_out, expect_err, n_err, false))
			bad++;
		sink_free(&s);
	}
	is_int(bad, 0,
	    "200 interleaved frames in 200 random chunkings: order kept");
}

static void
test_unknown_types(void)
{
	struct wire w = { .len = 0 };
	struct sink s;
	size_t i, bad;

	frame_str(&w, 1, "a");
	frame_str(&w, 3, "junk that must not show");
	frame_str(&w, 2, "b");
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, "a", 1, "b", 1, true, "type 3 skipped and flagged");
	sink_free(&s);

	for (i = 0, bad = 0; i <= w.len; i++) {
		sink_init(&s, 1024);
		feed(&s, w.data, i);
		feed(&s, w.data + i, w.len - i);
		if (!sink_equals(&s, "a", 1, "b", 1, true))
			bad++;
		sink_free(&s);
	}
	is_int(bad, 0, "type 3 frame split at every position: skipped, flagged");

	w.len = 0;
	frame_str(&w, 0, "stdin");
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, "", 0, "", 0, false,
	    "type 0 (stdin) skipped, not flagged");
	sink_free(&s);

	w.len = 0;
	frame_str(&w, 255, "x");
	frame(&w, 3, "", 0);
	frame_str(&w, 1, "ok");
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, "ok", 2, "", 0, true, "type 255 and a zero-length type 3");
	sink_free(&s);
}

static void
test_zero_length(void)
{
	struct wire w = { .len = 0 };
	struct sink s;
	int i;

	for (i = 0; i < 1000; i++)
		frame(&w, (unsigned char)(1 + i % 2), "", 0);
	frame_str(&w, 1, "x");
	frame(&w, 2, "", 0);
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	check_sink(&s, "x", 1, "", 0, false, "1000 zero-length frames, then x");
	ok(s.err.data == NULL, "zero-length frames allocate nothing");
	sink_free(&s);
}

/* A size of 4 GiB - 1 with little data: nothing is sized from it. */
static void
test_huge_header(void)
{
	struct wire w = { .len = 0 };
	struct sink s;
	char *chunk;
	size_t i, cap = 1024 * 1024, over_alloc = 0;

	frame_header(&w, 1, 0xffffffffU);
	memcpy(w.data + w.len, "tiny", 4);
	w.len += 4;
	sink_init(&s, 1024);
	feed(&s, w.data, w.len);
	is_mem(s.out.data, s.out.len, "tiny", 4, "4 GiB header, 4 bytes: stdout");
	ok(!s.over, "4 GiB header, 4 bytes: not (yet) truncated");
	is_int(s.d.frame_left, 0xffffffffU - 4, "frame_left counts down");
	ok(s.out.alloc <= 1025, "4 GiB header: alloc %zu within cap + 1",
	    s.out.alloc);
	sink_free(&s);

	/* 8 MiB of it into a 1 MiB cap, in 64 KiB reads. */
	chunk = malloc(65536);
	memset(chunk, 'z', 65536);
	sink_init(&s, cap);
	feed(&s, w.data, 8);
	for (i = 0; i < 128; i++) {
		feed(&s, chunk, 65536);
		if (s.out.alloc > cap + 1)
			over_alloc++;
	}
	is_int(over_alloc, 0, "8 MiB of a 4 GiB frame: alloc never past cap + 1");
	is_int(s.out.len, cap, "8 MiB of a 4 GiB frame: stdout holds the cap");
	ok(s.over && s.d.truncated[0] && !s.d.truncated[1],
	    "8 MiB of a 4 GiB frame: stdout truncated, stderr not");
	is_int(s.d.frame_left, 0xffffffffU - 8 * 1024 * 1024,
	    "still inside the frame");
	ok(s.err.data == NULL, "stderr untouched");
	sink_free(&s);

	/* The same for an unknown type: all skipped, nothing allocated. */
	w.len = 0;
	frame_header(&w, 3, 0xffffffffU);
	sink_init(&s, cap);
	feed(&s, w.data, 8);
	for (i = 0; i < 16; i++)
		feed(&s, chunk, 65536);
	ok(s.out.data == NULL && s.err.data == NULL && s.d.bad_type && !s.over,
	    "4 GiB frame of type 3: skipped, nothing allocated");
	sink_free(&s);
	free(chunk);

	/* A header whose size is all ones except the top byte (16 MiB). */
	w.len = 0;
	frame_header(&w, 2, 0x00ffffffU);
	sink_init(&s, 16);
	feed(&s, w.data, 8);
	is_int(s.d.frame_left, 0x00ffffffU, "size is read big-endian");
	sink_free(&s);
}

static void
test_caps(void)
{
	struct wire w = { .len = 0 };
	struct sink s;
	bool r;

	/* Exactly the cap: not truncated. */
	frame_str(&w, 1, "0123456789");
	sink_init(&s, 10);
	feed(&s, w.data, w.len);
	check_sink(&s, "0123456789", 10, "", 0, false, "cap 10, 10 bytes");
	w.len = 0;
	frame(&w, 1, "", 0);
	feed(&s, w.data, w.len);
	ok(!s.over, "cap 10 full, then a zero-length frame: still not truncated");
	w.len = 0;
	frame_str(&w, 1, "X");
	feed(&s, w.data, w.len);
	ok(s.over && s.d.truncated[0], "then 1 more byte: truncated, true");
	is_mem(s.out.data, s.out.len, "0123456789", 10, "the extra byte dropped");
	sink_free(&s);

	/* cap + 1 in one frame. */
	w.len = 0;
	frame_str(&w, 1, "0123456789A");
	sink_init(&s, 10);
	r = stream_demux_feed(&s.d, w.data, w.len);
	ok(r, "cap 10, an 11-byte frame: returns true");
	ok(s.d.truncated[0] && !s.d.truncated[1], "stdout truncated, stderr not");
	is_mem(s.out.data, s.out.len, "0123456789", 10, "first 10 bytes kept");
	sink_free(&s);

	/* Two frames that meet the cap exactly, in pieces. */
	w.len = 0;
	frame_str(&w, 2, "abcde");
	frame_str(&w, 2, "fghij");
	sink_init(&s, 10);
	feed(&s, w.data, 5);
	feed(&s, w.data + 5, w.len - 5);
	check_sink(&s, "", 0, "abcdefghij", 10, false, "stderr 5 + 5 at cap 10");
	sink_free(&s);

	/* Partial take: 8 in, then 5 more -> 2 taken. */
	w.len = 0;
	frame_str(&w, 1, "12345678");
	frame_str(&w, 1, "abcde");
	sink_init(&s, 10);
	feed(&s, w.data, w.len);
	is_mem(s.out.data, s.out.len, "12345678ab", 10,
	    "8 + 5 at cap 10: 2 taken");
	ok(s.over, "8 + 5 at cap 10: truncated");
	sink_free(&s);

	/* An over-long frame's rest is skipped and the next frame is read. */
	w.len = 0;
	frame_str(&w, 1, "abcdefgh");
	frame_str(&w, 2, "err");
	frame_str(&w, 1, "more");
	sink_init(&s, 4);
	feed(&s, w.data, w.len);
	is_mem(s.out.data, s.out.len, "abcd", 4, "cap 4, 8-byte frame: abcd");
	is_mem(s.err.data, s.err.len, "err", 3,
	    "the frame after an over-long one is read as a frame");
	ok(s.d.truncated[0] && !s.d.truncated[1], "only stdout flagged");
	ok(s.d.header_len == 0 && s.d.frame_left == 0, "ends between frames");
	/* Once true, stays true. */
	w.len = 0;
	frame_str(&w, 2, "x");
	feed(&s, w.data, w.len);
	ok(s.over, "later feeds still return true");
	sink_free(&s);

	/* Cap 0: every byte is over. */
	w.len = 0;
	frame_str(&w, 2, "e");
	sink_init(&s, 0);
	feed(&s, w.data, w.len);
	ok(s.over && s.d.truncated[1] && s.err.len == 0,
	    "cap 0: truncated at once");
	sink_free(&s);
}

int
main(void)
{
	test_single_frames();
	test_splits();
	test_interleaved();
	test_unknown_types();
	test_zero_length();
	test_huge_header();
	test_caps();
	return done_testing();
}
