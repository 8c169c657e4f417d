/*
 * main.c: pycage-fcgi, the front, and the start-up of both processes.
 * Everything that can fail at start fails here, loudly, before the first
 * request (STYLE.md point 4).
 *
 * Order (each step needs the one before; privsep.c explains the split):
 *   1. as root: configuration, the seccomp profile, the API keys file
 *      (keys.c: the chroot below is empty), the listening socket
 *      (chown/chmod need root), one socketpair per worker, the pidfile;
 *   2. fork, and the child execs pycage-executor (executor_path) with
 *      its ends of the socketpairs on fds 3, 4, ...: a fresh process
 *      image that keeps root's access to the Docker socket.  An exec that
 *      fails is reported here, through a close-on-exec pipe;
 *   3. the parent is the front: it looks up front_user, chroots into an
 *      empty directory, drops groups, gid and uid (in that order: after
 *      setuid there is no way back to change the others), sets
 *      no_new_privs, and only then accepts FastCGI requests on N worker
 *      threads, which take turns in FCGX_Accept_r under a mutex as
 *      libfcgi's threaded example does.  This binary is not linked with
 *      libcurl (Makefile.am), so the front maps none of its TLS stack.
 * Shutdown: SIGTERM/SIGINT to the front (the pidfile's pid) shuts the
 * listening socket, lets in-flight requests finish and closes the
 * channels; the executor sees them close, empties the pool, removes the
 * socket and pidfile, and exits; the front reaps it and exits 0.  If the
 * front dies, the executor sees the same EOFs (and PR_SET_PDEATHSIG); if
 * the executor dies, the front stops the same way and exits 1.
 * Drain: SIGUSR1 to the front makes executions and health answer 503
 * draining (request.c) while runs in flight finish; SIGUSR2 ends it.
 * The executor ignores both.
 */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "front.h"

#define LISTEN_BACKLOG 128
/* A peer that stalls mid-request (params or body) frees its worker after
 * this long (tests/integration/test_http_hostile.py). */
#define PEER_IO_TIMEOUT_S 15
#define ACCEPT_PAUSE_MS 100

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int shutting_down;
static int listen_fd = -1;
/* Its write end is closed at shutdown: then the read end polls readable in
 * every worker at once (worker_await_kept()). */
static int stop_pipe[2] = { -1, -1 };
static atomic_uint workers_running;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pycage-fcgi [-t] [-c config] [--new-key NAME]\n"
	    "  -c FILE         configuration (default " CONFIG_PATH_DEFAULT ")\n"
	    "  -t              check the configuration and exit\n"
	    "  --new-key NAME  print a new API key once and add its hash to\n"
	    "                  the configuration's api_keys_file\n");
	exit(2);
}

static void
open_listen_socket(const struct config *c)
{
	bool is_unix = c->listen[0] == '/';
	struct group *gr;

	if (is_unix && unlink(c->listen) == -1 && errno != ENOENT)
		fatal("%s: %s", c->listen, strerror(errno));
	if ((listen_fd = FCGX_OpenSocket(c->listen, LISTEN_BACKLOG)) < 0)
		fatal("cannot listen on %s", c->listen);
	(void)fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
	if (!is_unix)
		return;
	if (c->socket_group[0] != '\0') {
		if ((gr = getgrnam(c->socket_group)) == NULL)
			fatal("socket_group %s: no such group", c->socket_group);
		if (chown(c->listen, (uid_t)-1, gr->gr_gid) == -1)
			fatal("chown %s: %s", c->listen, strerror(errno));
	}
	if (chmod(c->listen, c->socket_mode) == -1)
		fatal("chmod %s: %s", c->listen, strerror(errno));
}

static void
write_pidfile(const char *path)
{
	FILE *f;

	if (*path == '\0')
		return;
	if ((f = fopen(path, "we")) == NULL)
		fatal("%s: %s", path, strerror(errno));
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		fatal("%s: %s", path, strerror(errno));
}

/* ----------------------------------------------------------- executor */

