/*
 * privsep.c: the channel between the two processes of pycage-fcgi.
 *
 *   front     (unprivileged, chrooted; main.c): FastCGI, request bodies,
 *             JSON in and out.  Holds no engine connection and cannot
 *             open one: it runs as front_user, who may not use the
 *             Docker socket, inside an empty root.
 *   executor  (keeps the engine; main.c): the only process that talks to
 *             Docker.  Builds every container body from constants and
 *             config, runs jobs, the pool, the janitor and the self-check.
 *
 * A memory bug in HTTP or JSON handling therefore lands in a process that
 * can do nothing a client could not already do: submit a job.
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

#define PRIVSEP_RUN		1
#define PRIVSEP_HEALTH		2
#define PRIVSEP_METRICS		3
#define PRIVSEP_OK		0x10
#define PRIVSEP_ERR		0x11
#define PRIVSEP_HEAD_BYTES	64		/* fixed fields of any message */
#define PRIVSEP_STR_MAX		1024		/* error codes and messages */
/* Channel buffers stay allocated up to this between messages; a larger
 * one (a big program, a 1 MiB answer) is given back after its message. */
#define PRIVSEP_KEEP_BYTES	(64 * 1024)

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

static void
privsep_put_u32(struct buf *b, uint32_t v)
{
	buf_append(b, &v, sizeof(v));
}

static void
privsep_put_str(struct buf *b, const char *s, size_t len)
{
	privsep_put_u32(b, (uint32_t)len);
	buf_append(b, s, len);
}

struct reader {
	const char	*p;
	size_t		 left;
	bool		 bad;
};

static uint32_t
privsep_get_u32(struct reader *r)
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

static uint8_t
privsep_get_u8(struct reader *r)
{
	if (r->left < 1) {
		r->bad = true;
		return 0;
	}
	r->left--;
	return (uint8_t)*r->p++;
}

static const char *
privsep_get_bytes(struct reader *r, size_t n)
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
static int
privsep_send(int fd, const struct buf *b)
{
	uint32_t len = (uint32_t)b->len;

	if (privsep_write_all(fd, (const char *)&len, sizeof(len)) == -1)
		return -1;
	return privsep_write_all(fd, b->data ? b->data : "", b->len);
}

/* Receives one message into b (whose cap bounds it); -1 on EOF or error. */
static int
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

static size_t
privsep_request_max(const struct config *c)
{
	return PRIVSEP_HEAD_BYTES + c->code_max_bytes + c->stdin_max_bytes;
}

static size_t
privsep_reply_max(const struct config *c)
{
	return PRIVSEP_HEAD_BYTES + 2 * PRIVSEP_STR_MAX + 2 * c->output_max_bytes +
	    256 * 1024;		/* metrics text */
}

static void
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

/* ----------------------------------------------------------- executor */

static void
privsep_serve_run(struct executor *ex, struct docker *d, struct reader *r,
    int fd, struct buf *reply)
{
	const struct config	*c = executor_config(ex);
	struct job_spec		 spec;
	struct job_result	 result;
	struct api_error	 err;
	uint32_t		 code_len, stdin_len;
	char			 head[PRIVSEP_HEAD_BYTES], type = PRIVSEP_OK;

	memset(&spec, 0, sizeof(spec));
	memset(&err, 0, sizeof(err));
	job_result_init(&result, c->output_max_bytes);
	spec.timeout_ms = privsep_get_u32(r);
	code_len = privsep_get_u32(r);
	stdin_len = privsep_get_u32(r);
	spec.code = (char *)privsep_get_bytes(r, code_len);
	spec.code_len = code_len;
	spec.stdin_data = (char *)privsep_get_bytes(r, stdin_len);
	spec.stdin_len = stdin_len;
	/* The front checked all this; a front that lies is refused. */
	if (r->bad || r->left != 0 || code_len > c->code_max_bytes ||
	    stdin_len > c->stdin_max_bytes || spec.timeout_ms == 0 ||
	    spec.timeout_ms > c->timeout_max_ms) {
		api_error_set(&err, 500, "internal", "Malformed job from the front.");
		privsep_put_error(reply, &err);
	} else if (job_run(ex, d, &spec, &result, &err) == -1) {
		privsep_put_error(reply, &err);
	} else {
		buf_reset(reply);
		buf_append(reply, &type, 1);
		privsep_put_u32(reply, (uint32_t)result.exit_code);
		head[0] = (char)result.status;
		head[1] = (char)result.stdout_truncated;
		head[2] = (char)result.stderr_truncated;
		buf_append(reply, head, 3);
		privsep_put_u32(reply, (uint32_t)result.duration_ms);
		privsep_put_str(reply, result.stdout_buf.data ? result.stdout_buf.data : "",
		    result.stdout_buf.len);
		privsep_put_str(reply, result.stderr_buf.data ? result.stderr_buf.data : "",
		    result.stderr_buf.len);
	}
	/* Answer first, then remove the container (job.c). */
	if (privsep_send(fd, reply) == -1)
		log_warn("privsep: the front went away mid-job");
	job_finish(ex, d, &result);
	job_result_free(&result);
}

static void
privsep_serve_health(struct executor *ex, struct docker *d, struct buf *reply)
{
	const struct config	*c = executor_config(ex);
	struct api_error	 err;
	char			 version[64], type = PRIVSEP_OK;

	memset(&err, 0, sizeof(err));
	if (docker_ping(d, version, sizeof(version), &err) == -1 ||
	    docker_image_present(d, c->image, &err) == -1 ||
	    janitor_uid_conflict(&err) ||
	    selfcheck_ensure(ex, d, true, &err) == -1) {
		privsep_put_error(reply, &err);
		return;
	}
	buf_reset(reply);
	buf_append(reply, &type, 1);
	privsep_put_u32(reply, executor_running(ex));
	privsep_put_u32(reply, executor_pool_ready(ex));
	privsep_put_str(reply, version, strlen(version));
}

void
privsep_serve(int fd, struct executor *ex, struct docker *d)
{
	const struct config	*c = executor_config(ex);
	struct buf		 request, reply;
	struct reader		 r;
	char			 type = PRIVSEP_OK;

	buf_init(&request, privsep_request_max(c));
	buf_init(&reply, privsep_reply_max(c));
	while (privsep_recv(fd, &request) == 0) {
		r.p = request.data;
		r.left = request.len;
		r.bad = false;
		switch (privsep_get_u8(&r)) {
		case PRIVSEP_RUN:
			privsep_serve_run(ex, d, &r, fd, &reply);
			buf_shrink(&request, PRIVSEP_KEEP_BYTES);
			buf_shrink(&reply, PRIVSEP_KEEP_BYTES);
			continue;	/* already answered */
		case PRIVSEP_HEALTH:
			privsep_serve_health(ex, d, &reply);
			break;
		case PRIVSEP_METRICS:
			buf_reset(&reply);
			buf_append(&reply, &type, 1);
			metrics_render_executor(&reply);
			break;
		default:
			log_error("privsep: unknown message from the front");
			goto out;
		}
		if (privsep_send(fd, &reply) == -1)
			break;
		buf_shrink(&request, PRIVSEP_KEEP_BYTES);
		buf_shrink(&reply, PRIVSEP_KEEP_BYTES);
	}
out:
	buf_free(&request);
	buf_free(&reply);
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
privsep_call(struct privsep_chan *ch, struct reader *r, uint8_t *type,
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
	r->p = ch->reply.data;
	r->left = ch->reply.len;
	r->bad = false;
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
	struct reader	 r;
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
	struct reader	 r;
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
	struct reader	r;
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
