/*
 * privsep.c: the channel between pycage's two processes, its wire format
 * and the front's end of it (the executor's end is executor.c).
 *
 *   front     pycage-fcgi (main.c): unprivileged, chrooted; FastCGI,
 *             request bodies, JSON in and out.  Holds no engine
 *             connection and cannot open one: it runs as front_user, who
 *             may not use the Docker socket, inside an empty root.  It is
 *             not even linked with libcurl.
 *   executor  pycage-executor (executor.c), which the front's start-up
 *             forks and execs as root: the only process that talks to
 *             Docker.  Builds every container body from constants and
 *             config, runs jobs, the pool, the janitor and the self-check.
 *
 * A memory bug in HTTP or JSON handling therefore lands in a process that
 * can do nothing a client could not already do: submit a job.  The exec
 * gives each process its own address-space layout and only the libraries
 * it needs.
 *
 * Each front worker thread has its own socketpair to an executor thread
 * (made before the fork), so the channel needs no multiplexing: one
 * request, one reply, in order.  A message is a u32 length then that many
 * bytes; the first byte is the type.  Lengths are checked against caps on
 * both sides: the executor does not trust the front beyond "a job to run",
 * and re-checks the job's sizes and timeout against its own limits.
 *
 *   front -> executor   RUN  u32 timeout_ms, u32 code_len, u32 stdin_len,
 *                            code, stdin
 *                       HEALTH
 *                       METRICS
 *   executor -> front   OK   RUN: i32 exit_code, u8 status, u8 stdout_truncated,
 *                                 u8 stderr_truncated, u32 duration_ms,
 *                                 u32 stdout_len, u32 stderr_len, stdout, stderr
 *                            HEALTH: u32 running, u32 pool_ready, str version
 *                            METRICS: the executor's series, as text
 *                       ERR  u32 http_status, u32 retry_after_s, str code,
 *                            str message          (str = u32 length, bytes)
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pycage.h"

#define PRIVSEP_HEAD_BYTES	64		/* fixed fields of any message */
#define PRIVSEP_STR_MAX		1024		/* error codes and messages */

/* Error codes travel as text; the front maps them back to its constants
 * so that api_error.code always points at static storage. */
static const char *const privsep_codes[] = {
	"busy", "engine_unavailable", "engine_error", "image_missing",
	"sandbox_failed", "sandbox_degraded", "sandbox_check_failed",
	"code_too_large", "stdin_too_large", "timeout_out_of_range", "internal",
	"uid_range_conflict",
};

static const char *
privsep_code(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(privsep_codes) / sizeof(privsep_codes[0]); i++)
		if (strlen(privsep_codes[i]) == len &&
		    memcmp(privsep_codes[i], s, len) == 0)
			return privsep_codes[i];
	return "internal";
}

/* ------------------------------------------------------------ framing */

void
privsep_put_u32(struct buf *b, uint32_t v)
{
	buf_append(b, &v, sizeof(v));
}

void
privsep_put_str(struct buf *b, const char *s, size_t len)
{
	privsep_put_u32(b, (uint32_t)len);
	buf_append(b, s, len);
}

void
privsep_reader_init(struct privsep_reader *r, const struct buf *b)
{
	r->p = b->data;
	r->left = b->len;
	r->bad = false;
}

uint32_t
privsep_get_u32(struct privsep_reader *r)
{
	uint32_t v = 0;

	if (r->left < sizeof(v)) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	r->left -= sizeof(v);
	return v;
}

uint8_t
privsep_get_u8(struct privsep_reader *r)
{
	if (r->left < 1) {
		r->bad = true;
		return 0;
	}
	r->left--;
	return (uint8_t)*r->p++;
}

const char *
privsep_get_bytes(struct privsep_reader *r, size_t n)
{
	const char *p = r->p;

	if (r->left < n) {
		r->bad = true;
		return "";
	}
	r->p += n;
	r->left -= n;
	return p;
}

