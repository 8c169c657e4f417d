/*
 * janitor.c: removes pycage containers that no request owns any more.
 * At start: every container labelled with our instance name (a previous
 * process of ours was killed mid-run; none of them can be ours yet).
 * Periodically: every pycage container, of any instance, past the expiry
 * its creator wrote in its label: the longest the creator's own limits let
 * it live (pool wait, deadline) plus the creator's grace.  Judging another
 * instance's container by our own limits would take live runs and waiting
 * pool containers from under it.  A container without the label (an older
 * pycage) is judged by its age against our limits, as before the label.
 * The janitor has its own engine connection and thread.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "pycage.h"

struct janitor_sweep_ctx {
	struct docker		*docker;
	const struct config	*config;
	bool			 at_start;
	long long		 now;
	long long		 stale_before;	/* for unlabelled containers */
	int			 removed;
};

long long
janitor_expiry(const struct config *c, bool pooled)
{
	/* A pool container waits up to pool_max_age_s, then runs up to
	 * timeout_max_s.  janitor_grace_s covers create, kill, wait and
	 * remove; the default 120 s is generous. */
	return (long long)time(NULL) + c->timeout_max_ms / 1000 +
	    (pooled ? c->pool_max_age_s : 0) + c->janitor_grace_s;
}

static void
janitor_visit(const char *id, const char *instance, long long created,
    long long expires, void *arg)
{
	struct janitor_sweep_ctx *s = arg;
	bool stale;

	if (s->at_start)
		stale = strcmp(instance, s->config->instance) == 0;
	else if (expires >= 0)
		stale = expires < s->now;
	else
		stale = created < s->stale_before;
	if (!stale)
		return;
	if (docker_remove(s->docker, id) == 0) {
		s->removed++;
		metrics_count(METRIC_JANITOR_REMOVED);
		log_info("janitor: removed leftover container %.12s", id);
	}
}

int
janitor_sweep(struct docker *d, const struct config *c, bool at_start)
{
	struct janitor_sweep_ctx s = { d, c, at_start, 0, 0, 0 };

	s.now = (long long)time(NULL);
	/* Unlabelled: the oldest a live container of ours could be. */
	s.stale_before = s.now - (janitor_expiry(c, c->pool_size > 0) - s.now);
	if (docker_list_managed(d, janitor_visit, &s) == -1)
		return -1;
	return s.removed;
}

static pthread_t	janitor_thread;
static pthread_mutex_t	janitor_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	janitor_wake = PTHREAD_COND_INITIALIZER;
static bool		janitor_stopping;

static void *
janitor_main(void *arg)
{
	const struct config	*c = arg;
	struct docker		*d;
	struct timespec		 next;

	if ((d = docker_new(c->docker_socket, c->docker_call_timeout_ms)) == NULL) {
		log_error("janitor: out of memory");
		return NULL;
	}
	pthread_mutex_lock(&janitor_lock);
	while (!janitor_stopping) {
		clock_gettime(CLOCK_REALTIME, &next);
		next.tv_sec += c->janitor_interval_s;
		while (!janitor_stopping && pthread_cond_timedwait(&janitor_wake,
		    &janitor_lock, &next) == 0)
			;
		if (janitor_stopping)
			break;
		pthread_mutex_unlock(&janitor_lock);
		if (janitor_sweep(d, c, false) == -1)
			log_warn("janitor: could not list containers");
		pthread_mutex_lock(&janitor_lock);
	}
	pthread_mutex_unlock(&janitor_lock);
	docker_free(d);
	return NULL;
}

int
janitor_start(const struct config *c)
{
	return pthread_create(&janitor_thread, NULL, janitor_main,
	    (void *)(uintptr_t)c) == 0 ? 0 : -1;
}

void
janitor_stop(void)
{
	pthread_mutex_lock(&janitor_lock);
	janitor_stopping = true;
	pthread_cond_signal(&janitor_wake);
	pthread_mutex_unlock(&janitor_lock);
	pthread_join(janitor_thread, NULL);
}
