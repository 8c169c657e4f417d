/*
 * uid.c: a host user id of its own for every live sandbox container.
 * RLIMIT_NPROC, inotify instances and pending signals are counted per
 * host uid across all containers (no user namespaces here), so with one
 * shared uid a fork bomb in one run could starve the others (docs/FIELD-NOTES.md).
 * With uid_base set, each container runs as uid_base + n, where n is
 * free while the container lives, and the nproc ulimit is per run in
 * effect.  A uid comes back only after its container was removed, so no
 * process of an earlier run can still hold it: when the removal fails
 * (the engine restarting, say) the uid is "lost" with its container's id,
 * and the janitor's next sweep that no longer lists that container gives
 * it back (uid_pool_sweep_*), instead of it being gone for good or shared
 * with a container that may still run.  uid_base = 0 keeps the single
 * configured user for every container.
 *
 * Two instances on one engine must use ranges that do not overlap, or
 * their runs would share uids again: every container is labelled with its
 * instance's range (org.pycage.uids), and the janitor refuses service
 * when it sees another instance's range overlap ours (janitor.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"


enum uid_state { UID_FREE, UID_IN_USE, UID_LOST };

struct uid_pool {
	pthread_mutex_t	 lock;
	unsigned	 base;
	unsigned	 count;
	unsigned char	*used;		/* enum uid_state */
	/* For a lost uid: its container, the sweep it was lost in, and
	 * whether the current sweep listed that container. */
	char		(*lost_id)[DOCKER_ID_MAX + 1];
	unsigned	*lost_sweep;
	unsigned char	*seen;
	unsigned	 sweep;		/* sweeps begun */
};

/* How many uids an instance needs: every container that can be alive at
 * once (runs, pool, self-checks and removals in flight). */
struct uid_pool *
uid_pool_new(unsigned base, unsigned count)
{
	struct uid_pool *u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	if ((u->used = calloc(count ? count : 1, 1)) == NULL ||
	    (u->lost_id = calloc(count ? count : 1, sizeof(*u->lost_id))) == NULL ||
	    (u->lost_sweep = calloc(count ? count : 1, sizeof(*u->lost_sweep))) == NULL ||
	    (u->seen = calloc(count ? count : 1, 1)) == NULL) {
		uid_pool_free(u);
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
	free(u->lost_id);
	free(u->lost_sweep);
	free(u->seen);
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
		if (u->used[i] == UID_FREE) {
			u->used[i] = UID_IN_USE;
			uid = (long)u->base + i;
			break;
		}
	pthread_mutex_unlock(&u->lock);
	return uid;
}

/* The slot of one of our uids; -1 for UID_SHARED or anything else. */
static long
uid_slot(const struct uid_pool *u, long uid)
{
	if (u == NULL || u->count == 0 || uid < (long)u->base ||
	    uid >= (long)u->base + u->count)
		return -1;
	return uid - (long)u->base;
}

void
uid_pool_put(struct uid_pool *u, long uid)
{
	long i;

	if ((i = uid_slot(u, uid)) == -1)
		return;
	pthread_mutex_lock(&u->lock);
	u->used[i] = UID_FREE;
	pthread_mutex_unlock(&u->lock);
}

void
uid_pool_lose(struct uid_pool *u, long uid, const char *container_id)
{
	long i;

	if ((i = uid_slot(u, uid)) == -1)
		return;
	pthread_mutex_lock(&u->lock);
	u->used[i] = UID_LOST;
	snprintf(u->lost_id[i], sizeof(u->lost_id[i]), "%s", container_id);
	u->lost_sweep[i] = u->sweep;
	u->seen[i] = 0;
	pthread_mutex_unlock(&u->lock);
}

void
uid_pool_sweep_begin(struct uid_pool *u)
{
	if (u == NULL)
		return;
	pthread_mutex_lock(&u->lock);
	u->sweep++;
	memset(u->seen, 0, u->count ? u->count : 1);
	pthread_mutex_unlock(&u->lock);
}

void
uid_pool_sweep_seen(struct uid_pool *u, const char *container_id)
{
	unsigned i;

	if (u == NULL)
		return;
	pthread_mutex_lock(&u->lock);
	for (i = 0; i < u->count; i++)
		if (u->used[i] == UID_LOST &&
		    strcmp(u->lost_id[i], container_id) == 0)
			u->seen[i] = 1;
	pthread_mutex_unlock(&u->lock);
}

/* Only uids lost before this sweep began: the listing may have been
 * taken before a later loss, and so have missed its container. */
unsigned
uid_pool_sweep_end(struct uid_pool *u)
{
	unsigned i, freed = 0;

	if (u == NULL)
		return 0;
	pthread_mutex_lock(&u->lock);
	for (i = 0; i < u->count; i++)
		if (u->used[i] == UID_LOST && !u->seen[i] &&
		    u->lost_sweep[i] < u->sweep) {
			u->used[i] = UID_FREE;
			freed++;
		}
	pthread_mutex_unlock(&u->lock);
	return freed;
}
