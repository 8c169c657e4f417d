/*
 * test-uid.c: src/executor/uid.c, the per-container uid set.  Taking and putting
 * back; the range running out; and a uid lost with a container whose
 * removal failed, which comes back only after a janitor sweep (begin,
 * seen, end) no longer lists that container, never during the sweep it
 * was lost in (that listing may predate the loss).  And the host's
 * process table (a stand-in /proc here): a uid with a process under it is
 * not handed out, and the scan finds processes by any of their four uids.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

/* No host process runs under these (the real /proc is read). */
#define BASE 3000000U
#define COUNT 3U

/* How many uids can be taken now (each is put back afterwards). */
static unsigned
free_count(struct uid_pool *u)
{
	long taken[COUNT + 1];
	unsigned n = 0, i;

	while (n <= COUNT && (taken[n] = uid_pool_take(u)) != -1)
		n++;
	for (i = 0; i < n; i++)
		uid_pool_put(u, taken[i]);
	return n;
}

static void
test_take_put(void)
{
	struct uid_pool *u = uid_pool_new(BASE, COUNT);
	long a, b, c;

	a = uid_pool_take(u);
	b = uid_pool_take(u);
	c = uid_pool_take(u);
	is_int(a, BASE, "first take: uid_base");
	is_int(b, BASE + 1, "second take");
	is_int(c, BASE + 2, "third take");
	is_int(uid_pool_take(u), -1, "the range is used up: -1");
	uid_pool_put(u, b);
	is_int(uid_pool_take(u), BASE + 1, "a put uid is taken again");
	uid_pool_put(u, 12345); /* outside the range: ignored */
	uid_pool_put(u, a);
	uid_pool_put(u, b);
	uid_pool_put(u, c);
	is_int(free_count(u), COUNT, "all back");
	uid_pool_free(u);

	u = uid_pool_new(0, 0);
	is_int(uid_pool_take(u), UID_SHARED, "no uid_base: the shared user");
	uid_pool_lose(u, UID_SHARED, "abc"); /* a no-op, as put */
	uid_pool_sweep_begin(u);
	is_int(uid_pool_sweep_end(u), 0, "no uid_base: a sweep frees nothing");
	uid_pool_free(u);
}

static void
test_lost(void)
{
	struct uid_pool *u = uid_pool_new(BASE, COUNT);
	long a = uid_pool_take(u), b = uid_pool_take(u);

	uid_pool_lose(u, a, "aaaa");
	uid_pool_put(u, b);
	is_int(free_count(u), COUNT - 1, "a lost uid is not free");

	/* A sweep that still lists the container keeps it. */
	uid_pool_sweep_begin(u);
	uid_pool_sweep_seen(u, "bbbb");
	uid_pool_sweep_seen(u, "aaaa");
	is_int(uid_pool_sweep_end(u), 0, "listed: kept");
	is_int(free_count(u), COUNT - 1, "still not free");

	/* One that does not gives it back. */
	uid_pool_sweep_begin(u);
	uid_pool_sweep_seen(u, "bbbb");
	is_int(uid_pool_sweep_end(u), 1, "not listed: given back");
	is_int(free_count(u), COUNT, "free again");

	/* Lost during a sweep: that sweep's listing may predate the loss. */
	a = uid_pool_take(u);
	uid_pool_sweep_begin(u);
	uid_pool_lose(u, a, "cccc");
	is_int(uid_pool_sweep_end(u), 0, "lost during the sweep: kept");
	uid_pool_sweep_begin(u);
	is_int(uid_pool_sweep_end(u), 1, "the next sweep gives it back");

	/* A failed listing (begin, no end) frees nothing; the next does. */
	a = uid_pool_take(u);
	uid_pool_lose(u, a, "dddd");
	uid_pool_sweep_begin(u);
	is_int(free_count(u), COUNT - 1, "a sweep without end frees nothing");
	uid_pool_sweep_begin(u);
	uid_pool_sweep_seen(u, "dddd");
	is_int(uid_pool_sweep_end(u), 0, "listed after a failed sweep: kept");
	uid_pool_sweep_begin(u);
	is_int(uid_pool_sweep_end(u), 1, "then gone: given back");
	is_int(free_count(u), COUNT, "all free at the end");
	uid_pool_free(u);
}

/* A stand-in /proc/PID/status with the given Uid: line. */
static void
fake_proc(const char *dir, int pid, const char *uids)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", dir, pid);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%d/status", dir, pid);
	if ((f = fopen(path, "w")) == NULL)
		return;
	fprintf(f,
	    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\n"
	    "Tgid:\t%d\nPid:\t%d\nUid:\t%s\nGid:\t65534\t65534\t65534\t65534\n",
	    pid, pid, uids);
	fclose(f);
}

static void
count_found(long pid, long uid, void *arg)
{
	long *sum = arg;

	sum[0]++;
	sum[1] += pid;
	sum[2] += uid;
}

static void
test_host_processes(void)
{
	char dir[] = "/tmp/pycage-test-uid-XXXXXX";
	struct uid_pool *u;
	long sum[3] = { 0, 0, 0 };

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	fake_proc(dir, 10, "0\t0\t0\t0"); /* root: not ours */
	fake_proc(dir, 11,
	    "4000003\t4000003\t4000003\t4000003"); /* past the range */
	fake_proc(dir, 12, "1000\t4000000\t4000000\t4000000"); /* effective only */
	fake_proc(dir, 13, "4000000\t4000000\t4000000\t4000000");
	fake_proc(dir, 14, "7\t7\t7\t4000001"); /* file-system uid only */
	is_int(uid_proc_in_range(dir, 10, 4000000, 3), -1,
	    "root is not in the range");
	is_int(uid_proc_in_range(dir, 12, 4000000, 3), 4000000,
	    "an effective uid in the range counts");
	is_int(uid_proc_in_range(dir, 14, 4000000, 3), 4000001,
	    "a file-system uid in the range counts");
	is_int(uid_proc_in_range(dir, 99, 4000000, 3), -1, "a gone process: -1");
	uid_proc_scan(dir, 4000000, 3, count_found, sum);
	is_int(sum[0], 3, "the scan finds the three processes in the range");
	is_int(sum[1], 12 + 13 + 14, "by their pids");

	u = uid_pool_new(4000000, 3);
	uid_pool_set_proc(u, dir);
	is_int(uid_pool_take(u), 4000002,
	    "uids with a process under them are skipped");
	is_int(uid_pool_take(u), -1, "and then none is free");
	is_int(uid_pool_reap(u, 13, 4000002), 0,
	    "a uid a container holds: never reaped");
	uid_pool_free(u);
	if (system("rm -rf /tmp/pycage-test-uid-*") != 0)
		diag("could not remove %s", dir);
}

int
main(void)
{
	test_take_put();
	test_lost();
	test_host_processes();
	return done_testing();
}
