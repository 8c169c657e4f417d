/*
 * test-host.c: src/common/host.c, the start-up checks of the host.  The
 * sandbox uid range against subordinate-id files (written here) and the
 * host's accounts; the front user: missing, root, or the sandbox's own
 * uid when there is no range.  Debian's first subordinate range for a
 * second account is 165536-231071: it overlaps the default uid_base of
 * 200000, which is why the check exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "tap.h"

static char subuid[] = "/tmp/pycage-test-subuid-XXXXXX";
static char subgid[] = "/tmp/pycage-test-subgid-XXXXXX";

static void
write_file(char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		abort();
}

static int
check(const struct config *c, char *err, size_t errlen)
{
	err[0] = '\0';
	return host_check_ids(c, subuid, subgid, err, errlen);
}

int
main(void)
{
	struct config c;
	char err[512];
	int fd;

	if ((fd = mkstemp(subuid)) == -1 || close(fd) == -1 ||
	    (fd = mkstemp(subgid)) == -1 || close(fd) == -1)
		abort();
	config_defaults(&c);
	c.front_user[0] = '\0';

	write_file(subuid, "alice:165536:65536\n");
	write_file(subgid, "");
	is_int(check(&c, err, sizeof(err)), -1,
	    "uid_base 200000 against alice:165536:65536 is refused");
	ok(strstr(err, "alice") != NULL && strstr(err, ":1") != NULL &&
		strstr(err, "165536-231071") != NULL,
	    "naming the line and its range: %s", err);

	write_file(subuid, "# comment\nbad line\nbob:100000:50000\n");
	write_file(subgid, "carol:200010:5\n");
	is_int(check(&c, err, sizeof(err)), -1,
	    "an overlap in subgid is refused too");
	ok(strstr(err, "carol") != NULL, "naming carol: %s", err);

	write_file(subgid, "carol:100000:100000\n"); /* ends at 199999 */
	is_int(check(&c, err, sizeof(err)), 0,
	    "a range ending just below uid_base is fine: %s", err);
	write_file(subgid, "carol:200000:1\n");
	is_int(check(&c, err, sizeof(err)), -1, "one id at uid_base is refused");
	c.uid_base = 200000;
	write_file(subgid, "");
	{
		char line[64];

		snprintf(line, sizeof(line), "dave:%u:1\n",
		    c.uid_base + config_uid_count(&c) - 1);
		write_file(subuid, line);
		is_int(check(&c, err, sizeof(err)), -1,
		    "one id at the range's last uid is refused");
		snprintf(line, sizeof(line), "dave:%u:1\n",
		    c.uid_base + config_uid_count(&c));
		write_file(subuid, line);
		is_int(check(&c, err, sizeof(err)), 0,
		    "one id just past the range is fine: %s", err);
	}

	unlink(subuid);
	unlink(subgid);
	is_int(check(&c, err, sizeof(err)), 0, "no subordinate-id files: fine");

	/* nobody (65534) is an account on every Debian system. */
	c.uid_base = 65530;
	is_int(check(&c, err, sizeof(err)), -1,
	    "a range holding uid 65534 is refused");
	ok(strstr(err, "65534") != NULL, "naming the account: %s", err);
	c.uid_base = 200000;

	snprintf(c.front_user, sizeof(c.front_user), "pycage-no-such-user");
	is_int(check(&c, err, sizeof(err)), -1,
	    "a front user that does not exist");
	snprintf(c.front_user, sizeof(c.front_user), "root");
	is_int(check(&c, err, sizeof(err)), -1, "the front user root");
	snprintf(c.front_user, sizeof(c.front_user), "nobody");
	is_int(check(&c, err, sizeof(err)), 0,
	    "nobody with per-container uids: allowed, with a warning");
	c.uid_base = 0;
	snprintf(c.user, sizeof(c.user), "65534:65534");
	is_int(check(&c, err, sizeof(err)), -1,
	    "uid_base 0: the front may not be the sandbox's user");
	ok(strstr(err, "sandbox") != NULL, "saying why: %s", err);
	return done_testing();
}
