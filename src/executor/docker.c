/*
 * docker.c: the Docker Engine API over libcurl, on the engine's unix
 * socket or over TCP with mutual TLS (docker_host = tcp://host:port: the
 * engine's certificate verified against docker_tls_ca, peer and host name,
 * this client's certificate and key presented; docker_check_tls_files()
 * checks their modes at start), every URL pinned to /v1.41 (Docker 20.10,
 * Debian 12).  One
 * struct docker per thread holds one curl handle, so its keep-alive
 * connection is reused across calls; every call has a timeout.  Attach
 * uses its own handle in CONNECT_ONLY mode: after "101 UPGRADED" the
 * connection is a raw two-way stream (stdin in, framed stdout/stderr out,
 * see stream.c), driven with curl_easy_send/recv and poll(2); over TLS
 * the same calls go through the TLS layer (a read asks for at least a
 * whole TLS record, 16 KiB, where a poll must see the rest: job.c reads
 * 64 KiB).
 *
 * The engine's answers are trusted more than a request's (it owns the
 * host anyway) but are still capped in size; they are read with
 * yajl_tree, which is fine for small documents from a trusted peer.
 * This file decides nothing about verdicts: it reports what the engine
 * said, and trouble a retry can cure (the engine unreachable, its 5xx,
 * no space left on its data root) as 503 engine_unavailable naming the
 * cause; a 4xx stays 500 engine_error (pycage asked for something wrong).
 * It also keeps the engine's standing (docker_engine_*): after
 * DOCKER_FAILURES_UNHEALTHY engine failures in a row with no container
 * started in between, /v1/health answers 503 with the last cause until a
 * run's container or the janitor's probe starts again.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "executor.h"

#define DOCKER_RESPONSE_MAX_BYTES (4UL * 1024 * 1024) /* container lists */
#define DOCKER_ATTACH_HEAD_MAX_BYTES 4096
#define DOCKER_URL_MAX 512

struct docker {
	CURL *curl;
	char socket_path[CONFIG_STR_MAX]; /* "" over TCP */
	/* "http://docker" on the unix socket, "https://host:port" over TCP. */
	char base_url[CONFIG_STR_MAX];
	const char *tls_ca, *tls_cert, *tls_key; /* the config's */
	unsigned call_timeout_ms;
	struct buf response;
	char curl_error[CURL_ERROR_SIZE];
};

/*
 * Engine failures in a row after which health answers 503.  One failure
 * is a blip (a restart of the connection, one slow call); three in a row
 * with nothing started in between is what every run is meeting.  Measured
 * here: a containerd restart is ~10 s of failures, a dockerd restart 2-5 s.
 */
#define DOCKER_FAILURES_UNHEALTHY 3
#define DOCKER_CAUSE_MAX 160

static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned engine_failures;       /* in a row */
static long long engine_failing_since; /* unix time of the first */
static char engine_cause[DOCKER_CAUSE_MAX];

struct docker_attach {
	CURL *curl;
	curl_socket_t fd;
	char early[DOCKER_ATTACH_HEAD_MAX_BYTES];
	size_t early_len;
};

struct docker *
docker_new(const char *socket_path, unsigned call_timeout_ms)
{
	struct docker *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->curl = curl_easy_init()) == NULL) {
		free(d);
		return NULL;
	}
	snprintf(d->socket_path, sizeof(d->socket_path), "%s", socket_path);
	snprintf(d->base_url, sizeof(d->base_url), "http://docker");
	d->call_timeout_ms = call_timeout_ms;
	buf_init(&d->response, DOCKER_RESPONSE_MAX_BYTES);
	return d;
}

struct docker *
docker_open(const struct config *c)
{
	struct docker *d;

	if (c->docker_tcp_url[0] == '\0')
		return docker_new(c->docker_socket, c->docker_call_timeout_ms);
	if ((d = docker_new("", c->docker_call_timeout_ms)) == NULL)
		return NULL;
	snprintf(d->base_url, sizeof(d->base_url), "%s", c->docker_tcp_url);
	d->tls_ca = c->docker_tls_ca;
	d->tls_cert = c->docker_tls_cert;
	d->tls_key = c->docker_tls_key;
	return d;
}

/* Where a handle connects: the unix socket, or TCP with mutual TLS. */
static void
docker_setup_handle(struct docker *d, CURL *h)
{
	if (d->socket_path[0] != '\0') {
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
		return;
	}
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_CAINFO, d->tls_ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL); /* only our CA */
	curl_easy_setopt(h, CURLOPT_SSLCERT, d->tls_cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, d->tls_key);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	/* No proxy from the environment: the engine is reached directly. */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
}

/*
 * The TLS files, at start, as root: the key must be root's and readable
 * by nobody else (the engine's root is in it); the CA and certificate
 * root's and writable by nobody else (a swapped CA lets anyone pose as
 * the engine).  0, or -1 with msg.
 */
