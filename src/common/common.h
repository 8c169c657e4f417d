/*
 * pycage.h: the types and prototypes that cross module boundaries inside
 * pycage-fcgi, grouped under the module that defines them.  Nothing here
 * is private to one file; a helper used by one file stays static there.
 *
 * Theory of operation (one request):
 *   main.c accepts a FastCGI request on a worker thread of the front, the
 *   unprivileged process, and peer.c holds its peer to a deadline ->
 *   request.c reads the CGI params and a capped body, routes it, and
 *   json_in.c turns the body into a struct job_spec -> privsep.c carries
 *   it to the executor process (executor.c), where job.c takes an
 *   execution slot and runs the job in a warm container from pool.c or a
 *   fresh one through docker.c (create, attach, start, write the code on
 *   stdin, read the framed output with stream.c under a host-side
 *   deadline) -> the struct job_result goes back over privsep.c ->
 *   json_out.c encodes it -> request.c writes the answer -> job.c removes
 *   the container.  Every failure on that path becomes one struct
 *   api_error and one JSON error answer, written in request.c.
 */
#ifndef PYCAGE_H
#define PYCAGE_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- buf.c */

/* A growable byte buffer with a cap fixed at birth (STYLE.md point 7). */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 alloc;
	size_t	 cap_bytes;
};

void	buf_init(struct buf *, size_t cap_bytes);
void	buf_free(struct buf *);
void	buf_shrink(struct buf *, size_t keep);
void	buf_reset(struct buf *);
/* Appends all of it, or nothing and returns -1 (over the cap or no memory). */
int	buf_append(struct buf *, const void *, size_t);
/* Makes room for n more bytes and counts them; NULL over the cap. */
char	*buf_extend(struct buf *, size_t n);
/* Appends as much as fits under the cap; returns the bytes taken. */
size_t	buf_append_upto(struct buf *, const void *, size_t);
int	buf_append_str(struct buf *, const char *);

/* --------------------------------------------------------------- proc.c */

/* What both programs do to their process at start (proc.c explains). */
void	proc_tune_malloc(void);
void	proc_block_signals(sigset_t *);	/* SIGPIPE ignored, TERM/INT for sigwait */


/* ---------------------------------------------------------------- log.c */

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void	log_set_level(enum log_level);
void	log_set_role(const char *);	/* "front" or "executor", in every line */
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Start-up only: log and exit(1).  Never called on the request path. */
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ------------------------------------------------------------- config.c */

#define CONFIG_PATH_DEFAULT	"/etc/pycage/pycage.conf"
#define CONFIG_STR_MAX		256

#define CONFIG_ALLOW_MAX	16

/* One entry of listen_allow: an IPv4 network, both in network order. */
struct config_net {
	uint32_t	addr;
	uint32_t	mask;
};

