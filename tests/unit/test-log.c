/*
 * test-log.c: src/common/log.c.  A message holding words from outside (a path
 * with a newline, an ANSI escape, a DEL) comes out as one line with each
 * control byte as \xNN, a backslash and a UTF-8-encoded C1 control too,
 * other UTF-8 untouched; a message longer than a line is
 * cut, never split into two, and never cut inside an escape.  Lines from one
 * call site past its burst are held back, and the next one written says
 * how many were and over how long (a stand-in clock); another call site is
 * not held back meanwhile.  stderr is a pipe while the tests run.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

static int pipe_fds[2];
static int saved_stderr;

/* What one log call wrote: the text after "role level: ", its length. */
static size_t
logged(char *out, size_t size, const char *msg)
{
	char raw[4096];
	ssize_t n;
	char *body;

	log_info("%s", msg);
	n = read(pipe_fds[0], raw, sizeof(raw) - 1);
	if (n <= 0) {
		out[0] = '\0';
		return 0;
	}
	raw[n] = '\0';
	body = strstr(raw, "test info: ");
	body = body != NULL ? body + strlen("test info: ") : raw;
	snprintf(out, size, "%s", body);
	return (size_t)n;
}

static int
lines_in(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static long long fake_ms;

static long long
fake_clock(void)
{
	return fake_ms;
}

/* Everything written to stderr since the last look (the pipe does not block). */
static size_t
drain(char *out, size_t size)
{
	size_t have = 0;
	ssize_t n;

	while (have < size - 1 &&
	    (n = read(pipe_fds[0], out + have, size - 1 - have)) > 0)
		have += (size_t)n;
	out[have] = '\0';
	return have;
}

static void
test_rate_limit(void)
{
	static char out[65536];
	int i;

	fcntl(pipe_fds[0], F_SETFL, fcntl(pipe_fds[0], F_GETFL) | O_NONBLOCK);
	log_set_clock(fake_clock);
	fake_ms = 1000000;
	drain(out, sizeof(out));
	for (i = 0; i < 100; i++)
		log_warn("engine down, request %d", i);
	drain(out, sizeof(out));
	is_int(lines_in(out), 30,
	    "100 lines from one call site at once: its burst of 30 "
	    "written, 70 held back");
	ok(strstr(out, "request 29\n") != NULL &&
		strstr(out, "request 30\n") == NULL,
	    "the first 30 are the ones written");
	log_info("another call site");
	drain(out, sizeof(out));
	is_int(lines_in(out), 1, "another call site is not held back meanwhile");

	fake_ms += 1000; /* 5 lines' worth */
	for (i = 0; i < 10; i++)
		log_warn("engine down, request %d", i);
	drain(out, sizeof(out));
	ok(strstr(out,
	       "warn: (70 more lines like the next were held back over "
	       "1.000 s)\n") != NULL,
	    "a second later: the count held back, said once");
	is_int(lines_in(out), 6, "then the 5 lines a second allows");

	fake_ms += 60000;
	log_warn("engine down, request %d", 0);
	drain(out, sizeof(out));
	ok(strstr(out,
	       "(5 more lines like the next were held back over 60.000 s)") !=
		    NULL &&
		lines_in(out) == 2,
	    "a minute later: the 5 held since, then the line");
	for (i = 0; i < 29; i++)
		log_warn("engine down, request %d", i);
	drain(out, sizeof(out));
	is_int(lines_in(out), 29, "and the bucket is full again");

	/* log_run: one line per run, never held back (test_scale.py counts
	 * runs per request from them). */
	for (i = 0; i < 100; i++)
		log_run("execute load-%d: handed to the executor", i);
	drain(out, sizeof(out));
	ok(lines_in(out) == 100 && strstr(out, "load-99: handed") != NULL &&
		strstr(out, "held back") == NULL,
	    "log_run: 100 lines at once, all written, none held back");
	log_set_clock(NULL);
}

int
main(void)
{
	char got[4096], *big;
	size_t n;

	if (pipe(pipe_fds) == -1 || (saved_stderr = dup(STDERR_FILENO)) == -1 ||
	    dup2(pipe_fds[1], STDERR_FILENO) == -1) {
		printf("Bail out! no pipe for stderr\n");
		return 1;
	}
	log_set_role("test");

	logged(got, sizeof(got), "GET /v1/plain: 404");
	is_str(got, "GET /v1/plain: 404\n", "a plain message as it is");

	logged(got, sizeof(got),
	    "GET /v1/x\n2099-01-01T00:00:00.000Z main error: forged");
	is_str(got, "GET /v1/x\\x0a2099-01-01T00:00:00.000Z main error: forged\n",
	    "a newline is written as \\x0a: no forged line");

	logged(got, sizeof(got),
	    "a\rb\tc\x1b[31md\x7f"
	    "e\x01");
	is_str(got, "a\\x0db\\x09c\\x1b[31md\\x7fe\\x01\n",
	    "CR, tab, ESC, DEL and 0x01 escaped");

	logged(got, sizeof(got), "caf\xc3\xa9 \xe2\x82\xac \xff \xc2\xa0 \xc2");
	is_str(got, "caf\xc3\xa9 \xe2\x82\xac \xff \xc2\xa0 \xc2\n",
	    "other bytes from 0x80 up (UTF-8, or not) left as they are");

	logged(got, sizeof(got),
	    "a\\x0ab \xc2\x9b"
	    "31m \xc2\x85");
	is_str(got, "a\\x5cx0ab \\xc2\\x9b31m \\xc2\\x85\n",
	    "a backslash, and C1 controls (CSI, NEL) as UTF-8, escaped");

	big = malloc(3000);
	if (big == NULL)
		return 1;
	memset(big, 'a', 3000);
	big[2999] = '\0';
	n = logged(got, sizeof(got), big);
	ok(n <= 1024 && lines_in(got) == 1 && got[strlen(got) - 1] == '\n',
	    "a 3000-byte message: one line of at most 1024 bytes (got %zu)", n);

	memset(big, '\n', 2999);
	n = logged(got, sizeof(got), big);
	ok(n <= 1024 && lines_in(got) == 1,
	    "3000 newlines: one line of at "
	    "most 1024 bytes (got %zu)",
	    n);
	got[strlen(got) - 1] = '\0';
	ok(strlen(got) % 4 == 0 && strspn(got, "\\x0a") == strlen(got),
	    "and only whole \\x0a escapes in it");
	free(big);

	test_rate_limit();
	dup2(saved_stderr, STDERR_FILENO);
	return done_testing();
}
