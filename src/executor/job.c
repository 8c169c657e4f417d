/*
 * job.c: one execution, end to end, in a fresh single-use container:
 * take a slot -> take a pre-started container from the pool (pool.c) or
 * create -> attach -> start one cold -> write the request to the
 * runner's stdin (header, code, stdin; runner/runner.c documents the
 * format) -> read framed output into two capped buffers until the stream
 * ends, the host's deadline passes or a cap is hit -> kill if needed ->
 * wait -> inspect -> verdict.  The container is removed by job_finish()
 * after the answer is written, on every path.
 *
 * The verdict is the keeper's (isolate's rule): the host's own deadline
 * (timeout), the host's own cap (output_limit), the engine's OOMKilled flag
 * or its "oom" event (oom), the exit status (ok or error).  The exit
 * status comes from the runner's exit record when it arrives on both
 * streams: a line carrying a random per-run nonce that the runner writes
 * after the program ended, so the answer does not wait ~40 ms for the
 * container to stop (docs/FIELD-NOTES.md).
 * Ordinary output cannot fake it without the nonce; a program that digs
 * the nonce out of the runner's memory can only mislead its own answer,
 * and the container is removed regardless.  Without a record (killed, OOM,
 * fds closed) the engine's wait + inspect decide.  "The sandbox failed"
 * (engine down, image missing, a limit not applied, the runner's own 125
 * or 126 with no record) is -1 with an api_error, never a program result.
 *
 * Slots and fair shares (issue 19).  max_executions slots; a job waits for
 * one at most queue_wait_ms.  Each job belongs to a client: its API key's
 * name, else its peer's address (the front sends it, privsep.c).  A freed
 * slot goes to a waiting client under its share (client_share, by default
 * half the slots) before anyone over it, and among those to the client
 * served longest ago, so waiting clients take turns rather than the first
 * comer's backlog going first.  A client over its share still gets a free
 * slot while nobody under theirs waits (one client alone keeps most of
 * the throughput), but never the last free one: that stays for whoever
 * comes next, so a client holding long runs cannot make a newcomer wait
 * for one of them to end (tests/integration/test_keys.py, its starvation
 * case: with first-come slots the newcomer's print(1+1) waited 17.5 s).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "executor.h"

#define JOB_READ_CHUNK_BYTES 65536
#define JOB_STOP_WAIT_MS 10000 /* kill -> stopped, generously */
#define JOB_EXIT_WAIT_MS 2000  /* exit record -> stopped; see job_finish() */
#define JOB_NONCE_BYTES 16     /* 32 hex characters on the wire */
/* The engine's exit code for a process killed by SIGKILL (128 + 9): the
 * kernel's OOM killer's signal, and ours. */
#define JOB_EXIT_KILLED (128 + SIGKILL)
#define JOB_EXIT_TERM (128 + SIGTERM)
#define JOB_OOM_RECHECKS 10 /* x 200 ms: see job_execute() */
#define JOB_OOM_RECHECK_NS 200000000L
#define JOB_USAGE_SAMPLE_MS 100 /* cgroup counters read while running */

/* A client with a job running or waiting; name "" is a free entry. */
struct job_client {
	char name[JOB_CLIENT_MAX];
	unsigned running;
	unsigned waiting;
	unsigned long long served; /* the turn it last got a slot */
};

/* A job waiting for a slot, on its own thread's stack. */
struct job_waiter {
	struct job_waiter *next;
	struct job_client *client;
	unsigned long long ticket; /* arrival order */
	bool granted;
};

struct executor {
	const struct config *config;
	pthread_mutex_t slot_lock; /* the fields down to turns */
	pthread_cond_t slot_cond;  /* a waiter was granted */
	unsigned free_slots;
	unsigned share;             /* config_client_share() */
	struct job_waiter *waiters; /* in arrival order */
	unsigned nwaiting;
	/* One per executor thread: a thread runs or waits one job at once. */
	struct job_client *clients;
	unsigned nclients;
	unsigned long long tickets, turns;
	atomic_uint running;
	/* Running, plus waiting while no slot is free: the pool refills only
	 * below max_executions (pool.c). */
	atomic_uint wanted;
	struct uid_pool *uids;
	struct pool *pool; /* NULL when pool_size is 0 */
};

