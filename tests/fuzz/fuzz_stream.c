/*
 * fuzz_stream.c: libFuzzer target for src/executor/stream.c, the demultiplexer of
 * Docker's attach stream (Engine API "Attach to a container / Stream
 * format": 8-byte header {type, 0, 0, 0, size as big-endian u32}, then
 * size bytes; 1 stdout, 2 stderr).
 *
 * Input: 3 control bytes, then the stream.  Control byte 0 picks the two
 * caps, bytes 1-2 seed the generator of feed sizes: the stream is cut at
 * data-derived points into feeds of 0 to 1024 bytes, each copied into its
 * own exact-size allocation so ASan sees a read past a feed's end.
 *
 * The result is compared with a reference demux written here that sees
 * the whole buffer at once: each stream's bytes equal the reference's
 * when no cap was hit, and its first cap bytes when one was (the demux
 * keeps what fits and drops the rest); the truncation flags, the bad-type
 * flag, the return of the last feed and the state left mid-frame agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "executor.h"

#define FUZZ_CHECK(cond)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			fprintf(stderr,                               \
			    "fuzz_stream: %s:%d: check failed: %s\n", \
			    __FILE__, __LINE__, #cond);               \
			abort();                                      \
		}                                                     \
	} while (0)

#define FUZZ_CONTROL_BYTES 3
#define FUZZ_FEED_MAX 1024

/* Mostly the 4096 of the brief; small ones so short inputs reach a cap. */
static const size_t fuzz_caps[8] = { 4096, 4096, 4096, 4096, 0, 1, 8, 300 };

/* The whole-buffer demux the streaming one must agree with. */
struct reference {
	unsigned char *out[2];
	size_t len[2];
	bool bad_type;
	size_t header_len;   /* bytes of a header left incomplete */
	uint32_t frame_left; /* payload still owed by the last frame */
};

static void
reference_demux(const unsigned char *s, size_t n, struct reference *r)
{
	size_t i = 0, take;
	uint32_t size;
	int type;

	memset(r, 0, sizeof(*r));
	r->out[0] = malloc(n + 1);
	r->out[1] = malloc(n + 1);
	FUZZ_CHECK(r->out[0] != NULL && r->out[1] != NULL);
	while (i < n) {
		if (n - i < 8) {
			r->header_len = n - i;
			break;
		}
		type = s[i];
		size = (uint32_t)s[i + 4] << 24 | (uint32_t)s[i + 5] << 16 |
		    (uint32_t)s[i + 6] << 8 | s[i + 7];
		i += 8;
		if (type > 2)
			r->bad_type = true;
		take = n - i < size ? n - i : size;
		if (type == 1 || type == 2) {
			memcpy(r->out[type - 1] + r->len[type - 1], s + i, take);
			r->len[type - 1] += take;
		}
		i += take;
		r->frame_left = (uint32_t)(size - take);
	}
}

static uint32_t
fuzz_next(uint32_t *state)
{
	/* xorshift32: the feed sizes only need to vary, not be random. */
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_demux d;
	struct reference ref;
	struct buf bufs[2];
	const unsigned char *stream;
	unsigned char *feed;
	size_t caps[2], n, left, k;
	uint32_t state;
	bool over = false, want_over;

	if (size < FUZZ_CONTROL_BYTES)
		return 0;
	caps[0] = fuzz_caps[data[0] & 7];
	caps[1] = fuzz_caps[(data[0] >> 3) & 7];
	state = 0x9e3779b9U ^ ((uint32_t)data[1] << 8 | data[2]) ^
	    (uint32_t)(data[0] >> 6) << 16;
	stream = data + FUZZ_CONTROL_BYTES;
	left = size - FUZZ_CONTROL_BYTES;

	buf_init(&bufs[0], caps[0]);
	buf_init(&bufs[1], caps[1]);
	stream_demux_init(&d, &bufs[0], &bufs[1]);
	while (left > 0) {
		/* Sizes spread over orders of magnitude, 0 included. */
		n = fuzz_next(&state) % ((size_t)1 << (fuzz_next(&state) % 11));
		if (n > left)
			n = left;
		if (n > FUZZ_FEED_MAX)
			n = FUZZ_FEED_MAX;
		feed = malloc(n > 0 ? n : 1);
		FUZZ_CHECK(feed != NULL);
		memcpy(feed, stream, n);
		over = stream_demux_feed(&d, feed, n);
		free(feed);
		stream += n;
		left -= n;
		for (k = 0; k < 2; k++) {
			FUZZ_CHECK(bufs[k].len <= caps[k]);
			FUZZ_CHECK(bufs[k].data == NULL ||
			    bufs[k].alloc <= caps[k] + 1);
		}
		FUZZ_CHECK(d.header_len < 8);
	}

	reference_demux(data + FUZZ_CONTROL_BYTES, size - FUZZ_CONTROL_BYTES,
	    &ref);
	want_over = false;
	for (k = 0; k < 2; k++) {
		if (ref.len[k] <= caps[k]) {
			FUZZ_CHECK(!d.truncated[k]);
			FUZZ_CHECK(bufs[k].len == ref.len[k]);
		} else {
			FUZZ_CHECK(d.truncated[k]);
			FUZZ_CHECK(bufs[k].len == caps[k]);
			want_over = true;
		}
		if (bufs[k].len > 0)
			FUZZ_CHECK(
			    memcmp(bufs[k].data, ref.out[k], bufs[k].len) == 0);
	}
	if (size > FUZZ_CONTROL_BYTES)
		FUZZ_CHECK(over == want_over);
	FUZZ_CHECK(d.bad_type == ref.bad_type);
	FUZZ_CHECK(d.header_len == ref.header_len);
	FUZZ_CHECK(d.frame_left == ref.frame_left);

	free(ref.out[0]);
	free(ref.out[1]);
	buf_free(&bufs[0]);
	buf_free(&bufs[1]);
	return 0;
}
