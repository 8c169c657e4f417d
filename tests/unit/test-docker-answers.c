/*
 * test-docker-answers.c: how src/executor/docker.c reads engine answers that the
 * real engine gives only now and then, served here by a canned engine on
 * a unix socket (one thread, one answer per connection, then close):
 * - GET /events for a late OOM (docker_oom_event): the event, an event of
 *   another container, no event, an unreadable line, an HTTP error; and
 *   the request itself (since, until, the filter with the container id);
 * - GET /containers/json for the janitor (docker_list_managed): the
 *   org.pycage.expires label as a number, missing, or not a number, and
 *   the org.pycage.uids range, well-formed or not.
 * The real engine is tested by tests/integration (test_faults.py sweeps,
 * test_limits.py memory bombs under runsc); this is the fault it cannot
 * show on demand.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* -------------------------------------------------- the canned engine */

static struct {
	pthread_mutex_t lock;
	int listen_fd;
	int status;
	const char *body;
	char request[4096]; /* the last request's head */
} engine = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *
engine_main(void *arg)
{
	char head[4096], out[8192];
	size_t len;
	ssize_t n;
	int fd;

	(void)arg;
	while ((fd = accept(engine.listen_fd, NULL, NULL)) != -1) {
		len = 0;
		while (len < sizeof(head) - 1 &&
		    (n = read(fd, head + len, sizeof(head) - 1 - len)) > 0) {
			len += (size_t)n;
			head[len] = '\0';
			if (strstr(head, "\r\n\r\n") != NULL)
				break;
		}
		head[len] = '\0';
		pthread_mutex_lock(&engine.lock);
		snprintf(engine.request, sizeof(engine.request), "%s", head);
		len = (size_t)snprintf(out, sizeof(out),
		    "HTTP/1.1 %d X\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s",
		    engine.status, strlen(engine.body), engine.body);
		pthread_mutex_unlock(&engine.lock);
		if (write(fd, out, len) != (ssize_t)len)
			diag("canned engine: short write");
		close(fd);
	}
	return NULL;
}

static void
engine_answer(int status, const char *body)
{
	pthread_mutex_lock(&engine.lock);
	engine.status = status;
	engine.body = body;
	engine.request[0] = '\0';
	pthread_mutex_unlock(&engine.lock);
}

/* ------------------------------------------------------------ events */

static void
test_oom_event(struct docker *d)
{
	engine_answer(200,
	    "{\"status\":\"oom\",\"id\":\"" ID "\",\"from\":\"x\","
	    "\"Type\":\"container\",\"Action\":\"oom\",\"time\":1800000000}\n");
	is_int(docker_oom_event(d, ID, 1799999999), 1,
	    "an oom event of the container: 1");
	ok(strstr(engine.request, "GET /v1.41/events?since=1799999999&until=") ==
		engine.request,
	    "GET /v1.41/events?since=...&until=... (%.60s)", engine.request);
	ok(strstr(engine.request, "%22container%22%3A%5B%22" ID "%22%5D") != NULL &&
		strstr(engine.request, "%22event%22%3A%5B%22oom%22%5D") != NULL,
	    "filtered to the container and to oom, URL-encoded");

	engine_answer(200,
	    "{\"Type\":\"container\",\"Action\":\"die\",\"id\":\"" ID "\"}\n"
	    "{\"Type\":\"container\",\"Action\":\"oom\",\"id\":\"" ID "\"}\n");
	is_int(docker_oom_event(d, ID, 0), 1,
	    "an oom event on the second line: 1");

	engine_answer(200,
	    "{\"Type\":\"container\",\"Action\":\"oom\",\"id\":\"" OTHER "\"}\n");
	is_int(docker_oom_event(d, ID, 0), 0, "only another container's oom: 0");

	engine_answer(200,
	    "{\"Type\":\"container\",\"Action\":\"die\",\"id\":\"" ID "\"}\n");
	is_int(docker_oom_event(d, ID, 0), 0, "only a die event: 0");

	engine_answer(200, "");
	is_int(docker_oom_event(d, ID, 0), 0, "no events at all: 0");

	engine_answer(200,
	    "{\"Action\":\"oom\",\"id\":\n{\"Action\":\"oom\"}\n[]\n");
	is_int(docker_oom_event(d, ID, 0), 0, "unreadable or id-less lines: 0");

	engine_answer(500, "{\"message\":\"boom\"}");
	is_int(docker_oom_event(d, ID, 0), -1, "HTTP 500: -1");
}

