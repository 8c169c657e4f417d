/*
 * test-job-canned.c: whole runs of src/executor/job.c against a canned
 * engine (curl's test-server model): a thread per connection on a unix
 * socket that answers create, attach (101, then a raw stream), start,
 * wait, inspect, kill, events and delete the way Docker 20.10 does, and
 * plays one scripted run per case: what the "runner" writes after it has
 * read the request (with this run's nonce where the script says NONCE),
 * split into frames and writes as the script says, whether the stream
 * then ends or hangs, and what inspect reports.  So job.c's keeping of
 * the verdict is tested without Docker, in milliseconds: forged and split
 * exit records, a late OOM flag, the runner's own 125, a deadline, the
 * cap, an engine that stops answering, a SIGTERM from the engine (its
 * kill event) or from the program itself.  The real engine is
 * tests/integration's; these are the runs it cannot be made to play.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common.h"
#include "executor.h"
#include "tap.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NONCE_MARK "NONCE"
#define STREAM_OUT 1
#define STREAM_ERR 2

/* One scripted run. */
struct script {
	const char *name;
	const char *out;  /* what the runner writes on stdout, NONCE replaced */
	const char *err;  /* and on stderr */
	size_t frame_max; /* payload per frame (0: whole) */
	int write_pause_ms; /* between writes of one frame's pieces */
	bool hang;          /* keep the stream open afterwards */
	int exit_code;      /* what inspect says */
	bool oom_flag;      /* OOMKilled */
	int oom_after;      /* inspect says OOMKilled only from this call on */
	bool dead_engine;   /* create never answers */
	bool kill_event;    /* events: the engine killed it */
};

static struct {
	pthread_mutex_t lock;
	int listen_fd;
	const struct script *run;
	int inspects, kills, removes, attaches;
} engine = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
reply(int fd, int status, const char *body)
{
	char out[1024];
	int n;

	n = snprintf(out, sizeof(out),
	    "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    status, strlen(body), body);
	if (write(fd, out, (size_t)n) != n)
		diag("canned engine: short write");
}

/* Writes s as frames of the stream type, NONCE replaced, split as the
 * script says. */
static void
play(int fd, int type, const char *s, const char *nonce, const struct script *run)
{
	char text[65536], head[8];
	const char *p, *mark;
	size_t len = 0, at, n, piece;

	for (p = s; *p != '\0' && len < sizeof(text) - 64;) {
		if ((mark = strstr(p, NONCE_MARK)) == p) {
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "%s", nonce);
			p += strlen(NONCE_MARK);
		} else
			text[len++] = *p++;
	}
	for (at = 0; at < len; at += n) {
		n = run->frame_max ? run->frame_max : len;
		if (n > len - at)
			n = len - at;
		head[0] = (char)type;
		head[1] = head[2] = head[3] = 0;
		head[4] = (char)(n >> 24);
		head[5] = (char)(n >> 16);
		head[6] = (char)(n >> 8);
		head[7] = (char)n;
		/* The header, then the payload, each possibly in two writes. */
		piece = run->write_pause_ms ? 3 : 8;
		if (write(fd, head, piece) < 0 ||
		    (piece < 8 &&
			(usleep((useconds_t)run->write_pause_ms * 1000),
			    write(fd, head + piece, 8 - piece) < 0)))
			return;
		if (write(fd, text + at, n) < 0)
			return;
		if (run->write_pause_ms)
			usleep((useconds_t)run->write_pause_ms * 1000);
	}
}

/* The attach stream: the request from the client, then the run. */
static void
attach(int fd)
{
	const struct script *run;
	char in[65536], nonce[80] = "";
	size_t have = 0, want = 0;
	ssize_t n;
	unsigned long code_len, stdin_len, files_len = 0, files_out;
	char *nl;

	static const char upgraded[] =
	    "HTTP/1.1 101 UPGRADED\r\nContent-Type: "
	    "application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n"
	    "Upgrade: tcp\r\n\r\n";

	if (write(fd, upgraded, sizeof(upgraded) - 1) < 0)
		return;
	/* "pycage1 CODE_LEN STDIN_LEN NONCE\n" or "pycage2 CODE_LEN STDIN_LEN
	 * FILES_LEN FILES_OUT_MAX NONCE\n", then the bytes (runner/protocol.h). */
	while (have < sizeof(in) - 1 && (want == 0 || have < want) &&
	    (n = read(fd, in + have, sizeof(in) - 1 - have)) > 0) {
		have += (size_t)n;
		in[have] = '\0';
		if (want == 0 && (nl = strchr(in, '\n')) != NULL &&
		    (sscanf(in, PROTOCOL_HEADER2_MAGIC " %lu %lu %lu %lu %79s",
			 &code_len, &stdin_len, &files_len, &files_out,
			 nonce) == 5 ||
			sscanf(in, PROTOCOL_HEADER_MAGIC " %lu %lu %79s",
			    &code_len, &stdin_len, nonce) == 3))
			want = (size_t)(nl + 1 - in) + code_len + stdin_len +
			    files_len;
	}
	pthread_mutex_lock(&engine.lock);
	run = engine.run;
	engine.attaches++;
	pthread_mutex_unlock(&engine.lock);
	if (run->out != NULL)
		play(fd, STREAM_OUT, run->out, nonce, run);
	if (run->err != NULL)
		play(fd, STREAM_ERR, run->err, nonce, run);
	/* The client half-closes once its request is written; a runner that
	 * goes on keeps the stream open past the run's deadline. */
	if (run->hang)
		sleep(2);
}

