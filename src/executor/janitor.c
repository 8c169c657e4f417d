/*
 * janitor.c: removes pycage containers that no request owns any more.
 * At start: every container labelled with our instance name (a previous
 * process of ours was killed mid-run; none of them can be ours yet).
 * Periodically: every container of our instance that this process does
 * not hold (container_live(), container.c), and every pycage container, of any instance, past the expiry
 * its creator wrote in its label: the longest the creator's own limits let
 * it live (pool wait, deadline) plus the creator's grace.  Judging another
 * instance's container by our own limits would take live runs and waiting
 * pool containers from under it.  A container without the label (an older
 * pycage) is judged by its age against our limits, as before the label.
 * Each sweep also reads the other instances' uid ranges (uid.c): a range
 * that overlaps ours would let their runs and ours share uids, and with
 * them the nproc count, so until a sweep sees no overlap any more every
 * execution and health check answers 503 uid_range_conflict.  And it
 * gives back the uids of containers whose removal had failed once it no
 * longer lists them (uid.c).
 * While the engine is troubled (docker.c: failures in a row, no container
 * started since), the janitor probes it every JANITOR_PROBE_INTERVAL_S
 * with a container of its own (/bin/true in the sandbox image); the probe
 * or a run that starts a container ends the trouble, and the janitor then
 * sweeps at once: a dockerd crash leaves containers nobody will remove
 * before their expiry (minutes).
 * And, since the engine can lose a container whose processes go on (dockerd
 * dropped one while containerd was down, issue 16), each sweep reads /proc
 * for processes under this instance's uids that no container of this
 * process holds, kills them (uid.c checks again under its lock), logs
 * each with its parent, and names the parent's containerd shim when the
 * engine no longer lists that shim's container.
 * The janitor has its own engine connection and thread.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"

struct janitor_sweep_ctx {
	struct docker *docker;
	const struct config *config;
	bool at_start;
	long long now;
	long long stale_before; /* for unlabelled containers */
	int removed;
	char conflict[256]; /* "" or what overlaps */
	struct buf listed;  /* every listed id, '\n' after each */
	bool deferred;      /* one of ours left for a create */
};

#define JANITOR_LISTED_MAX_BYTES (1024UL * 1024) /* ~15,000 ids */

/* The executor's uids (janitor_start()): each sweep gives back the ones
 * lost with a container it no longer lists. */
static struct uid_pool *janitor_uids;
/* A sweep left one of ours for a create on its way: look again soon.
 * Set and read by the sweeping thread only. */
static bool janitor_soon;
#define JANITOR_SOON_S 1

/* The last sweep's verdict on uid ranges, read by every request. */
static pthread_mutex_t conflict_lock = PTHREAD_MUTEX_INITIALIZER;
static char conflict_why[256];

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
janitor_visit(const struct docker_listed *l, void *arg)
{
	struct janitor_sweep_ctx *s = arg;
	const struct config *c = s->config;
	long long first = c->uid_base;
	long long last = first + config_uid_count(c) - 1;
	bool ours, stale;

	uid_pool_sweep_seen(janitor_uids, l->id);
	if (buf_append_str(&s->listed, l->id) == -1 ||
	    buf_append(&s->listed, "\n", 1) == -1)
		log_warn("janitor: the list of containers is over its cap");
	ours = strcmp(l->instance, c->instance) == 0;
	if (!ours && config_uid_count(c) > 0 && l->uid_first >= 0 &&
	    l->uid_first <= last && l->uid_last >= first &&
	    s->conflict[0] == '\0')
		snprintf(s->conflict, sizeof(s->conflict),
		    "instance '%.64s' "
		    "runs containers as uids %lld-%lld, which overlaps this "
		    "instance's %lld-%lld; give each a distinct uid_base",
		    l->instance, l->uid_first, l->uid_last, first, last);
	if (s->at_start)
		stale = ours;
	else if (ours && !container_live(l->id) && container_creating() == 0)
		/* Ours, and no run, pool or check of this process holds it
		 * (a dockerd crash mid-run leaves these).  Not while a create
		 * is on its way back: its container may be listed already;
		 * the janitor looks again in a second instead. */
		stale = true;
	else if (ours && !container_live(l->id)) {
		s->deferred = true;
		stale = false;
	} else if (l->expires_unix >= 0)
		stale = l->expires_unix < s->now;
	else
		stale = l->created_unix < s->stale_before;
	if (!stale)
		return;
	if (docker_remove(s->docker, l->id) == 0) {
		s->removed++;
		metrics_count(METRIC_JANITOR_REMOVED);
		log_info("janitor: removed leftover container %.12s", l->id);
	}
}