int
docker_check_tls_files(const struct config *c, char *msg, size_t msglen)
{
	const struct {
		const char *key, *path;
		mode_t forbidden;
	} files[] = {
		{ "docker_tls_ca", c->docker_tls_ca, 022 },
		{ "docker_tls_cert", c->docker_tls_cert, 022 },
		{ "docker_tls_key", c->docker_tls_key, 077 },
	};
	struct stat st;
	size_t i;

	if (c->docker_tcp_url[0] == '\0')
		return 0;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (stat(files[i].path, &st) == -1) {
			snprintf(msg, msglen, "%s %s: %s", files[i].key,
			    files[i].path, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & files[i].forbidden) != 0) {
			snprintf(msg, msglen,
			    "%s %s: mode %04o, owner %u: must "
			    "be a file of root's, %s",
			    files[i].key, files[i].path,
			    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
			    files[i].forbidden == 077 ?
				"readable by root only (chmod 0600)" :
				"writable by root only");
			return -1;
		}
	}
	return 0;
}

void
docker_free(struct docker *d)
{
	if (d == NULL)
		return;
	curl_easy_cleanup(d->curl);
	buf_free(&d->response);
	free(d);
}

static size_t
docker_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;

	/* Returning less than given makes curl fail the call: over the cap. */
	if (buf_append(b, data, size * nmemb) == -1)
		return 0;
	return size * nmemb;
}

/* One engine failure a retry can cure: counted towards health's 503. */
static void
docker_engine_failed(const char *cause)
{
	bool now_troubled;

	pthread_mutex_lock(&engine_lock);
	if (engine_failures++ == 0)
		engine_failing_since = (long long)time(NULL);
	snprintf(engine_cause, sizeof(engine_cause), "%s", cause);
	if ((now_troubled = engine_failures == DOCKER_FAILURES_UNHEALTHY))
		log_error("docker: %u engine failures in a row (last: %s): "
			  "health answers 503 until a container starts again",
		    engine_failures, cause);
	pthread_mutex_unlock(&engine_lock);
	if (now_troubled)
		janitor_wake(); /* it probes from now on */
}

bool
docker_engine_ok(void)
{
	bool was;
	unsigned n;

	pthread_mutex_lock(&engine_lock);
	n = engine_failures;
	was = n >= DOCKER_FAILURES_UNHEALTHY;
	engine_failures = 0;
	if (was)
		log_info("docker: the engine starts containers again after %u "
			 "failures over %lld s",
		    n, (long long)time(NULL) - engine_failing_since);
	pthread_mutex_unlock(&engine_lock);
	return was;
}

bool
docker_engine_troubled(struct api_error *err)
{
	bool troubled;

	pthread_mutex_lock(&engine_lock);
	if ((troubled = engine_failures >= DOCKER_FAILURES_UNHEALTHY) &&
	    err != NULL) {
		api_error_set(err, 503, "engine_unavailable",
		    "The Docker "
		    "engine failed the last %u calls over %lld s (last: %s); "
		    "no container could start.",
		    engine_failures,
		    (long long)time(NULL) - engine_failing_since, engine_cause);
		err->retry_after_s = RETRY_AFTER_ENGINE_S;
	}
	pthread_mutex_unlock(&engine_lock);
	return troubled;
}

/* The engine could not be reached, or did not answer in time. */
static void
docker_unreachable(struct docker *d, CURL *handle, struct api_error *err,
    CURLcode rc)
{
	char cause[DOCKER_CAUSE_MAX];
	long os_errno = 0;

	metrics_count(METRIC_DOCKER_ERRORS);
	curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(cause, sizeof(cause), "no answer in time");
	else if (d->socket_path[0] == '\0' &&
	    (rc == CURLE_SSL_CONNECT_ERROR ||
		rc == CURLE_PEER_FAILED_VERIFICATION ||
		rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
		rc == CURLE_SSL_CIPHER || strstr(d->curl_error, "SSL") != NULL))
		/* curl's own words name no file; the log has the details. */
		snprintf(cause, sizeof(cause), "TLS with the engine failed: %s",
		    curl_easy_strerror(rc));
	else if (rc == CURLE_GOT_NOTHING)
		snprintf(cause, sizeof(cause),
		    "the engine closed the connection");
	else if (os_errno != 0)
		snprintf(cause, sizeof(cause), "%s", strerror((int)os_errno));
	else
		snprintf(cause, sizeof(cause), "%s", curl_easy_strerror(rc));
	log_warn("docker: %s (%s)",
	    d->curl_error[0] ? d->curl_error : curl_easy_strerror(rc), cause);
	docker_engine_failed(cause);
	if (err == NULL)
		return;
	api_error_set(err, 503, "engine_unavailable",
	    "The Docker engine did not answer (%s); try again shortly.", cause);
	err->retry_after_s = RETRY_AFTER_ENGINE_S;
}