static int
privsep_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
privsep_read_all(int fd, char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Sends b, prefixed with its length. */
int
privsep_send(int fd, const struct buf *b)
{
	uint32_t len = (uint32_t)b->len;

	if (privsep_write_all(fd, (const char *)&len, sizeof(len)) == -1)
		return -1;
	return privsep_write_all(fd, b->data ? b->data : "", b->len);
}

/* Receives one message into b (whose cap bounds it); -1 on EOF or error. */
int
privsep_recv(int fd, struct buf *b)
{
	uint32_t	 len;
	char		*p;

	buf_reset(b);
	if (privsep_read_all(fd, (char *)&len, sizeof(len)) == -1)
		return -1;
	if ((p = buf_extend(b, len)) == NULL) {
		log_error("privsep: a %u-byte message is over the %zu cap", len,
		    b->cap_bytes);
		return -1;
	}
	return privsep_read_all(fd, p, len);
}

size_t
privsep_request_max(const struct config *c)
{
	return PRIVSEP_HEAD_BYTES + c->code_max_bytes + c->stdin_max_bytes;
}

size_t
privsep_reply_max(const struct config *c)
{
	return PRIVSEP_HEAD_BYTES + 2 * PRIVSEP_STR_MAX + 2 * c->output_max_bytes +
	    256 * 1024;		/* metrics text */
}

void
privsep_put_error(struct buf *b, const struct api_error *err)
{
	char type = PRIVSEP_ERR;

	buf_reset(b);
	buf_append(b, &type, 1);
	privsep_put_u32(b, (uint32_t)err->http_status);
	privsep_put_u32(b, err->retry_after_s);
	privsep_put_str(b, err->code, strlen(err->code));
	privsep_put_str(b, err->message, strlen(err->message));
}

/* -------------------------------------------------------------- front */

struct privsep_chan {
	int			 fd;
	const struct config	*config;
	struct buf		 request;
	struct buf		 reply;
};

struct privsep_chan *
privsep_chan_new(int fd, const struct config *c)
{
	struct privsep_chan *ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	ch->fd = fd;
	ch->config = c;
	buf_init(&ch->request, privsep_request_max(c));
	buf_init(&ch->reply, privsep_reply_max(c));
	return ch;
}

void
privsep_chan_free(struct privsep_chan *ch)
{
	if (ch == NULL)
		return;
	close(ch->fd);
	buf_free(&ch->request);
	buf_free(&ch->reply);
	free(ch);
}

/* One exchange; the reply's type byte is consumed into *type. */
static int
privsep_call(struct privsep_chan *ch, struct privsep_reader *r, uint8_t *type,
    struct api_error *err)
{
	uint32_t	status, retry, len;
	const char	*s;

	if (privsep_send(ch->fd, &ch->request) == -1 ||
	    privsep_recv(ch->fd, &ch->reply) == -1) {
		log_error("privsep: the executor is gone");
		api_error_set(err, 503, "engine_unavailable",
		    "The executor process is not answering; try again shortly.");
		err->retry_after_s = 5;
		return -1;
	}
	privsep_reader_init(r, &ch->reply);
	*type = privsep_get_u8(r);
	if (*type != PRIVSEP_ERR)
		return r->bad ? -1 : 0;
	status = privsep_get_u32(r);
	retry = privsep_get_u32(r);
	len = privsep_get_u32(r);
	s = privsep_get_bytes(r, len);
	api_error_set(err, (int)status, privsep_code(s, len), "%s", "");
	len = privsep_get_u32(r);
	s = privsep_get_bytes(r, len);
	if (!r->bad)
		snprintf(err->message, sizeof(err->message), "%.*s",
		    (int)(len < sizeof(err->message) ? len : sizeof(err->message) - 1), s);
	err->retry_after_s = retry;
	if (r->bad || status < 400 || status > 599)
		api_error_set(err, 500, "internal", "Malformed executor reply.");
	return -1;
}

int
privsep_run(struct privsep_chan *ch, const struct job_spec *spec,
    struct job_result *result, struct api_error *err)
{
	struct privsep_reader	 r;
	uint8_t		 type, status;
	uint32_t	 len;
	const char	*s;
	char		 t = PRIVSEP_RUN;

	buf_reset(&ch->request);
	buf_append(&ch->request, &t, 1);
	privsep_put_u32(&ch->request, spec->timeout_ms);
	privsep_put_u32(&ch->request, (uint32_t)spec->code_len);
	privsep_put_u32(&ch->request, (uint32_t)spec->stdin_len);
	if (buf_append(&ch->request, spec->code, spec->code_len) == -1 ||
	    buf_append(&ch->request, spec->stdin_data, spec->stdin_len) == -1) {
		api_error_set(err, 500, "internal", "Job over the channel's cap.");
		return -1;
	}
	if (privsep_call(ch, &r, &type, err) == -1)
		return -1;
	result->exit_code = (int)privsep_get_u32(&r);
	status = privsep_get_u8(&r);
	result->stdout_truncated = privsep_get_u8(&r) != 0;
	result->stderr_truncated = privsep_get_u8(&r) != 0;
	result->duration_ms = privsep_get_u32(&r);
	result->status = status <= JOB_OUTPUT_LIMIT ? (enum job_status)status : JOB_ERROR;
	len = privsep_get_u32(&r);
	s = privsep_get_bytes(&r, len);
	if (!r.bad && buf_append(&result->stdout_buf, s, len) == -1)
		r.bad = true;
	len = privsep_get_u32(&r);
	s = privsep_get_bytes(&r, len);
	if (!r.bad && buf_append(&result->stderr_buf, s, len) == -1)
		r.bad = true;
	buf_shrink(&ch->reply, PRIVSEP_KEEP_BYTES);
	buf_shrink(&ch->request, PRIVSEP_KEEP_BYTES);
	if (r.bad || type != PRIVSEP_OK) {
		api_error_set(err, 500, "internal", "Malformed executor reply.");
		return -1;
	}
	return 0;
}

int
privsep_health(struct privsep_chan *ch, struct health *h, char *version,
    size_t versionlen, struct api_error *err)
{
	struct privsep_reader	 r;
	uint8_t		 type;
	uint32_t	 len;
	const char	*s;
	char		 t = PRIVSEP_HEALTH;

	buf_reset(&ch->request);
	buf_append(&ch->request, &t, 1);
	if (privsep_call(ch, &r, &type, err) == -1)
		return -1;
	h->executions_running = privsep_get_u32(&r);
	h->pool_ready = privsep_get_u32(&r);
	len = privsep_get_u32(&r);
	s = privsep_get_bytes(&r, len);
	if (r.bad || len >= versionlen) {
		api_error_set(err, 500, "internal", "Malformed executor reply.");
		return -1;
	}
	memcpy(version, s, len);
	version[len] = '\0';
	h->engine_version = version;
	return 0;
}

int
privsep_metrics(struct privsep_chan *ch, struct buf *out, struct api_error *err)
{
	struct privsep_reader	r;
	uint8_t		type;
	char		t = PRIVSEP_METRICS;

	buf_reset(&ch->request);
	buf_append(&ch->request, &t, 1);
	if (privsep_call(ch, &r, &type, err) == -1)
		return -1;
	if (buf_append(out, r.p, r.left) == -1) {
		api_error_set(err, 500, "internal", "Metrics over their cap.");
		return -1;
	}
	return 0;
}
