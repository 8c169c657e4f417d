/*
 * executor.h: pycage-executor's own types and prototypes (src/executor/),
 * the process that runs as root beside the Docker socket and is its only
 * client: the Engine API (docker.c), the attach stream (stream.c), the
 * container body (create_body.c), one job end to end (job.c), the warm
 * pool (pool.c), per-container uids (uid.c), the janitor and the
 * self-check, and its end of the channel (main.c).  It never parses HTTP
 * or request JSON: the front's header is not on its include path, and
 * what it reads from the front is privsep_unpack_request()'s to check.
 */
#ifndef PYCAGE_EXECUTOR_H
#define PYCAGE_EXECUTOR_H

#include <yajl/yajl_tree.h>

#include "common.h"
#include "protocol.h"

/*
 * Docker's multiplexed attach stream (Tty false): 8-byte headers
 * {type, 0, 0, 0, size big-endian u32}, type 1 stdout, 2 stderr.
 * Frames split anywhere across reads; a frame's size is never used to
 * allocate.  Bytes past a stream's cap are dropped and flagged.
 */
struct stream_demux {
	unsigned char header[8];
	size_t header_len;
	uint32_t frame_left;
	int frame_type;
	struct buf *out[2]; /* stdout, stderr */
	bool truncated[2];
	bool bad_type; /* a frame type other than 0-2 */
};

void stream_demux_init(struct stream_demux *, struct buf *stdout_buf,
    struct buf *stderr_buf);
/* Feeds bytes; returns true once any stream went over its cap. */
bool stream_demux_feed(struct stream_demux *, const void *, size_t);
/* ------------------------------------------------------------- docker.c */

#define DOCKER_API_PREFIX "/v1.41"
#define DOCKER_ID_MAX 64
#define DOCKER_LABEL_MANAGED "org.pycage.managed"
#define DOCKER_LABEL_INSTANCE "org.pycage.instance"
/* Unix time after which no owner can still use the container (janitor.c). */
#define DOCKER_LABEL_EXPIRES "org.pycage.expires"
/* The creator's per-container uid range, "first-last" (uid.c). */
#define DOCKER_LABEL_UIDS "org.pycage.uids"

/* A connection to the engine for one thread; reused across calls. */
struct docker;
/* An attached, hijacked stdin/stdout/stderr stream of one container. */
struct docker_attach;

struct docker *docker_new(const char *socket_path, unsigned call_timeout_ms);
/* The configured engine: docker_socket, or docker_host's TCP with TLS. */
struct docker *docker_open(const struct config *);
/* Start-up, as root: the TLS files' owner and modes; -1 with msg. */
int docker_check_tls_files(const struct config *, char *msg, size_t msglen);
void docker_free(struct docker *);

int docker_ping(struct docker *, char *version, size_t versionlen,
    struct api_error *);
int docker_image_present(struct docker *, const char *image, struct api_error *);
int docker_create(struct docker *, const char *body, size_t len,
    char id[DOCKER_ID_MAX + 1], struct api_error *);
/* A create whose ?name= is taken (409): docker_create_named()'s answer. */
#define DOCKER_NAME_TAKEN (-2)
int docker_create_named(struct docker *, const char *name, const char *body,
    size_t len, char id[DOCKER_ID_MAX + 1], struct api_error *);
/* Config.Labels[label] of a container (id or name): 0 with it in out, 1 if
 * there is no such container, -1 if it cannot be read or has no label. */
int docker_label(struct docker *, const char *id, const char *label, char *out,
    size_t outlen);
/* "Engine V (package), containerd V (...), runc V (...), docker-init V"
 * from GET /version, for the log; -1 if it cannot be read. */
int docker_versions(struct docker *, char *out, size_t outlen);
/* The path the engine runs a named runtime from (GET /info), -1 if none. */
int docker_runtime_path(struct docker *, const char *runtime, char *out,
    size_t outlen);
int docker_start(struct docker *, const char *id, struct api_error *);
int docker_kill(struct docker *, const char *id);
/* err: NULL, or the 503 to answer when the engine is the trouble. */
int docker_wait(struct docker *, const char *id, unsigned timeout_ms,
    struct api_error *);
int docker_wait_exit(struct docker *, const char *id, unsigned timeout_ms);
int docker_inspect(struct docker *, const char *id, int *exit_code,
    bool *oom_killed, struct api_error *);
int docker_remove(struct docker *, const char *id);
/* 1 if the engine logged an OOM of the container since then, 0, -1. */
int docker_oom_event(struct docker *, const char *id, long long since_unix);
/* Whether the engine logged `event` ("oom", "kill") for the container
 * since since_unix: 1, 0, or -1 when the engine could not be asked. */