/*
 * In the forked child (of a parent with no threads yet): the channels to
 * fds 3, 4, ... (via fds above them, so that no dup2 lands on one not yet
 * moved), then exec.  A failure goes back to the parent as an errno on
 * report, which the successful exec closes.
 */
static void __attribute__((noreturn)) exec_executor(const struct config *c,
    const char *config_path, int *fds, int report)
{
	char nbuf[16];
	char *argv[6];
	int argc = 0, base, e, i, n = (int)c->workers;

	base = PRIVSEP_FIRST_FD + n;
	if ((report = fcntl(report, F_DUPFD_CLOEXEC, base)) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, base)) == -1)
			goto fail;
	for (i = 0; i < n; i++) /* dup2 clears close-on-exec */
		if (dup2(fds[i], PRIVSEP_FIRST_FD + i) == -1)
			goto fail;
	snprintf(nbuf, sizeof(nbuf), "%d", n);
	argv[argc++] = (char *)"pycage-executor";
	argv[argc++] = (char *)"-n";
	argv[argc++] = nbuf;
	if (config_path != NULL) {
		argv[argc++] = (char *)"-c";
		argv[argc++] = (char *)config_path;
	}
	argv[argc] = NULL;
	execv(c->executor_path, argv);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) != sizeof(e))
		_exit(126);
	_exit(127);
}

/* Forks and execs pycage-executor; returns its pid once the exec worked. */
static pid_t
start_executor(const struct config *c, const char *config_path, int *fds)
{
	ssize_t r;
	pid_t pid;
	unsigned i;
	int report[2], e = 0;

	if (pipe2(report, O_CLOEXEC) == -1)
		fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		close(report[0]);
		exec_executor(c, config_path, fds, report[1]);
	}
	close(report[1]);
	for (i = 0; i < c->workers; i++)
		close(fds[i]);
	while ((r = read(report[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	close(report[0]);
	if (r != 0) {
		waitpid(pid, NULL, 0);
		fatal("cannot run %s: %s", c->executor_path,
		    r == sizeof(e) ? strerror(e) : "exec failed");
	}
	return pid;
}

/* -------------------------------------------------------------- front */

/*
 * Over TCP anyone who reaches the port could run code without nginx's
 * limits, so only listen_allow's peers are answered; the others are
 * closed before a byte is read.  The log says so at the 1st, 2nd, 4th,
 * 8th... refusal, so a flood cannot fill it; the metric counts them all.
 */
static bool
peer_allowed(const struct config *c, const struct sockaddr_in *peer, socklen_t len)
{
	bool inet = len >= sizeof(*peer) && peer->sin_family == AF_INET;
	unsigned long long n;
	char addr[INET_ADDRSTRLEN] = "an unknown peer";

	if (inet && config_peer_allowed(c, peer->sin_addr.s_addr))
		return true;
	n = metrics_fcgi_refused();
	if ((n & (n - 1)) == 0) {
		if (inet)
			inet_ntop(AF_INET, &peer->sin_addr, addr, sizeof(addr));
		log_warn("refused a FastCGI connection from %s: not in "
			 "listen_allow (%llu so far)",
		    addr, n);
	}
	return false;
}

/*
 * We accept, not libfcgi, so that every connection gets a read and write
 * timeout before libfcgi reads its params: a unix socket does not inherit
 * SO_RCVTIMEO from the listening socket, and libfcgi's reads have no
 * timeout of their own, so one stalled peer would hold a worker forever.
 * FCGX_Accept_r takes a connection already in ipcFd (its keep-alive path)
 * when keepConnection is set, and the request's listen_sock is -1 so that
 * libfcgi never accepts on its own after a bad connection.
 *
 * Out of descriptors (or kernel memory) accept4 fails at once and the
 * connection stays queued: the worker pauses ACCEPT_PAUSE_MS rather than
 * spin, and says so at most once a second.
 */
static void
accept_pause(int err)
{
	static atomic_llong said;
	struct timespec pause = { 0, ACCEPT_PAUSE_MS * 1000000L };
	long long now = (long long)time(NULL);

	if (atomic_exchange(&said, now) != now)
		log_warn("accept: %s; pausing %d ms", strerror(err),
		    ACCEPT_PAUSE_MS);
	nanosleep(&pause, NULL);
}

static int
worker_accept(struct worker *w, FCGX_Request *req)
{
	const struct config *c = w->config;
	struct timeval tv = { .tv_sec = PEER_IO_TIMEOUT_S };
	struct sockaddr_in peer;
	socklen_t peerlen = sizeof(peer);
	int fd = -1, err = 0;

	pthread_mutex_lock(&accept_lock);
	if (!shutting_down &&
	    (fd = accept4(listen_fd, (struct sockaddr *)&peer, &peerlen,
		 SOCK_CLOEXEC)) == -1)
		err = errno;
	pthread_mutex_unlock(&accept_lock);
	if (fd == -1) {
		if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
		    err == ENOMEM)
			accept_pause(err);
		return -1;
	}
	if (config_listen_tcp(c) && !peer_allowed(c, &peer, peerlen)) {
		close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		close(fd);
		return -1;
	}
	req->ipcFd = fd;
	req->keepConnection = 1;
	peer_watch_begin(&w->peer, fd);
	return FCGX_Accept_r(req);
}

/*
 * A kept connection (FCGI_KEEP_CONN) between requests: true once the peer
 * sends (or closes), false after PEER_IO_TIMEOUT_S of silence or at
 * shutdown, when an idle connection is closed at once rather than held
 * until its read times out.  A request already there is still served.
 */
static bool
worker_await_kept(int fd)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = stop_pipe[0], .events = POLLIN },
	};
	int n;

	while ((n = poll(pfd, 2, PEER_IO_TIMEOUT_S * 1000)) == -1 &&
	    errno == EINTR)
		;
	return n > 0 && pfd[0].revents != 0;
}