struct executor *
executor_new(const struct config *config)
{
	struct executor *ex;
	pthread_condattr_t attr;

	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return NULL;
	ex->config = config;
	ex->free_slots = config->max_executions;
	ex->share = config_client_share(config);
	ex->nclients = config->workers;
	/* The wait's deadline is on the monotonic clock: a step of the wall
	 * clock neither ends it early nor stretches it. */
	if (pthread_condattr_init(&attr) != 0) {
		free(ex);
		return NULL;
	}
	(void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	(void)pthread_mutex_init(&ex->slot_lock, NULL);
	if (pthread_cond_init(&ex->slot_cond, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		free(ex);
		return NULL;
	}
	pthread_condattr_destroy(&attr);
	/* Every live container: running jobs, pool, self-checks, removals. */
	ex->uids = uid_pool_new(config->uid_base, config_uid_count(config));
	if (ex->uids == NULL ||
	    (ex->clients = calloc(ex->nclients, sizeof(*ex->clients))) == NULL ||
	    (config->pool_size > 0 &&
		(ex->pool = pool_new(config, ex->uids, &ex->wanted)) == NULL)) {
		uid_pool_free(ex->uids);
		free(ex->clients);
		pthread_cond_destroy(&ex->slot_cond);
		pthread_mutex_destroy(&ex->slot_lock);
		free(ex);
		return NULL;
	}
	return ex;
}

int
executor_start(struct executor *ex)
{
	return ex->pool != NULL ? pool_start(ex->pool) : 0;
}

void
executor_free(struct executor *ex)
{
	if (ex == NULL)
		return;
	pool_free(ex->pool);
	pthread_cond_destroy(&ex->slot_cond);
	pthread_mutex_destroy(&ex->slot_lock);
	free(ex->clients);
	uid_pool_free(ex->uids);
	free(ex);
}

unsigned
executor_running(struct executor *ex)
{
	return atomic_load(&ex->running);
}

unsigned
executor_pool_ready(struct executor *ex)
{
	return ex->pool != NULL ? pool_ready(ex->pool) : 0;
}

/* With slot_lock held: the client's entry, made if new; NULL if every
 * entry is taken (cannot happen: one thread, one job). */
static struct job_client *
job_client_get(struct executor *ex, const char *name)
{
	struct job_client *spare = NULL;
	unsigned i;

	for (i = 0; i < ex->nclients; i++) {
		if (strcmp(ex->clients[i].name, name) == 0)
			return &ex->clients[i];
		if (spare == NULL && ex->clients[i].name[0] == '\0')
			spare = &ex->clients[i];
	}
	if (spare != NULL) {
		memset(spare, 0, sizeof(*spare));
		snprintf(spare->name, sizeof(spare->name), "%s", name);
	}
	return spare;
}

/* With slot_lock held: an entry with nothing running or waiting is free. */
static void
job_client_put(struct job_client *c)
{
	if (c->running == 0 && c->waiting == 0)
		c->name[0] = '\0';
}

/*
 * With slot_lock held: hands free slots to waiters (the rule is at the
 * top of this file), wakes them, and updates what the pool reads.
 */
static void
job_dispatch(struct executor *ex)
{
	struct job_waiter *w, *best;
	bool under, best_under = false, woke = false;

	while (ex->free_slots > 0) {
		best = NULL;
		for (w = ex->waiters; w != NULL; w = w->next) {
			if (w->granted)
				continue;
			under = w->client->running < ex->share;
			if (!under && ex->free_slots < 2)
				continue;
			if (best == NULL || (under && !best_under) ||
			    (under == best_under &&
				(w->client->served < best->client->served ||
				    (w->client->served == best->client->served &&
					w->ticket < best->ticket)))) {
				best = w;
				best_under = under;
			}
		}
		if (best == NULL)
			break;
		best->granted = true;
		best->client->running++;
		best->client->waiting--;
		best->client->served = ++ex->turns;
		ex->free_slots--;
		ex->nwaiting--;
		woke = true;
	}
	if (woke)
		pthread_cond_broadcast(&ex->slot_cond);
	atomic_store(&ex->wanted,
	    ex->config->max_executions - ex->free_slots +
		(ex->free_slots == 0 ? ex->nwaiting : 0));
}

/* With slot_lock held. */
static void
job_waiter_unlink(struct executor *ex, struct job_waiter *me)
{
	struct job_waiter **pp;

	for (pp = &ex->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == me) {
			*pp = me->next;
			return;
		}
}

/*
 * Waits up to queue_wait_ms for an execution slot: past that the answer
 * is 503 busy, so a flood queues boundedly instead of piling containers
 * onto the engine.
 */
static int
job_take_slot(struct executor *ex, const struct job_spec *spec, struct job *j,
    struct api_error *err)
{
	struct job_waiter me = { 0 }, **tail;
	struct timespec deadline;
	int rc = 0;

	clock_after(&deadline, CLOCK_MONOTONIC, ex->config->queue_wait_ms);
	pthread_mutex_lock(&ex->slot_lock);
	if ((me.client = job_client_get(ex,
		 spec->client[0] != '\0' ? spec->client : "-")) == NULL) {
		pthread_mutex_unlock(&ex->slot_lock);
		api_error_set(err, 500, "internal", "No room to queue the job.");
		return -1;
	}
	me.client->waiting++;
	me.ticket = ++ex->tickets;
	for (tail = &ex->waiters; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = &me;
	ex->nwaiting++;
	job_dispatch(ex);
	while (!me.granted && rc == 0) /* ETIMEDOUT, or never EINTR */
		rc = pthread_cond_timedwait(&ex->slot_cond, &ex->slot_lock,
		    &deadline);
	job_waiter_unlink(ex, &me);
	if (!me.granted) {
		me.client->waiting--;
		ex->nwaiting--;
		job_client_put(me.client);
		job_dispatch(ex);
		pthread_mutex_unlock(&ex->slot_lock);
		api_error_set(err, 503, "busy",
		    "Every execution slot stayed "
		    "busy for %u ms; retry later.",
		    ex->config->queue_wait_ms);
		err->retry_after_s = RETRY_AFTER_BUSY_S;
		return -1;
	}
	pthread_mutex_unlock(&ex->slot_lock);
	atomic_fetch_add(&ex->running, 1);
	j->holds_slot = true;
	j->client = me.client;
	return 0;
}

/* What the host saw while the program ran. */
struct job_io {
	bool timed_out;
	bool capped;
};

/* A fresh random nonce for the run's exit record, as hex. */
static int
job_nonce(char nonce[2 * JOB_NONCE_BYTES + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[JOB_NONCE_BYTES];
	int i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (i = 0; i < JOB_NONCE_BYTES; i++) {
		nonce[2 * i] = hex[raw[i] >> 4];
		nonce[2 * i + 1] = hex[raw[i] & 15];
	}
	nonce[2 * JOB_NONCE_BYTES] = '\0';
	return 0;
}

/*
 * Writes the request and reads the output until the stream ends, the
 * deadline passes or a cap is hit.  Output is read while the request is
 * still being written, so neither side can block the other.
 */
static void
job_pump(struct docker_attach *a, const struct buf *request,
    unsigned timeout_ms, struct job_result *r, struct record_watch *watch,
    struct job_io *io, struct usage_probe *usage)
{
	long sampled = 0;
	struct stream_demux demux;
	struct pollfd pfd;
	struct timespec start;
	const char *early;
	char chunk[JOB_READ_CHUNK_BYTES];
	size_t sent = 0, n;
	size_t cap[2] = { r->stdout_buf.cap_bytes, r->stderr_buf.cap_bytes },
	       program;
	long got, left;

	/* stdout also carries the runner's data record (record.c). */
	r->stdout_buf.cap_bytes += PROTOCOL_EXIT_RECORD_MAX_BYTES +
	    PROTOCOL_DATA_HEADER_MAX_BYTES + PROTOCOL_DATA_MAX_BYTES;
	r->stderr_buf.cap_bytes += PROTOCOL_EXIT_RECORD_MAX_BYTES;
	stream_demux_init(&demux, &r->stdout_buf, &r->stderr_buf);
	clock_gettime(CLOCK_MONOTONIC, &start);
	if ((n = docker_attach_take_early(a, &early)) > 0 &&
	    stream_demux_feed(&demux, early, n))
		io->capped = true;
	pfd.fd = docker_attach_fd(a);
	while (!io->capped && !record_watch_done(watch)) {
		if ((left = (long)timeout_ms - clock_ms_since(&start)) <= 0) {
			io->timed_out = true;
			break;
		}
		if (clock_ms_since(&start) - sampled >= JOB_USAGE_SAMPLE_MS) {
			usage_sample(usage);
			sampled = clock_ms_since(&start);
		}
		if (left > JOB_USAGE_SAMPLE_MS)
			left = JOB_USAGE_SAMPLE_MS;
		pfd.events = POLLIN | (sent < request->len ? POLLOUT : 0);
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			break;
		if (sent < request->len && (pfd.revents & (POLLOUT | POLLERR))) {
			got = docker_attach_send(a, request->data + sent,
			    request->len - sent);
			if (got == DOCKER_AGAIN)
				got = 0;
			if (got < 0)
				sent = request->len; /* runner gone: just read */
			else
				sent += (size_t)got;
			if (sent == request->len)
				docker_attach_close_write(a);
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		got = docker_attach_recv(a, chunk, sizeof(chunk));
		if (got == DOCKER_AGAIN)
			continue;
		if (got <= 0)
			break; /* end of stream: the program exited */
		if (stream_demux_feed(&demux, chunk, (size_t)got))
			io->capped = true;
		record_watch_scan_data(watch, &r->stdout_buf);
		record_watch_scan(watch, 0, &r->stdout_buf);
		record_watch_scan(watch, 1, &r->stderr_buf);
		if (record_over_cap(watch, 0, &r->stdout_buf, cap[0], &program) ||
		    record_over_cap(watch, 1, &r->stderr_buf, cap[1], &program))
			io->capped = true;
	}
	r->duration_ms = clock_ms_since(&start);
	r->stdout_truncated = demux.truncated[0];
	r->stderr_truncated = demux.truncated[1];
	if (record_cap_stream(&r->stdout_buf, &r->stdout_truncated, watch, 0,
		cap[0]))
		io->capped = true;
	if (record_cap_stream(&r->stderr_buf, &r->stderr_truncated, watch, 1,
		cap[1]))
		io->capped = true;
	if (demux.bad_type)
		log_warn("job: unknown frame type in the attach stream");
}

/* The runner's request: header, code, stdin, then each file as
 * "NAME SIZE\n" and its bytes (runner/protocol.h); files_max caps the
 * files the runner sends back. */
static int
job_request_bytes(const struct job_spec *spec, const char *nonce,
    size_t files_max, struct buf *request)
{
	char header[PROTOCOL_HEADER_MAX_BYTES + 1];
	char line[PROTOCOL_FILE_NAME_MAX_BYTES + 24];
	size_t files_len = 0, i;
	int n;

	for (i = 0; i < spec->nfiles; i++) {
		n = snprintf(line, sizeof(line), "%s %zu\n",
		    spec->files[i].name, spec->files[i].len);
		if (n < 0 || (size_t)n >= sizeof(line))
			return -1;
		files_len += (size_t)n + spec->files[i].len;
	}
	if ((n = protocol_format_header_files(header, sizeof(header),
		 spec->code_len, spec->stdin_len, files_len, files_max,
		 nonce)) == -1)
		return -1;
	if (buf_append(request, header, (size_t)n) == -1 ||
	    buf_append(request, spec->code, spec->code_len) == -1 ||
	    buf_append(request, spec->stdin_data, spec->stdin_len) == -1)
		return -1;
	for (i = 0; i < spec->nfiles; i++) {
		n = snprintf(line, sizeof(line), "%s %zu\n",
		    spec->files[i].name, spec->files[i].len);
		if (n < 0 || (size_t)n >= sizeof(line) ||
		    buf_append(request, line, (size_t)n) == -1 ||
		    buf_append(request, spec->files[i].data,
			spec->files[i].len) == -1)
			return -1;
	}
	return 0;
}

/* The verdict once the program's end was seen, by record or by the engine. */
static void
job_verdict(struct job_result *r, const struct job_io *io, bool oom)
{
	if (io->timed_out)
		r->status = JOB_TIMEOUT;
	else if (io->capped)
		r->status = JOB_OUTPUT_LIMIT;
	else if (oom)
		r->status = JOB_OOM;
	else
		r->status = r->exit_code == 0 ? JOB_OK : JOB_ERROR;
}

/* entrypoint NULL: a user's job (the pool may serve it); else selfcheck.c's. */
static int
job_execute(struct executor *ex, struct docker *d, const struct job_spec *spec,
    const char *const *entrypoint, struct job *j, struct api_error *err)
{
	struct job_result *r = &j->result;
	struct record_watch watch;
	struct usage_probe usage;
	struct buf request;
	struct job_io io = { false, false };
	char nonce[2 * JOB_NONCE_BYTES + 1];
	struct timespec phase;
	struct timespec recheck = { 0, JOB_OOM_RECHECK_NS };
	bool oom = false;
	int rc = -1, i;
	/* Events of this run are newer; a pool container's start is older. */
	long long since = (long long)time(NULL) - 1;

	buf_init(&request,
	    PROTOCOL_HEADER_MAX_BYTES + spec->code_len + spec->stdin_len +
		PROTOCOL_FILES_LIST_MAX_BYTES);
	if (job_nonce(nonce) == -1 ||
	    job_request_bytes(spec, nonce, ex->config->files_max_bytes,
		&request) == -1) {
		api_error_set(err, 500, "internal",
		    "Could not build the request.");
		goto out;
	}
	record_watch_init(&watch, nonce);
	clock_gettime(CLOCK_MONOTONIC, &phase);
	if (entrypoint == NULL && ex->pool != NULL &&
	    pool_take(ex->pool, d, &j->container) == 0)
		metrics_count(METRIC_POOL_HITS);
	else {
		struct container_want want = { .config = ex->config,
			.uids = ex->uids,
			.preload = "",
			.entrypoint = entrypoint };

		metrics_count(METRIC_COLD_STARTS);
		if (container_start(&j->container, d, &want, err) == -1)
			goto out;
	}
	metrics_observe(METRIC_PHASE_ACQUIRE, clock_ms_since(&phase));
	if (r->usage.queue_ms >= 0)
		r->usage.queue_ms += clock_ms_since(&phase);
	usage_begin(&usage, j->container.container_id);
	job_pump(j->container.attach, &request, spec->timeout_ms, r, &watch,
	    &io, &usage);
	/* Before a kill, and while the cgroup still exists (usage.c). */
	usage_end(&usage, &r->usage);
	metrics_observe(METRIC_PHASE_RUN, r->duration_ms);
	docker_attach_free(j->container.attach);
	j->container.attach = NULL;
	if (record_watch_done(&watch) && !io.timed_out && !io.capped) {
		/* The program is over; job_finish() kills what is left. */
		record_take_data(&watch, &r->stdout_buf, watch.at[0], &r->data);
		r->stdout_buf.len = r->stdout_buf.len < watch.at[0] ?
		    r->stdout_buf.len :
		    watch.at[0];
		r->stderr_buf.len = watch.at[1];
		r->exit_code = watch.code;
		j->exiting = true;
		job_verdict(r, &io, false);
		rc = 0;
		goto out;
	}
	if (io.timed_out || io.capped)
		docker_kill(d, j->container.container_id);
	api_error_init(err);
	if (docker_wait(d, j->container.container_id, JOB_STOP_WAIT_MS, err) ==
	    -1) {
		/* The engine gone (dockerd killed mid-run) is a 503 that says
		 * so; a container that does not stop is the sandbox failing. */
		if (err->http_status != 503)
			api_error_set(err, 500, "engine_error",
			    "The sandbox container did not stop.");
		goto out;
	}
	if (docker_inspect(d, j->container.container_id, &r->exit_code, &oom,
		err) == -1)
		goto out;
	/* A SIGKILL we did not send is looked at again before it is called
	 * anything but an OOM.  Docker 20.10 sets OOMKilled only if the OOM
	 * event beat the exit event; under gVisor on a loaded machine it often
	 * does not, and OOMKilled stays false for good, but the engine still
	 * logs the "oom" event, sometimes a moment later: ask for both. */
	for (i = 0; i <= JOB_OOM_RECHECKS && r->exit_code == JOB_EXIT_KILLED &&
	     !oom && !io.timed_out && !io.capped;
	     i++) {
		if (i > 0) {
			nanosleep(&recheck, NULL);
			if (docker_inspect(d, j->container.container_id,
				&r->exit_code, &oom, err) == -1)
				goto out;
		}
		if (!oom &&
		    docker_oom_event(d, j->container.container_id, since) == 1) {
			oom = true;
			log_info("job: OOM known from the engine's events, not "
				 "OOMKilled (%d ms after the exit)",
			    i * 200);
		}
	}
	if (!io.timed_out && !io.capped && !oom &&
	    (r->exit_code == PROTOCOL_EXIT_BAD_REQUEST ||
		r->exit_code == PROTOCOL_EXIT_NO_INTERPRETER)) {
		/* The runner's own failure: without a record, no program ran. */
		log_error("job: runner failed with %d: %.200s", r->exit_code,
		    r->stderr_buf.data ? r->stderr_buf.data : "");
		api_error_set(err, 500, "sandbox_failed",
		    "The sandbox runner failed before running the code.");
		goto out;
	}
	/* SIGTERM with no record: a program may send it to itself (exit 143,
	 * its own answer), but the engine stopping sends it too ("docker
	 * stop", dockerd shut down): then it logged a "kill" event for the
	 * container, which nothing in the sandbox can make it log, and the
	 * run did not end by itself: 503, as for the engine gone mid-run. */
	if (!io.timed_out && !io.capped && !oom && r->exit_code == JOB_EXIT_TERM &&
	    docker_event(d, j->container.container_id, since, "kill") == 1) {
		log_warn("job: container %.12s stopped by the engine (a kill "
			 "event, exit 143)",
		    j->container.container_id);
		api_error_set(err, 503, "engine_unavailable",
		    "The Docker engine "
		    "stopped the sandbox container mid-run (shutting down?); try "
		    "again shortly.");
		err->retry_after_s = RETRY_AFTER_ENGINE_S;
		goto out;
	}
	/* A record seen on one stream only is still not program output. */
	if (watch.seen[0]) {
		record_take_data(&watch, &r->stdout_buf, watch.at[0], &r->data);
		r->stdout_buf.len = r->stdout_buf.len < watch.at[0] ?
		    r->stdout_buf.len :
		    watch.at[0];
	}
	if (watch.seen[1])
		r->stderr_buf.len = watch.at[1];
	job_verdict(r, &io, oom);
	rc = 0;
out:
	buf_free(&request);
	return rc;
}

int
job_run(struct executor *ex, struct docker *d, const struct job_spec *spec,
    struct job *j, struct api_error *err)
{
	struct timespec queued;
	int rc;

	if (ex->pool != NULL)
		pool_note_request(ex->pool, spec->code, spec->code_len);
	clock_gettime(CLOCK_MONOTONIC, &queued);
	if (job_take_slot(ex, spec, j, err) == -1)
		return -1;
	metrics_observe(METRIC_PHASE_QUEUE, clock_ms_since(&queued));
	j->result.usage.queue_ms = clock_ms_since(&queued);
	if ((rc = job_execute(ex, d, spec, NULL, j, err)) == 0)
		metrics_execution(j->result.status);
	return rc;
}

int
job_run_special(struct executor *ex, struct docker *d,
    const char *const *entrypoint, unsigned timeout_ms, struct job *j,
    struct api_error *err)
{
	struct job_spec spec = { .code = "", .timeout_ms = timeout_ms };

	return job_execute(ex, d, &spec, entrypoint, j, err);
}

struct uid_pool *
executor_uids(struct executor *ex)
{
	return ex->uids;
}

const struct config *
executor_config(struct executor *ex)
{
	return ex->config;
}

void
job_finish(struct executor *ex, struct docker *d, struct job *j)
{
	/*
	 * After an exit record the runner has _exit()ed and the container is
	 * stopping by itself (~40 ms, docs/FIELD-NOTES.md): wait for that before the
	 * removal.  Removing it while the engine still counts it running makes
	 * the engine kill it first, which cost 10-15 ms more engine CPU per
	 * execution than the wait (measured, docs/BENCHMARKS.md); under load
	 * that CPU is what bounds executions per second.  A program that forged
	 * the record keeps running at most JOB_EXIT_WAIT_MS more, then is
	 * killed by the removal like any other.
	 */
	if (j->container.container_id[0] != '\0' && j->exiting)
		(void)docker_wait_exit(d, j->container.container_id,
		    JOB_EXIT_WAIT_MS);
	container_remove(&j->container, d, ex->uids);
	j->exiting = false;
	if (j->holds_slot) {
		atomic_fetch_sub(&ex->running, 1);
		pthread_mutex_lock(&ex->slot_lock);
		j->client->running--;
		job_client_put(j->client);
		ex->free_slots++;
		job_dispatch(ex);
		pthread_mutex_unlock(&ex->slot_lock);
		if (ex->pool != NULL)
			pool_wake(ex->pool);
		j->holds_slot = false;
		j->client = NULL;
	}
}

void
job_init(struct job *j, size_t output_max_bytes)
{
	memset(j, 0, sizeof(*j));
	container_init(&j->container);
	job_result_init(&j->result, output_max_bytes);
}

void
job_free(struct job *j)
{
	job_result_free(&j->result);
}
