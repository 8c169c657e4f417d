/*
 * test-container.c: src/executor/container.c's choice of cores.  Runs
 * take the executor's cores in turn, one each at half a core's quota,
 * ceil(cpu_millis / 1000) each above a core; a run that would get every
 * core is not pinned at all.  The cores are this process's own
 * (sched_getaffinity), so the test pins itself first to know them.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "executor.h"
#include "tap.h"

/* Pins this process to the first n cores it may use; the cores. */
static int
pin_to(int n, int *cores)
{
	cpu_set_t all, some;
	int i, got = 0;

	if (sched_getaffinity(0, sizeof(all), &all) == -1)
		return 0;
	CPU_ZERO(&some);
	for (i = 0; i < CPU_SETSIZE && got < n; i++)
		if (CPU_ISSET(i, &all)) {
			CPU_SET(i, &some);
			cores[got++] = i;
		}
	if (got < n || sched_setaffinity(0, sizeof(some), &some) == -1)
		return 0;
	return got;
}

int
main(void)
{
	struct config c;
	char set[64], want[64], first[64];
	int cores[2], i, seen0 = 0, seen1 = 0;

	config_defaults(&c);
	if (pin_to(2, cores) != 2) {
		plan(1);
		ok(1, "# SKIP this machine gives this process fewer than 2 cores");
		return done_testing();
	}
	container_cpus_init();
	/* Half a core: one core each, in turn. */
	container_next_cpuset(&c, first, sizeof(first));
	for (i = 0; i < 10; i++) {
		container_next_cpuset(&c, set, sizeof(set));
		snprintf(want, sizeof(want), "%d", cores[0]);
		seen0 += strcmp(set, want) == 0;
		snprintf(want, sizeof(want), "%d", cores[1]);
		seen1 += strcmp(set, want) == 0;
	}
	ok(strchr(first, ',') == NULL && strchr(first, '-') == NULL &&
		first[0] != '\0',
	    "cpu_millis 500: one core (%s)", first);
	is_int(seen0 + seen1, 10, "every run gets one of the two cores");
	is_int(seen0, 5, "the runs take the cores in turn (core %d: %d of 10)",
	    cores[0], seen0);
	/* Two cores' quota on a two-core machine: nothing to pin. */
	c.cpu_millis = 2000;
	container_next_cpuset(&c, set, sizeof(set));
	is_str(set, "", "cpu_millis 2000 of 2 cores: not pinned");
	c.cpu_millis = 1000;
	container_next_cpuset(&c, set, sizeof(set));
	ok(strlen(set) > 0 && strchr(set, ',') == NULL,
	    "cpu_millis 1000: one core (%s)", set);
	/* Pinned to one core, the executor has nothing to spread. */
	c.cpu_millis = 500;
	pin_to(1, cores);
	container_cpus_init();
	container_next_cpuset(&c, set, sizeof(set));
	is_str(set, "", "an executor on one core does not pin");
	return done_testing();
}
