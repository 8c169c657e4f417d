/*
 * executor.c: pycage-executor, the privileged half of pycage (privsep.c
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

#include "pycage.h"

static void
usage(void)
{
	fprintf(stderr, "usage: pycage-executor -n channels [-c config]\n"
	    "  started by pycage-fcgi, with the channels on fds 3, 4, ...\n");
	exit(2);
}

/* ------------------------------------------------------ the channels */

static void
privsep_serve_run(struct executor *ex, struct docker *d, struct privsep_reader *r,
    int fd, struct buf *reply)
{
	const struct config	*c = executor_config(ex);
	struct job_spec		 spec;
	struct job_result	 result;
	struct api_error	 err;
	uint32_t		 code_len, stdin_len;
	char			 head[3], type = PRIVSEP_OK;

	memset(&spec, 0, sizeof(spec));
	memset(&err, 0, sizeof(err));
	job_result_init(&result, c->output_max_bytes);
	spec.timeout_ms = privsep_get_u32(r);
	code_len = privsep_get_u32(r);
	stdin_len = privsep_get_u32(r);
	spec.code = (char *)privsep_get_bytes(r, code_len);
	spec.code_len = code_len;
	spec.stdin_data = (char *)privsep_get_bytes(r, stdin_len);
	spec.stdin_len = stdin_len;
	/* The front checked all this; a front that lies is refused. */
	if (r->bad || r->left != 0 || code_len > c->code_max_bytes ||
	    stdin_len > c->stdin_max_bytes || spec.timeout_ms == 0 ||
	    spec.timeout_ms > c->timeout_max_ms) {
		api_error_set(&err, 500, "internal", "Malformed job from the front.");
		privsep_put_error(reply, &err);
	} else if (job_run(ex, d, &spec, &result, &err) == -1) {
		privsep_put_error(reply, &err);
	} else {
		buf_reset(reply);
		buf_append(reply, &type, 1);
		privsep_put_u32(reply, (uint32_t)result.exit_code);
		head[0] = (char)result.status;
		head[1] = (char)result.stdout_truncated;
		head[2] = (char)result.stderr_truncated;
		buf_append(reply, head, 3);
		privsep_put_u32(reply, (uint32_t)result.duration_ms);
		privsep_put_str(reply, result.stdout_buf.data ? result.stdout_buf.data : "",
		    result.stdout_buf.len);
		privsep_put_str(reply, result.stderr_buf.data ? result.stderr_buf.data : "",
		    result.stderr_buf.len);
	}
	/* Answer first, then remove the container (job.c). */
	if (privsep_send(fd, reply) == -1)
		log_warn("privsep: the front went away mid-job");
	job_finish(ex, d, &result);
	job_result_free(&result);
}

static void
privsep_serve_health(struct executor *ex, struct docker *d, struct buf *reply)
{
	const struct config	*c = executor_config(ex);
	struct api_error	 err;
	char			 version[64], type = PRIVSEP_OK;

	memset(&err, 0, sizeof(err));
	if (docker_ping(d, version, sizeof(version), &err) == -1 ||
	    docker_image_present(d, c->image, &err) == -1 ||
	    janitor_uid_conflict(&err) ||
	    selfcheck_ensure(ex, d, true, &err) == -1) {
		privsep_put_error(reply, &err);
		return;
	}
	buf_reset(reply);
	buf_append(reply, &type, 1);
	privsep_put_u32(reply, executor_running(ex));
	privsep_put_u32(reply, executor_pool_ready(ex));
	privsep_put_str(reply, version, strlen(version));
}

