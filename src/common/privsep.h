/*
 * privsep.h: every message on the channel between pycage's two processes,
 * packed and unpacked side by side in common/privsep.c, and compiled into
 * both ends from here (the front's end is front/channel.c, the executor's
 * executor/main.c).
 *
 *   front     pycage-fcgi (src/front/): unprivileged, chrooted; FastCGI,
 *             request bodies, JSON in and out.  Holds no engine
 *             connection and cannot open one: it runs as front_user, who
 *             may not use the Docker socket, inside an empty root.  It is
 *             not even linked with libcurl.
 *   executor  pycage-executor (src/executor/), which the front's start-up
 *             forks and execs as root: the only process that talks to
 *             Docker.  Builds every container body from constants and
 *             config, runs jobs, the pool, the janitor and the self-check.
 *
 * Each front worker thread has its own socketpair to an executor thread
 * (made before the fork), so the channel needs no multiplexing: one
 * request, one reply, in order.  A message is a u32 length then that many
 * bytes; the first byte is the type.  Integers are in host order (both
 * ends are the same machine).  The executor does not trust the front
 * beyond "a job to run": privsep_unpack_request() is the root process's
 * only reader of bytes another process wrote, and re-checks every length
 * and the timeout against the executor's own configuration.
 *
 *   front -> executor   RUN  u32 timeout_ms, u32 code_len, u32 stdin_len,
 *                            code, stdin, u32 nfiles, nfiles x (str name,
 *                            str content), str client   (names, count
 *                            and total re-checked against the
 *                            executor's config; client: job_client_ok())
 *                       HEALTH
 *                       METRICS
 *                       RUNTIME
 *   executor -> front   OK   RUN: i32 exit_code, u8 status, u8 stdout_truncated,
 *                                 u8 stderr_truncated, u32 duration_ms,
 *                                 str stdout, str stderr, u64 cpu_ms,
 *                                 u64 memory_peak_bytes, u64 queue_ms
 *                                 (each -1 unknown), str data (the
 *                                 runner's data record, unread)
 *                            HEALTH: u32 running, u32 pool_ready, str version
 *                            METRICS: the executor's series, as text
 *                            RUNTIME: u8 known, str python, u32 n, n x str
 *                                 module, u32 m, m x (str library, str
 *                                 version)   (each str < RUNTIME_NAME_MAX)
 *                       ERR  u32 http_status, u32 retry_after_s, str code,
 *                            str message          (str = u32 length, bytes)
 */
#ifndef PYCAGE_PRIVSEP_H
#define PYCAGE_PRIVSEP_H

#include "common.h"

enum privsep_type {
	PRIVSEP_RUN = 1,
	PRIVSEP_HEALTH = 2,
	PRIVSEP_METRICS = 3,
	PRIVSEP_RUNTIME = 4,
	PRIVSEP_OK = 0x10,
	PRIVSEP_ERR = 0x11
};

/* pycage-executor finds its channels on fds PRIVSEP_FIRST_FD, +1, ...
 * (front/main.c puts them there before the exec). */
#define PRIVSEP_FIRST_FD 3
/* Channel buffers stay allocated up to this between messages; a larger
 * one (a big program, a 1 MiB answer) is given back after its message. */
#define PRIVSEP_KEEP_BYTES (64 * 1024)
/* Error codes and messages on the wire; longer ones are refused. */
#define PRIVSEP_STR_MAX 1024
#define PRIVSEP_VERSION_MAX 64 /* the engine's version */

/* What GET /v1/health reports; the executor sends the live part. */
struct health {
	const char *engine_version;
	const char *image;
	unsigned executions_running;
	unsigned max_executions;
	unsigned pool_size;
	unsigned pool_ready;
	bool brief; /* status only: keys on, no key given */
};

/* The caps a channel's buffers are made with (recv refuses more). */
size_t privsep_request_max(const struct config *);
size_t privsep_reply_max(const struct config *);

/* A length-prefixed message; recv's buffer cap bounds it. -1: EOF, error. */
int privsep_send(int fd, const struct buf *);
int privsep_recv(int fd, struct buf *);

/*
 * Requests.  The front packs (0, or -1 over the buffer's cap); the
 * executor unpacks: the message's type with, for RUN, *spec pointing
 * into b (valid while b is), or -1 with err set (500 internal) for a
 * message that is malformed or over the executor's own limits.
 */
int privsep_pack_run(struct buf *, const struct job_spec *);
int privsep_pack_type(struct buf *, enum privsep_type); /* HEALTH, METRICS */
int privsep_unpack_request(const struct buf *, const struct config *,
    struct job_spec *spec, struct api_error *err);

/*
 * Replies.  The executor packs (0, or -1 over the buffer's cap: then it
 * packs an error instead); the front unpacks: 0 with the OK reply's
 * fields, or -1 with err set, from an ERR reply or, for a reply that is
 * malformed, to 500 internal.  *result's buffers must be big enough (its
 * caps are the front's); version is copied into versionbuf.
 */
int privsep_pack_error(struct buf *, const struct api_error *);
int privsep_pack_result(struct buf *, const struct job_result *);
int privsep_pack_health(struct buf *, unsigned running, unsigned pool_ready,
    const char *version);
int privsep_pack_metrics(struct buf *); /* metrics_render_executor() */
int privsep_pack_runtime(struct buf *, const struct runtime_info *);
int privsep_unpack_runtime(const struct buf *, struct runtime_info *,
    struct api_error *);
int privsep_unpack_result(const struct buf *, struct job_result *,
    struct api_error *);
int privsep_unpack_health(const struct buf *, struct health *,
    char versionbuf[PRIVSEP_VERSION_MAX], struct api_error *);
int
privsep_unpack_metrics(const struct buf *, struct buf *out, struct api_error *);

#endif /* PYCAGE_PRIVSEP_H */
