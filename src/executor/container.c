/*
 * container.c: one sandbox container's life, from its uid to its removal,
 * for everyone who makes one (a job's cold start, job.c; the pool, pool.c;
 * the self-check through job.c).  Order matters and lives only here:
 *   take a uid -> build the body (create_body.c) -> create -> attach ->
 *   start (attach before start, so no output is lost: docs/FIELD-NOTES.md)
 * and, on every path, exactly one of:
 *   removed -> its uid given back, or
 *   the removal failed -> its uid "lost" with the container's id (uid.c),
 *   back only once a janitor sweep no longer lists that container.
 * It never decides a verdict and never reads the program's output.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"

/*
 * Every container this process made and has not removed yet, so that
 * the janitor can tell a container of our instance that a run, the pool
 * or a check still holds from one that nobody will remove (a dockerd
 * crash mid-run leaves those: container_live()).
 */
struct container_live_entry {
	char id[DOCKER_ID_MAX + 1];
	struct container_live_entry *next;
};
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct container_live_entry *live_head;
/* Creates sent and not yet in the list: the engine may list one of these
 * before it is ours to see (container_creating()). */
static atomic_uint live_creating;

unsigned
container_creating(void)
{
	return atomic_load(&live_creating);
}

static void
container_live_add(const char *id)
{
	struct container_live_entry *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return; /* the expiry label still covers it */
	snprintf(e->id, sizeof(e->id), "%s", id);
	pthread_mutex_lock(&live_lock);
	e->next = live_head;
	live_head = e;
	pthread_mutex_unlock(&live_lock);
}

static void
container_live_del(const char *id)
{
	struct container_live_entry **p, *e;

	pthread_mutex_lock(&live_lock);
	for (p = &live_head; (e = *p) != NULL; p = &e->next)
		if (strcmp(e->id, id) == 0) {
			*p = e->next;
			free(e);
			break;
		}
	pthread_mutex_unlock(&live_lock);
}

bool
container_live(const char *id)
{
	struct container_live_entry *e;
	bool found = false;

	pthread_mutex_lock(&live_lock);
	for (e = live_head; e != NULL && !found; e = e->next)
		found = strcmp(e->id, id) == 0;
	pthread_mutex_unlock(&live_lock);
	return found;
}

/* kill -> stopped, generously: a removal right after a stop may be refused
 * while the engine reaps the container ("is not running"). */
#define CONTAINER_STOP_WAIT_MS 10000

/* The cores the executor may use, and the turn of the next run. */
static int container_cpus[CPU_SETSIZE];
static int container_ncpus;
static atomic_uint container_turn;

void
container_cpus_init(void)
{
	cpu_set_t set;
	int i;

	container_ncpus = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				container_cpus[container_ncpus++] = i;
}

/*
 * One core per run at half a core's quota (more for cpu_millis over
 * 1000): the quota keeps its per-second burst, which makes imports fast,
 * but a run can never use more cores than it is given at any moment.
 * Runs take the cores in turn, so two at once land on different ones.
 */
void
container_next_cpuset(const struct config *c, char *out, size_t outlen)
{
	unsigned cores = (c->cpu_millis + 999) / 1000, first, i;
	size_t used = 0;

	out[0] = '\0';
	if (container_ncpus == 0 || cores >= (unsigned)container_ncpus)
		return; /* every core: nothing to pin */
	first = atomic_fetch_add(&container_turn, cores);
	for (i = 0; i < cores && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%d",
		    i > 0 ? "," : "",
		    container_cpus[(first + i) % (unsigned)container_ncpus]);
	if (used >= outlen)
		out[0] = '\0';
}

void
container_init(struct container *c)
{
	memset(c, 0, sizeof(*c));
	c->uid = UID_SHARED;
}

int
container_start(struct container *c, struct docker *d,
    const struct container_want *want, struct api_error *err)
{
	struct buf body;
	char cpuset[64];
	int rc = -1;

	container_init(c);
	container_next_cpuset(want->config, cpuset, sizeof(cpuset));
	buf_init(&body, CREATE_BODY_MAX_BYTES);
	if ((c->uid = uid_pool_take(want->uids)) == -1) {
		c->uid = UID_SHARED;
		api_error_set(err, 503, "busy", "No sandbox user id is free.");
		err->retry_after_s = RETRY_AFTER_BUSY_S;
		goto out;
	}
	if (create_body(want->config, want->preload, want->ready,
		want->entrypoint, c->uid, cpuset,
		janitor_expiry(want->config, want->pooled), &body) == -1) {
		api_error_set(err, 500, "internal", "Could not build the body.");
		goto out;
	}
	/* Create fills container_id even when it then fails on Warnings, so
	 * the removal below takes what was made. */
	atomic_fetch_add(&live_creating, 1);
	rc = docker_create(d, body.data, body.len, c->container_id, err);
	if (c->container_id[0] != '\0')
		container_live_add(c->container_id);
	atomic_fetch_sub(&live_creating, 1);
	if (rc == -1 ||
	    docker_attach_open(d, c->container_id, &c->attach, err) == -1 ||
	    docker_start(d, c->container_id, err) == -1) {
		rc = -1;
		goto out;
	}
	if (docker_engine_ok())
		janitor_wake();
out:
	buf_free(&body);
	if (rc == -1)
		container_remove(c, d, want->uids);
	return rc;
}

void
container_remove(struct container *c, struct docker *d, struct uid_pool *uids)
{
	docker_attach_free(c->attach);
	c->attach = NULL;
	if (c->container_id[0] != '\0')
		container_live_del(c->container_id);
	if (c->container_id[0] != '\0' &&
	    docker_remove(d, c->container_id) == -1 &&
	    (docker_wait(d, c->container_id, CONTAINER_STOP_WAIT_MS, NULL) == -1 ||
		docker_remove(d, c->container_id) == -1)) {
		log_warn("container: could not remove %.12s; the janitor will",
		    c->container_id);
		uid_pool_lose(uids, c->uid, c->container_id);
	} else
		uid_pool_put(uids, c->uid);
	container_init(c);
}