/*
 * One API call, as libcurl ended it: CURLE_OK with *status set (any HTTP
 * status).  Says nothing: docker_call() reports the failures.
 */
static CURLcode
docker_send(struct docker *d, const char *method, const char *url,
    const char *body, size_t body_len, unsigned timeout_ms, long *status)
{
	struct curl_slist *headers = NULL;
	CURLcode rc;

	buf_reset(&d->response);
	d->curl_error[0] = '\0';
	/* reset keeps the connection cache: the socket stays open. */
	curl_easy_reset(d->curl);
	docker_setup_handle(d, d->curl);
	curl_easy_setopt(d->curl, CURLOPT_URL, url);
	curl_easy_setopt(d->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)d->call_timeout_ms);
	curl_easy_setopt(d->curl, CURLOPT_ERRORBUFFER, d->curl_error);
	curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, docker_write_cb);
	curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, &d->response);
	if (strcmp(method, "POST") == 0) {
		headers =
		    curl_slist_append(headers, "Content-Type: application/json");
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	rc = curl_easy_perform(d->curl);
	curl_slist_free_all(headers);
	if (rc == CURLE_OK)
		curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

static int
docker_url(struct docker *d, char *url, size_t size, const char *path,
    struct api_error *err)
{
	if ((size_t)snprintf(url, size, "%s" DOCKER_API_PREFIX "%s",
		d->base_url, path) >= size) {
		if (err != NULL)
			api_error_set(err, 500, "internal",
			    "Engine URL too long.");
		return -1;
	}
	return 0;
}

/*
 * One API call.  0 with *status set (any HTTP status), or -1 if the engine
 * could not be reached in time (err filled when given).
 */
static int
docker_call(struct docker *d, const char *method, const char *path,
    const char *body, size_t body_len, unsigned timeout_ms, long *status,
    struct api_error *err)
{
	char url[DOCKER_URL_MAX];
	CURLcode rc;

	if (docker_url(d, url, sizeof(url), path, err) == -1)
		return -1;
	if ((rc = docker_send(d, method, url, body, body_len, timeout_ms,
		 status)) != CURLE_OK) {
		docker_unreachable(d, d->curl, err, rc);
		return -1;
	}
	return 0;
}

/* The engine's {"message": "..."} on failure, for logs. */
static const char *
docker_message(struct docker *d)
{
	return d->response.data ? d->response.data : "";
}

/*
 * What a retry can cure, in words for the client; NULL for the engine
 * refusing what pycage asked (4xx: pycage's fault).  The engine's own
 * message names host paths: it goes to the log only.
 */
static const char *
docker_retryable(struct docker *d, long status)
{
	const char *m = docker_message(d);

	if (strstr(m, "no space left on device") != NULL)
		return "no space left on device on the engine's storage";
	if (status < 500)
		return NULL;
	/* "connection closed: unavailable", "...containerd.sock: connect:
	 * connection refused": unavailable": containerd's gRPC, restarting. */
	if (strstr(m, "containerd") != NULL || strstr(m, "unavailable") != NULL ||
	    strstr(m, "connection refused") != NULL)
		return "the engine cannot reach containerd";
	return "the engine failed";
}

static void
docker_failed(struct docker *d, const char *what, long status,
    struct api_error *err)
{
	const char *cause;
	char why[DOCKER_CAUSE_MAX];

	metrics_count(METRIC_DOCKER_ERRORS);
	log_warn("docker: %s: HTTP %ld: %.200s", what, status, docker_message(d));
	if ((cause = docker_retryable(d, status)) != NULL) {
		snprintf(why, sizeof(why), "%s (HTTP %ld to %s)", cause, status,
		    what);
		docker_engine_failed(why);
	}
	if (err == NULL)
		return;
	if (cause != NULL) {
		api_error_set(err, 503, "engine_unavailable",
		    "The Docker engine "
		    "could not %s: %s (HTTP %ld); try again shortly.",
		    what, cause, status);
		err->retry_after_s = RETRY_AFTER_ENGINE_S;
	} else
		api_error_set(err, 500, "engine_error",
		    "The Docker engine refused to %s (HTTP %ld).", what, status);
}

static yajl_val
docker_parse(struct docker *d)
{
	char errbuf[128];

	if (d->response.data == NULL)
		return NULL;
	return yajl_tree_parse(d->response.data, errbuf, sizeof(errbuf));
}

int
docker_ping(struct docker *d, char *version, size_t versionlen,
    struct api_error *err)
{
	static const char *path[] = { "Version", NULL };
	yajl_val tree, v;
	long status;

	if (docker_call(d, "GET", "/version", NULL, 0, d->call_timeout_ms,
		&status, err) == -1)
		return -1;
	if (status != 200) {
		api_error_set(err, 503, "engine_unavailable",
		    "The Docker engine answered /version with HTTP %ld.", status);
		err->retry_after_s = RETRY_AFTER_ENGINE_S;
		return -1;
	}
	snprintf(version, versionlen, "unknown");
	if ((tree = docker_parse(d)) != NULL) {
		if ((v = yajl_tree_get(tree, path, yajl_t_string)) != NULL)
			snprintf(version, versionlen, "%s", YAJL_GET_STRING(v));
		yajl_tree_free(tree);
	}
	return 0;
}

/* prefix + id + suffix; ids are hex and image names need no escaping. */
static int
docker_path(char *out, size_t outlen, const char *prefix, const char *id,
    const char *suffix)
{
	return (size_t)snprintf(out, outlen, "%s%s%s", prefix, id, suffix) <
		outlen ?
	    0 :
	    -1;
}

/* Image references are [a-zA-Z0-9._/:@-]: nothing to escape in a path. */
int
docker_image_present(struct docker *d, const char *image, struct api_error *err)
{
	char path[DOCKER_URL_MAX];
	long status;

	if (docker_path(path, sizeof(path), "/images/", image, "/json") == -1) {
		api_error_set(err, 500, "internal",
		    "The image name is over the URL's cap.");
		return -1;
	}
	if (docker_call(d, "GET", path, NULL, 0, d->call_timeout_ms, &status,
		err) == -1)
		return -1;
	if (status == 200)
		return 0;
	api_error_set(err, 503, "image_missing",
	    "The sandbox image %s is not "
	    "present on the engine; build it with scripts/build-image.sh.",
	    image);
	err->retry_after_s = RETRY_AFTER_OPERATOR_S;
	return -1;
}

/* POST /containers/create at path (with ?name= for a named one). */
static int
docker_create_at(struct docker *d, const char *path, const char *body,
    size_t len, char id[DOCKER_ID_MAX + 1], struct api_error *err)
{
	static const char *id_path[] = { "Id", NULL };
	static const char *warn_path[] = { "Warnings", NULL };
	yajl_val tree, v, w;
	const char *id_text = NULL;
	long status;
	int rc = -1;

	if (docker_call(d, "POST", path, body, len, d->call_timeout_ms, &status,
		err) == -1)
		return -1;
	if (status == 409)
		return DOCKER_NAME_TAKEN; /* a named create: the name is in use */
	if (status == 404) {
		log_warn("docker: create: %.200s", docker_message(d));
		api_error_set(err, 503, "image_missing",
		    "The sandbox image is not "
		    "present on the engine; build it with scripts/build-image.sh.");
		err->retry_after_s = RETRY_AFTER_OPERATOR_S;
		return -1;
	}
	if (status != 201) {
		docker_failed(d, "create a container", status, err);
		return -1;
	}
	metrics_count(METRIC_CONTAINERS_CREATED);
	if ((tree = docker_parse(d)) == NULL) {
		api_error_set(err, 500, "engine_error",
		    "Unreadable create answer.");
		return -1;
	}
	if ((v = yajl_tree_get(tree, id_path, yajl_t_string)) != NULL)
		id_text = YAJL_GET_STRING(v);
	w = yajl_tree_get(tree, warn_path, yajl_t_array);
	/* The id goes into URL paths: hex only. */
	if (id_text == NULL || *id_text == '\0' ||
	    strlen(id_text) > DOCKER_ID_MAX ||
	    strspn(id_text, "0123456789abcdef") != strlen(id_text)) {
		api_error_set(err, 500, "engine_error",
		    "Create answer has no Id.");
	} else {
		snprintf(id, DOCKER_ID_MAX + 1, "%s", id_text);
		rc = 0;
		/* A create can succeed while dropping a limit, saying so only
		 * here: any warning fails the execution (docs/FIELD-NOTES.md). */
		if (w != NULL && YAJL_GET_ARRAY(w)->len > 0) {
			log_error("docker: create warned: %.300s",
			    docker_message(d));
			api_error_set(err, 500, "sandbox_degraded",
			    "The engine could "
			    "not apply every sandbox limit; refusing to run.");
			rc = -1; /* id is set: the caller removes it */
		}
	}
	yajl_tree_free(tree);
	return rc;
}

static int
docker_simple(struct docker *d, const char *id, const char *suffix,
    const char *method, unsigned timeout_ms, long ok1, long ok2,
    const char *what, struct api_error *err)
{
	char path[DOCKER_URL_MAX];
	long status;

	if (docker_path(path, sizeof(path), "/containers/", id, suffix) == -1)
		return -1;
	if (docker_call(d, method, path, NULL, 0, timeout_ms, &status, err) == -1)
		return -1;
	if (status != ok1 && status != ok2) {
		docker_failed(d, what, status, err);
		return -1;
	}
	return 0;
}

int
docker_start(struct docker *d, const char *id, struct api_error *err)
{
	return docker_simple(d, id, "/start", "POST", d->call_timeout_ms, 204,
	    304, "start a container", err);
}

/* 409: not running any more, which is what we wanted. */
int
docker_kill(struct docker *d, const char *id)
{
	return docker_simple(d, id, "/kill", "POST", d->call_timeout_ms, 204,
	    409, "kill a container", NULL);
}

/* condition=not-running returns at once if the container already stopped,
 * where next-exit would wait for an exit that already happened. */
#define DOCKER_WAIT_SUFFIX "/wait?condition=not-running"

int
docker_wait(struct docker *d, const char *id, unsigned timeout_ms,
    struct api_error *err)
{
	return docker_simple(d, id, DOCKER_WAIT_SUFFIX, "POST", timeout_ms, 200,
	    200, "wait for a container", err);
}

/*
 * docker_wait() for a container expected to stop by itself: 1 if it still
 * runs after timeout_ms, which is the program's doing, not the engine's,
 * so it is neither logged nor counted as an engine error.
 */
int
docker_wait_exit(struct docker *d, const char *id, unsigned timeout_ms)
{
	char path[DOCKER_URL_MAX], url[DOCKER_URL_MAX];
	long status;
	CURLcode rc;

	if (docker_path(path, sizeof(path), "/containers/", id,
		DOCKER_WAIT_SUFFIX) == -1 ||
	    docker_url(d, url, sizeof(url), path, NULL) == -1)
		return -1;
	rc = docker_send(d, "POST", url, NULL, 0, timeout_ms, &status);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return 1;
	if (rc != CURLE_OK) {
		docker_unreachable(d, d->curl, NULL, rc);
		return -1;
	}
	if (status != 200) {
		docker_failed(d, "wait for a container", status, NULL);
		return -1;
	}
	return 0;
}

int
docker_create(struct docker *d, const char *body, size_t len,
    char id[DOCKER_ID_MAX + 1], struct api_error *err)
{
	int rc = docker_create_at(d, "/containers/create", body, len, id, err);

	if (rc == DOCKER_NAME_TAKEN) { /* no name was asked for */
		docker_failed(d, "create a container", 409, err);
		rc = -1;
	}
	return rc;
}

/* name: [a-zA-Z0-9][a-zA-Z0-9_.-]* (the engine's rule), nothing to escape. */
int
docker_create_named(struct docker *d, const char *name, const char *body,
    size_t len, char id[DOCKER_ID_MAX + 1], struct api_error *err)
{
	char path[DOCKER_URL_MAX];

	if (docker_path(path, sizeof(path), "/containers/create?name=", name,
		"") == -1) {
		api_error_set(err, 500, "internal",
		    "A container name over the URL's cap.");
		return -1;
	}
	return docker_create_at(d, path, body, len, id, err);
}

int
docker_label(struct docker *d, const char *id, const char *label, char *out,
    size_t outlen)
{
	const char *label_path[] = { "Config", "Labels", label, NULL };
	char path[DOCKER_URL_MAX];
	yajl_val tree, v;
	long status;
	int rc = -1;

	if (docker_path(path, sizeof(path), "/containers/", id, "/json") == -1 ||
	    docker_call(d, "GET", path, NULL, 0, d->call_timeout_ms, &status,
		NULL) == -1)
		return -1;
	if (status == 404)
		return 1;
	if (status != 200 || (tree = docker_parse(d)) == NULL)
		return -1;
	if ((v = yajl_tree_get(tree, label_path, yajl_t_string)) != NULL &&
	    (size_t)snprintf(out, outlen, "%s", YAJL_GET_STRING(v)) < outlen)
		rc = 0;
	yajl_tree_free(tree);
	return rc;
}

int
docker_versions(struct docker *d, char *out, size_t outlen)
{
	static const char *comp_path[] = { "Components", NULL };
	static const char *name_path[] = { "Name", NULL };
	static const char *ver_path[] = { "Version", NULL };
	static const char *commit_path[] = { "Details", "GitCommit", NULL };
	yajl_val tree, comps, name, ver, commit;
	long status;
	size_t i, used = 0;

	out[0] = '\0';
	if (docker_call(d, "GET", "/version", NULL, 0, d->call_timeout_ms,
		&status, NULL) == -1 ||
	    status != 200 || (tree = docker_parse(d)) == NULL)
		return -1;
	if ((comps = yajl_tree_get(tree, comp_path, yajl_t_array)) != NULL)
		for (i = 0; i < YAJL_GET_ARRAY(comps)->len && used < outlen; i++) {
			yajl_val c = YAJL_GET_ARRAY(comps)->values[i];

			const char *n, *v, *cs, *pkg = "";

			name = yajl_tree_get(c, name_path, yajl_t_string);
			ver = yajl_tree_get(c, ver_path, yajl_t_string);
			commit = yajl_tree_get(c, commit_path, yajl_t_string);
			if (name == NULL || ver == NULL ||
			    (n = YAJL_GET_STRING(name)) == NULL ||
			    (v = YAJL_GET_STRING(ver)) == NULL)
				continue;
			/* Debian's package version (its patch level) stands
			 * in the commit: say it when there is one. */
			cs = commit != NULL ? YAJL_GET_STRING(commit) : NULL;
			if (cs != NULL && strchr(cs, '.') != NULL)
				pkg = cs;
			used += (size_t)snprintf(out + used, outlen - used,
			    "%s%.40s %.40s%s%.60s%s", used ? ", " : "", n, v,
			    pkg[0] ? " (" : "", pkg, pkg[0] ? ")" : "");
		}
	yajl_tree_free(tree);
	if (used >= outlen)
		out[outlen - 1] = '\0';
	return 0;
}

int
docker_runtime_path(struct docker *d, const char *runtime, char *out,
    size_t outlen)
{
	const char *path[] = { "Runtimes", runtime, "path", NULL };
	yajl_val tree, v;
	long status;
	int rc = -1;

	if (docker_call(d, "GET", "/info", NULL, 0, d->call_timeout_ms, &status,
		NULL) == -1 ||
	    status != 200 || (tree = docker_parse(d)) == NULL)
		return -1;
	if ((v = yajl_tree_get(tree, path, yajl_t_string)) != NULL &&
	    (size_t)snprintf(out, outlen, "%s", YAJL_GET_STRING(v)) < outlen)
		rc = 0;
	yajl_tree_free(tree);
	return rc;
}

/* force=1 kills it first if it still runs; 404: already gone. */
int
docker_remove(struct docker *d, const char *id)
{
	if (docker_simple(d, id, "?force=1&v=1", "DELETE", d->call_timeout_ms,
		204, 404, "remove a container", NULL) == -1)
		return -1;
	metrics_count(METRIC_CONTAINERS_REMOVED);
	return 0;
}

int
docker_inspect(struct docker *d, const char *id, int *exit_code,
    bool *oom_killed, struct api_error *err)
{
	static const char *code_path[] = { "State", "ExitCode", NULL };
	static const char *oom_path[] = { "State", "OOMKilled", NULL };
	static const char *run_path[] = { "State", "Running", NULL };
	char path[DOCKER_URL_MAX];
	yajl_val tree, code, oom, running;
	long status;
	int rc = -1;

	if (docker_path(path, sizeof(path), "/containers/", id, "/json") == -1) {
		api_error_set(err, 500, "internal",
		    "A container id over the URL's cap.");
		return -1;
	}
	if (docker_call(d, "GET", path, NULL, 0, d->call_timeout_ms, &status,
		err) == -1)
		return -1;
	if (status != 200) {
		docker_failed(d, "inspect a container", status, err);
		return -1;
	}
	if ((tree = docker_parse(d)) == NULL) {
		api_error_set(err, 500, "engine_error",
		    "Unreadable inspect answer.");
		return -1;
	}
	code = yajl_tree_get(tree, code_path, yajl_t_number);
	oom = yajl_tree_get(tree, oom_path, yajl_t_any);
	running = yajl_tree_get(tree, run_path, yajl_t_any);
	if (code == NULL || !YAJL_IS_INTEGER(code) || oom == NULL ||
	    YAJL_IS_TRUE(running))
		api_error_set(err, 500, "engine_error",
		    "The container's final state could not be read.");
	else {
		*exit_code = (int)YAJL_GET_INTEGER(code);
		*oom_killed = YAJL_IS_TRUE(oom);
		rc = 0;
	}
	yajl_tree_free(tree);
	return rc;
}

/*
 * Whether the engine logged an "oom" event for the container since
 * since_unix.  Docker 20.10 sets State.OOMKilled only when the task's OOM
 * event reaches it before the exit event; a late one (seen under gVisor on
 * a loaded machine) is still logged as an event, kept in the engine's
 * in-memory log of its last 256 events (about 40 containers' worth; we
 * ask within 2 s of the exit).  With `until` in the past the engine
 * sends what it has, one JSON object per line, and ends the answer.
 * Returns 1, 0, or -1 when the engine could not be asked.
 */
int
docker_event(struct docker *d, const char *id, long long since_unix,
    const char *event)
{
	static const char *action_path[] = { "Action", NULL };
	static const char *id_path[] = { "id", NULL };
	struct timespec now;
	char path[DOCKER_URL_MAX], errbuf[128];
	char *line, *next;
	yajl_val tree, action, event_id;
	long status;
	int found = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	/* filters={"container":[id],"event":[event]}, URL-encoded; ids are
	 * hex, event names [a-z_]. */
	if ((size_t)snprintf(path, sizeof(path),
		"/events?since=%lld&until=%lld.%09ld"
		"&filters=%%7B%%22container%%22%%3A%%5B%%22%s%%22%%5D%%2C"
		"%%22event%%22%%3A%%5B%%22%s%%22%%5D%%7D",
		since_unix, (long long)now.tv_sec, now.tv_nsec, id,
		event) >= sizeof(path))
		return -1;
	if (docker_call(d, "GET", path, NULL, 0, d->call_timeout_ms, &status,
		NULL) == -1 ||
	    status != 200 || d->response.data == NULL)
		return -1;
	for (line = d->response.data; line != NULL && !found; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0' ||
		    (tree = yajl_tree_parse(line, errbuf, sizeof(errbuf))) == NULL)
			continue;
		action = yajl_tree_get(tree, action_path, yajl_t_string);
		event_id = yajl_tree_get(tree, id_path, yajl_t_string);
		/* yajl_tree_get with yajl_t_string: u.string is set. */
		found = action != NULL && event_id != NULL &&
		    strcmp(action->u.string, event) == 0 &&
		    strcmp(event_id->u.string, id) == 0;
		yajl_tree_free(tree);
	}
	return found;
}

