/*
 * pool.c: pre-started single-use containers.  A refill thread keeps up to
 * pool_size containers created, attached and started, their runner
 * initialised with the preload modules imported and blocked reading its
 * request.  A container joins the pool only once its runner said so (the
 * ready record of --ready, docs/RUNNER.md), so a request's deadline never
 * pays for an import.  A request takes the oldest (job.c), uses it once,
 * and removes it; the pool never hands a container out twice and never
 * puts one back.
 *
 * Everything slow happens on the refill thread, never on a request's:
 * a take is a mutex and a zero-timeout poll.  Containers waiting longer
 * than pool_max_age_s are replaced, and one whose runner died while
 * waiting (its stream readable or closed) is dropped at take time.
 *
 * Adapting to load (issue: preloading that a request did not need costs
 * CPU under saturation): each request is noted with which preload modules
 * its code names.  While requests come in slower than one every
 * POOL_IDLE_GAP_MS the CPU is free and the whole preload list is used; under
 * load only the modules that at least half of the recent requests named
 * are preloaded, so a stream of print(1+1) gets cheap containers and a
 * stream of pandas code gets pandas.  And while every execution slot is
 * busy or wanted (job.c's count of executions running or waiting for a
 * slot; a freed slot wakes the pool) the pool does not refill at all: the engine and the CPU are already at their limit, so a
 * container started for later would only slow the runs in progress; the
 * requests start their own, and the refill resumes when a slot frees.
 */
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "executor.h"

#define POOL_DEMAND_ALPHA 0.1   /* EWMA weight: about the last 10 requests */
#define POOL_IDLE_GAP_MS 2000.0 /* mean gap above this: CPU is idle */
#define POOL_TICK_MS 1000       /* age checks at least this often */
#define POOL_RETRY_MS 1000      /* after a failed start, then doubling */
#define POOL_RETRY_MAX_MS 30000
#define POOL_MODULES_MAX 8
/* Start-up and preload, with the CPU busy: numpy and pandas take ~0.4 s
 * of CPU, 2 s at 0.2 CPU.  Past this the container is given up on. */
#define POOL_READY_WAIT_MS 60000
#define POOL_READY_MAX_BYTES 4096 /* what a preload may print first */

struct pool_entry {
	struct container container;
	struct timespec started;
};

struct pool {
	const struct config *config;
	struct uid_pool *uids;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	struct pool_entry *entries; /* FIFO: [0] is the oldest */
	size_t count;
	/* The configured preload modules, and the demand seen for each. */
	char modules[POOL_MODULES_MAX][64];
	size_t nmodules;
	double demand[POOL_MODULES_MAX];
	double gap_ms; /* EWMA of the gap between requests */
	struct timespec last_request;
	const atomic_uint *wanted; /* job.c: running + waiting */
};

struct pool *
pool_new(const struct config *c, struct uid_pool *uids, const atomic_uint *wanted)
{
	struct pool *p;
	const char *s = c->pool_preload;
	size_t n;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->entries = calloc(c->pool_size ? c->pool_size : 1,
		 sizeof(*p->entries))) == NULL) {
		free(p);
		return NULL;
	}
	p->config = c;
	p->uids = uids;
	p->wanted = wanted;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	while (*s != '\0' && p->nmodules < POOL_MODULES_MAX) {
		n = strcspn(s, ",");
		if (n > 0 && n < sizeof(p->modules[0])) {
			memcpy(p->modules[p->nmodules], s, n);
			p->modules[p->nmodules][n] = '\0';
			p->demand[p->nmodules] = 1.0;
			p->nmodules++;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	p->gap_ms = POOL_IDLE_GAP_MS * 2;
	clock_gettime(CLOCK_MONOTONIC, &p->last_request);
	return p;
}

void
pool_note_request(struct pool *p, const char *code, size_t len)
{
	double gap;
	size_t i;

	pthread_mutex_lock(&p->lock);
	gap = (double)clock_ms_since(&p->last_request);
	clock_gettime(CLOCK_MONOTONIC, &p->last_request);
	p->gap_ms += POOL_DEMAND_ALPHA * (gap - p->gap_ms);
	for (i = 0; i < p->nmodules; i++) {
		bool named = memmem(code, len, p->modules[i],
				 strlen(p->modules[i])) != NULL;
		p->demand[i] +=
		    POOL_DEMAND_ALPHA * ((named ? 1.0 : 0.0) - p->demand[i]);
	}
	pthread_mutex_unlock(&p->lock);
}

/* The --preload list for the next container.  Called with the lock held. */
static void
pool_preload_now(struct pool *p, char *out, size_t outlen)
{
	bool idle = p->gap_ms >= POOL_IDLE_GAP_MS ||
	    clock_ms_since(&p->last_request) >= POOL_IDLE_GAP_MS;
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < p->nmodules; i++) {
		if (!idle && p->demand[i] < 0.5)
			continue;
		used += (size_t)snprintf(out + used, outlen - used, "%s%s",
		    used ? "," : "", p->modules[i]);
		if (used >= outlen) {
			out[0] = '\0';
			return;
		}
	}
}

