/*
 * main.c: pycage-fcgi start-up and shutdown: configuration, the listening
 * socket, the janitor, a fixed set of worker threads, and signals.
 * Everything that can fail at start fails here, loudly, before the first
 * request (STYLE.md point 4).
 *
 * Threads: N workers, each with its own engine connection, take turns in
 * FCGX_Accept_r (serialised by a mutex, as libfcgi's threaded example
 * does) and run one request at a time; the janitor sweeps leftovers; the
 * main thread waits for SIGTERM/SIGINT, then shuts the listening socket so
 * blocked accepts return, and lets in-flight requests finish.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "pycage.h"

#define LISTEN_BACKLOG		128
/* A peer that stalls mid-request (params or body) frees its worker after
 * this long; accepted sockets inherit it from the listening socket. */
#define PEER_IO_TIMEOUT_S	15

static pthread_mutex_t	accept_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int	shutting_down;
static int		listen_fd = -1;

static void
usage(void)
{
	fprintf(stderr, "usage: pycage-fcgi [-t] [-c config]\n"
	    "  -c FILE  configuration (default " CONFIG_PATH_DEFAULT ")\n"
	    "  -t       check the configuration and exit\n");
	exit(2);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	FCGX_Request	 req;

	if (FCGX_InitRequest(&req, listen_fd, 0) != 0) {
		log_error("worker %u: FCGX_InitRequest failed", w->index);
		return NULL;
	}
	while (!shutting_down) {
		int rc;

		pthread_mutex_lock(&accept_lock);
		rc = shutting_down ? -1 : FCGX_Accept_r(&req);
		pthread_mutex_unlock(&accept_lock);
		if (rc < 0) {
			if (shutting_down)
				break;
			continue;	/* one bad connection, not a dead socket */
		}
		request_handle(w, &req);
	}
	FCGX_Free(&req, 1);
	return NULL;
}

static void
open_listen_socket(const struct config *c)
{
	struct timeval	 tv = { .tv_sec = PEER_IO_TIMEOUT_S };
	bool		 is_unix = c->listen[0] == '/';
	struct group	*gr;

	if (is_unix && unlink(c->listen) == -1 && errno != ENOENT)
		fatal("%s: %s", c->listen, strerror(errno));
	if ((listen_fd = FCGX_OpenSocket(c->listen, LISTEN_BACKLOG)) < 0)
		fatal("cannot listen on %s", c->listen);
	if (setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		fatal("setsockopt: %s", strerror(errno));
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

int
main(int argc, char **argv)
{
	static struct config	 config;
	const char		*config_path = NULL;
	struct executor		*executor;
	struct worker		*workers;
	struct docker		*docker;
	pthread_t		*threads;
	sigset_t		 sigs;
	struct api_error	 api_err;
	char			 err[512];
	bool			 check_only = false;
	unsigned		 i;
	int			 ch, sig, removed;

	while ((ch = getopt(argc, argv, "c:t")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
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
	if (config_path != NULL && config_load(&config, config_path, err,
	    sizeof(err)) == -1)
		fatal("%s", err);
	if (config_load_files(&config, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (check_only) {
		printf("configuration ok\n");
		return 0;
	}
	log_set_level(config.log_level);

	/* Signals: SIGPIPE off (a client that left must not kill us); TERM
	 * and INT blocked in every thread and taken by sigwait below. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		fatal("curl_global_init failed");
	if (FCGX_Init() != 0)
		fatal("FCGX_Init failed");
	if ((executor = executor_new(&config)) == NULL)
		fatal("cannot build the container template");

	/* Leftovers of a previous process of ours, before we make any. */
	if ((docker = docker_new(config.docker_socket,
	    config.docker_call_timeout_ms)) == NULL)
		fatal("out of memory");
	if ((removed = janitor_sweep(docker, &config, true)) == -1)
		log_warn("janitor: engine unreachable at start; will retry");
	else if (removed > 0)
		log_info("janitor: removed %d leftover containers", removed);
	/* Prove the limits apply before the first request; if the engine or
	 * image is not there yet, the first request or health check retries. */
	if (selfcheck_ensure(executor, docker, false, &api_err) == -1)
		log_warn("selfcheck: %s", api_err.message);
	docker_free(docker);

	open_listen_socket(&config);
	write_pidfile(config.pidfile);
	if (janitor_start(&config) == -1)
		fatal("cannot start the janitor");
	if (executor_start(executor) == -1)
		fatal("cannot start the pool");

	workers = calloc(config.workers, sizeof(*workers));
	threads = calloc(config.workers, sizeof(*threads));
	if (workers == NULL || threads == NULL)
		fatal("out of memory");
	for (i = 0; i < config.workers; i++) {
		workers[i].index = i;
		workers[i].config = &config;
		workers[i].executor = executor;
		workers[i].docker = docker_new(config.docker_socket,
		    config.docker_call_timeout_ms);
		if (workers[i].docker == NULL ||
		    pthread_create(&threads[i], NULL, worker_main, &workers[i]) != 0)
			fatal("cannot start worker %u", i);
	}
	log_info("pycage-fcgi %s listening on %s with %u workers, %u execution "
	    "slots, a pool of %u, image %s", PACKAGE_VERSION, config.listen,
	    config.workers, config.max_executions, config.pool_size, config.image);

	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("signal %d: finishing in-flight requests", sig);
	shutting_down = 1;
	FCGX_ShutdownPending();
	shutdown(listen_fd, SHUT_RDWR);
	for (i = 0; i < config.workers; i++) {
		pthread_join(threads[i], NULL);
		docker_free(workers[i].docker);
	}
	janitor_stop();
	executor_free(executor);	/* empties the pool */
	if (config.listen[0] == '/')
		unlink(config.listen);
	if (config.pidfile[0] != '\0')
		unlink(config.pidfile);
	free(workers);
	free(threads);
	free(config.seccomp_json);
	curl_global_cleanup();
	log_info("stopped");
	return 0;
}