/*
 * Closes a kept connection between requests (its streams and params were
 * freed when its last request finished).  Not FCGX_Free(): libfcgi's close
 * reads until the peer closes too, 2 s per read with no end, which a peer
 * sending a byte now and then would stretch for good.
 */
static void
worker_close_kept(FCGX_Request *req)
{
	close(req->ipcFd);
	req->ipcFd = -1;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	FCGX_Request req;
	int rc;

	if (FCGX_InitRequest(&req, -1, 0) != 0) {
		log_error("worker %u: FCGX_InitRequest failed", w->index);
		atomic_fetch_sub(&workers_running, 1);
		return NULL;
	}
	while (!shutting_down) {
		/* A peer that set FCGI_KEEP_CONN keeps its connection in
		 * req.ipcFd after the answer (libfcgi): its next request is
		 * read there, with the same timeouts.  Accepting over it
		 * would leak it and leave the peer waiting on it for good. */
		if (req.ipcFd >= 0) {
			if (!worker_await_kept(req.ipcFd)) {
				worker_close_kept(&req);
				continue;
			}
			peer_watch_begin(&w->peer, req.ipcFd);
			rc = FCGX_Accept_r(&req);
		} else
			rc = worker_accept(w, &req);
		if (rc < 0) {
			if (req.ipcFd >= 0)
				FCGX_Free(&req, 1);
			peer_watch_end(&w->peer);
			continue; /* one bad connection, not a dead socket */
		}
		request_handle(w, &req);
		peer_watch_end(&w->peer);
	}
	if (req.ipcFd >= 0)
		worker_close_kept(&req);
	FCGX_Free(&req, 0);
	atomic_fetch_sub(&workers_running, 1);
	return NULL;
}

/*
 * The front gives up everything the executor keeps: a root it cannot
 * leave, supplementary groups, gid, uid, and the ability to gain any of
 * them back through exec.  front_user = "" skips this (development only).
 */
