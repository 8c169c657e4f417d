/*
 * peer.c: the deadline on a worker's FastCGI peer.  Every read and write
 * on the connection already times out after PEER_IO_TIMEOUT_S (main.c),
 * but a peer that drips a byte just inside that timeout would hold the
 * worker for as long as it likes.  So a worker arms a deadline for the
 * whole of reading one request (PEER_REQUEST_S, from the accept, or on a
 * kept connection from the request's first byte: main.c waits for that
 * with poll, PEER_IO_TIMEOUT_S at most) and for the whole of writing one
 * answer (PEER_ANSWER_S), and pauses it while the executor works.  The
 * front's main thread sweeps once a second (every 100 ms while it waits
 * for the workers at shutdown) and shuts down the connection of a peer
 * past its deadline: the blocked read or write returns, libfcgi gives up
 * on the request, and the worker is free.  Without a dup (out of
 * descriptors) a request goes on under the per-read timeouts alone.
 *
 * The sweep never touches the worker's own descriptor, which libfcgi may
 * close and the kernel hand to another connection at any time: it shuts
 * down a dup the worker owns, closed by the worker under the same lock.
 * shutdown() acts on the socket, not the descriptor, so the dup reaches
 * the connection.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "front.h"

void
peer_watch_init(struct peer_watch *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->fd = -1;
	p->deadline_ms = 0;
}

/* A new request begins on fd. */
void
peer_watch_begin(struct peer_watch *p, int fd)
{
	int dup_fd;

	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_lock(&p->lock);
	if (p->fd != -1)
		close(p->fd);
	p->fd = dup_fd;
	p->deadline_ms = clock_now_ms() + PEER_REQUEST_S * 1000LL;
	pthread_mutex_unlock(&p->lock);
}

void
peer_watch_pause(struct peer_watch *p)
{
	pthread_mutex_lock(&p->lock);
	p->deadline_ms = 0;
	pthread_mutex_unlock(&p->lock);
}

void
peer_watch_answer(struct peer_watch *p)
{
	pthread_mutex_lock(&p->lock);
	p->deadline_ms = clock_now_ms() + PEER_ANSWER_S * 1000LL;
	pthread_mutex_unlock(&p->lock);
}

void
peer_watch_end(struct peer_watch *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->deadline_ms = 0;
	pthread_mutex_unlock(&p->lock);
}

/* true if it cut the connection; it does so once per request. */
bool
peer_watch_sweep(struct peer_watch *p)
{
	bool cut = false;

	pthread_mutex_lock(&p->lock);
	if (p->fd != -1 && p->deadline_ms != 0 &&
	    clock_now_ms() > p->deadline_ms) {
		(void)shutdown(p->fd, SHUT_RDWR);
		p->deadline_ms = 0;
		cut = true;
	}
	pthread_mutex_unlock(&p->lock);
	return cut;
}