int
docker_oom_event(struct docker *d, const char *id, long long since_unix)
{
	return docker_event(d, id, since_unix, "oom");
}

/* A non-negative decimal label value, or -1; *end gets what follows. */
static long long
docker_label_number(const char *text, char stop, const char **rest)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != stop || v < 0 ||
	    text[0] == '-' || text[0] == '+' || text[0] == ' ')
		return -1;
	if (rest != NULL)
		*rest = end + (stop != '\0');
	return v;
}

int
docker_list_managed(struct docker *d, docker_list_fn fn, void *arg)
{
	static const char *id_path[] = { "Id", NULL };
	static const char *created_path[] = { "Created", NULL };
	static const char *instance_path[] = { "Labels", DOCKER_LABEL_INSTANCE,
		NULL };
	static const char *expires_path[] = { "Labels", DOCKER_LABEL_EXPIRES,
		NULL };
	static const char *uids_path[] = { "Labels", DOCKER_LABEL_UIDS, NULL };
	/* filters={"label":["org.pycage.managed"]}, URL-encoded. */
	static const char path[] =
	    "/containers/json?all=1&filters="
	    "%7B%22label%22%3A%5B%22" DOCKER_LABEL_MANAGED "%22%5D%7D";
	struct docker_listed c;
	yajl_val tree, item, id, created, instance, expires, uids;
	const char *rest;
	long status;
	size_t i;

	if (docker_call(d, "GET", path, NULL, 0, d->call_timeout_ms, &status,
		NULL) == -1)
		return -1;
	if (status != 200 || (tree = docker_parse(d)) == NULL)
		return -1;
	if (!YAJL_IS_ARRAY(tree)) {
		yajl_tree_free(tree);
		return -1;
	}
	for (i = 0; i < YAJL_GET_ARRAY(tree)->len; i++) {
		item = YAJL_GET_ARRAY(tree)->values[i];
		id = yajl_tree_get(item, id_path, yajl_t_string);
		created = yajl_tree_get(item, created_path, yajl_t_number);
		instance = yajl_tree_get(item, instance_path, yajl_t_string);
		expires = yajl_tree_get(item, expires_path, yajl_t_string);
		uids = yajl_tree_get(item, uids_path, yajl_t_string);
		if (id == NULL || created == NULL || !YAJL_IS_INTEGER(created))
			continue;
		/* yajl_tree_get with yajl_t_string: u.string is set. */
		c.id = id->u.string;
		c.instance = instance != NULL ? instance->u.string : "";
		c.created_unix = YAJL_GET_INTEGER(created);
		c.expires_unix = expires != NULL ?
		    docker_label_number(expires->u.string, '\0', NULL) :
		    -1;
		c.uid_first = c.uid_last = -1;
		if (uids != NULL &&
		    (c.uid_first = docker_label_number(uids->u.string, '-',
			 &rest)) >= 0 &&
		    ((c.uid_last = docker_label_number(rest, '\0', NULL)) < 0 ||
			c.uid_last < c.uid_first))
			c.uid_first = c.uid_last = -1;
		fn(&c, arg);
	}
	yajl_tree_free(tree);
	return 0;
}

