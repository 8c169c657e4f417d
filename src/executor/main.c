/*
 * main.c: pycage-executor, the privileged half of pycage (privsep.h
 * explains the split).  pycage-fcgi's start-up forks and execs it as root
 * with one channel per front worker on fds 3, 4, ...; nothing else starts
 * it.  It keeps the Docker socket: sweeps leftovers, runs the self-check,
 * starts the janitor and the pool, and answers each channel on a thread
 * of its own with that thread's engine connection.
 *
 * Shutdown: when the front closes the channels (or dies: EOF, and
 * PR_SET_PDEATHSIG), or on SIGTERM/SIGINT straight to this process, the
 * threads finish, the pool is emptied, and the socket and pidfile are
 * removed.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "executor.h"
#include "privsep.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pycage-executor -n channels [-c config]\n"
	    "  started by pycage-fcgi, with the channels on fds 3, 4, ...\n");
	exit(2);
}

/* ------------------------------------------------------ the channels */

/* An error reply; one that cannot be packed leaves the reply empty, which
 * the front reads as malformed (500 internal). */
static void
executor_reply_error(struct buf *reply, const struct api_error *err)
{
	struct api_error e = *err;

	api_error_normalize(&e);
	if (privsep_pack_error(reply, &e) == -1)
		log_error("privsep: could not pack an error reply");
}

/* A RUN: the job, its answer, then the container's removal. */
static void
executor_serve_run(struct executor *ex, struct docker *d,
    const struct job_spec *spec, int fd, struct buf *reply)
{
	const struct config *c = executor_config(ex);
	struct job job;
	struct api_error err;

	api_error_init(&err);
	job_init(&job, c->output_max_bytes);
	/* The admission gate: no run while another instance's uids overlap
	 * ours or the last self-check saw a limit not apply. */
	if (janitor_uid_conflict(&err) ||
	    selfcheck_ensure(ex, d, false, &err) == -1 ||
	    job_run(ex, d, spec, &job, &err) == -1)
		executor_reply_error(reply, &err);
	else if (privsep_pack_result(reply, &job.result) == -1) {
		api_error_set(&err, 500, "internal",
		    "The answer is over the channel's cap.");
		executor_reply_error(reply, &err);
	}
	/* Answer first, then remove the container (job.c). */
	if (privsep_send(fd, reply) == -1)
		log_warn("privsep: the front went away mid-job");
	job_finish(ex, d, &job);
	job_free(&job);
}

static void
executor_serve_health(struct executor *ex, struct docker *d, struct buf *reply)
{
	const struct config *c = executor_config(ex);
	struct api_error err;
	char version[PRIVSEP_VERSION_MAX];

	api_error_init(&err);
	if (docker_ping(d, version, sizeof(version), &err) == -1 ||
	    docker_image_present(d, c->image, &err) == -1 ||
	    docker_engine_troubled(&err) || janitor_uid_conflict(&err) ||
	    selfcheck_ensure(ex, d, true, &err) == -1)
		executor_reply_error(reply, &err);
	else if (privsep_pack_health(reply, executor_running(ex),
		     executor_pool_ready(ex), version) == -1) {
		api_error_set(&err, 500, "internal",
		    "Could not pack the health reply.");
		executor_reply_error(reply, &err);
	}
}

/* GET /v1/runtime's image part: what the last self-check read from
 * `pycage-runner --describe` in the real image (selfcheck.c). */
static void
executor_serve_runtime(struct buf *reply)
{
	struct runtime_info *rt = calloc(1, sizeof(*rt));
	struct api_error err;

	api_error_init(&err);
	if (rt == NULL)
		executor_reply_error(reply, &err);
	else {
		selfcheck_runtime(rt);
		if (privsep_pack_runtime(reply, rt) == -1) {
			api_error_set(&err, 500, "internal",
			    "Could not pack the runtime reply.");
			executor_reply_error(reply, &err);
		}
	}
	free(rt);
}

/*
 * Answers one channel until the front closes it.  What the front sends is
 * the root process's only input from another process: it is read by
 * privsep_unpack_request() alone, which checks it against this process's
 * own limits; a malformed message is answered 500 internal.
 */
static void
executor_serve(int fd, struct executor *ex, struct docker *d)
{
	const struct config *c = executor_config(ex);
	struct buf request, reply;
	struct job_spec spec;
	struct api_error err;

	buf_init(&request, privsep_request_max(c));
	buf_init(&reply, privsep_reply_max(c));
	while (privsep_recv(fd, &request) == 0) {
		api_error_init(&err);
		switch (privsep_unpack_request(&request, c, &spec, &err)) {
		case PRIVSEP_RUN:
			executor_serve_run(ex, d, &spec, fd, &reply);
			buf_shrink(&request, PRIVSEP_KEEP_BYTES);
			buf_shrink(&reply, PRIVSEP_KEEP_BYTES);
			continue; /* already answered */
		case PRIVSEP_HEALTH:
			executor_serve_health(ex, d, &reply);
			break;
		case PRIVSEP_RUNTIME:
			executor_serve_runtime(&reply);
			break;
		case PRIVSEP_METRICS:
			if (privsep_pack_metrics(&reply) == -1) {
				api_error_set(&err, 500, "internal",
				    "Metrics over their cap.");
				executor_reply_error(&reply, &err);
			}
			break;
		default:
			/* A front that lies gets 500s; the channel goes on. */
			log_error("privsep: malformed message from the front");
			executor_reply_error(&reply, &err);
			break;
		}
		if (privsep_send(fd, &reply) == -1)
			break;
		buf_shrink(&request, PRIVSEP_KEEP_BYTES);
		buf_shrink(&reply, PRIVSEP_KEEP_BYTES);
	}
	buf_free(&request);
	buf_free(&reply);
}

