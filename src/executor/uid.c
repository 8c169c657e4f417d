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
 * The engine's bookkeeping is not trusted to say a uid is free: a
 * container that dockerd dropped while containerd was down kept running
 * (issue 16), under a uid pycage had been given back.  So a uid is handed
 * out only when no host process runs under it (uid_pool_take() reads
 * /proc), and the janitor kills processes under the range's uids that no
 * container of this process holds (uid_pool_reap()).  A scan of /proc
 * took 1.3 ms with 143 processes on the build machine, once per take.
 *
 * Two instances on one engine must use ranges that do not overlap, or
 * their runs would share uids again: every container is labelled with its
 * instance's range (org.pycage.uids), and the janitor refuses service
 * when it sees another instance's range overlap ours (janitor.c).
 */
#include <sys/syscall.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"

enum uid_state { UID_FREE, UID_IN_USE, UID_LOST };

struct uid_pool {
	pthread_mutex_t lock;
	unsigned base;
	unsigned count;
	unsigned char *used; /* enum uid_state */
	/* For a lost uid: its container, the sweep it was lost in, and
	 * whether the current sweep listed that container. */
	char (*lost_id)[DOCKER_ID_MAX + 1];
	unsigned *lost_sweep;
	unsigned char *seen;
	unsigned sweep; /* sweeps begun */
	char proc[64];  /* "/proc"; a test's stand-in */
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
	    (u->lost_sweep = calloc(count ? count : 1, sizeof(*u->lost_sweep))) ==
		NULL ||
	    (u->seen = calloc(count ? count : 1, 1)) == NULL) {
		uid_pool_free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	snprintf(u->proc, sizeof(u->proc), "/proc");
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

/* The slot of one of our uids; -1 for UID_SHARED or anything else. */
static long
uid_slot(const struct uid_pool *u, long uid)
{
	if (u == NULL || u->count == 0 || uid < (long)u->base ||
	    uid >= (long)u->base + u->count)
		return -1;
	return uid - (long)u->base;
}

#define UID_STATUS_MAX_BYTES 4096 /* /proc/PID/status is ~1.4 KB */

/*
 * The uid of pid's process that falls in [base, base + count): real,
 * effective, saved or file-system, from /proc/PID/status (not the owner of
 * /proc/PID, which a process that makes itself non-dumpable turns to
 * root).  -1 if none does, or the process is gone.
 */
long
uid_proc_in_range(const char *proc, long pid, unsigned base, unsigned count)
{
	char path[128], text[UID_STATUS_MAX_BYTES], *p, *end;
	ssize_t n;
	long v;
	int fd, i;

	snprintf(path, sizeof(path), "%s/%ld/status", proc, pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	if ((p = strstr(text, "\nUid:")) == NULL)
		return -1;
	p += 5;
	for (i = 0; i < 4; i++) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0)
			return -1;
		if (v >= (long)base && v < (long)base + (long)count)
			return v;
		p = end;
	}
	return -1;
}

/*
 * Calls fn for every process under one of the range's uids.  The scan is
 * of /proc at one moment: a process may end or start meanwhile, which is
 * why the janitor checks again before it kills (uid_pool_reap()).
 */
void
uid_proc_scan(const char *proc, unsigned base, unsigned count,
    void (*fn)(long pid, long uid, void *), void *arg)
{
	DIR *dir;
	struct dirent *de;
	long pid, uid;

	if (count == 0 || (dir = opendir(proc)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, NULL, 10);
		if ((uid = uid_proc_in_range(proc, pid, base, count)) >= 0)
			fn(pid, uid, arg);
	}
	closedir(dir);
}

static void
uid_mark_busy(long pid, long uid, void *arg)
{
	unsigned char *busy = ((void **)arg)[0];
	struct uid_pool *u = ((void **)arg)[1];

	(void)pid;
	busy[uid - (long)u->base] = 1;
}

/* UID_SHARED when uids are not per container; -1 when all are taken, or
 * the free ones all have host processes running under them. */
long
uid_pool_take(struct uid_pool *u)
{
	unsigned char *busy;
	void *arg[2];
	unsigned i;
	long uid = -1;

	if (u->count == 0)
		return UID_SHARED;
	if ((busy = calloc(u->count, 1)) == NULL)
		return -1;
	arg[0] = busy;
	arg[1] = u;
	uid_proc_scan(u->proc, u->base, u->count, uid_mark_busy, arg);
	pthread_mutex_lock(&u->lock);
	for (i = 0; i < u->count; i++)
		if (u->used[i] == UID_FREE && !busy[i]) {
			u->used[i] = UID_IN_USE;
			uid = (long)u->base + i;
			break;
		}
	pthread_mutex_unlock(&u->lock);
	free(busy);
	return uid;
}

/*
 * Kills pid if it still runs under uid and the uid is free: no container
 * of this process holds it.  Under the pool's lock, so the uid cannot be
 * handed out meanwhile; through a pidfd checked after it was opened, so
 * a pid reused since the scan is not hit.  1 if killed, 0 if not.
 */
int
uid_pool_reap(struct uid_pool *u, long pid, long uid)
{
	long i;
	int pidfd, killed = 0;

	if ((i = uid_slot(u, uid)) == -1)
		return 0;
	pthread_mutex_lock(&u->lock);
	if (u->used[i] == UID_FREE &&
	    (pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) != -1) {
		if (uid_proc_in_range(u->proc, pid, (unsigned)uid, 1) == uid &&
		    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
			killed = 1;
		close(pidfd);
	}
	pthread_mutex_unlock(&u->lock);
	return killed;
}

void
uid_pool_set_proc(struct uid_pool *u, const char *proc)
{
	snprintf(u->proc, sizeof(u->proc), "%s", proc);
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
