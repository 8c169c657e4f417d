/*
 * proc.c: what both programs (pycage-fcgi's front, pycage-executor) do
 * to their own process at start: malloc tuning and the signal mask.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include "common.h"

/*
 * Both are long-lived servers with a thread per worker: glibc's defaults
 * (an arena per thread, an mmap threshold that rises to the largest
 * block freed) kept every 1 MiB answer resident in some thread's arena,
 * ~40 MiB after four concurrent floods (test_limits.py).  With one arena
 * and large blocks always mmapped from glibc's starting threshold, a
 * freed answer goes back to the kernel.  Allocation is a few calls per
 * request, so one arena's lock costs nothing measurable.
 */
#define PROC_MMAP_THRESHOLD_BYTES (128 * 1024)

void
proc_tune_malloc(void)
{
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, PROC_MMAP_THRESHOLD_BYTES);
}

/* Blocks SIGTERM and SIGINT in the calling thread and every thread it
 * starts after, for a sigwait() in one place. */
void
proc_block_signals(sigset_t *sigs)
{
	signal(SIGPIPE, SIG_IGN); /* a peer that left must not kill us */
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}
