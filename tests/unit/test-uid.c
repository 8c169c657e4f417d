/*
 * test-uid.c: src/executor/uid.c, the per-container uid set.  Taking and putting
 * back; the range running out; and a uid lost with a container whose
 * removal failed, which comes back only after a janitor sweep (begin,
 * seen, end) no longer lists that container, never during the sweep it
 * was lost in (that listing may predate the loss).
 */
#include <stdio.h>
#include <string.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

#define BASE	300000U
#define COUNT	3U

/* How many uids can be taken now (each is put back afterwards). */
static unsigned
free_count(struct uid_pool *u)
{
	long		taken[COUNT + 1];
	unsigned	n = 0, i;

	while (n <= COUNT && (taken[n] = uid_pool_take(u)) != -1)
		n++;
	for (i = 0; i < n; i++)
		uid_pool_put(u, taken[i]);
	return n;
}

static void
test_take_put(void)
{
	struct uid_pool	*u = uid_pool_new(BASE, COUNT);
	long		 a, b, c;

	a = uid_pool_take(u);
	b = uid_pool_take(u);
	c = uid_pool_take(u);
	is_int(a, BASE, "first take: uid_base");
	is_int(b, BASE + 1, "second take");
	is_int(c, BASE + 2, "third take");
	is_int(uid_pool_take(u), -1, "the range is used up: -1");
	uid_pool_put(u, b);
	is_int(uid_pool_take(u), BASE + 1, "a put uid is taken again");
	uid_pool_put(u, 12345);		/* outside the range: ignored */
	uid_pool_put(u, a);
	uid_pool_put(u, b);
	uid_pool_put(u, c);
	is_int(free_count(u), COUNT, "all back");
	uid_pool_free(u);

	u = uid_pool_new(0, 0);
	is_int(uid_pool_take(u), UID_SHARED, "no uid_base: the shared user");
	uid_pool_lose(u, UID_SHARED, "abc");	/* a no-op, as put */
	uid_pool_sweep_begin(u);
	is_int(uid_pool_sweep_end(u), 0, "no uid_base: a sweep frees nothing");
	uid_pool_free(u);
}

static void
test_lost(void)
{
	struct uid_pool	*u = uid_pool_new(BASE, COUNT);
	long		 a = uid_pool_take(u), b = uid_pool_take(u);

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

int
main(void)
{
	test_take_put();
	test_lost();
	return done_testing();
}