/* ----------------------------------------------------------- threads */

struct executor_thread {
	pthread_t thread;
	int fd;
	struct executor *executor;
	struct docker *docker;
};

static void *
executor_thread_main(void *arg)
{
	struct executor_thread *t = arg;

	executor_serve(t->fd, t->executor, t->docker);
	return NULL;
}

static struct executor_thread *executor_threads;
static unsigned executor_nthreads;

/* SIGTERM straight to the executor: unblock every channel read. */
static void *
executor_signal_main(void *arg)
{
	sigset_t *sigs = arg;
	unsigned i;
	int sig;

	while (sigwait(sigs, &sig) != 0)
		;
	log_info("signal %d: executor stopping", sig);
	for (i = 0; i < executor_nthreads; i++)
		shutdown(executor_threads[i].fd, SHUT_RDWR);
	return NULL;
}

/* A channel from the front: an open socket at the fd it was given. */
static void
check_channel(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		fatal("fd %d is not a channel: pycage-executor is started by "
		      "pycage-fcgi, not by hand",
		    fd);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* For the process's life: the pool and janitor threads read it. */
static struct config config;

int
main(int argc, char **argv)
{
	struct executor *executor;
	struct docker *docker;
	struct api_error err;
	pthread_t signal_thread;
	sigset_t sigs;
	const char *config_path = NULL;
	char msg[512], *end;
	unsigned long n;
	unsigned i, nchannels = 0;
	int ch, removed;

	proc_tune_malloc();
	log_set_role("executor");
	while ((ch = getopt(argc, argv, "c:n:")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n > 256)
				usage();
			nchannels = (unsigned)n;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || nchannels == 0)
		usage();
	for (i = 0; i < nchannels; i++)
		check_channel(PRIVSEP_FIRST_FD + (int)i);
	/* The front's own reading of the same file, a moment ago. */
	config_defaults(&config);
	if (config_path != NULL &&
	    config_load(&config, config_path, msg, sizeof(msg)) == -1)
		fatal("%s", msg);
	if (config_load_files(&config, msg, sizeof(msg)) == -1 ||
	    docker_check_tls_files(&config, msg, sizeof(msg)) == -1)
		fatal("%s", msg);
	log_set_level(config.log_level);
	if (nchannels != config.workers)
		fatal("%u channels for %u workers: %s changed under the front?",
		    nchannels, config.workers,
		    config_path ? config_path : "config");

	proc_block_signals(&sigs);
	/* Drain's signals are the front's (src/front/main.c): one sent to the
	 * whole process group must not end the executor. */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		fatal("the front is gone");
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		fatal("curl_global_init failed");
	container_cpus_init();
	if ((executor = executor_new(&config)) == NULL)
		fatal("cannot set up the executor");
	/* Leftovers of a previous process of ours, before we make any. */
	if ((docker = docker_open(&config)) == NULL)
		fatal("out of memory");
	janitor_use_uids(executor_uids(executor));
	/* The instance's lock first: the sweep removes every container of the
	 * instance, which must not be another live responder's (lock.c). */
	switch (lock_take(docker, &config, msg, sizeof(msg))) {
	case -1:
		fatal("%s", msg);
	case 1:
		log_warn("%s; starting without the lock or the start-up sweep",
		    msg);
		break;
	default:
		if ((removed = janitor_sweep(docker, &config, true)) == -1)
			log_warn(
			    "janitor: engine unreachable at start; will retry");
		else if (removed > 0)
			log_info("janitor: removed %d leftover containers",
			    removed);
	}
	/* Prove the limits apply before the first request; if the engine or
	 * image is not there yet, the first request or health check retries. */
	if (selfcheck_ensure(executor, docker, false, &err) == -1)
		log_warn("selfcheck: %s", err.message);
	docker_free(docker);
	if (janitor_start(&config, executor_uids(executor)) == -1 ||
	    executor_start(executor) == -1)
		fatal("cannot start the janitor or the pool");

	executor_nthreads = nchannels;
	if ((executor_threads = calloc(nchannels, sizeof(*executor_threads))) ==
	    NULL)
		fatal("out of memory");
	for (i = 0; i < nchannels; i++) {
		executor_threads[i].fd = PRIVSEP_FIRST_FD + (int)i;
		executor_threads[i].executor = executor;
		executor_threads[i].docker = docker_open(&config);
		if (executor_threads[i].docker == NULL ||
		    pthread_create(&executor_threads[i].thread, NULL,
			executor_thread_main, &executor_threads[i]) != 0)
			fatal("cannot start executor thread %u", i);
	}
	if (pthread_create(&signal_thread, NULL, executor_signal_main, &sigs) != 0)
		fatal("cannot start the signal thread");
	pthread_detach(signal_thread);

	for (i = 0; i < nchannels; i++) {
		pthread_join(executor_threads[i].thread, NULL);
		docker_free(executor_threads[i].docker);
		close(executor_threads[i].fd);
	}
	janitor_stop();
	selfcheck_wait_idle();
	executor_free(executor); /* empties the pool */
	if ((docker = docker_open(&config)) != NULL) {
		lock_release(docker);
		docker_free(docker);
	}
	if (config.listen[0] == '/')
		unlink(config.listen);
	if (config.pidfile[0] != '\0')
		unlink(config.pidfile);
	free(executor_threads);
	curl_global_cleanup();
	log_info("stopped");
	return 0;
}
