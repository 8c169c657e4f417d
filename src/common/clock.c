/*
 * clock.c: milliseconds, the one unit every deadline and duration in
 * pycage is kept in, from and to struct timespec.  CLOCK_MONOTONIC for
 * durations and deadlines of our own; CLOCK_REALTIME only where an API
 * takes an absolute wall-clock time (sem_timedwait, pthread_cond_timedwait).
 */
#include "common.h"

#define CLOCK_NS_PER_MS 1000000L
#define CLOCK_NS_PER_S 1000000000L

long long
clock_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / CLOCK_NS_PER_MS;
}

long
clock_ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - start->tv_sec) * 1000L +
	    (now.tv_nsec - start->tv_nsec) / CLOCK_NS_PER_MS);
}

void
clock_after(struct timespec *ts, clockid_t clock, unsigned ms)
{
	clock_gettime(clock, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * CLOCK_NS_PER_MS;
	if (ts->tv_nsec >= CLOCK_NS_PER_S) {
		ts->tv_sec++;
		ts->tv_nsec -= CLOCK_NS_PER_S;
	}
}