struct config {
	char		listen[CONFIG_STR_MAX];		/* unix path or a.b.c.d:port */
	/* TCP only: the peers the front answers (nginx's address). */
	char		listen_allow[CONFIG_STR_MAX];
	struct config_net listen_allow_net[CONFIG_ALLOW_MAX];
	unsigned	listen_allow_n;
	unsigned	socket_mode;			/* octal, unix socket only */
	char		socket_group[CONFIG_STR_MAX];	/* "" keeps root's group */
	char		pidfile[CONFIG_STR_MAX];
	unsigned	workers;
	unsigned	max_executions;
	unsigned	queue_wait_ms;
	char		docker_socket[CONFIG_STR_MAX];
	unsigned	docker_call_timeout_ms;
	char		image[CONFIG_STR_MAX];
	char		runtime[CONFIG_STR_MAX];	/* "" = engine default */
	char		instance[CONFIG_STR_MAX];	/* label value of this responder */
	char		user[CONFIG_STR_MAX];		/* numeric uid:gid */
	unsigned	timeout_default_ms;
	unsigned	timeout_max_ms;
	unsigned	memory_mb;
	unsigned	cpu_millis;			/* 500 = half a CPU */
	unsigned	cpu_period_ms;			/* over which it is counted */
	unsigned	pids_limit;
	unsigned	tmpfs_mb;
	unsigned	nofile;
	unsigned	fsize_mb;
	size_t		output_max_bytes;		/* per stream */
	size_t		body_max_bytes;
	size_t		code_max_bytes;
	size_t		stdin_max_bytes;
	unsigned	janitor_interval_s;
	unsigned	janitor_grace_s;
	unsigned	pool_size;			/* 0: no pool */
	char		pool_preload[CONFIG_STR_MAX];	/* "numpy,pandas" */
	unsigned	pool_max_age_s;
	unsigned	selfcheck_max_age_s;		/* health checks again after */
	unsigned	uid_base;			/* 0: everyone is `user` */
	char		front_user[CONFIG_STR_MAX];	/* "" = no privilege split */
	char		front_chroot[CONFIG_STR_MAX];
	char		executor_path[CONFIG_STR_MAX];	/* pycage-executor */
	char		seccomp_profile[CONFIG_STR_MAX];	/* path; "" = engine's */
	char		*seccomp_json;			/* its text, loaded at start */
	enum log_level	log_level;
};

void	config_defaults(struct config *);
/* 0, or -1 with "file:line: reason" in err. */
int	config_load(struct config *, const char *path, char *err, size_t errlen);
int	config_set(struct config *, const char *key, const char *value,
	    char *err, size_t errlen);
/* Loads the files the config names (the seccomp profile); -1 with err. */
int	config_load_files(struct config *, char *err, size_t errlen);
/* Whether listen is a TCP address (a.b.c.d:port), not a unix socket path. */
bool	config_listen_tcp(const struct config *);
/* Whether a TCP peer (IPv4, network order) is in listen_allow. */
bool	config_peer_allowed(const struct config *, uint32_t addr);
/* Whether the sandbox runs under gVisor (runtime = runsc), whose kernel
 * shows and enforces some limits differently (json_out.c, selfcheck.c). */
bool	config_gvisor(const struct config *);
/* The sandbox's CPU limit as the engine and the kernel take it: a quota
 * of cpu_millis per second, counted over cpu_period_ms, in microseconds. */
long long	config_cpu_period_us(const struct config *);
long long	config_cpu_quota_us(const struct config *);

/* --------------------------------------------------------------- utf8.c */

bool	utf8_valid(const char *, size_t);
/* The length of s without a trailing incomplete sequence (a cut output). */
size_t	utf8_whole_prefix(const char *s, size_t len);
/* Copies s into out with every invalid sequence replaced by U+FFFD. */
int	utf8_sanitize(const char *s, size_t len, struct buf *out);

/* ----------------------------------------------------- result.c: errors */

/*
 * One error answer.  `code` is a snake_case constant string, `message` a
 * sentence a person can act on.  Filled wherever the error is found
 * (api_error_set, result.c), written to the client in exactly one place
 * (request.c).
 */
struct api_error {
	int		 http_status;
	const char	*code;
	char		 message[256];
	unsigned	 retry_after_s;			/* 503 only */
	const char	*allow;				/* 405 only */
};