static void
privsep_serve(int fd, struct executor *ex, struct docker *d)
{
	const struct config	*c = executor_config(ex);
	struct buf		 request, reply;
	struct privsep_reader	 r;
	char			 type = PRIVSEP_OK;

	buf_init(&request, privsep_request_max(c));
	buf_init(&reply, privsep_reply_max(c));
	while (privsep_recv(fd, &request) == 0) {
		privsep_reader_init(&r, &request);
		switch (privsep_get_u8(&r)) {
		case PRIVSEP_RUN:
			privsep_serve_run(ex, d, &r, fd, &reply);
			buf_shrink(&request, PRIVSEP_KEEP_BYTES);
			buf_shrink(&reply, PRIVSEP_KEEP_BYTES);
			continue;	/* already answered */
		case PRIVSEP_HEALTH:
			privsep_serve_health(ex, d, &reply);
			break;
		case PRIVSEP_METRICS:
			buf_reset(&reply);
			buf_append(&reply, &type, 1);
			metrics_render_executor(&reply);
			break;
		default:
			log_error("privsep: unknown message from the front");
			goto out;
		}
		if (privsep_send(fd, &reply) == -1)
			break;
		buf_shrink(&request, PRIVSEP_KEEP_BYTES);
		buf_shrink(&reply, PRIVSEP_KEEP_BYTES);
	}
out:
	buf_free(&request);
	buf_free(&reply);
}

/* ----------------------------------------------------------- threads */

struct executor_thread {
	pthread_t	 thread;
	int		 fd;
	struct executor	*executor;
	struct docker	*docker;
};

static void *
executor_thread_main(void *arg)
{
	struct executor_thread *t = arg;

	privsep_serve(t->fd, t->executor, t->docker);
	return NULL;
}

static struct executor_thread	*executor_threads;
static unsigned			 executor_nthreads;

/* SIGTERM straight to the executor: unblock every channel read. */
static void *
executor_signal_main(void *arg)
{
	sigset_t	*sigs = arg;
	unsigned	 i;
	int		 sig;

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
		    "pycage-fcgi, not by hand", fd);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* For the process's life: the pool and janitor threads read it. */
static struct config	config;

int
main(int argc, char **argv)
{
	struct executor	*executor;
	struct docker	*docker;
	struct api_error err;
	pthread_t	 signal_thread;
	sigset_t	 sigs;
	const char	*config_path = NULL;
	char		 msg[512], *end;
	unsigned long	 n;
	unsigned	 i, nchannels = 0;
	int		 ch, removed;

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
	if (config_path != NULL && config_load(&config, config_path, msg,
	    sizeof(msg)) == -1)
		fatal("%s", msg);
	if (config_load_files(&config, msg, sizeof(msg)) == -1)
		fatal("%s", msg);
	log_set_level(config.log_level);
	if (nchannels != config.workers)
		fatal("%u channels for %u workers: %s changed under the front?",
		    nchannels, config.workers, config_path ? config_path : "config");

	proc_block_signals(&sigs);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		fatal("the front is gone");
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		fatal("curl_global_init failed");
	if ((executor = executor_new(&config)) == NULL)
		fatal("cannot set up the executor");
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
	if (selfcheck_ensure(executor, docker, false, &err) == -1)
		log_warn("selfcheck: %s", err.message);
	docker_free(docker);
	if (janitor_start(&config, executor_uids(executor)) == -1 ||
	    executor_start(executor) == -1)
		fatal("cannot start the janitor or the pool");

	executor_nthreads = nchannels;
	if ((executor_threads = calloc(nchannels, sizeof(*executor_threads))) == NULL)
		fatal("out of memory");
	for (i = 0; i < nchannels; i++) {
		executor_threads[i].fd = PRIVSEP_FIRST_FD + (int)i;
		executor_threads[i].executor = executor;
		executor_threads[i].docker = docker_new(config.docker_socket,
		    config.docker_call_timeout_ms);
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
	executor_free(executor);	/* empties the pool */
	if (config.listen[0] == '/')
		unlink(config.listen);
	if (config.pidfile[0] != '\0')
		unlink(config.pidfile);
	free(executor_threads);
	curl_global_cleanup();
	log_info("stopped");
	return 0;
}