int docker_event(struct docker *, const char *id, long long since_unix,
    const char *event);

/*
 * The engine's standing, shared by every connection: failures a retry can
 * cure are counted; after DOCKER_FAILURES_UNHEALTHY in a row,
 * docker_engine_troubled() is true (and fills err with the 503 naming the
 * last cause) until docker_engine_ok(): a container started.  ok returns
 * whether the engine was troubled until then (the janitor sweeps at once).
 */
bool docker_engine_ok(void);
bool docker_engine_troubled(struct api_error *);

/* A managed container as listed; -1 for a label that is absent or bad. */
struct docker_listed {
	const char *id;
	const char *instance; /* "" without the label */
	long long created_unix;
	long long expires_unix;
	long long uid_first, uid_last;
};

/* Calls fn for each container with the managed label. */
typedef void (*docker_list_fn)(const struct docker_listed *, void *arg);
int docker_list_managed(struct docker *, docker_list_fn, void *arg);

int docker_attach_open(struct docker *, const char *id, struct docker_attach **,
    struct api_error *);
/* Nothing could be sent or read without blocking: try again. */
#define DOCKER_AGAIN (-2)
/* Sends what it can without blocking: bytes sent, DOCKER_AGAIN, or -1. */
long docker_attach_send(struct docker_attach *, const void *, size_t);
/* Bytes read, 0 at end of stream, DOCKER_AGAIN, or -1 on error. */
long docker_attach_recv(struct docker_attach *, void *, size_t);
int docker_attach_fd(struct docker_attach *);
void docker_attach_close_write(struct docker_attach *);
void docker_attach_free(struct docker_attach *);
/* Bytes that arrived with the 101 answer, before the stream proper. */
size_t docker_attach_take_early(struct docker_attach *, const char **);
/* -------------------------------------------------------- create_body.c */

#define CREATE_BODY_MAX_BYTES (512UL * 1024) /* with a seccomp profile */
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
#define CREATE_BODY_RUNSC_HOST_TASKS 16

/* preload: the runner's --preload list, "" for none; ready: --ready, the
 * runner announces when it is initialised (a pool container, pool.c);
 * entrypoint: an argv replacing the image's (NULL-terminated), NULL for
 * pycage-runner; uid: the container's own (uid.c), or UID_SHARED for
 * config's `user`; cpuset: the cores it may run on ("2", "0-1"), "" or
 * NULL for any; expires: janitor_expiry(). */
int create_body(const struct config *, const char *preload, bool ready,
    const char *const *entrypoint, long uid, const char *cpuset,
    long long expires, struct buf *out);

/* ---------------------------------------------------------- container.c */

/* A sandbox container as its owner holds it. */
struct container {
	char container_id[DOCKER_ID_MAX + 1]; /* "" before create */
	long uid;                     /* its own (uid.c), or UID_SHARED */
	struct docker_attach *attach; /* NULL once closed */
};

/* What to start: create_body()'s arguments, and where uids come from. */
struct container_want {
	const struct config *config;
	struct uid_pool *uids;
	const char *preload;           /* "" for none */
	bool ready;                    /* --ready: a pool container */
	bool pooled;                   /* its expiry label allows the wait */
	const char *const *entrypoint; /* NULL: pycage-runner */
};

/* Reads the cores this process may use (sched_getaffinity), once at
 * start: runs are spread over them. */
void container_cpus_init(void);
/* The cpuset of the next run: cores_per_run of the executor's cores,
 * taken in turn. */
void container_next_cpuset(const struct config *, char *out, size_t outlen);
void container_init(struct container *);
/* uid -> body -> create -> attach -> start.  0, or -1 with err set and
 * whatever was made already removed (container_remove). */
int container_start(struct container *, struct docker *,
    const struct container_want *, struct api_error *);
/* Closes the stream, removes the container and gives its uid back, or
 * quarantines the uid with the id if the engine would not remove it.
 * Safe on a container never made; leaves *c as container_init() does. */
void container_remove(struct container *, struct docker *, struct uid_pool *);
/* Whether this process made the container and has not removed it yet. */
bool container_live(const char *id);
/* How many creates are on their way: their containers may be listed by
 * the engine before container_live() knows them. */
unsigned container_creating(void);

/* --------------------------------------------------------------- lock.c */