/* ------------------------------------------------------------- attach */

static int
docker_attach_wait(struct docker_attach *a, short events,
    const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = a->fd, .events = events };
	long left;

	if ((left = -clock_ms_since(deadline)) <= 0)
		return -1;
	return poll(&pfd, 1, (int)left) > 0 ? 0 : -1;
}

/* Sends the upgrade request and reads the answer's head, before a deadline. */
static int
docker_attach_handshake(struct docker_attach *a, const char *id,
    const struct timespec *deadline)
{
	char request[DOCKER_URL_MAX];
	char *end;
	size_t sent = 0, have = 0, n;
	int len;

	len = snprintf(request, sizeof(request),
	    "POST " DOCKER_API_PREFIX
	    "/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
	    "Host: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
	    "Content-Length: 0\r\n\r\n",
	    id);
	if (len < 0 || (size_t)len >= sizeof(request))
		return -1;
	while (sent < (size_t)len) {
		if (docker_attach_wait(a, POLLOUT, deadline) == -1)
			return -1;
		n = 0;
		if (curl_easy_send(a->curl, request + sent, len - sent, &n) ==
		    CURLE_OK)
			sent += n;
	}
	while ((end = memmem(a->early, have, "\r\n\r\n", 4)) == NULL) {
		if (have == sizeof(a->early) ||
		    docker_attach_wait(a, POLLIN, deadline) == -1)
			return -1;
		n = 0;
		switch (curl_easy_recv(a->curl, a->early + have,
		    sizeof(a->early) - have, &n)) {
		case CURLE_OK:
			if (n == 0)
				return -1;
			have += n;
			break;
		case CURLE_AGAIN:
			break;
		default:
			return -1;
		}
	}
	if (have < 12 || memcmp(a->early, "HTTP/1.1 101", 12) != 0) {
		log_warn("docker: attach refused: %.80s", a->early);
		a->early_len = have;
		return -1;
	}
	/* Whatever came after the head is already stream data. */
	end += 4;
	a->early_len = have - (size_t)(end - a->early);
	memmove(a->early, end, a->early_len);
	return 0;
}

