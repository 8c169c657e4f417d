/*
 * request.c: one FastCGI request, in the unprivileged front process: CGI
 * params, routing, a capped body, JSON in and out, and the one place that
 * writes answers, errors included (slowcgi's rule: errors become HTTP
 * answers at one label).  It never exits and never trusts CONTENT_LENGTH:
 * the body actually read must match it.  Jobs, health and the executor's
 * metrics go over the worker's channel to the executor (channel.c).
 *
 * Routes:  POST /v1/execute   run code, answer the result
 *          GET  /v1/health    engine reachable and image present, not
 *                             draining (503 draining, request_set_draining)
 *          GET  /v1/metrics   Prometheus text (metrics.c)
 *          GET  /v1/runtime   the image's Python, libraries, the limits
 *          GET  /v1/tool      the run_python definition (tool.c)
 *          POST /mcp          the MCP endpoint (mcp.c)
 *          GET  /v1/openapi.json  docs/openapi.yaml, compiled in as JSON
 *                             (openapi_json.h, made by scripts/openapi-embed.py:
 *                             the chroot holds no files to read)
 *
 * With an api_keys_file every route but /v1/health, unknown paths too,
 * needs `Authorization: Bearer KEY` (keys.c), else 401 unauthorized with
 * WWW-Authenticate; /v1/health then says only ok (or its error) unless a
 * key comes with it.  The check is here, in the responder, so it is the
 * same behind nginx and Apache.  The key's name, else REMOTE_ADDR, is the
 * client the executor keeps fair shares for (executor/job.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>

#include "front.h"
#include "openapi_json.h"

#define REQUEST_READ_CHUNK 65536
#define REQUEST_METRICS_MAX_BYTES (256UL * 1024)
#define REQUEST_RUNTIME_MAX_BYTES (64UL * 1024) /* 128 modules, 32 libraries */
#define REQUEST_ID_MAX 64
#define REQUEST_JSON "application/json"
#define REQUEST_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

/*
 * Executions held by workers now (running, or waiting for a slot), in all
 * and per client.  The workers that may run code are shared out as the
 * executor shares out its slots (job.c): a client holding half of them or
 * more may not take the last free one, so one client's backlog cannot
 * leave a newcomer nothing but 503 busy (test_keys.py's starvation case
 * sends as many runs as there are such workers).  One entry per worker
 * at most: an entry with nothing held is free.
 */
struct request_holder {
	char name[JOB_CLIENT_MAX];
	unsigned held;
};

static pthread_mutex_t request_holders_lock = PTHREAD_MUTEX_INITIALIZER;
static struct request_holder request_holders[CONFIG_WORKERS_MAX];
static unsigned request_executing;
/* SIGUSR1 .. SIGUSR2 (main.c): no new runs, health says so. */
static atomic_bool request_draining;

void
request_set_draining(bool on)
{
	atomic_store(&request_draining, on);
}

/* 503 draining, before anything is started: a front may send the request
 * to another node (nginx/pycage-upstream.conf). */
static bool
request_refuse_draining(struct api_error *err)
{
	unsigned executing;

	if (!atomic_load(&request_draining))
		return false;
	pthread_mutex_lock(&request_holders_lock);
	executing = request_executing;
	pthread_mutex_unlock(&request_holders_lock);
	api_error_set(err, 503, "draining",
	    "This node is draining: it "
	    "finishes the %u runs in flight and takes no new ones; send the "
	    "request to another node.",
	    executing);
	err->retry_after_s = RETRY_AFTER_DRAIN_S;
	return true;
}

static const char *
request_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/*
 * The CGI-style head and the body.  The head is formatted here, not with
 * FCGX_FPrintF: libfcgi's own printf knows no %zu.
 */