static void
front_drop_privileges(const struct config *c)
{
	struct passwd *pw;

	if (c->front_user[0] == '\0') {
		log_warn("front_user is empty: the front keeps the executor's "
			 "privileges (development only)");
		return;
	}
	if ((pw = getpwnam(c->front_user)) == NULL)
		fatal("front_user %s: no such user", c->front_user);
	if (pw->pw_uid == 0)
		fatal("front_user %s is root", c->front_user);
	if (mkdir(c->front_chroot, 0555) == -1 && errno != EEXIST)
		fatal("mkdir %s: %s", c->front_chroot, strerror(errno));
	if (chroot(c->front_chroot) == -1 || chdir("/") == -1)
		fatal("chroot %s: %s", c->front_chroot, strerror(errno));
	if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("dropping to %s: %s", c->front_user, strerror(errno));
	if (setuid(0) != -1)
		fatal("the front could regain root");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("no_new_privs: %s", strerror(errno));
}

/* Once a second: cut the connections of peers past their deadline (peer.c). */
static void
front_sweep_peers(struct worker *workers, unsigned nworkers)
{
	unsigned long long n;
	unsigned i;

	for (i = 0; i < nworkers; i++) {
		if (!peer_watch_sweep(&workers[i].peer))
			continue;
		n = metrics_fcgi_peer_cut();
		if ((n & (n - 1)) == 0)
			log_warn("worker %u: cut a FastCGI peer past its "
				 "deadline (%d s to send a request, %d s to take an "
				 "answer; %llu so far)",
			    i, PEER_REQUEST_S, PEER_ANSWER_S, n);
	}
}

/*
 * Until SIGTERM or SIGINT (false), or until the executor is gone (true,
 * its wait status in *status).  The front cannot start a new executor:
 * it has no root left to exec one with.  Answering 503 for good would
 * hide the failure from a supervisor, so the front stops too (exit 1)
 * and the supervisor (systemd's Restart=, say) starts both again.
 */
static bool
front_wait(sigset_t *sigs, pid_t executor_pid, int *status,
    struct worker *workers, unsigned nworkers)
{
	const struct timespec tick = { .tv_sec = 1 };
	int sig;

	for (;;) {
		/* SIGCHLD may have come and gone before it was blocked. */
		if (waitpid(executor_pid, status, WNOHANG) == executor_pid)
			return true;
		if ((sig = sigtimedwait(sigs, NULL, &tick)) == -1) {
			if (errno == EAGAIN)
				front_sweep_peers(workers, nworkers);
			continue;
		}
		if (sig == SIGCHLD)
			continue;
		if (sig == SIGUSR1 || sig == SIGUSR2) {
			request_set_draining(sig == SIGUSR1);
			log_info("signal %d: %s", sig,
			    sig == SIGUSR1 ?
				"draining: runs and health answer 503 draining, "
				"runs in flight finish" :
				"draining ended: taking runs");
			continue;
		}
		log_info("signal %d", sig);
		return false;
	}
}

