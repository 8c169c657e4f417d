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
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>

#include "front.h"

#define REQUEST_READ_CHUNK	65536
#define REQUEST_METRICS_MAX_BYTES (256UL * 1024)
#define REQUEST_RUNTIME_MAX_BYTES (64UL * 1024)	/* 128 modules, 32 libraries */
#define REQUEST_ID_MAX		64
#define REQUEST_JSON		"application/json"
#define REQUEST_PROMETHEUS	"text/plain; version=0.0.4; charset=utf-8"

/* Executions held by workers now: running, or waiting for a slot. */
static atomic_uint	request_executing;
/* SIGUSR1 .. SIGUSR2 (main.c): no new runs, health says so. */
static atomic_bool	request_draining;

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
	if (!atomic_load(&request_draining))
		return false;
	api_error_set(err, 503, "draining", "This node is draining: it "
	    "finishes the %u runs in flight and takes no new ones; send the "
	    "request to another node.", atomic_load(&request_executing));
	err->retry_after_s = RETRY_AFTER_DRAIN_S;
	return true;
}

static const char *
request_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:  return "Error";
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
	char	head[512], extra[128] = "";
	int	n;

	if (err != NULL && err->retry_after_s > 0)
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
		    err->retry_after_s);
	else if (err != NULL && err->allow != NULL)
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", err->allow);
	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s\r\n", status, request_reason(status), content_type, body->len,
	    extra);
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
		buf_append_str(&body, "{\"error\":{\"code\":\"internal\","
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
	static const char	json[] = "application/json";
	size_t			n = sizeof(json) - 1;

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
	const char		*cl = request_param(req, "CONTENT_LENGTH");
	unsigned long long	 declared = 0;
	char			 chunk[REQUEST_READ_CHUNK], *end;
	int			 n;

	if (*cl != '\0') {
		if (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 15) {
			api_error_set(err, 400, "bad_content_length",
			    "CONTENT_LENGTH is not a number.");
			return -1;
		}
		declared = strtoull(cl, &end, 10);
		if (declared > body_max) {
			api_error_set(err, 413, "body_too_large", "The body is %llu "
			    "bytes; at most %zu are accepted.", declared, body_max);
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
		api_error_set(err, 400, "bad_content_length", "The body has %zu "
		    "bytes but CONTENT_LENGTH says %llu.", b->len, declared);
		return -1;
	}
	return 0;
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
	const char	*id = request_param(req, "REQUEST_ID");
	size_t		 n;

	if (*id == '\0')
		id = request_param(req, "UNIQUE_ID");
	n = strlen(id);
	if (n == 0 || n > REQUEST_ID_MAX || n >= outlen ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789@_-") != n)
		id = "-";
	snprintf(out, outlen, "%s", id);
}

static int
request_execute(struct worker *w, FCGX_Request *req, struct api_error *err)
{
	const struct config	*c = w->config;
	struct job_limits	 limits = {
		.code_max_bytes = c->code_max_bytes,
		.stdin_max_bytes = c->stdin_max_bytes,
		.files_max_bytes = c->files_max_bytes,
		.timeout_default_ms = c->timeout_default_ms,
		.timeout_max_ms = c->timeout_max_ms,
	};
	struct job_spec		 spec;
	struct job_result	 result;
	struct buf		 body, answer;
	char			 id[REQUEST_ID_MAX + 1];
	int			 rc = -1;

	request_id(req, id, sizeof(id));
	if (!request_is_json(request_param(req, "CONTENT_TYPE"))) {
		api_error_set(err, 415, "unsupported_media_type",
		    "Send the body as Content-Type: application/json.");
		return -1;
	}
	/* Worst case: every output byte invalid (3-byte U+FFFD) or a control
	 * byte (6-byte \u00XX escape), on both streams, plus the keys; then
	 * the runner's exception and result and the files, escaped the same
	 * way (a file of control bytes is valid UTF-8 without NUL). */
	buf_init(&answer, 2 * 6 * c->output_max_bytes + 4096 +
	    6 * PROTOCOL_DATA_META_MAX_BYTES + 6 * c->files_max_bytes +
	    PROTOCOL_FILES_MAX * 1024);
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
	if (request_refuse_draining(err)) {
		job_spec_free(&spec);
		rc = -1;
		goto out;
	}
	/* Every worker an execution may hold is taken: it would wait in the
	 * executor's queue behind them all; refuse it now (health_workers). */
	if (atomic_fetch_add(&request_executing, 1) >= config_exec_workers(c)) {
		atomic_fetch_sub(&request_executing, 1);
		job_spec_free(&spec);
		api_error_set(err, 503, "busy", "Every worker that runs code "
		    "is taken (%u, running or queued); retry later.",
		    config_exec_workers(c));
		err->retry_after_s = RETRY_AFTER_BUSY_S;
		rc = -1;
		goto out;
	}
	/* From here on a run may start: the one line per request that says
	 * so, before anything is sent to the executor. */
	log_run("execute %s: handed to the executor", id);
	peer_watch_pause(&w->peer);
	rc = channel_run(w->chan, &spec, &result, err);
	peer_watch_answer(&w->peer);
	atomic_fetch_sub(&request_executing, 1);
	job_spec_free(&spec);
	if (rc == 0 && answer_result(&result, &answer) == -1) {
		api_error_set(err, 500, "internal", "Could not encode the result.");
		rc = -1;
	}
	if (rc == 0) {
		log_info("execute %s: %s exit %d in %ld ms", id,
		    job_status_name(result.status),
		    result.exit_code, result.duration_ms);
		request_write(req, 200, NULL, &answer, false, REQUEST_JSON);
	}
out:
	job_result_free(&result);
	buf_free(&answer);
	return rc;
}

static int
request_health(struct worker *w, FCGX_Request *req, bool head_only,
    struct api_error *err)
{
	char		version[PRIVSEP_VERSION_MAX];
	struct buf	body;
	int		rc;
	struct health	h = {
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
	struct buf	body;
	int		rc;

	buf_init(&body, REQUEST_METRICS_MAX_BYTES);
	peer_watch_pause(&w->peer);
	rc = channel_metrics(w->chan, &body, err);
	peer_watch_answer(&w->peer);
	if (rc == -1) {
		buf_free(&body);
		return -1;
	}
	if (metrics_render_front(&body) == -1) {
		buf_free(&body);
		api_error_set(err, 500, "internal", "Metrics over their cap.");
		return -1;
	}
	request_write(req, 200, NULL, &body, head_only, REQUEST_PROMETHEUS);
	buf_free(&body);
	return 0;
}

static int
request_runtime(struct worker *w, FCGX_Request *req, bool head_only,
    struct api_error *err)
{
	struct runtime_info	*rt;
	struct buf		 body;
	int			 rc;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		api_error_set(err, 500, "internal", "Out of memory.");
		return -1;
	}
	peer_watch_pause(&w->peer);
	rc = channel_runtime(w->chan, rt, err);
	peer_watch_answer(&w->peer);
	if (rc == 0) {
		buf_init(&body, REQUEST_RUNTIME_MAX_BYTES);
		if (answer_runtime(rt, w->config, &body) == -1) {
			api_error_set(err, 500, "internal", "Could not encode runtime.");
			rc = -1;
		} else
			request_write(req, 200, NULL, &body, head_only, REQUEST_JSON);
		buf_free(&body);
	}
	free(rt);
	return rc;
}

/* The path without the query: nginx's DOCUMENT_URI, else REQUEST_URI. */
static void
request_path(FCGX_Request *req, char *path, size_t len)
{
	const char	*p = request_param(req, "DOCUMENT_URI");
	size_t		 n;

	if (*p == '\0')
		p = request_param(req, "REQUEST_URI");
	n = strcspn(p, "?");
	if (n >= len)
		n = len - 1;
	memcpy(path, p, n);
	path[n] = '\0';
}

void
request_handle(struct worker *w, FCGX_Request *req)
{
	struct api_error	 err;
	char			 path[256], method[16];
	const char		*route = "other";
	int			 rc;

	/* Copies: request_execute() may finish the request (freeing its
	 * params) before we log. */
	snprintf(method, sizeof(method), "%s", request_param(req, "REQUEST_METHOD"));
	api_error_init(&err);
	request_path(req, path, sizeof(path));
	if (strcmp(path, "/v1/execute") == 0) {
		route = "execute";
		if (strcmp(method, "POST") == 0)
			rc = request_execute(w, req, &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use POST for /v1/execute.");
			err.allow = "POST";
			rc = -1;
		}
	} else if (strcmp(path, "/v1/health") == 0) {
		route = "health";
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			rc = request_health(w, req, method[0] == 'H', &err);
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
			rc = request_runtime(w, req, method[0] == 'H', &err);
		else {
			api_error_set(&err, 405, "method_not_allowed",
			    "Use GET for /v1/runtime.");
			err.allow = "GET, HEAD";
			rc = -1;
		}
	} else {
		api_error_set(&err, 404, "not_found", "No such endpoint; the API "
		    "has POST /v1/execute, GET /v1/health, GET /v1/runtime and "
		    "GET /v1/metrics.");
		rc = -1;
	}
	if (rc == -1)
		api_error_normalize(&err);
	metrics_request(route, rc == 0 ? 200 : err.http_status);
	if (rc == -1) {
		peer_watch_answer(&w->peer);
		request_write_error(req, &err);
		log_info("%s %.100s: %d %s (%s)", method, path, err.http_status,
		    err.code, err.message);
	}
	FCGX_Finish_r(req);
}
