/*
 * common.h: what both of pycage's processes link (src/common/): byte
 * buffers with a cap, UTF-8, the log, the configuration, the metrics, the
 * process set-up, the two answers a job can get (a result or an API error)
 * and the job as it crosses the channel.  Nothing here talks to Docker,
 * parses HTTP or request JSON, or runs on one side only: the front's types
 * are in src/front/front.h, the executor's in src/executor/executor.h, and
 * the channel between them in privsep.h.
 *
 * Theory of operation (one request):
 *   front/main.c accepts a FastCGI request on a worker thread of the front,
 *   the unprivileged process, and front/peer.c holds its peer to a
 *   deadline -> front/request.c reads the CGI params and a capped body,
 *   routes it, and front/json_in.c turns the body into a struct job_spec
 *   -> front/channel.c packs it (privsep.h) for the executor process
 *   (executor/main.c), where executor/job.c takes an execution slot and
 *   runs the job in a warm container from executor/pool.c or a fresh one
 *   through executor/docker.c (create, attach, start, write the code on
 *   stdin, read the framed output with executor/stream.c under a host-side
 *   deadline) -> the struct job_result goes back over the channel ->
 *   front/answer.c encodes it -> front/request.c writes the answer -> the
 *   executor removes the container.  Every failure on that path becomes
 *   one struct api_error and one JSON error answer, written in request.c.
 */
#ifndef PYCAGE_COMMON_H
#define PYCAGE_COMMON_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

/* ---------------------------------------------------------------- buf.c */

/* A growable byte buffer with a cap fixed at birth (STYLE.md point 7). */
struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap_bytes;
};

void buf_init(struct buf *, size_t cap_bytes);
void buf_free(struct buf *);
void buf_shrink(struct buf *, size_t keep);
void buf_reset(struct buf *);
/* Appends all of it, or nothing and returns -1 (over the cap or no memory). */
int buf_append(struct buf *, const void *, size_t);
/* Makes room for n more bytes and counts them; NULL over the cap. */
char *buf_extend(struct buf *, size_t n);
/* Appends as much as fits under the cap; returns the bytes taken. */
size_t buf_append_upto(struct buf *, const void *, size_t);
int buf_append_str(struct buf *, const char *);
/* ------------------------------------------------------------- base64.c */

/* Strict RFC 4648 base64 (padding required, no whitespace); decode
 * appends all or nothing and returns -1 on bad input or over out's cap. */
size_t base64_decoded_max(size_t len);
int base64_decode(const char *, size_t, struct buf *out);
int base64_encode(const void *, size_t, struct buf *out);
/* --------------------------------------------------------------- proc.c */

/* What both programs do to their process at start (proc.c explains). */
void proc_tune_malloc(void);
void proc_block_signals(sigset_t *); /* SIGPIPE ignored, TERM/INT for sigwait */

/* ---------------------------------------------------------------- log.c */

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

