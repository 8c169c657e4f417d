/*
 * front.h: pycage-fcgi's own types and prototypes (src/front/), the
 * unprivileged, chrooted process that reads request bytes: FastCGI
 * workers (main.c), a peer's deadline (peer.c), routing and answers
 * (request.c, answer.c), request JSON (json_in.c) and its end of the
 * channel to the executor (channel.c).  It never talks to Docker: the
 * executor's header is not on its include path, and it is not linked
 * with libcurl.
 */
#ifndef PYCAGE_FRONT_H
#define PYCAGE_FRONT_H

#include <stdio.h>

#include "common.h"
#include "privsep.h"
#include "protocol.h"

#include <yajl/yajl_gen.h>

/* ------------------------------------------------------------ json_in.c */

#define JSON_IN_DEPTH_MAX 32

struct job_limits {
	size_t code_max_bytes;
	size_t stdin_max_bytes;
	size_t files_max_bytes; /* decoded, all files together */
	unsigned timeout_default_ms;
	unsigned timeout_max_ms;
};

/* The checks on the whole body's bytes before any parse (UTF-8, no NUL,
 * no lone surrogate escape, no \v or \f between tokens); -1 with err. */
int json_in_check_bytes(const char *body, size_t len, struct api_error *);
int json_in_parse_job(const char *body, size_t len, const struct job_limits *,
    struct job_spec *, struct api_error *);
/* Frees what json_in_parse_job() made. */
void job_spec_free(struct job_spec *);
/* The limits json_in_parse_job() holds a body to: config c's. */
void json_in_limits(const struct config *c, struct job_limits *);

/* -------------------------------------------------------- runner_data.c */

#define RUNNER_DATA_LINE_MAX 100000000LL /* a line or an offset */

struct runner_frame {
	long long line;
	char function[PROTOCOL_EXC_TEXT_MAX_BYTES + 1];
	char text[PROTOCOL_EXC_TEXT_MAX_BYTES + 1];
};

struct runner_exception {
	char type[PROTOCOL_EXC_TYPE_MAX_BYTES + 1];
	struct buf message;
	long long line;   /* -1: null */
	long long offset; /* -1: absent or null (SyntaxError only) */
	size_t nframes;
	struct runner_frame frames[PROTOCOL_EXC_FRAMES_MAX];
};

struct runner_file {
	char name[PROTOCOL_FILE_NAME_MAX_BYTES + 1];
	struct buf data; /* decoded */
};

/* The runner's data record, validated (runner_data.c explains).  Set
 * files_max before parsing: the files' decoded total may not pass it. */
struct runner_data {
	size_t files_max;
	bool has_files;
	size_t nfiles;
	size_t files_total;
	struct runner_file files[PROTOCOL_FILES_MAX];
	bool files_truncated;
	struct buf file_text; /* a file's base64 being read */
	bool valid;
	bool has_exception;
	struct runner_exception exception;
	bool has_result;
	struct buf result;
	bool result_truncated;
};

void runner_data_init(struct runner_data *);
void runner_data_free(struct runner_data *);
/* 0, or -1 (the record is refused whole; *d then says nothing). */
int runner_data_parse(const char *, size_t, struct runner_data *);

/* ------------------------------------------------------------- answer.c */

int answer_result(const struct job_result *, struct buf *out);
/* The runner's data record of r, validated (NULL without memory); an
 * invalid record gives a runner_data whose valid is false. */
struct runner_data *answer_runner_data(const struct job_result *r);
void answer_runner_data_free(struct runner_data *);
/* The answer object of r into g (MCP's structuredContent, mcp.c). */
int answer_result_gen(yajl_gen, const struct job_result *,
    const struct runner_data *);
/* A returned file goes out as "utf-8" text (else "base64"). */
bool answer_file_is_text(const struct runner_file *);
int answer_error(const struct api_error *, struct buf *out);
int answer_health(const struct health *, struct buf *out);
/* GET /v1/runtime: the image's part (rt) and the limits of config. */
int answer_runtime(const struct runtime_info *rt, const struct config *,
    struct buf *out);

