/*
 * test-log.c: src/common/log.c.  A message holding words from outside (a path
 * with a newline, an ANSI escape, a DEL) comes out as one line with each
 * control byte as \xNN, a backslash and a UTF-8-encoded C1 control too,
 * other UTF-8 untouched; a message longer than a line is
 * cut, never split into two, and never cut inside an escape.  stderr is a
 * pipe while the tests run.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "executor.h"
#include "tap.h"

static int	pipe_fds[2];
static int	saved_stderr;

/* What one log call wrote: the text after "role level: ", its length. */
static size_t
logged(char *out, size_t size, const char *msg)
{
	char	 raw[4096];
	ssize_t	 n;
	char	*body;

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
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

int
main(void)
{
	char	 got[4096], *big;
	size_t	 n;

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

	logged(got, sizeof(got), "a\rb\tc\x1b[31md\x7f" "e\x01");
	is_str(got, "a\\x0db\\x09c\\x1b[31md\\x7fe\\x01\n",
	    "CR, tab, ESC, DEL and 0x01 escaped");

	logged(got, sizeof(got), "caf\xc3\xa9 \xe2\x82\xac \xff \xc2\xa0 \xc2");
	is_str(got, "caf\xc3\xa9 \xe2\x82\xac \xff \xc2\xa0 \xc2\n",
	    "other bytes from 0x80 up (UTF-8, or not) left as they are");

	logged(got, sizeof(got), "a\\x0ab \xc2\x9b" "31m \xc2\x85");
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
	ok(n <= 1024 && lines_in(got) == 1, "3000 newlines: one line of at "
	    "most 1024 bytes (got %zu)", n);
	got[strlen(got) - 1] = '\0';
	ok(strlen(got) % 4 == 0 && strspn(got, "\\x0a") == strlen(got),
	    "and only whole \\x0a escapes in it");
	free(big);

	dup2(saved_stderr, STDERR_FILENO);
	return done_testing();
}