void log_set_level(enum log_level);
void log_set_role(const char *); /* "front" or "executor", in every line */
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Info, never held back by the rate limit: one line per run (log.c). */
void log_run(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Tests only: the clock the rate limit reads (ms); NULL: the real one. */
void log_set_clock(long long (*clock_ms)(void));
/* Start-up only: log and exit(1).  Never called on the request path. */
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
/* ------------------------------------------------------------- config.c */

#define CONFIG_PATH_DEFAULT "/etc/pycage/pycage.conf"
#define CONFIG_STR_MAX 256
#define CONFIG_WORKERS_MAX 256 /* workers' hard maximum */

#define CONFIG_ALLOW_MAX 16

/* One entry of listen_allow: an IPv4 network, both in network order. */
struct config_net {
	uint32_t addr;
	uint32_t mask;
};

struct config {
	char listen[CONFIG_STR_MAX]; /* unix path or a.b.c.d:port */
	/* TCP only: the peers the front answers (nginx's address). */
	char listen_allow[CONFIG_STR_MAX];
	struct config_net listen_allow_net[CONFIG_ALLOW_MAX];
	unsigned listen_allow_n;
	unsigned socket_mode;              /* octal, unix socket only */
	char socket_group[CONFIG_STR_MAX]; /* "" keeps root's group */
	char pidfile[CONFIG_STR_MAX];
	unsigned workers;
	unsigned max_executions;
	unsigned queue_wait_ms;
	unsigned health_workers; /* never hold an execution */
	/* A client's (a key's, else an address's) fair share of the slots;
	 * 0: half of max_executions, at least 1 (executor/job.c says how it
	 * is kept; config_client_share()). */
	unsigned client_share;
	char api_keys_file[CONFIG_STR_MAX]; /* "": no keys */
	char docker_socket[CONFIG_STR_MAX];
	/* "" or unix:///path (docker_socket) or tcp://host:port (mutual TLS
	 * with the three files below, read by the executor only). */
	char docker_host[CONFIG_STR_MAX];
	char docker_tls_ca[CONFIG_STR_MAX];
	char docker_tls_cert[CONFIG_STR_MAX];
	char docker_tls_key[CONFIG_STR_MAX];
	/* Derived from docker_host by config_load: "https://host:port" for a
	 * TCP engine, "" for the unix socket. */
	char docker_tcp_url[CONFIG_STR_MAX];
	unsigned docker_call_timeout_ms;
	char image[CONFIG_STR_MAX];
	char runtime[CONFIG_STR_MAX];  /* "" = engine default */
	char instance[CONFIG_STR_MAX]; /* label value of this responder */
	char user[CONFIG_STR_MAX];     /* numeric uid:gid */
	unsigned timeout_default_ms;
	unsigned timeout_max_ms;
	unsigned memory_mb;
	unsigned cpu_millis;    /* 500 = half a CPU */
	unsigned cpu_period_ms; /* over which it is counted */
	unsigned pids_limit;
	unsigned tmpfs_mb;
	unsigned nofile;
	unsigned fsize_mb;
	size_t output_max_bytes; /* per stream */
	size_t body_max_bytes;
	size_t code_max_bytes;
	size_t stdin_max_bytes;
	size_t files_max_bytes; /* in and out, decoded */
	unsigned janitor_interval_s;
	unsigned janitor_grace_s;
	unsigned pool_size;                /* 0: no pool */
	char pool_preload[CONFIG_STR_MAX]; /* "numpy,pandas" */
	unsigned pool_max_age_s;
	unsigned selfcheck_max_age_s;    /* health checks again after */
	unsigned uid_base;               /* 0: everyone is `user` */
	char front_user[CONFIG_STR_MAX]; /* "" = no privilege split */
	char front_chroot[CONFIG_STR_MAX];
	/* Origin values /mcp answers (comma-separated); "" = none: a
	 * request with an Origin header gets 403 (DNS rebinding). */
	char mcp_origins[CONFIG_STR_MAX];
	char executor_path[CONFIG_STR_MAX];   /* pycage-executor */
	char seccomp_profile[CONFIG_STR_MAX]; /* path; "" = engine's */
	char *seccomp_json;                   /* its text, loaded at start */
	enum log_level log_level;
};

void config_defaults(struct config *);
/* 0, or -1 with "file:line: reason" in err. */
int config_load(struct config *, const char *path, char *err, size_t errlen);
int config_set(struct config *, const char *key, const char *value, char *err,
    size_t errlen);
/* Loads the files the config names (the seccomp profile); -1 with err. */
int config_load_files(struct config *, char *err, size_t errlen);
/* Whether listen is a TCP address (a.b.c.d:port), not a unix socket path. */
bool config_listen_tcp(const struct config *);
/* Whether a TCP peer (IPv4, network order) is in listen_allow. */
bool config_peer_allowed(const struct config *, uint32_t addr);
/* The executions one client is sure of while others want slots too. */
unsigned config_client_share(const struct config *);
/* How many workers may hold an execution at once (config.c). */
unsigned config_exec_workers(const struct config *);
/* Whether the sandbox runs under gVisor (runtime = runsc), whose kernel
 * shows and enforces some limits differently (json_out.c, selfcheck.c). */
bool config_gvisor(const struct config *);
/* The sandbox's CPU limit as the engine and the kernel take it: a quota
 * of cpu_millis per second, counted over cpu_period_ms, in microseconds. */
/* The size of the instance's uid range from uid_base (0 without one):
 * every live container, plus spares for self-checks and removals. */
#define CONFIG_UID_SPARE 8
unsigned config_uid_count(const struct config *);
long long config_cpu_period_us(const struct config *);
long long config_cpu_quota_us(const struct config *);
/* -------------------------------------------------------------- clock.c */

#include <time.h>

/* CLOCK_MONOTONIC now, in milliseconds. */
long long clock_now_ms(void);
/* Milliseconds on CLOCK_MONOTONIC since start (negative: still ahead). */
long clock_ms_since(const struct timespec *start);
/* ts = now on clock + ms (a deadline for the *timedwait calls). */
void clock_after(struct timespec *ts, clockid_t clock, unsigned ms);

/* --------------------------------------------------------------- host.c */

/*
 * Start-up checks of the host the configuration depends on (the front
 * runs them as root, also for -t): 0, or -1 with err.  The uid range
 * [uid_base, uid_base + config_uid_count) must hold no account and
 * overlap no subordinate range of subuid_path or subgid_path (a user
 * namespace's ids would then be a sandbox's); the front user must exist,
 * must not be root, and must not be the sandbox's own user.
 */
#define HOST_SUBUID_PATH "/etc/subuid"
#define HOST_SUBGID_PATH "/etc/subgid"
int host_check_ids(const struct config *, const char *subuid_path,
    const char *subgid_path, char *err, size_t errlen);

/* --------------------------------------------------------------- utf8.c */

bool utf8_valid(const char *, size_t);
/* The length of s without a trailing incomplete sequence (a cut output). */
size_t utf8_whole_prefix(const char *s, size_t len);
/* Copies s into out with every invalid sequence replaced by U+FFFD. */
int utf8_sanitize(const char *s, size_t len, struct buf *out);
/* ----------------------------------------------------- result.c: errors */

/*
 * One error answer.  `code` is a snake_case constant string, `message` a
 * sentence a person can act on.  Filled wherever the error is found
 * (api_error_set, result.c), written to the client in exactly one place
 * (request.c).
 */
struct api_error {
	int http_status;
	const char *code;
	char message[256];
	unsigned retry_after_s; /* 503 only */
	const char *allow;      /* 405 only */
};

/*
 * Retry-After of each 503, named once.  Busy: a slot frees in about a
 * run's time.  Engine: dockerd and containerd restart in seconds.  Image
 * or sandbox check: an operator has to act, so ask for less traffic.
 */
#define RETRY_AFTER_BUSY_S 2
#define RETRY_AFTER_DRAIN_S 5
#define RETRY_AFTER_ENGINE_S 5
#define RETRY_AFTER_OPERATOR_S 30
#define RETRY_AFTER_UID_CONFLICT_S 60

void api_error_set(struct api_error *, int http_status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Every api_error starts as 500 internal: a path that returns -1 without
 * filling it still answers that, never an unset code. */
void api_error_init(struct api_error *);
/* An error with no code, a status outside 400-599 or an unterminated
 * message becomes 500 internal (the one writer calls it last). */
void api_error_normalize(struct api_error *);
/* -------------------------------------------------- result.c: the job */

/* A validated execution request (front/json_in.c makes it; the executor
 * reads it from the channel).  json_in's copy owns code and stdin_data;
 * the executor's points into the channel's buffer. */
struct job_file {
	char name[PROTOCOL_FILE_NAME_MAX_BYTES + 1];
	char *data; /* decoded */
	size_t len;
};

/* Who asked, for the fair shares (executor/job.c): an API key's name,
 * else the peer's address (REMOTE_ADDR); printable ASCII, no spaces. */
#define JOB_CLIENT_MAX 64 /* with NUL */

struct job_spec {
	char client[JOB_CLIENT_MAX];
	char *code;
	size_t code_len;
	char *stdin_data;
	size_t stdin_len;
	unsigned timeout_ms;
	/* The request's files for /mnt/data; the executor's point into the
	 * channel's buffer, json_in's own each data. */
	size_t nfiles;
	struct job_file files[PROTOCOL_FILES_MAX];
};

/* A client as the executor takes it: 1 to JOB_CLIENT_MAX - 1 bytes of
 * printable ASCII without spaces. */
bool job_client_ok(const char *, size_t);

/* A file name as a request may give it (and an answer return it): 1 to
 * PROTOCOL_FILE_NAME_MAX_BYTES of [A-Za-z0-9._-], not starting with '.'. */
bool job_file_name_ok(const char *, size_t);

/* What GET /v1/runtime reports from the image (issue 17): read by the
 * self-check from `pycage-runner --describe` in the real image
 * (executor/selfcheck.c), never written by hand.  known is false until a
 * self-check reported it. */
#define RUNTIME_NAME_MAX 64 /* a module name or a version, with NUL */
#define RUNTIME_MODULES_MAX 128
#define RUNTIME_LIBRARIES_MAX 32

struct runtime_info {
	bool known;
	char python[RUNTIME_NAME_MAX];
	size_t nmodules;
	char modules[RUNTIME_MODULES_MAX][RUNTIME_NAME_MAX];
	size_t nlibraries;
	char library[RUNTIME_LIBRARIES_MAX][RUNTIME_NAME_MAX];
	char version[RUNTIME_LIBRARIES_MAX][RUNTIME_NAME_MAX];
};

enum job_status { JOB_OK, JOB_ERROR, JOB_TIMEOUT, JOB_OOM, JOB_OUTPUT_LIMIT };

/* What the host measured of a run (executor/usage.c): the container's
 * cgroup counters read by the executor, never by the sandbox; -1 when
 * they could not be read. */
struct job_usage {
	long long cpu_ms;
	long long memory_peak_bytes;
	long long queue_ms;
};

/* What a run's answer says, as both processes hold it.  The container
 * it ran in is the executor's alone (struct job, executor.h).  data is
 * the runner's data record (runner/protocol.h), carried as bytes: made
 * inside the sandbox, validated only by the front. */
struct job_result {
	struct buf stdout_buf;
	struct buf stderr_buf;
	bool stdout_truncated;
	bool stderr_truncated;
	int exit_code;
	enum job_status status;
	long duration_ms;
	struct buf data;
	struct job_usage usage;
	size_t files_max_bytes; /* the front's config; answer.c */
};

const char *job_status_name(enum job_status);
void job_result_init(struct job_result *, size_t output_max_bytes);
void job_result_free(struct job_result *);

/* ------------------------------------------------------------ metrics.c */

enum metric_counter {
	METRIC_COLD_STARTS,
	METRIC_POOL_HITS,
	METRIC_CONTAINERS_CREATED,
	METRIC_CONTAINERS_REMOVED,
	METRIC_JANITOR_REMOVED,
	METRIC_DOCKER_ERRORS,
	METRIC_JANITOR_KILLED,
	METRIC_COUNTER_MAX
};
enum metric_gauge { METRIC_POOL_READY, METRIC_POOL_SIZE, METRIC_GAUGE_MAX };
enum metric_phase {
	METRIC_PHASE_QUEUE,
	METRIC_PHASE_ACQUIRE,
	METRIC_PHASE_RUN,
	METRIC_PHASE_MAX
};

void metrics_count(enum metric_counter);
void metrics_gauge_set(enum metric_gauge, long);
void metrics_observe(enum metric_phase, long ms);
void metrics_request(const char *route, int http_status);
void metrics_execution(enum job_status);
/* Counts a refused FastCGI peer (main.c); returns the count so far. */
unsigned long long metrics_fcgi_refused(void);
/* Counts a FastCGI peer cut at its deadline (peer.c, main.c); the count. */
unsigned long long metrics_fcgi_peer_cut(void);
/* Each process renders the series it owns: the front its requests, the
 * executor everything about executions and containers. */
int metrics_render_front(struct buf *out);
int metrics_render_executor(struct buf *out);
#endif /* PYCAGE_COMMON_H */