static void
request_write(FCGX_Request *req, int status, const struct api_error *err,
    const struct buf *body, bool head_only, const char *content_type)
{
	char head[512], extra[128] = "";
	int n;

	if (err != NULL && err->retry_after_s > 0)
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
		    err->retry_after_s);
	else if (err != NULL && err->allow != NULL)
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", err->allow);
	else if (status == 401) /* RFC 6750 section 3 */
		snprintf(extra, sizeof(extra),
		    "WWW-Authenticate: Bearer realm=\"pycage\"\r\n");
	/* No Content-Type for no body (202: a notification to /mcp). */
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s\r\n",
	    status, request_reason(status),
	    content_type != NULL ? "Content-Type: " : "",
	    content_type != NULL ? content_type : "",
	    content_type != NULL ? "\r\n" : "", body->len, extra);
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	FCGX_PutStr(head, n, req->out);
	if (!head_only && body->len > 0)
		FCGX_PutStr(body->data, (int)body->len, req->out);
}

static void
request_write_error(FCGX_Request *req, const struct api_error *err)
{
	struct buf body;

	buf_init(&body, 4096);
	if (answer_error(err, &body) == -1)
		buf_append_str(&body,
		    "{\"error\":{\"code\":\"internal\","
		    "\"message\":\"Could not encode the error.\"}}");
	request_write(req, err->http_status, err, &body, false, REQUEST_JSON);
	buf_free(&body);
}

static const char *
request_param(FCGX_Request *req, const char *name)
{
	const char *v = FCGX_GetParam(name, req->envp);

	return v != NULL ? v : "";
}

/* "application/json", any case, optionally followed by parameters. */
static bool
request_is_json(const char *content_type)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (strncasecmp(content_type, json, n) != 0)
		return false;
	content_type += n;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	return *content_type == '\0' || *content_type == ';';
}

/*
 * Reads the body into b (capped at body_max + 1 so "too large" is seen
 * without reading more).  Refuses a body whose size is not the declared
 * CONTENT_LENGTH, and one whose stream broke off.
 */
static int
request_read_body(FCGX_Request *req, size_t body_max, struct buf *b,
    struct api_error *err)
{
	const char *cl = request_param(req, "CONTENT_LENGTH");
	unsigned long long declared = 0;
	char chunk[REQUEST_READ_CHUNK], *end;
	int n;

	if (*cl != '\0') {
		if (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 15) {
			api_error_set(err, 400, "bad_content_length",
			    "CONTENT_LENGTH is not a number.");
			return -1;
		}
		declared = strtoull(cl, &end, 10);
		if (declared > body_max) {
			api_error_set(err, 413, "body_too_large",
			    "The body is %llu "
			    "bytes; at most %zu are accepted.",
			    declared, body_max);
			return -1;
		}
	}
	buf_init(b, body_max + 1);
	while ((n = FCGX_GetStr(chunk, sizeof(chunk), req->in)) > 0) {
		if (buf_append_upto(b, chunk, (size_t)n) < (size_t)n)
			break;
	}
	if (b->len > body_max) {
		api_error_set(err, 413, "body_too_large",
		    "The body is over %zu bytes.", body_max);
		return -1;
	}
	/* The peer left (or was cut, peer.c) before the end of the stream:
	 * all the bytes may be there, but not the request. */
	if (FCGX_GetError(req->in) != 0) {
		api_error_set(err, 400, "body_incomplete",
		    "The body's stream ended before its end record.");
		return -1;
	}
	if (*cl != '\0' && b->len != declared) {
		api_error_set(err, 400, "bad_content_length",
		    "The body has %zu "
		    "bytes but CONTENT_LENGTH says %llu.",
		    b->len, declared);
		return -1;
	}
	return 0;
}

/*
 * A worker for client's execution, or NULL with 503 busy: every worker
 * that may run code is taken, or client holds half of them or more and
 * only one is left.
 */