/* Who holds an instance's lock: "HOST PID STARTTIME" of its executor. */
#define DOCKER_LABEL_OWNER "org.pycage.owner"
#define DOCKER_LABEL_LOCK "org.pycage.lock"

/*
 * Takes the engine-wide lock of config's instance (a created, never
 * started container named for it), so that a second responder of the
 * same instance cannot sweep the first one's live containers at its
 * start.  0 taken, 1 the engine was not reachable (not taken), -1 held
 * by a live responder, with why in err.  Released by lock_release().
 */
int lock_take(struct docker *, const struct config *, char *err, size_t errlen);
void lock_release(struct docker *);

/* ------------------------------------------------------------- record.c */

/* The watch for one run's exit record on its two streams (record.c). */
struct record_watch {
	char marker[PROTOCOL_EXIT_RECORD_MAX_BYTES]; /* up to and including the space */
	size_t marker_len;
	size_t scanned[2]; /* bytes of each buffer already searched */
	bool seen[2];
	size_t at[2]; /* where the record starts */
	int code;
	/* The data record, "\x1epycage-data <nonce> <len>\n<len bytes>", on
	 * stdout just before the exit record: where it starts once seen. */
	char data_marker[PROTOCOL_DATA_HEADER_MAX_BYTES];
	size_t data_marker_len;
	size_t data_scanned;
	bool data_seen;
	size_t data_at;
};

void record_watch_init(struct record_watch *, const char *nonce);
/* Looks for the record on stream i (0 stdout, 1 stderr) in what arrived
 * since the last look. */
void record_watch_scan(struct record_watch *, int i, const struct buf *);
/* Seen on both streams: the program is over. */
bool record_watch_done(const struct record_watch *);
/*
 * The output cap is the program's: while the run lasts each buffer takes
 * PROTOCOL_EXIT_RECORD_MAX_BYTES past it for the record.  Whether stream
 * i's program part (what precedes its record, or a record still arriving)
 * is over cap; *program is its length.
 */
bool record_over_cap(const struct record_watch *, int i, const struct buf *,
    size_t cap, size_t *program);
/* After the run: cuts stream i back to its program part, or to the cap
 * (whole UTF-8 characters) when over it, setting *truncated and dropping
 * its record; true if it was over. */
bool record_cap_stream(struct buf *, bool *truncated, struct record_watch *,
    int i, size_t cap);
/* Looks for the data record's start on stdout in what arrived since. */
void record_watch_scan_data(struct record_watch *, const struct buf *);
/* Once the program is over: the data record's bytes into out if it is
 * whole and ends at end (the exit record's start); stdout is cut where it
 * starts either way.  Its bytes are not looked at: the front validates. */
void record_take_data(struct record_watch *, struct buf *stdout_buf, size_t end,
    struct buf *out);

/* ------------------------------------------------------------ usage.c */

/* A run's cgroup counters, read by the host (usage.c explains). */
struct usage_probe {
	int cpu_fd;
	int memory_fd;
	bool v2;
	long long cpu_start; /* ns; -1 unknown */
	long long cpu_last;
	long long memory_last; /* bytes; -1 unknown */
};

void usage_begin(struct usage_probe *, const char *container_id);
void usage_sample(struct usage_probe *);
/* Reads once more, fills cpu_ms and memory_peak_bytes, closes. */
void usage_end(struct usage_probe *, struct job_usage *);

/* ---------------------------------------------------------------- job.c */

/* The shared state the execution path needs; one per process. */
struct executor;

/* One run as the executor holds it: the answer, and the container it ran
 * in with what it holds (a slot, a uid), all given back by job_finish(). */
struct job_client;

struct job {
	struct job_result result;
	struct container container;
	bool exiting; /* exit record seen: it stops by itself */
	bool holds_slot;
	struct job_client *client; /* whose slot (job.c) */
};

void job_init(struct job *, size_t output_max_bytes);
void job_free(struct job *);

struct executor *executor_new(const struct config *);
int executor_start(struct executor *); /* the pool's thread */
void executor_free(struct executor *);
unsigned executor_running(struct executor *);
unsigned executor_pool_ready(struct executor *);

/*
 * Runs one job in a fresh container on the calling thread's engine
 * connection (the caller has admitted it: main.c checks the self-check's
 * verdict and the uid ranges first).  0 with job->result filled (the program's verdict, even if
 * it failed), or -1 with err filled (the sandbox failed: 5xx).
 */
int job_run(struct executor *, struct docker *, const struct job_spec *,
    struct job *, struct api_error *);