void	api_error_set(struct api_error *, int http_status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------ json_in.c */

#define JSON_IN_DEPTH_MAX	32

struct job_limits {
	size_t		code_max_bytes;
	size_t		stdin_max_bytes;
	unsigned	timeout_default_ms;
	unsigned	timeout_max_ms;
};

/* A validated execution request.  Owns code and stdin_data. */
struct job_spec {
	char		*code;
	size_t		 code_len;
	char		*stdin_data;
	size_t		 stdin_len;
	unsigned	 timeout_ms;
};

int	json_in_parse_job(const char *body, size_t len, const struct job_limits *,
	    struct job_spec *, struct api_error *);
void	job_spec_free(struct job_spec *);

/* ---------------------------------------------------------------- job.c */

enum job_status {
	JOB_OK, JOB_ERROR, JOB_TIMEOUT, JOB_OOM, JOB_OUTPUT_LIMIT
};

struct job_result {
	struct buf	 stdout_buf;
	struct buf	 stderr_buf;
	bool		 stdout_truncated;
	bool		 stderr_truncated;
	int		 exit_code;
	enum job_status	 status;
	long		 duration_ms;
	char		 container_id[65];	/* removed by job_finish() */
	bool		 exiting;		/* exit record seen: it stops by itself */
	bool		 holds_slot;		/* released by job_finish() */
	long		 uid;			/* released by job_finish() */
};

/* result.c */
const char	*job_status_name(enum job_status);
void		 job_result_init(struct job_result *, size_t output_max_bytes);
void		 job_result_free(struct job_result *);

/* ----------------------------------------------------------- json_out.c */

int	json_out_result(const struct job_result *, struct buf *out);
int	json_out_error(const struct api_error *, struct buf *out);
struct health {
	const char	*engine_version;
	const char	*image;
	unsigned	 executions_running;
	unsigned	 max_executions;
	unsigned	 pool_size;
	unsigned	 pool_ready;
};

int	json_out_health(const struct health *, struct buf *out);
#define JSON_OUT_CREATE_MAX_BYTES	(512UL * 1024)	/* with a seccomp profile */
/*
 * Host tasks allowed per task of the program under gVisor.  The ptrace
 * platform gives every process of the program a stub process on the host,
 * and the sentry grows Go threads with it: measured here (runsc 20221219),
 * an idle sandbox holds 38 host tasks, 10 sleeping children 93, a fork
 * bomb held to 64 by RLIMIT_NPROC up to 1426.  Capped at 64 host tasks,
 * the sentry itself failed to start a thread after 8-12 forks and the
 * sandbox died with exit 2.  64 x 16 lets a program use its 64; a bomb
 * that still exhausts them takes down only its own sandbox.
 */
#define JSON_OUT_RUNSC_HOST_TASKS	16

/* preload: the runner's --preload list, "" for none; ready: --ready, the
 * runner announces when it is initialised (a pool container, pool.c);
 * entrypoint: an argv replacing the image's (NULL-terminated), NULL for
 * pycage-runner; uid: the container's own (uid.c), or UID_SHARED for
 * config's `user`; expires: janitor_expiry(). */
int	json_out_create_body(const struct config *, const char *preload,
	    bool ready, const char *const *entrypoint, long uid,
	    long long expires, struct buf *out);

/* ------------------------------------------------------------- stream.c */

/*
 * Docker's multiplexed attach stream (Tty false): 8-byte headers
 * {type, 0, 0, 0, size big-endian u32}, type 1 stdout, 2 stderr.
 * Frames split anywhere across reads; a frame's size is never used to
 * allocate.  Bytes past a stream's cap are dropped and flagged.
 */
struct stream_demux {
	unsigned char	 header[8];
	size_t		 header_len;
	uint32_t	 frame_left;
	int		 frame_type;
	struct buf	*out[2];		/* stdout, stderr */
	bool		 truncated[2];
	bool		 bad_type;		/* a frame type other than 0-2 */
};

void	stream_demux_init(struct stream_demux *, struct buf *stdout_buf,
	    struct buf *stderr_buf);
/* Feeds bytes; returns true once any stream went over its cap. */
bool	stream_demux_feed(struct stream_demux *, const void *, size_t);

/* ------------------------------------------------------------- docker.c */

#define DOCKER_API_PREFIX	"/v1.41"
#define DOCKER_ID_MAX		64
#define DOCKER_LABEL_MANAGED	"org.pycage.managed"
#define DOCKER_LABEL_INSTANCE	"org.pycage.instance"
/* Unix time after which no owner can still use the container (janitor.c). */
#define DOCKER_LABEL_EXPIRES	"org.pycage.expires"
/* The creator's per-container uid range, "first-last" (uid.c). */
#define DOCKER_LABEL_UIDS	"org.pycage.uids"

/* A connection to the engine for one thread; reused across calls. */
struct docker;
/* An attached, hijacked stdin/stdout/stderr stream of one container. */
struct docker_attach;

struct docker	*docker_new(const char *socket_path, unsigned call_timeout_ms);
void		 docker_free(struct docker *);

int	docker_ping(struct docker *, char *version, size_t versionlen,
	    struct api_error *);
int	docker_image_present(struct docker *, const char *image,
	    struct api_error *);
int	docker_create(struct docker *, const char *body, size_t len,
	    char id[DOCKER_ID_MAX + 1], struct api_error *);
int	docker_start(struct docker *, const char *id, struct api_error *);
int	docker_kill(struct docker *, const char *id);
int	docker_wait(struct docker *, const char *id, unsigned timeout_ms);
int	docker_wait_exit(struct docker *, const char *id, unsigned timeout_ms);
int	docker_inspect(struct docker *, const char *id, int *exit_code,
	    bool *oom_killed, struct api_error *);
int	docker_remove(struct docker *, const char *id);
/* 1 if the engine logged an OOM of the container since then, 0, -1. */
int	docker_oom_event(struct docker *, const char *id, long long since_unix);

/* A managed container as listed; -1 for a label that is absent or bad. */
struct docker_listed {
	const char	*id;
	const char	*instance;	/* "" without the label */
	long long	 created_unix;
	long long	 expires_unix;
	long long	 uid_first, uid_last;
};

/* Calls fn for each container with the managed label. */
typedef void (*docker_list_fn)(const struct docker_listed *, void *arg);
int	docker_list_managed(struct docker *, docker_list_fn, void *arg);

int	docker_attach_open(struct docker *, const char *id,
	    struct docker_attach **, struct api_error *);
/* Sends what it can without blocking; returns bytes sent or -1. */
long	docker_attach_send(struct docker_attach *, const void *, size_t);
/* Returns bytes read, 0 at end of stream, -1 on error, -2 if none ready. */
long	docker_attach_recv(struct docker_attach *, void *, size_t);
int	docker_attach_fd(struct docker_attach *);
void	docker_attach_close_write(struct docker_attach *);
void	docker_attach_free(struct docker_attach *);
/* Bytes that arrived with the 101 answer, before the stream proper. */
size_t	docker_attach_take_early(struct docker_attach *, const char **);

/* ---------------------------------------------------------------- job.c */

/* The shared state the execution path needs; one per process. */
struct executor;

struct executor	*executor_new(const struct config *);
int		 executor_start(struct executor *);	/* the pool's thread */
void		 executor_free(struct executor *);
unsigned	 executor_running(struct executor *);
unsigned	 executor_pool_ready(struct executor *);

/*
 * Runs one job in a fresh container on the calling thread's engine
 * connection.  0 with *result filled (the program's verdict, even if it
 * failed), or -1 with err filled (the sandbox failed: 5xx).
 */
int	job_run(struct executor *, struct docker *, const struct job_spec *,
	    struct job_result *, struct api_error *);
/*
 * Removes the job's container.  Called after the answer is written so the
 * client does not wait for the removal; every path through request.c
 * reaches it.
 */
void	job_finish(struct executor *, struct docker *, struct job_result *);
/* A fixed program of pycage's own (selfcheck.c) in a fresh sandbox
 * container, with no slot and no pool; same contract as job_run. */
int	job_run_special(struct executor *, struct docker *,
	    const char *const *entrypoint, unsigned timeout_ms,
	    struct job_result *, struct api_error *);
const struct config *executor_config(struct executor *);
struct uid_pool	*executor_uids(struct executor *);

/* ---------------------------------------------------------------- uid.c */

#define UID_SHARED	(-2L)	/* no per-container uid: use config's user */

struct uid_pool;

/* The size of the instance's range from uid_base; 0 without uid_base. */
unsigned	 uid_range_count(const struct config *);
struct uid_pool	*uid_pool_new(unsigned base, unsigned count);
void		 uid_pool_free(struct uid_pool *);
long		 uid_pool_take(struct uid_pool *);	/* -1: none free */
/* The uid's container was removed. */
void		 uid_pool_put(struct uid_pool *, long uid);
/* Its removal failed: the uid comes back after a sweep no longer lists
 * the container (janitor.c: begin, seen for each listed id, end). */
void		 uid_pool_lose(struct uid_pool *, long uid, const char *container_id);
void		 uid_pool_sweep_begin(struct uid_pool *);
void		 uid_pool_sweep_seen(struct uid_pool *, const char *container_id);
unsigned	 uid_pool_sweep_end(struct uid_pool *);	/* uids given back */

/* --------------------------------------------------------------- pool.c */

struct pool;

struct pool	*pool_new(const struct config *, struct uid_pool *,
		    const atomic_uint *wanted);
int		 pool_start(struct pool *);
void		 pool_free(struct pool *);	/* removes what it holds */
/* Notes which preload modules a request's code names (pool.c: adapting). */
void		 pool_note_request(struct pool *, const char *code, size_t len);
/* A slot freed: the pool refills only while one is free. */
void		 pool_wake(struct pool *);
/* A started, attached container, now the caller's; -1 if none is ready. */
unsigned	 pool_ready(struct pool *);
int		 pool_take(struct pool *, struct docker *,
		    char id[DOCKER_ID_MAX + 1], struct docker_attach **, long *uid);

/* ------------------------------------------------------------ metrics.c */

enum metric_counter {
	METRIC_COLD_STARTS, METRIC_POOL_HITS, METRIC_CONTAINERS_CREATED,
	METRIC_CONTAINERS_REMOVED, METRIC_JANITOR_REMOVED, METRIC_DOCKER_ERRORS,
	METRIC_COUNTER_MAX
};
enum metric_gauge { METRIC_POOL_READY, METRIC_POOL_SIZE, METRIC_GAUGE_MAX };
enum metric_phase { METRIC_PHASE_QUEUE, METRIC_PHASE_ACQUIRE, METRIC_PHASE_RUN,
	METRIC_PHASE_MAX };

void	metrics_count(enum metric_counter);
void	metrics_gauge_set(enum metric_gauge, long);
void	metrics_observe(enum metric_phase, long ms);
void	metrics_request(const char *route, int http_status);
void	metrics_execution(enum job_status);
/* Counts a refused FastCGI peer (main.c); returns the count so far. */
unsigned long long metrics_fcgi_refused(void);
/* Counts a FastCGI peer cut at its deadline (peer.c, main.c); the count. */
unsigned long long metrics_fcgi_peer_cut(void);
/* Each process renders the series it owns: the front its requests, the
 * executor everything about executions and containers. */
int	metrics_render_front(struct buf *out);
int	metrics_render_executor(struct buf *out);

/* ---------------------------------------------------------- selfcheck.c */

/*
 * 0 if the sandbox limits were seen to apply; -1 with err (503) if a check
 * failed or could not run.  Runs the check when none ran yet, or when
 * refresh is set and the last one is old.
 */
int	selfcheck_ensure(struct executor *, struct docker *, bool refresh,
	    struct api_error *);

/* ------------------------------------------------------------ janitor.c */

/* Removes our instance's leftovers (at start) or stale ones of any instance. */
int	janitor_sweep(struct docker *, const struct config *, bool at_start);
/* The expiry label of a container created now: pooled ones may wait. */
long long janitor_expiry(const struct config *, bool pooled);
/* Whether the last sweep saw another instance's uid range overlap ours;
 * if so, and err is given, the 503 to answer. */
bool	janitor_uid_conflict(struct api_error *);
/* uids: the executor's, whose lost uids each sweep may give back. */
int	janitor_start(const struct config *, struct uid_pool *uids);
void	janitor_stop(void);

/* ------------------------------------------------------------ privsep.c */

/* The channel's wire format (privsep.c explains it), for both ends. */
#define PRIVSEP_RUN		1
#define PRIVSEP_HEALTH		2
#define PRIVSEP_METRICS		3
#define PRIVSEP_OK		0x10
#define PRIVSEP_ERR		0x11
/* pycage-executor finds its channels on fds PRIVSEP_FIRST_FD, +1, ...
 * (main.c puts them there before the exec). */
#define PRIVSEP_FIRST_FD	3
/* Channel buffers stay allocated up to this between messages; a larger
 * one (a big program, a 1 MiB answer) is given back after its message. */
#define PRIVSEP_KEEP_BYTES	(64 * 1024)

struct privsep_reader {
	const char	*p;
	size_t		 left;
	bool		 bad;		/* set by a read past the end */
};

/* Reads the message in b from its first byte. */
void		 privsep_reader_init(struct privsep_reader *, const struct buf *);
void		 privsep_put_u32(struct buf *, uint32_t);
void		 privsep_put_str(struct buf *, const char *, size_t);
void		 privsep_put_error(struct buf *, const struct api_error *);
uint32_t	 privsep_get_u32(struct privsep_reader *);
uint8_t		 privsep_get_u8(struct privsep_reader *);
const char	*privsep_get_bytes(struct privsep_reader *, size_t);
/* A length-prefixed message; recv's buffer cap bounds it. -1: EOF, error. */
int		 privsep_send(int fd, const struct buf *);
int		 privsep_recv(int fd, struct buf *);
size_t		 privsep_request_max(const struct config *);
size_t		 privsep_reply_max(const struct config *);

/* The front's end: one channel per worker thread; owns fd.  (The
 * executor's end is executor.c.) */
struct privsep_chan *privsep_chan_new(int fd, const struct config *);
void	privsep_chan_free(struct privsep_chan *);
/* Same contracts as job_run (the container is removed by the executor
 * after it answered), the health check and the executor's metrics. */
int	privsep_run(struct privsep_chan *, const struct job_spec *,
	    struct job_result *, struct api_error *);
int	privsep_health(struct privsep_chan *, struct health *, char *version,
	    size_t versionlen, struct api_error *);
int	privsep_metrics(struct privsep_chan *, struct buf *, struct api_error *);

/* ---------------------------------------------------------------- peer.c */

/* Seconds a FastCGI peer gets for all of one request (params and body,
 * from the accept, or on a kept connection from the request's first
 * byte), and for all of one answer; the executor's work is not counted. */
#define PEER_REQUEST_S	30
#define PEER_ANSWER_S	30

struct peer_watch {
	pthread_mutex_t	 lock;
	int		 fd;		/* a dup of the connection, or -1 */
	long long	 deadline_ms;	/* CLOCK_MONOTONIC; 0: not armed */
};

void	peer_watch_init(struct peer_watch *);
/* A request begins on fd: arms PEER_REQUEST_S. */
void	peer_watch_begin(struct peer_watch *, int fd);
/* Around the executor's work: disarm, then PEER_ANSWER_S for the answer. */
void	peer_watch_pause(struct peer_watch *);
void	peer_watch_answer(struct peer_watch *);
/* Done with the request (before the next accept). */
void	peer_watch_end(struct peer_watch *);
/* From another thread: shuts the connection down if past its deadline. */
bool	peer_watch_sweep(struct peer_watch *);

/* ------------------------------------------------------------ request.c */

struct privsep_chan;

struct worker {
	unsigned		 index;
	struct privsep_chan	*chan;		/* to the executor process */
	const struct config	*config;
	struct peer_watch	 peer;
};

struct FCGX_Request;
void	request_handle(struct worker *, struct FCGX_Request *);

#endif /* PYCAGE_H */