static void
pool_discard(struct pool *p, struct docker *d, struct pool_entry *e)
{
	container_remove(&e->container, d, p->uids);
}

static bool
pool_is_stopping(struct pool *p)
{
	bool stopping;

	pthread_mutex_lock(&p->lock);
	stopping = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return stopping;
}

static bool
pool_ends_with_record(const struct buf *out)
{
	size_t n = sizeof(PROTOCOL_READY_RECORD) - 1;

	return out->len >= n &&
	    memcmp(out->data + out->len - n, PROTOCOL_READY_RECORD, n) == 0;
}

/* The first line of what the runner printed, for the log: at most 200
 * bytes, anything but printable ASCII shown as '?'. */
static void
pool_first_line(const struct buf *b, char *line, size_t linelen)
{
	size_t i;

	for (i = 0;
	     i < b->len && i + 1 < linelen && i < 200 && b->data[i] != '\n'; i++)
		line[i] =
		    b->data[i] >= 0x20 && b->data[i] < 0x7f ? b->data[i] : '?';
	line[i] = '\0';
}

/*
 * Waits for the runner's ready record.  Whatever a preloaded module
 * printed before it is logged and dropped (it is not the request's
 * output); an end of stream (the runner died: a preload that failed),
 * a bad frame, too much output or no record within POOL_READY_WAIT_MS
 * fails, with the first line of the runner's stderr in the log.
 */
static int
pool_await_ready(struct pool *p, struct pool_entry *e)
{
	struct stream_demux demux;
	struct buf out, err;
	struct pollfd pfd;
	struct timespec begun;
	const char *early, *why = "no ready record in time";
	char chunk[512], line[208];
	size_t n;
	long got;
	int rc = -1;

	buf_init(&out, POOL_READY_MAX_BYTES);
	buf_init(&err, POOL_READY_MAX_BYTES);
	stream_demux_init(&demux, &out, &err);
	clock_gettime(CLOCK_MONOTONIC, &begun);
	if ((n = docker_attach_take_early(e->container.attach, &early)) > 0)
		(void)stream_demux_feed(&demux, early, n);
	pfd.fd = docker_attach_fd(e->container.attach);
	pfd.events = POLLIN;
	while (!pool_ends_with_record(&out)) {
		if (demux.bad_type || demux.truncated[0] || demux.truncated[1]) {
			why = "unexpected output";
			break;
		}
		if (clock_ms_since(&begun) >= POOL_READY_WAIT_MS ||
		    pool_is_stopping(p))
			break;
		if (poll(&pfd, 1, POOL_TICK_MS) <= 0)
			continue;
		if ((got = docker_attach_recv(e->container.attach, chunk,
			 sizeof(chunk))) == DOCKER_AGAIN)
			continue;
		if (got <= 0) {
			why = "its runner exited";
			break;
		}
		(void)stream_demux_feed(&demux, chunk, (size_t)got);
	}
	if (pool_ends_with_record(&out)) {
		rc = 0;
		if (out.len > sizeof(PROTOCOL_READY_RECORD) - 1 || err.len > 0) {
			pool_first_line(err.len > 0 ? &err : &out, line,
			    sizeof(line));
			log_warn("pool: container %.12s printed %zu bytes while "
				 "starting (dropped): %s",
			    e->container.container_id,
			    out.len + err.len -
				(sizeof(PROTOCOL_READY_RECORD) - 1),
			    line);
		}
	} else if (!pool_is_stopping(p)) {
		pool_first_line(&err, line, sizeof(line));
		log_warn("pool: container %.12s not ready: %s%s%s",
		    e->container.container_id, why, line[0] ? ": " : "", line);
	}
	buf_free(&out);
	buf_free(&err);
	return rc;
}

/* One container, created and started outside the lock. */
static int
pool_make(struct pool *p, struct docker *d, const char *preload,
    struct pool_entry *e)
{
	struct api_error err;
	struct container_want want = { .config = p->config,
		.uids = p->uids,
		.preload = preload,
		.ready = true,
		.pooled = true };