/* ------------------------------------------------------------- sha256.c */

#define SHA256_BYTES 32

/* FIPS 180-4 SHA-256 of len bytes, one shot. */
void sha256(const void *, size_t len, unsigned char digest[SHA256_BYTES]);

/* --------------------------------------------------------------- keys.c */

#define KEYS_MAX 256    /* lines of api_keys_file */
#define KEY_NAME_MAX 32 /* bytes of [A-Za-z0-9_.-] */
#define KEY_NAME_MAX_TEXT "32"
#define KEY_TEXT_MAX 256 /* a longer presented key: refused unhashed */

struct keys;

/* api_keys_file: 0 with *out, or -1 with "file:line: reason".  A missing
 * or empty file is refused unless may_be_empty (--new-key's first key). */
int keys_load(struct keys **out, const char *path, bool may_be_empty, char *err,
    size_t errlen);
void keys_free(struct keys *);
size_t keys_count(const struct keys *);
bool keys_name_ok(const char *);
/* The name of the key an Authorization value carries (and counts it for
 * the metrics), or NULL; compared in constant time. */
const char *keys_match(struct keys *, const char *authorization);
/* pycage_key_requests_total, one series per name in the file. */
int keys_render_metrics(struct keys *, struct buf *);
/* --new-key: prints a new key once on out, appends NAME HASH to path. */
int keys_new(const char *path, const char *name, FILE *out, char *err,
    size_t errlen);

/* --------------------------------------------------------------- tool.c */

/* The run_python tool (tool.c): GET /v1/tool and MCP's tools/list. */
#define TOOL_NAME "run_python"
#define TOOL_DESCRIPTION_MAX_BYTES 8192

/* The model-facing text, from the image's runtime and config's limits. */
int tool_description(const struct runtime_info *, const struct config *,
    struct buf *out);
/* JSON Schema of the POST /v1/execute body, into g. */
int tool_input_schema(yajl_gen, const struct config *);
/* JSON Schema of its 200 answer, into g. */
int tool_output_schema(yajl_gen);
/* GET /v1/tool's document. */
int
answer_tool(const struct runtime_info *, const struct config *, struct buf *out);

/* ---------------------------------------------------------------- mcp.c */

#define MCP_METHOD_MAX_BYTES 64
#define MCP_ID_MAX_BYTES 128 /* a string id, or a numeral */
#define MCP_VERSION_MAX_BYTES 32
#define MCP_NAME_MAX_BYTES 128

/* JSON-RPC 2.0 error codes (and MCP's, 2026-07-28 basic/index). */
#define MCP_PARSE_ERROR (-32700)
#define MCP_INVALID_REQUEST (-32600)
#define MCP_METHOD_NOT_FOUND (-32601)
#define MCP_INVALID_PARAMS (-32602)
#define MCP_INTERNAL_ERROR (-32603)
#define MCP_SERVER_ERROR (-32000) /* the sandbox failed: data.code */
#define MCP_HEADER_MISMATCH (-32020)
#define MCP_UNSUPPORTED_VERSION (-32022)

enum mcp_id_type { MCP_ID_NONE, MCP_ID_STRING, MCP_ID_NUMBER };

/* One JSON-RPC message, as mcp_parse() read it: the envelope's known
 * members; tools/call's arguments stay bytes of the body, for json_in. */
struct mcp_message {
	enum mcp_id_type id_type;
	char id[MCP_ID_MAX_BYTES + 1];
	size_t id_len;
	bool has_method;
	char method[MCP_METHOD_MAX_BYTES + 1];
	bool has_name;
	char name[MCP_NAME_MAX_BYTES + 1];
	bool has_arguments;
	size_t arguments_offset; /* in the body */
	size_t arguments_len;
	bool has_protocol_version; /* initialize's */
	char protocol_version[MCP_VERSION_MAX_BYTES + 1];
	bool has_meta_version; /* _meta's, 2026-07-28 */
	char meta_version[MCP_VERSION_MAX_BYTES + 1];
	/* -1: the message is refused with this JSON-RPC error. */
	int error_code;
	char error_message[256];
};