static struct request_holder *
request_hold(const struct config *c, const char *client, struct api_error *err)
{
	struct request_holder *h = NULL;
	unsigned exec_workers = config_exec_workers(c), i;
	unsigned share = exec_workers / 2 > 0 ? exec_workers / 2 : 1;

	pthread_mutex_lock(&request_holders_lock);
	for (i = 0; i < CONFIG_WORKERS_MAX; i++) {
		if (strcmp(request_holders[i].name, client) == 0) {
			h = &request_holders[i];
			break;
		}
		if (h == NULL && request_holders[i].held == 0)
			h = &request_holders[i];
	}
	if (request_executing >= exec_workers || h == NULL) {
		pthread_mutex_unlock(&request_holders_lock);
		api_error_set(err, 503, "busy",
		    "Every worker that runs code "
		    "is taken (%u, running or queued); retry later.",
		    exec_workers);
		err->retry_after_s = RETRY_AFTER_BUSY_S;
		return NULL;
	}
	if (h->held >= share && exec_workers - request_executing < 2) {
		pthread_mutex_unlock(&request_holders_lock);
		api_error_set(err, 503, "busy",
		    "This client holds %u of the %u "
		    "workers that run code; the last one stays free for others. "
		    "Retry later.",
		    h->held, exec_workers);
		err->retry_after_s = RETRY_AFTER_BUSY_S;
		return NULL;
	}
	if (h->held == 0)
		snprintf(h->name, sizeof(h->name), "%s", client);
	h->held++;
	request_executing++;
	pthread_mutex_unlock(&request_holders_lock);
	return h;
}

static void
request_release(struct request_holder *h)
{
	pthread_mutex_lock(&request_holders_lock);
	h->held--;
	request_executing--;
	pthread_mutex_unlock(&request_holders_lock);
}

size_t
request_answer_max(const struct config *c)
{
	/* Worst case: every output byte invalid (3-byte U+FFFD) or a control
	 * byte (6-byte \u00XX escape), on both streams, plus the keys; then
	 * the runner's exception and result and the files, escaped the same
	 * way (a file of control bytes is valid UTF-8 without NUL). */
	return 2 * 6 * c->output_max_bytes + 4096 +
	    6 * PROTOCOL_DATA_META_MAX_BYTES + 6 * c->files_max_bytes +
	    PROTOCOL_FILES_MAX * 1024;
}

int
request_run(struct worker *w, const char *client, const char *id,
    struct job_spec *spec, struct job_result *result, struct api_error *err)
{
	struct request_holder *holder;
	int rc;

	if (request_refuse_draining(err))
		return -1;
	snprintf(spec->client, sizeof(spec->client), "%s", client);
	/* Every worker an execution may hold is taken: it would wait in the
	 * executor's queue behind them all; refuse it now (health_workers). */
	if ((holder = request_hold(w->config, client, err)) == NULL)
		return -1;
	/* From here on a run may start: the one line per request that says
	 * so, before anything is sent to the executor (test_scale.py counts
	 * them on every node: no request may run twice). */
	log_run("execute %s: handed to the executor", id);
	peer_watch_pause(&w->peer);
	rc = channel_run(w->chan, spec, result, err);
	peer_watch_answer(&w->peer);
	request_release(holder);
	return rc;
}

/*
 * The front's request id (nginx's $request_id, Apache's UNIQUE_ID) for the
 * log, when it is 1-64 bytes of [A-Za-z0-9@_-]; else "-".  A balancer's
 * retries keep it, so the logs of all nodes show whether one request
 * reached a run twice (tests/integration/test_scale.py counts them).
 */