/* ---------------------------------------------------------- listing */

#define SEEN_MAX 8

struct seen {
	int n;
	long long created[SEEN_MAX], expires[SEEN_MAX];
	long long uid_first[SEEN_MAX], uid_last[SEEN_MAX];
};

static void
list_visit(const struct docker_listed *l, void *arg)
{
	struct seen *s = arg;

	if (s->n >= SEEN_MAX)
		return;
	s->created[s->n] = l->created_unix;
	s->expires[s->n] = l->expires_unix;
	s->uid_first[s->n] = l->uid_first;
	s->uid_last[s->n] = l->uid_last;
	s->n++;
}

static void
test_list_managed(struct docker *d)
{
	struct seen s = { 0 };

	engine_answer(200,
	    "["
	    "{\"Id\":\"a\",\"Created\":100,\"Labels\":{\"" DOCKER_LABEL_EXPIRES
	    "\":\"1800000000\"}},"
	    "{\"Id\":\"b\",\"Created\":200,\"Labels\":{}},"
	    "{\"Id\":\"c\",\"Created\":300,\"Labels\":{\"" DOCKER_LABEL_EXPIRES
	    "\":\"soon\"}},"
	    "{\"Id\":\"d\",\"Created\":400,\"Labels\":{\"" DOCKER_LABEL_EXPIRES
	    "\":\"-5\"}},"
	    "{\"Id\":\"e\",\"Created\":500,\"Labels\":{\"" DOCKER_LABEL_UIDS
	    "\":\"200000-200013\"}},"
	    "{\"Id\":\"f\",\"Created\":600,\"Labels\":{\"" DOCKER_LABEL_UIDS
	    "\":\"200013-200000\"}},"
	    "{\"Id\":\"g\",\"Created\":700,\"Labels\":{\"" DOCKER_LABEL_UIDS
	    "\":\"5-\"}},"
	    "{\"Id\":\"h\",\"Created\":800,\"Labels\":{\"" DOCKER_LABEL_UIDS
	    "\":\"-5-7\"}}]");
	is_int(docker_list_managed(d, list_visit, &s), 0, "list answers 0");
	is_int(s.n, 8, "eight containers visited");
	is_int(s.expires[0], 1800000000LL, "expires label read as a number");
	is_int(s.created[0], 100, "created passed through");
	is_int(s.expires[1], -1, "no expires label: -1 (judged by age)");
	is_int(s.expires[2], -1, "expires label not a number: -1");
	is_int(s.expires[3], -1, "negative expires label: -1");
	is_int(s.uid_first[0], -1, "no uids label: -1");
	ok(s.uid_first[4] == 200000 && s.uid_last[4] == 200013,
	    "uids label 200000-200013 read as a range");
	ok(s.uid_first[5] == -1 && s.uid_last[5] == -1, "a reversed range: -1");
	ok(s.uid_first[6] == -1 && s.uid_last[6] == -1,
	    "a range without its end: -1");
	ok(s.uid_first[7] == -1 && s.uid_last[7] == -1, "a negative start: -1");
	ok(strstr(engine.request, "GET /v1.41/containers/json?all=1&filters=") ==
		engine.request,
	    "GET /v1.41/containers/json?all=1&filters=...");
}

int
main(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/pycage-test-docker-XXXXXX";
	struct docker *d;
	pthread_t thread;

	plan(22);
	curl_global_init(CURL_GLOBAL_ALL);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/engine.sock", dir);
	if ((engine.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(engine.listen_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(engine.listen_fd, 4) == -1 ||
	    pthread_create(&thread, NULL, engine_main, NULL) != 0) {
		perror("canned engine");
		return 1;
	}
	if ((d = docker_new(sun.sun_path, 5000)) == NULL)
		return 1;
	test_oom_event(d);
	test_list_managed(d);
	docker_free(d);
	/* Wake the accept() so the thread ends, then clean up. */
	shutdown(engine.listen_fd, SHUT_RDWR);
	pthread_join(thread, NULL);
	close(engine.listen_fd);
	unlink(sun.sun_path);
	rmdir(dir);
	curl_global_cleanup();
	return done_testing();
}
