/*
 * stream.c: Docker's multiplexed attach stream -> two capped buffers.
 * Engine API, "Attach to a container / Stream format": with Tty false each
 * frame is an 8-byte header {STREAM_TYPE, 0, 0, 0, SIZE1..SIZE4} (size
 * big-endian) and SIZE bytes of payload; type 0 stdin, 1 stdout, 2 stderr.
 * Frames and headers split anywhere across reads.  SIZE is only counted
 * down, never allocated.  An unknown type's payload is skipped and
 * flagged; bytes past a stream's cap are dropped and flagged.
 */
#include <string.h>

#include "executor.h"

#define STREAM_HEADER_BYTES 8

void
stream_demux_init(struct stream_demux *d, struct buf *stdout_buf,
    struct buf *stderr_buf)
{
	memset(d, 0, sizeof(*d));
	d->out[0] = stdout_buf;
	d->out[1] = stderr_buf;
}

bool
stream_demux_feed(struct stream_demux *d, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t n, taken;
	int i;

	while (len > 0) {
		if (d->frame_left == 0) {
			n = STREAM_HEADER_BYTES - d->header_len;
			if (n > len)
				n = len;
			memcpy(d->header + d->header_len, p, n);
			d->header_len += n;
			p += n;
			len -= n;
			if (d->header_len < STREAM_HEADER_BYTES)
				break;
			d->header_len = 0;
			d->frame_type = d->header[0];
			d->frame_left = (uint32_t)d->header[4] << 24 |
			    (uint32_t)d->header[5] << 16 |
			    (uint32_t)d->header[6] << 8 | d->header[7];
			if (d->frame_type > 2)
				d->bad_type = true;
			continue;
		}
		n = d->frame_left < len ? d->frame_left : len;
		if (d->frame_type == 1 || d->frame_type == 2) {
			i = d->frame_type - 1;
			taken = buf_append_upto(d->out[i], p, n);
			if (taken < n)
				d->truncated[i] = true;
		}
		d->frame_left -= (uint32_t)n;
		p += n;
		len -= n;
	}
	return d->truncated[0] || d->truncated[1];
}
