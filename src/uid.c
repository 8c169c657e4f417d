/*
 * uid.c: a host user id of its own for every live sandbox container.
 * RLIMIT_NPROC, inotify instances and pending signals are counted per
 * host uid across all containers (no user namespaces here), so with one
 * shared uid a fork bomb in one run could starve the others (NOTES.md).
 * With uid_base set, each container runs as uid_base + n, where n is
 * free while the container lives, and the nproc ulimit is per run in
 * effect.  A uid comes back only after its container was removed, so no
 * process of an earlier run can still hold it.  uid_base = 0 keeps the
 * single configured user for every container.
 *
 * Two instances on one engine must use ranges that do not overlap, or
 * their runs would share uids again: every container is labelled with its
 * instance's range (org.pycage.uids), and the janitor refuses service
 * when it sees another instance's range overlap ours (janitor.c).
 */
#include <pthread.h>
#include <stdlib.h>

#include "pycage.h"

#define UID_SPARE	8	/* self-checks, removals in flight */

struct uid_pool {
	pthread_mutex_t	 lock;
	unsigned	 base;
	unsigned	 count;
	unsigned char	*used;
};

/* How many uids an instance needs: every container that can be alive at
 * once (runs, pool, self-checks and removals in flight). */
unsigned
uid_range_count(const struct config *c)
{
	return c->uid_base ? c->max_executions + c->pool_size + UID_SPARE : 0;
}

struct uid_pool *
uid_pool_new(unsigned base, unsigned count)
{
	struct uid_pool *u;

	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->used = calloc(count ? count : 1, 1)) == NULL) {
		free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	u->base = base;
	u->count = base ? count : 0;
	return u;
}

void
uid_pool_free(struct uid_pool *u)
{
	if (u == NULL)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u->used);
	free(u);
}

/* UID_SHARED when uids are not per container; -1 when all are taken. */
long
uid_pool_take(struct uid_pool *u)
{
	unsigned	i;
	long		uid = -1;

	if (u->count == 0)
		return UID_SHARED;
	pthread_mutex_lock(&u->lock);
	for (i = 0; i < u->count; i++)
		if (!u->used[i]) {
			u->used[i] = 1;
			uid = (long)u->base + i;
			break;
		}
	pthread_mutex_unlock(&u->lock);
	return uid;
}

void
uid_pool_put(struct uid_pool *u, long uid)
{
	if (u == NULL || u->count == 0 || uid < (long)u->base ||
	    uid >= (long)u->base + u->count)
		return;
	pthread_mutex_lock(&u->lock);
	u->used[uid - u->base] = 0;
	pthread_mutex_unlock(&u->lock);
}