static void
request_id(FCGX_Request *req, char *out, size_t outlen)
{
	const char *id = request_param(req, "REQUEST_ID");
	size_t n;

	if (*id == '\0')
		id = request_param(req, "UNIQUE_ID");
	n = strlen(id);
	if (n == 0 || n > REQUEST_ID_MAX || n >= outlen ||
	    strspn(id,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789@_-") != n)
		id = "-";
	snprintf(out, outlen, "%s", id);
}

static int
request_execute(struct worker *w, FCGX_Request *req, const char *client,
    struct api_error *err)
{
	const struct config *c = w->config;
	struct job_limits limits;
	struct job_spec spec;
	struct job_result result;
	struct buf body, answer;
	char id[REQUEST_ID_MAX + 1];
	int rc = -1;

	request_id(req, id, sizeof(id));
	json_in_limits(c, &limits);
	if (!request_is_json(request_param(req, "CONTENT_TYPE"))) {
		api_error_set(err, 415, "unsupported_media_type",
		    "Send the body as Content-Type: application/json.");
		return -1;
	}
	buf_init(&answer, request_answer_max(c));
	job_result_init(&result, c->output_max_bytes);
	result.files_max_bytes = c->files_max_bytes;
	if (request_read_body(req, c->body_max_bytes, &body, err) == -1) {
		buf_free(&body);
		goto out;
	}
	rc = json_in_parse_job(body.data ? body.data : "", body.len, &limits,
	    &spec, err);
	buf_free(&body);
	if (rc == -1)
		goto out;
	rc = request_run(w, client, id, &spec, &result, err);
	job_spec_free(&spec);
	if (rc == 0 && answer_result(&result, &answer) == -1) {
		api_error_set(err, 500, "internal",
		    "Could not encode the result.");
		rc = -1;
	}
	if (rc == 0) {
		log_info("execute %s: %s exit %d in %ld ms (%s %s)", id,
		    job_status_name(result.status), result.exit_code,
		    result.duration_ms, w->keys != NULL ? "key" : "client",
		    client);
		request_write(req, 200, NULL, &answer, false, REQUEST_JSON);
	}
out:
	job_result_free(&result);
	buf_free(&answer);
	return rc;
}

/*
 * POST /mcp (mcp.c): the header checks, the body as /v1/execute reads
 * it (same cap, same refusals), then one JSON-RPC message.  -1 only for
 * the body's HTTP-level faults (the API's error shape); whatever the MCP
 * layer decides it answers itself, and *status says with what.
 */
static int
request_mcp(struct worker *w, FCGX_Request *req, const char *client,
    int *status, struct api_error *err)
{
	char id[REQUEST_ID_MAX + 1];
	struct mcp_http http = { .client = client,
		.id = id,
		.origin = request_param(req, "HTTP_ORIGIN"),
		.accept = request_param(req, "HTTP_ACCEPT"),
		.content_type = request_param(req, "CONTENT_TYPE"),
		.protocol_version =
		    request_param(req, "HTTP_MCP_PROTOCOL_VERSION"),
		.mcp_method = request_param(req, "HTTP_MCP_METHOD"),
		.mcp_name = request_param(req, "HTTP_MCP_NAME") };
	struct mcp_reply reply;
	struct api_error retry;
	struct buf body;

	request_id(req, id, sizeof(id));
	if (mcp_check_http(w->config, &http, &reply) == 0) {
		if (request_read_body(req, w->config->body_max_bytes, &body,
			err) == -1) {
			buf_free(&body);
			return -1;
		}
		mcp_serve(w, &http, body.data ? body.data : "", body.len, &reply);
		buf_free(&body);
	}
	api_error_init(&retry);
	retry.retry_after_s = reply.retry_after_s;
	request_write(req, reply.status, &retry, &reply.body, false,
	    reply.status == 202 ? NULL : REQUEST_JSON);
	*status = reply.status;
	buf_free(&reply.body);
	return 0;
}

static int
request_health(struct worker *w, FCGX_Request *req, bool head_only, bool brief,
    struct api_error *err)
{
	char version[PRIVSEP_VERSION_MAX];
	struct buf body;
	int rc;
	struct health h = {
		.image = w->config->image,
		.max_executions = w->config->max_executions,
		.pool_size = w->config->pool_size,
	};

	if (request_refuse_draining(err))
		return -1;

	peer_watch_pause(&w->peer);
	rc = channel_health(w->chan, &h, version, err);
	peer_watch_answer(&w->peer);
	if (rc == -1)
		return -1;
	h.brief = brief;
	buf_init(&body, 4096);
	if (answer_health(&h, &body) == -1) {
		buf_free(&body);
		api_error_set(err, 500, "internal", "Could not encode health.");
		return -1;
	}
	request_write(req, 200, NULL, &body, head_only, REQUEST_JSON);
	buf_free(&body);
	return 0;
}

static int
request_metrics(struct worker *w, FCGX_Request *req, bool head_only,
    struct api_error *err)
{
	struct buf body;
	int rc;

	buf_init(&body, REQUEST_METRICS_MAX_BYTES);
	peer_watch_pause(&w->peer);
	rc = channel_metrics(w->chan, &body, err);
	peer_watch_answer(&w->peer);
	if (rc == -1) {
		buf_free(&body);
		return -1;
	}
	if (metrics_render_front(&body) == -1 ||
	    keys_render_metrics(w->keys, &body) == -1) {
		buf_free(&body);
		api_error_set(err, 500, "internal", "Metrics over their cap.");
		return -1;
	}
	request_write(req, 200, NULL, &body, head_only, REQUEST_PROMETHEUS);
	buf_free(&body);
	return 0;
}

/* GET /v1/runtime and GET /v1/tool: documents made from the image's
 * runtime as the executor's self-check read it (answer_runtime,
 * answer_tool). */
typedef int (*request_runtime_doc)(const struct runtime_info *,
    const struct config *, struct buf *);

static int
request_runtime(struct worker *w, FCGX_Request *req, bool head_only,
    request_runtime_doc make, struct api_error *err)
{
	struct runtime_info *rt;
	struct buf body;
	int rc;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		api_error_set(err, 500, "internal", "Out of memory.");
		return -1;
	}
	peer_watch_pause(&w->peer);
	rc = channel_runtime(w->chan, rt, err);
	peer_watch_answer(&w->peer);
	if (rc == 0) {
		buf_init(&body, REQUEST_RUNTIME_MAX_BYTES);
		if (make(rt, w->config, &body) == -1) {
			api_error_set(err, 500, "internal",
			    "Could not encode the document.");
			rc = -1;
		} else
			request_write(req, 200, NULL, &body, head_only,
			    REQUEST_JSON);
		buf_free(&body);
	}
	free(rt);
	return rc;
}

static int
request_openapi(FCGX_Request *req, bool head_only)
{
	struct buf body = {
		.data = (char *)openapi_json,
		.len = OPENAPI_JSON_BYTES,
	};

	/* Not buf_init: the bytes are static and are never freed. */
	request_write(req, 200, NULL, &body, head_only, REQUEST_JSON);
	return 0;
}

/* The path without the query: nginx's DOCUMENT_URI, else REQUEST_URI. */
static void
request_path(FCGX_Request *req, char *path, size_t len)
{
	const char *p = request_param(req, "DOCUMENT_URI");
	size_t n;

	if (*p == '\0')
		p = request_param(req, "REQUEST_URI");
	n = strcspn(p, "?");
	if (n >= len)
		n = len - 1;
	memcpy(path, p, n);
	path[n] = '\0';
}

/*
 * Who asks: the key's name (NULL when keys are on and none matched), else
 * the peer's address as nginx or Apache gives it, "-" if unusable.
 */
static const char *
request_client(struct worker *w, FCGX_Request *req, char *addr, size_t len)
{
	const char *remote = request_param(req, "REMOTE_ADDR");

	if (w->keys != NULL)
		return keys_match(w->keys,
		    request_param(req, "HTTP_AUTHORIZATION"));
	if (!job_client_ok(remote, strlen(remote)))
		remote = "-";
	snprintf(addr, len, "%s", remote);
	return addr;
}

void
request_handle(struct worker *w, FCGX_Request *req)
{
	struct api_error err;
	char path[256], method[16], addr[JOB_CLIENT_MAX];
	const char *route = "other", *client;
	int rc, status = 200;

	/* Copies: request_execute() may finish the request (freeing its
	 * params) before we log. */
	snprintf(method, sizeof(method), "%s",
	    request_param(req, "REQUEST_METHOD"));
	api_error_init(&err);
	request_path(req, path, sizeof(path));
	client = request_client(w, req, addr, sizeof(addr));
	if (client == NULL && strcmp(path, "/v1/health") != 0) {
		/* Before the route: without a key even its name is not said. */
		api_error_set(&err, 401, "unauthorized", "%s",
		    *request_param(req, "HTTP_AUTHORIZATION") == '\0' ?
			"Send an API key as Authorization: Bearer KEY." :
			"The Authorization header carries no known API key.");
		rc = -1;
	} else if (strcmp(path, "/v1/execute") == 0) {
		route = "execute";
		if (strcmp(method, "POST") == 0)
			rc = request_execute(w, req, client, &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use POST for /v1/execute.");
			err.allow = "POST";
			rc = -1;
		}
	} else if (strcmp(path, "/v1/health") == 0) {
		route = "health";
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			rc = request_health(w, req, method[0] == 'H',
			    client == NULL, &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use GET for /v1/health.");
			err.allow = "GET, HEAD";
			rc = -1;
		}
	} else if (strcmp(path, "/v1/metrics") == 0) {
		route = "metrics";
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			rc = request_metrics(w, req, method[0] == 'H', &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use GET for /v1/metrics.");
			err.allow = "GET, HEAD";
			rc = -1;
		}
	} else if (strcmp(path, "/v1/runtime") == 0) {
		route = "runtime";
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			rc = request_runtime(w, req, method[0] == 'H',
			    answer_runtime, &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use GET for /v1/runtime.");
			err.allow = "GET, HEAD";
			rc = -1;
		}
	} else if (strcmp(path, "/v1/tool") == 0) {
		route = "tool";
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			rc = request_runtime(w, req, method[0] == 'H',
			    answer_tool, &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use GET for /v1/tool.");
			err.allow = "GET, HEAD";
			rc = -1;
		}
	} else if (strcmp(path, "/mcp") == 0) {
		route = "mcp";
		/* Stateless Streamable HTTP: no GET stream, no session to
		 * DELETE (2026-07-28 streamable-http: both 405). */
		if (strcmp(method, "POST") == 0)
			rc = request_mcp(w, req, client, &status, &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use POST for /mcp: one JSON-RPC message a request "
			    "(no GET stream, no sessions).");
			err.allow = "POST";
			rc = -1;
		}
	} else if (strcmp(path, "/v1/openapi.json") == 0) {
		route = "openapi";
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			rc = request_openapi(req, method[0] == 'H');
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use GET for /v1/openapi.json.");
			err.allow = "GET, HEAD";
			rc = -1;
		}
	} else {
		api_error_set(&err, 404, "not_found",
		    "No such endpoint; the API "
		    "has POST /v1/execute, GET /v1/health, GET /v1/runtime, "
		    "GET /v1/tool, GET /v1/metrics, GET /v1/openapi.json and "
		    "POST /mcp.");
		rc = -1;
	}
	if (rc == -1)
		api_error_normalize(&err);
	metrics_request(route, rc == 0 ? status : err.http_status);
	if (rc == -1) {
		peer_watch_answer(&w->peer);
		request_write_error(req, &err);
		log_info("%s %.100s: %d %s (%s) (%s %s)", method, path,
		    err.http_status, err.code, err.message,
		    w->keys != NULL ? "key" : "client",
		    client != NULL ? client : "none");
	}
	FCGX_Finish_r(req);
}