static void *
connection_main(void *arg)
{
	const struct script *run;
	char head[8192], body[512];
	size_t len = 0;
	ssize_t n;
	int fd = (int)(intptr_t)arg, inspects;

	while (len < sizeof(head) - 1 &&
	    (n = read(fd, head + len, sizeof(head) - 1 - len)) > 0) {
		len += (size_t)n;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n") != NULL)
			break;
	}
	head[len] = '\0';
	pthread_mutex_lock(&engine.lock);
	run = engine.run;
	pthread_mutex_unlock(&engine.lock);
	if (strncmp(head, "POST /v1.41/containers/create", 29) == 0) {
		if (run->dead_engine)
			sleep(3); /* past the client's call timeout */
		else
			reply(fd, 201, "{\"Id\":\"" ID "\",\"Warnings\":[]}");
	} else if (strstr(head, "/attach?") != NULL)
		attach(fd);
	else if (strstr(head, "/start ") != NULL)
		reply(fd, 204, "");
	else if (strstr(head, "/wait?") != NULL)
		reply(fd, 200, "{\"StatusCode\":0}");
	else if (strstr(head, "/kill ") != NULL) {
		pthread_mutex_lock(&engine.lock);
		engine.kills++;
		pthread_mutex_unlock(&engine.lock);
		reply(fd, 204, "");
	} else if (strncmp(head, "GET /v1.41/containers/" ID "/json", 86) == 0) {
		pthread_mutex_lock(&engine.lock);
		inspects = ++engine.inspects;
		pthread_mutex_unlock(&engine.lock);
		snprintf(body, sizeof(body),
		    "{\"State\":{\"Running\":false,"
		    "\"ExitCode\":%d,\"OOMKilled\":%s}}",
		    run->exit_code,
		    run->oom_flag && inspects >= run->oom_after ? "true" :
								  "false");
		reply(fd, 200, body);
	} else if (strncmp(head, "GET /v1.41/events", 17) == 0)
		reply(fd, 200,
		    run->kill_event && strstr(head, "kill") != NULL ?
			"{\"status\":\"kill\",\"id\":\"" ID
			"\",\"Action\":\"kill\"}\n" :
			"");
	else if (strncmp(head, "DELETE ", 7) == 0) {
		pthread_mutex_lock(&engine.lock);
		engine.removes++;
		pthread_mutex_unlock(&engine.lock);
		reply(fd, 204, "");
	} else
		reply(fd, 404, "{\"message\":\"not canned\"}");
	close(fd);
	return NULL;
}