/*
 * Removes the job's container and gives back its slot and uid.  Called
 * after the answer is written so the client does not wait for the
 * removal; every path through executor/main.c reaches it.
 */
void job_finish(struct executor *, struct docker *, struct job *);
/* A fixed program of pycage's own (selfcheck.c) in a fresh sandbox
 * container, with no slot and no pool; same contract as job_run. */
int job_run_special(struct executor *, struct docker *,
    const char *const *entrypoint, unsigned timeout_ms, struct job *,
    struct api_error *);
const struct config *executor_config(struct executor *);
struct uid_pool *executor_uids(struct executor *);

/* ---------------------------------------------------------------- uid.c */

#define UID_SHARED (-2L) /* no per-container uid: use config's user */

struct uid_pool;

struct uid_pool *uid_pool_new(unsigned base, unsigned count);
void uid_pool_free(struct uid_pool *);
/* -1: none free (taken, or a host process runs under it: /proc). */
long uid_pool_take(struct uid_pool *);
/* Kills pid (SIGKILL) if it still runs under uid and no container of ours
 * holds the uid; 1 if it did. */
int uid_pool_reap(struct uid_pool *, long pid, long uid);
/* Where the process table is read, "/proc" unless a test says. */
void uid_pool_set_proc(struct uid_pool *, const char *);
/* The uid in [base, base + count) pid runs under (any of real, effective,
 * saved, file-system), or -1. */
long uid_proc_in_range(const char *proc, long pid, unsigned base, unsigned count);
/* fn for each process under one of [base, base + count). */
void uid_proc_scan(const char *proc, unsigned base, unsigned count,
    void (*fn)(long pid, long uid, void *), void *arg);
/* The uid's container was removed. */
void uid_pool_put(struct uid_pool *, long uid);
/* Its removal failed: the uid comes back after a sweep no longer lists
 * the container (janitor.c: begin, seen for each listed id, end). */
void uid_pool_lose(struct uid_pool *, long uid, const char *container_id);
void uid_pool_sweep_begin(struct uid_pool *);
void uid_pool_sweep_seen(struct uid_pool *, const char *container_id);
unsigned uid_pool_sweep_end(struct uid_pool *); /* uids given back */
/* --------------------------------------------------------------- pool.c */

struct pool;

struct pool *
pool_new(const struct config *, struct uid_pool *, const atomic_uint *wanted);
int pool_start(struct pool *);
void pool_free(struct pool *); /* removes what it holds */
/* Notes which preload modules a request's code names (pool.c: adapting). */
void pool_note_request(struct pool *, const char *code, size_t len);
/* A slot freed: the pool refills only while one is free. */
void pool_wake(struct pool *);
unsigned pool_ready(struct pool *);
/* A started, attached container, now the caller's; -1 if none is ready. */
int pool_take(struct pool *, struct docker *, struct container *);
/* ---------------------------------------------------------- selfcheck.c */

/*
 * 0 if the sandbox limits were seen to apply; -1 with err (503) if a check
 * failed or could not run.  Runs the check when none ran yet, or when
 * refresh is set and the last one is old.
 */
int selfcheck_ensure(struct executor *, struct docker *, bool refresh,
    struct api_error *);
/* The verdict on one report of the check program (a parsed JSON object):
 * why is "" when it matches the configuration, else what did not apply.
 * got_uid: the container's own uid, or -1 for config's `user`. */
void selfcheck_compare(const struct config *, long got_uid, yajl_val report,
    char *why, size_t len);
/* At shutdown: until no check runs (one from health runs on its own). */
void selfcheck_wait_idle(void);
/* A copy of what the last self-check read of the image's runtime. */
void selfcheck_runtime(struct runtime_info *);
/* ------------------------------------------------------------ janitor.c */

/* Removes our instance's leftovers (at start) or stale ones of any instance. */
int janitor_sweep(struct docker *, const struct config *, bool at_start);
/* The expiry label of a container created now: pooled ones may wait. */
long long janitor_expiry(const struct config *, bool pooled);
/* Whether the last sweep saw another instance's uid range overlap ours;
 * if so, and err is given, the 503 to answer. */
bool janitor_uid_conflict(struct api_error *);
/* The executor's uids, before the sweep at start (janitor_start sets them too). */
void janitor_use_uids(struct uid_pool *uids);
/* uids: the executor's, whose lost uids each sweep may give back. */
int janitor_start(const struct config *, struct uid_pool *uids);
void janitor_stop(void);
/* The engine is back after trouble: sweep now, not at the next interval. */
void janitor_wake(void);
#endif /* PYCAGE_EXECUTOR_H */