bool
janitor_uid_conflict(struct api_error *err)
{
	bool conflict;

	pthread_mutex_lock(&conflict_lock);
	if ((conflict = conflict_why[0] != '\0') && err != NULL) {
		api_error_set(err, 503, "uid_range_conflict",
		    "Refusing to run: %s.", conflict_why);
		err->retry_after_s = RETRY_AFTER_UID_CONFLICT_S;
	}
	pthread_mutex_unlock(&conflict_lock);
	return conflict;
}

/* A small /proc file of pid's, NULs turned to spaces; "" if gone. */
static void
janitor_proc_text(long pid, const char *file, char *out, size_t len)
{
	char path[64];
	ssize_t n, i;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
		if (out[i] == '\0' || out[i] == '\n')
			out[i] = ' ';
	out[n] = '\0';
}

/* The parent's pid, from /proc/PID/stat ("pid (comm) state ppid ..."). */
static long
janitor_ppid(long pid)
{
	char text[512], *p;
	long ppid;

	janitor_proc_text(pid, "stat", text, sizeof(text));
	if ((p = strrchr(text, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return ppid;
}

/* One process under our range (uid_proc_scan()): a ghost unless a
 * container of ours holds its uid; uid_pool_reap() decides, locked. */
static void
janitor_ghost(long pid, long uid, void *arg)
{
	struct janitor_sweep_ctx *s = arg;
	char comm[64], pcomm[64], pcmd[512];
	char id[DOCKER_ID_MAX + 2], *p;
	long ppid;
	size_t n;

	janitor_proc_text(pid, "comm", comm, sizeof(comm));
	ppid = janitor_ppid(pid);
	janitor_proc_text(ppid, "comm", pcomm, sizeof(pcomm));
	if (uid_pool_reap(janitor_uids, pid, uid) != 1)
		return;
	metrics_count(METRIC_JANITOR_KILLED);
	log_warn("janitor: killed pid %ld (%.32s) under uid %ld, which no "
		 "container of this instance holds; its parent: pid %ld (%.32s)",
	    pid, comm, uid, ppid, pcomm);
	if (strncmp(pcomm, "containerd-shim", 15) != 0)
		return;
	/* The shim's "-id <container id>": does the engine still list it? */
	janitor_proc_text(ppid, "cmdline", pcmd, sizeof(pcmd));
	if ((p = strstr(pcmd, " -id ")) == NULL)
		return;
	p += 5;
	n = strspn(p, "0123456789abcdef");
	if (n == 0 || n > DOCKER_ID_MAX)
		return;
	memcpy(id, p, n);
	id[n] = '\n';
	id[n + 1] = '\0';
	if (s->listed.data == NULL || strstr(s->listed.data, id) == NULL)
		log_error("janitor: containerd shim pid %ld runs container "
			  "%.12s, which the engine no longer lists: a container the "
			  "engine lost",
		    ppid, id);
}

int
janitor_sweep(struct docker *d, const struct config *c, bool at_start)
{
	struct janitor_sweep_ctx s = { d, c, at_start, 0, 0, 0, "",
		{ NULL, 0, 0, 0 }, false };
	unsigned freed;
	int rc;

	s.now = (long long)time(NULL);
	/* Unlabelled: the oldest a live container of ours could be. */
	s.stale_before = s.now - (janitor_expiry(c, c->pool_size > 0) - s.now);
	buf_init(&s.listed, JANITOR_LISTED_MAX_BYTES);
	uid_pool_sweep_begin(janitor_uids);
	rc = docker_list_managed(d, janitor_visit, &s);
	if (rc == 0 && (freed = uid_pool_sweep_end(janitor_uids)) > 0)
		log_info("janitor: %u uid(s) whose container could not be "
			 "removed are free again (it is gone)",
		    freed);
	/* Whether or not the engine answered: a ghost is ours to end. */
	uid_proc_scan("/proc", c->uid_base, config_uid_count(c), janitor_ghost,
	    &s);
	buf_free(&s.listed);
	if (s.deferred)
		janitor_soon = true;
	if (rc == -1)
		return -1;
	pthread_mutex_lock(&conflict_lock);
	if (s.conflict[0] != '\0' && strcmp(s.conflict, conflict_why) != 0)
		log_error("janitor: %s", s.conflict);
	else if (s.conflict[0] == '\0' && conflict_why[0] != '\0')
		log_info(
		    "janitor: no uid range overlaps this instance's any more");
	snprintf(conflict_why, sizeof(conflict_why), "%s", s.conflict);
	pthread_mutex_unlock(&conflict_lock);
	return s.removed;
}

/* Seconds between probes while the engine is troubled. */
#define JANITOR_PROBE_INTERVAL_S 2
#define JANITOR_PROBE_WAIT_MS 5000

static pthread_t janitor_thread;
static pthread_mutex_t janitor_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t janitor_cond = PTHREAD_COND_INITIALIZER;
static bool janitor_stopping;
static bool janitor_now; /* sweep without waiting */

void
janitor_wake(void)
{
	pthread_mutex_lock(&janitor_lock);
	janitor_now = true;
	pthread_cond_signal(&janitor_cond);
	pthread_mutex_unlock(&janitor_lock);
}

/*
 * A container of the sandbox image that runs /bin/true, made as a run's
 * is (container.c): it starting is what ends the engine's trouble
 * (docker_engine_ok() in container_start()).  0 if it started.
 */
static int
janitor_probe(struct docker *d, const struct config *c)
{
	static const char *const argv[] = { "/bin/true", NULL };
	struct container_want want = { .config = c,
		.uids = janitor_uids,
		.preload = "",
		.entrypoint = argv };
	struct container ct;
	struct api_error err;

	api_error_init(&err);
	if (container_start(&ct, d, &want, &err) == -1)
		return -1;
	(void)docker_wait(d, ct.container_id, JANITOR_PROBE_WAIT_MS, NULL);
	container_remove(&ct, d, janitor_uids);
	return 0;
}

static void *
janitor_main(void *arg)
{
	const struct config *c = arg;
	struct docker *d;
	struct timespec next;
	bool troubled;

	if ((d = docker_open(c)) == NULL) {
		log_error("janitor: out of memory");
		return NULL;
	}
	pthread_mutex_lock(&janitor_lock);
	while (!janitor_stopping) {
		troubled = docker_engine_troubled(NULL);
		clock_gettime(CLOCK_REALTIME, &next);
		next.tv_sec += troubled ? JANITOR_PROBE_INTERVAL_S :
		    janitor_soon        ? JANITOR_SOON_S :
					  c->janitor_interval_s;
		janitor_soon = false;
		while (!janitor_stopping && !janitor_now &&
		    pthread_cond_timedwait(&janitor_cond, &janitor_lock,
			&next) == 0)
			;
		if (janitor_stopping)
			break;
		janitor_now = false;
		pthread_mutex_unlock(&janitor_lock);
		/* A probe that starts a container wakes us (janitor_wake()):
		 * the sweep follows at once. */
		if (docker_engine_troubled(NULL))
			(void)janitor_probe(d, c);
		else if (janitor_sweep(d, c, false) == -1)
			log_warn("janitor: could not list containers");
		pthread_mutex_lock(&janitor_lock);
	}
	pthread_mutex_unlock(&janitor_lock);
	docker_free(d);
	return NULL;
}

void
janitor_use_uids(struct uid_pool *uids)
{
	janitor_uids = uids;
}

int
janitor_start(const struct config *c, struct uid_pool *uids)
{
	janitor_uids = uids;
	return pthread_create(&janitor_thread, NULL, janitor_main,
		   (void *)(uintptr_t)c) == 0 ?
	    0 :
	    -1;
}

void
janitor_stop(void)
{
	pthread_mutex_lock(&janitor_lock);
	janitor_stopping = true;
	pthread_cond_signal(&janitor_cond);
	pthread_mutex_unlock(&janitor_lock);
	pthread_join(janitor_thread, NULL);
}
