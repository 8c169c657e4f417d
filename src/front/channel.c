/*
 * channel.c: the front's end of the channel to the executor (privsep.h
 * has the messages): one channel per worker thread, one exchange at a
 * time.  A channel that breaks means the executor is gone: 503, and the
 * front's main thread notices and stops (front/main.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "front.h"
#include "privsep.h"

struct channel {
	int fd;
	struct buf request;
	struct buf reply;
};

struct channel *
channel_new(int fd, const struct config *c)
{
	struct channel *ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	ch->fd = fd;
	buf_init(&ch->request, privsep_request_max(c));
	buf_init(&ch->reply, privsep_reply_max(c));
	return ch;
}

void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	close(ch->fd);
	buf_free(&ch->request);
	buf_free(&ch->reply);
	free(ch);
}

/* Sends the packed request and receives the reply; -1 with err set. */
static int
channel_call(struct channel *ch, struct api_error *err)
{
	if (privsep_send(ch->fd, &ch->request) == -1 ||
	    privsep_recv(ch->fd, &ch->reply) == -1) {
		log_error("privsep: the executor is gone");
		api_error_set(err, 503, "engine_unavailable",
		    "The executor process is not answering; try again shortly.");
		err->retry_after_s = RETRY_AFTER_ENGINE_S;
		return -1;
	}
	return 0;
}

/* Big messages do not keep their memory between requests. */
static void
channel_shrink(struct channel *ch)
{
	buf_shrink(&ch->request, PRIVSEP_KEEP_BYTES);
	buf_shrink(&ch->reply, PRIVSEP_KEEP_BYTES);
}

int
channel_run(struct channel *ch, const struct job_spec *spec,
    struct job_result *result, struct api_error *err)
{
	int rc = -1;

	if (privsep_pack_run(&ch->request, spec) == -1)
		api_error_set(err, 500, "internal",
		    "Job over the channel's cap.");
	else if (channel_call(ch, err) == 0)
		rc = privsep_unpack_result(&ch->reply, result, err);
	channel_shrink(ch);
	return rc;
}

int
channel_health(struct channel *ch, struct health *h,
    char versionbuf[PRIVSEP_VERSION_MAX], struct api_error *err)
{
	if (privsep_pack_type(&ch->request, PRIVSEP_HEALTH) == -1) {
		api_error_set(err, 500, "internal", "Could not pack a request.");
		return -1;
	}
	if (channel_call(ch, err) == -1)
		return -1;
	return privsep_unpack_health(&ch->reply, h, versionbuf, err);
}

int
channel_runtime(struct channel *ch, struct runtime_info *rt, struct api_error *err)
{
	if (privsep_pack_type(&ch->request, PRIVSEP_RUNTIME) == -1) {
		api_error_set(err, 500, "internal", "Could not pack a request.");
		return -1;
	}
	if (channel_call(ch, err) == -1)
		return -1;
	return privsep_unpack_runtime(&ch->reply, rt, err);
}

int
channel_metrics(struct channel *ch, struct buf *out, struct api_error *err)
{
	int rc = -1;

	if (privsep_pack_type(&ch->request, PRIVSEP_METRICS) == -1)
		api_error_set(err, 500, "internal", "Could not pack a request.");
	else if (channel_call(ch, err) == 0)
		rc = privsep_unpack_metrics(&ch->reply, out, err);
	channel_shrink(ch);
	return rc;
}