static int
front_main(const struct config *c, struct keys *keys, int *fds, pid_t executor_pid)
{
	struct worker *workers;
	pthread_t *threads;
	sigset_t sigs;
	unsigned i;
	bool executor_gone;
	int status = 0;

	log_set_role("front");
	proc_block_signals(&sigs);
	/* The executor's end too (front_wait()), and drain's two signals. */
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (FCGX_Init() != 0)
		fatal("FCGX_Init failed");
	if (pipe2(stop_pipe, O_CLOEXEC) == -1)
		fatal("pipe: %s", strerror(errno));
	front_drop_privileges(c);

	workers = calloc(c->workers, sizeof(*workers));
	threads = calloc(c->workers, sizeof(*threads));
	if (workers == NULL || threads == NULL)
		fatal("out of memory");
	for (i = 0; i < c->workers; i++) {
		workers[i].index = i;
		workers[i].config = c;
		workers[i].keys = keys;
		workers[i].chan = channel_new(fds[i], c);
		peer_watch_init(&workers[i].peer);
		atomic_fetch_add(&workers_running, 1);
		if (workers[i].chan == NULL ||
		    pthread_create(&threads[i], NULL, worker_main,
			&workers[i]) != 0)
			fatal("cannot start worker %u", i);
	}
	free(fds); /* each channel owns its fd now */
	log_info("pycage-fcgi %s listening on %s with %u workers, %u execution "
		 "slots (%u a client's share), a pool of %u, image %s, %zu API "
		 "keys",
	    PACKAGE_VERSION, c->listen, c->workers, c->max_executions,
	    config_client_share(c), c->pool_size, c->image, keys_count(keys));

	if ((executor_gone = front_wait(&sigs, executor_pid, &status, workers,
		 c->workers)))
		log_error("the executor exited (%s %d): stopping, so that a "
			  "supervisor starts both again",
		    WIFEXITED(status) ? "status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else
		log_info("finishing in-flight requests");
	shutting_down = 1;
	FCGX_ShutdownPending();
	shutdown(listen_fd, SHUT_RDWR);
	close(stop_pipe[1]);
	/* The peers of the requests still in flight keep their deadlines. */
	while (atomic_load(&workers_running) > 0) {
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000000L }, NULL);
		front_sweep_peers(workers, c->workers);
	}
	for (i = 0; i < c->workers; i++) {
		pthread_join(threads[i], NULL);
		channel_free(workers[i].chan); /* the executor sees EOF */
	}
	free(workers);
	free(threads);
	keys_free(keys);
	if (executor_gone)
		return 1;
	while (waitpid(executor_pid, &status, 0) == -1 && errno == EINTR)
		;
	log_info("stopped");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "new-key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	static struct config config;
	struct keys *keys = NULL;
	const char *config_path = NULL, *new_key = NULL;
	char err[512];
	bool check_only = false;
	int *front_fds, *executor_fds, pair[2];
	unsigned i;
	pid_t pid;
	int ch;

	proc_tune_malloc();

	while ((ch = getopt_long(argc, argv, "c:t", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			new_key = optarg;
			break;
		case 't':
			check_only = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	config_defaults(&config);
	if (config_path == NULL && access(CONFIG_PATH_DEFAULT, F_OK) == 0)
		config_path = CONFIG_PATH_DEFAULT;
	if (config_path != NULL &&
	    config_load(&config, config_path, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (new_key != NULL) {
		if (config.api_keys_file[0] == '\0')
			fatal("--new-key: set api_keys_file in %s first",
			    config_path != NULL ? config_path :
						  "the configuration");
		if (keys_new(config.api_keys_file, new_key, stdout, err,
			sizeof(err)) == -1)
			fatal("%s", err);
		return 0;
	}
	if (config_load_files(&config, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (access(config.executor_path, X_OK) == -1)
		fatal("executor_path %s: %s", config.executor_path,
		    strerror(errno));
	if (host_check_ids(&config, HOST_SUBUID_PATH, HOST_SUBGID_PATH, err,
		sizeof(err)) == -1)
		fatal("%s", err);
	/* As root, before the chroot (front_drop_privileges()); -t checks it. */
	if (config.api_keys_file[0] != '\0' &&
	    keys_load(&keys, config.api_keys_file, false, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (check_only) {
		keys_free(keys);
		printf("configuration ok\n");
		return 0;
	}
	log_set_level(config.log_level);
	if (config.front_user[0] != '\0' && geteuid() != 0)
		fatal("start as root so the front can drop to %s "
		      "(front_user = \"\" runs unseparated)",
		    config.front_user);

	open_listen_socket(&config);
	front_fds = calloc(config.workers, sizeof(int));
	executor_fds = calloc(config.workers, sizeof(int));
	if (front_fds == NULL || executor_fds == NULL)
		fatal("out of memory");
	for (i = 0; i < config.workers; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == -1)
			fatal("socketpair: %s", strerror(errno));
		front_fds[i] = pair[0];
		executor_fds[i] = pair[1];
	}
	write_pidfile(config.pidfile);

	pid = start_executor(&config, config_path, executor_fds);
	free(executor_fds);
	return front_main(&config, keys, front_fds, pid); /* frees front_fds */
}