/* 0, or -1 with m->error_code and m->error_message (m->id_type says
 * whether the id was read before the fault). */
int mcp_parse(const char *body, size_t len, struct mcp_message *m);

struct worker;

/* The HTTP request's MCP-relevant headers; "" when absent. */
struct mcp_http {
	const char *client; /* request.c's: key name or address */
	const char *id;     /* the front's request id, or "-" */
	const char *origin;
	const char *accept;
	const char *content_type;
	const char *protocol_version; /* MCP-Protocol-Version */
	const char *mcp_method;       /* Mcp-Method */
	const char *mcp_name;         /* Mcp-Name */
};

/* What request.c writes back: status, and a JSON body unless 202. */
struct mcp_reply {
	int status;
	unsigned retry_after_s;
	struct buf body;
};

/* The checks that need no body (Origin, Accept, Content-Type, the
 * version header): 0, or -1 with r filled in. */
int mcp_check_http(const struct config *, const struct mcp_http *,
    struct mcp_reply *r);
/* One POST body: r's status and body (empty for 202). */
void mcp_serve(struct worker *, const struct mcp_http *, const char *body,
    size_t len, struct mcp_reply *r);
/* The largest reply body for config c. */
size_t mcp_reply_max(const struct config *);

/* ------------------------------------------------------------ channel.c */

/* One worker's channel to the executor; owns fd. */
struct channel;

struct channel *channel_new(int fd, const struct config *);
void channel_free(struct channel *);
/* 0 with the job's result (the executor removes the container after it
 * answered), or -1 with err: the sandbox failed, or the channel did. */
int channel_run(struct channel *, const struct job_spec *, struct job_result *,
    struct api_error *);
int channel_health(struct channel *, struct health *,
    char versionbuf[PRIVSEP_VERSION_MAX], struct api_error *);
int channel_metrics(struct channel *, struct buf *, struct api_error *);
int channel_runtime(struct channel *, struct runtime_info *, struct api_error *);

/* Seconds a FastCGI peer gets for all of one request (params and body,
 * from the accept, or on a kept connection from the request's first
 * byte), and for all of one answer; the executor's work is not counted. */
#define PEER_REQUEST_S 30
#define PEER_ANSWER_S 30

struct peer_watch {
	pthread_mutex_t lock;
	int fd;                /* a dup of the connection, or -1 */
	long long deadline_ms; /* CLOCK_MONOTONIC; 0: not armed */
};

void peer_watch_init(struct peer_watch *);
/* A request begins on fd: arms PEER_REQUEST_S. */
void peer_watch_begin(struct peer_watch *, int fd);
/* Around the executor's work: disarm, then PEER_ANSWER_S for the answer. */
void peer_watch_pause(struct peer_watch *);
void peer_watch_answer(struct peer_watch *);
/* Done with the request (before the next accept). */
void peer_watch_end(struct peer_watch *);
/* From another thread: shuts the connection down if past its deadline. */
bool peer_watch_sweep(struct peer_watch *);
/* ------------------------------------------------------------ request.c */

struct worker {
	unsigned index;
	struct channel *chan; /* to the executor process */
	const struct config *config;
	struct keys *keys; /* NULL: no api_keys_file */
	struct peer_watch peer;
};

struct FCGX_Request;
/* Drain (SIGUSR1 to the front): executions and health answer 503
 * draining while the runs in flight finish; SIGUSR2 ends it. */
void request_set_draining(bool);
void request_handle(struct worker *, struct FCGX_Request *);
/* The execution path of POST /v1/execute and MCP's tools/call for client
 * (a key's name or the address; spec->client is set here): the busy gate
 * with its per-client share, the channel to the executor, the peer's
 * deadline paused. */
int request_run(struct worker *, const char *client, const char *id,
    struct job_spec *, struct job_result *, struct api_error *);
/* The largest answer of POST /v1/execute for config c. */
size_t request_answer_max(const struct config *);

#endif /* PYCAGE_FRONT_H */