	memset(e, 0, sizeof(*e));
	api_error_init(&err);
	if (container_start(&e->container, d, &want, &err) == -1)
		return -1;
	if (pool_await_ready(p, e) == -1) {
		pool_discard(p, d, e);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &e->started);
	return 0;
}

static void *
pool_main(void *arg)
{
	struct pool *p = arg;
	struct pool_entry fresh, old;
	struct docker *d;
	struct timespec until;
	char preload[CONFIG_STR_MAX];
	struct timespec failed_at;
	long retry_ms = 0; /* 0: the last start worked */

	if ((d = docker_open(p->config)) == NULL) {
		log_error("pool: no engine handle; the pool stays empty");
		return NULL;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		/* Age out the oldest first: they are at the front. */
		if (p->count > 0 &&
		    clock_ms_since(&p->entries[0].started) >=
			(long)p->config->pool_max_age_s * 1000L) {
			old = p->entries[0];
			memmove(p->entries, p->entries + 1,
			    --p->count * sizeof(*p->entries));
			metrics_gauge_set(METRIC_POOL_READY, p->count);
			pthread_mutex_unlock(&p->lock);
			pool_discard(p, d, &old);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		/* After a failed start, retry no sooner than retry_ms (doubling
		 * to POOL_RETRY_MAX_MS), however often a take wakes us. */
		if (p->count < p->config->pool_size &&
		    (retry_ms == 0 || clock_ms_since(&failed_at) >= retry_ms) &&
		    atomic_load(p->wanted) < p->config->max_executions) {
			pool_preload_now(p, preload, sizeof(preload));
			pthread_mutex_unlock(&p->lock);
			if (pool_make(p, d, preload, &fresh) == -1) {
				retry_ms = retry_ms == 0 ? POOL_RETRY_MS :
				    retry_ms * 2 > POOL_RETRY_MAX_MS ?
							   POOL_RETRY_MAX_MS :
							   retry_ms * 2;
				clock_gettime(CLOCK_MONOTONIC, &failed_at);
				log_warn("pool: could not start a container; "
					 "retrying in %ld ms",
				    retry_ms);
			} else
				retry_ms = 0;
			pthread_mutex_lock(&p->lock);
			if (fresh.container.attach != NULL) {
				if (p->stopping ||
				    p->count >= p->config->pool_size) {
					pthread_mutex_unlock(&p->lock);
					pool_discard(p, d, &fresh);
					pthread_mutex_lock(&p->lock);
				} else {
					p->entries[p->count++] = fresh;
					metrics_gauge_set(METRIC_POOL_READY,
					    p->count);
				}
			}
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += POOL_TICK_MS / 1000;
		pthread_cond_timedwait(&p->wake, &p->lock, &until);
	}
	/* Shutting down: nothing in the pool survives us. */
	while (p->count > 0) {
		old = p->entries[--p->count];
		pthread_mutex_unlock(&p->lock);
		pool_discard(p, d, &old);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	docker_free(d);
	return NULL;
}

int
pool_start(struct pool *p)
{
	if (p->config->pool_size == 0)
		return 0;
	metrics_gauge_set(METRIC_POOL_SIZE, p->config->pool_size);
	return pthread_create(&p->thread, NULL, pool_main, p) == 0 ? 0 : -1;
}

void
pool_wake(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

unsigned
pool_ready(struct pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = (unsigned)p->count;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* A runner waiting for its request writes nothing: a readable stream
 * means it died (EOF) or misbehaved. */
static bool
pool_entry_alive(struct pool_entry *e)
{
	struct pollfd pfd = { .fd = docker_attach_fd(e->container.attach),
		.events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

int
pool_take(struct pool *p, struct docker *d, struct container *c)
{
	struct pool_entry e;
	bool got = false;

	if (p == NULL || p->config->pool_size == 0)
		return -1;
	pthread_mutex_lock(&p->lock);
	while (!got && p->count > 0) {
		e = p->entries[0];
		memmove(p->entries, p->entries + 1,
		    --p->count * sizeof(*p->entries));
		if (pool_entry_alive(&e)) {
			got = true;
			break;
		}
		pthread_mutex_unlock(&p->lock);
		log_warn("pool: container %.12s died while waiting",
		    e.container.container_id);
		pool_discard(p, d, &e);
		pthread_mutex_lock(&p->lock);
	}
	metrics_gauge_set(METRIC_POOL_READY, p->count);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (!got)
		return -1;
	*c = e.container;
	return 0;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	if (p->config->pool_size > 0) {
		pthread_mutex_lock(&p->lock);
		p->stopping = true;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	free(p->entries);
	free(p);
}