int
docker_attach_open(struct docker *d, const char *id, struct docker_attach **out,
    struct api_error *err)
{
	struct docker_attach *a;
	struct timespec deadline;
	curl_socket_t fd;
	CURLcode rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->curl = curl_easy_init()) == NULL) {
		free(a);
		api_error_set(err, 500, "internal", "Out of memory.");
		return -1;
	}
	a->fd = CURL_SOCKET_BAD;
	docker_setup_handle(d, a->curl);
	curl_easy_setopt(a->curl, CURLOPT_URL, d->base_url);
	curl_easy_setopt(a->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)d->call_timeout_ms);
	clock_after(&deadline, CLOCK_MONOTONIC, d->call_timeout_ms);
	if ((rc = curl_easy_perform(a->curl)) != CURLE_OK ||
	    curl_easy_getinfo(a->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		docker_unreachable(d, a->curl, err, rc);
		docker_attach_free(a);
		return -1;
	}
	a->fd = fd;
	if (docker_attach_handshake(a, id, &deadline) == -1) {
		/* No answer, or the engine's 5xx: a retry can cure it. */
		if (a->early_len < 10 || memcmp(a->early, "HTTP/1.1 5", 10) == 0) {
			metrics_count(METRIC_DOCKER_ERRORS);
			docker_engine_failed("no answer to attach");
			api_error_set(err, 503, "engine_unavailable",
			    "The Docker "
			    "engine did not attach the sandbox container; try "
			    "again shortly.");
			err->retry_after_s = RETRY_AFTER_ENGINE_S;
		} else
			api_error_set(err, 500, "engine_error",
			    "Could not attach to the sandbox container.");
		docker_attach_free(a);
		return -1;
	}
	*out = a;
	return 0;
}