static void *
engine_main(void *arg)
{
	pthread_t t;
	int fd;

	(void)arg;
	while ((fd = accept(engine.listen_fd, NULL, NULL)) != -1) {
		if (pthread_create(&t, NULL, connection_main,
			(void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(t);
	}
	return NULL;
}

static int
engine_start(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	pthread_t t;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	if ((engine.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(engine.listen_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(engine.listen_fd, 64) == -1 ||
	    pthread_create(&t, NULL, engine_main, NULL) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

/* ------------------------------------------------------------ the runs */

#define OK_RECORD "\x1epycage-exit NONCE 0\n"

static const struct script scripts[] = {
	{ .name = "a run that prints and exits 0",
	    .out = "hi\n" OK_RECORD,
	    .err = OK_RECORD },
	{ .name = "its record split into 5-byte frames, written in pieces",
	    .out = "hello, world\n" OK_RECORD,
	    .err = OK_RECORD,
	    .frame_max = 5,
	    .write_pause_ms = 1 },
	{ .name = "a forged record (another nonce) before the real one",
	    .out = "\x1epycage-exit 00000000000000000000000000000000 0\nafter\n"
		   "\x1epycage-exit NONCE 7\n",
	    .err = "\x1epycage-exit NONCE 7\n" },
	{ .name = "no record, 137 and OOMKilled",
	    .out = "big\n",
	    .exit_code = 137,
	    .oom_flag = true,
	    .oom_after = 1 },
	{ .name = "no record, 137, OOMKilled only on the third inspect",
	    .out = "",
	    .exit_code = 137,
	    .oom_flag = true,
	    .oom_after = 3 },
	{ .name = "no record, 137, never OOMKilled: killed, an error",
	    .out = "",
	    .exit_code = 137 },
	{ .name = "the runner's own 125, no record",
	    .err = "pycage-runner: bad header\n",
	    .exit_code = 125 },
	{ .name = "a record on stdout only, then the stream ends",
	    .out = "x\n" OK_RECORD,
	    .exit_code = 3 },
	{ .name = "output that never ends",
	    .out = "tick\n",
	    .hang = true,
	    .exit_code = 137 },
	{ .name = "an engine that does not answer the create",
	    .dead_engine = true },
	{ .name = "no record, 143 and the engine's kill event: stopped by the engine",
	    .out = "partial\n",
	    .exit_code = 143,
	    .kill_event = true },
	{ .name = "no record, 143, no kill event: the program's own SIGTERM",
	    .out = "partial\n",
	    .exit_code = 143 },
};

struct expect {
	int rc;
	enum job_status status;
	int exit_code;
	const char *stdout_text;
	const char *error_code;
	bool killed;
};

static const struct expect expects[] = {
	{ 0, JOB_OK, 0, "hi\n", NULL, false },
	{ 0, JOB_OK, 0, "hello, world\n", NULL, false },
	{ 0, JOB_ERROR, 7,
	    "\x1epycage-exit 00000000000000000000000000000000 0\nafter\n", NULL,
	    false },
	{ 0, JOB_OOM, 137, "big\n", NULL, false },
	{ 0, JOB_OOM, 137, "", NULL, false },
	{ 0, JOB_ERROR, 137, "", NULL, false },
	{ -1, JOB_OK, 0, NULL, "sandbox_failed", false },
	{ 0, JOB_ERROR, 3, "x\n", NULL, false },
	{ 0, JOB_TIMEOUT, 137, "tick\n", NULL, true },
	{ -1, JOB_OK, 0, NULL, "engine_unavailable", false },
	{ -1, JOB_OK, 0, NULL, "engine_unavailable", false },
	{ 0, JOB_ERROR, 143, "partial\n", NULL, false },
};

int
main(void)
{
	static const char *const entrypoint[] = { "/bin/true", NULL };
	char sock[] = "/tmp/pycage-test-engine-XXXXXX";
	char path[sizeof(sock) + 16];
	struct config c;
	struct executor *ex;
	struct docker *d;
	struct job job;
	struct api_error err;
	size_t i;
	int rc;

	if (mkdtemp(sock) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/engine.sock", sock);
	if (engine_start(path) == -1)
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	curl_global_init(CURL_GLOBAL_ALL);
	config_defaults(&c);
	c.pool_size = 0;
	c.uid_base = 0;
	c.docker_call_timeout_ms = 1000;
	snprintf(c.docker_socket, sizeof(c.docker_socket), "%s", path);
	if ((ex = executor_new(&c)) == NULL ||
	    (d = docker_new(path, 1000)) == NULL)
		return 1;
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		const struct expect *e = &expects[i];

		pthread_mutex_lock(&engine.lock);
		engine.run = &scripts[i];
		engine.inspects = engine.kills = engine.removes =
		    engine.attaches = 0;
		pthread_mutex_unlock(&engine.lock);
		api_error_init(&err);
		job_init(&job, 4096);
		rc = job_run_special(ex, d, entrypoint, 500, &job, &err);
		if (!is_int(rc, e->rc, "%s: job_run %s", scripts[i].name,
			e->rc == 0 ? "answers" : "fails"))
			diag("error: %s %s", err.code, err.message);
		if (e->rc == 0) {
			is_int(job.result.status, e->status, "%s: status %s",
			    scripts[i].name, job_status_name(e->status));
			is_int(job.result.exit_code, e->exit_code,
			    "%s: exit code %d", scripts[i].name, e->exit_code);
			is_mem(job.result.stdout_buf.data ?
				job.result.stdout_buf.data :
				"",
			    job.result.stdout_buf.len, e->stdout_text,
			    strlen(e->stdout_text), "%s: stdout",
			    scripts[i].name);
		} else
			is_str(err.code, e->error_code, "%s: %s",
			    scripts[i].name, e->error_code);
		job_finish(ex, d, &job);
		job_free(&job);
		pthread_mutex_lock(&engine.lock);
		is_int(engine.kills > 0, e->killed, "%s: %s", scripts[i].name,
		    e->killed ? "killed at its deadline" : "not killed");
		ok(scripts[i].dead_engine || engine.removes > 0,
		    "%s: its container removed", scripts[i].name);
		pthread_mutex_unlock(&engine.lock);
	}
	docker_free(d);
	executor_free(ex);
	curl_global_cleanup();
	close(engine.listen_fd);
	unlink(path);
	rmdir(sock);
	return done_testing();
}