size_t
docker_attach_take_early(struct docker_attach *a, const char **data)
{
	size_t n = a->early_len;

	*data = a->early;
	a->early_len = 0;
	return n;
}

int
docker_attach_fd(struct docker_attach *a)
{
	return (int)a->fd;
}

long
docker_attach_send(struct docker_attach *a, const void *data, size_t len)
{
	size_t n = 0;
	CURLcode rc;

	rc = curl_easy_send(a->curl, data, len, &n);
	if (rc == CURLE_AGAIN)
		return DOCKER_AGAIN;
	return rc == CURLE_OK ? (long)n : -1;
}

long
docker_attach_recv(struct docker_attach *a, void *data, size_t len)
{
	size_t n = 0;
	CURLcode rc;

	rc = curl_easy_recv(a->curl, data, len, &n);
	if (rc == CURLE_AGAIN)
		return DOCKER_AGAIN;
	return rc == CURLE_OK ? (long)n : -1;
}

/* EOF on the container's stdin (StdinOnce), while its output still flows. */
void
docker_attach_close_write(struct docker_attach *a)
{
	if (a->fd != CURL_SOCKET_BAD)
		shutdown(a->fd, SHUT_WR);
}

void
docker_attach_free(struct docker_attach *a)
{
	if (a == NULL)
		return;
	curl_easy_cleanup(a->curl);
	free(a);
}
