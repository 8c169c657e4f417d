/*
 * host.c: what the configuration assumes of the host, checked once at
 * start (pycage-fcgi runs it as root, before the fork, and for -t): the
 * sandbox uid range is pycage's alone, and the front has an identity of
 * its own.  A sandbox uid that is also an account, or a subordinate id
 * of someone's user namespace (Debian gives a second account
 * 165536-231071 in /etc/subuid), would let that account's processes and
 * a sandbox's signal, ptrace-attach to or share limits with each other.
 * Start-up only: it reports, it never repairs.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define HOST_NOBODY_UID 65534

/*
 * The first line of path ("name:first:count") whose range overlaps
 * [first, last]: 1 with it in err, 0 if none (or no such file), -1 if the
 * file cannot be read.
 */
static int
host_subid_overlap(const char *path, unsigned long long first,
    unsigned long long last, char *err, size_t errlen)
{
	FILE *f;
	char line[512], *name, *p, *end;
	unsigned long long start, count;
	unsigned lineno = 0;
	int rc = 0;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		name = line;
		if ((p = strchr(name, ':')) == NULL)
			continue;
		*p++ = '\0';
		errno = 0;
		start = strtoull(p, &end, 10);
		if (errno != 0 || end == p || *end != ':')
			continue;
		p = end + 1;
		count = strtoull(p, &end, 10);
		if (errno != 0 || end == p || count == 0)
			continue;
		if (start <= last && first <= start + count - 1) {
			snprintf(err, errlen,
			    "uid_base: the sandbox uids %llu-%llu "
			    "overlap %s:%u (%s's ids %llu-%llu); choose a uid_base "
			    "outside every range in %s and %s",
			    first, last, path, lineno, name, start,
			    start + count - 1, HOST_SUBUID_PATH,
			    HOST_SUBGID_PATH);
			rc = 1;
		}
	}
	fclose(f);
	return rc;
}

/* The account whose uid is in [first, last]: 1 with it in err, else 0. */
static int
host_account_in(unsigned long long first, unsigned long long last, char *err,
    size_t errlen)
{
	struct passwd *pw;
	int rc = 0;

	setpwent();
	while (rc == 0 && (pw = getpwent()) != NULL)
		if (pw->pw_uid >= first && pw->pw_uid <= last) {
			snprintf(err, errlen,
			    "uid_base: the sandbox uids %llu-%llu "
			    "include the account %s (uid %u); choose a range no "
			    "account uses",
			    first, last, pw->pw_name, (unsigned)pw->pw_uid);
			rc = 1;
		}
	endpwent();
	return rc;
}

int
host_check_ids(const struct config *c, const char *subuid_path,
    const char *subgid_path, char *err, size_t errlen)
{
	unsigned long long first = c->uid_base;
	unsigned long long last = first + config_uid_count(c) - 1;
	struct passwd *pw;
	unsigned long user_uid = strtoul(c->user, NULL, 10);

	if (config_uid_count(c) > 0 &&
	    (host_subid_overlap(subuid_path, first, last, err, errlen) != 0 ||
		host_subid_overlap(subgid_path, first, last, err, errlen) != 0 ||
		host_account_in(first, last, err, errlen) != 0))
		return -1;
	if (c->front_user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->front_user)) == NULL) {
		snprintf(err, errlen,
		    "front_user %s: no such user (scripts/up.sh "
		    "creates pycage-front)",
		    c->front_user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "front_user %s is root", c->front_user);
		return -1;
	}
	if (pw->pw_uid == HOST_NOBODY_UID)
		log_warn("front_user %s is shared with everything else that runs "
			 "as uid %u, which could signal the front; scripts/up.sh "
			 "creates pycage-front for it",
		    c->front_user, HOST_NOBODY_UID);
	/* Without per-container uids every sandbox runs as `user`: the front
	 * must not be that uid, or any sandbox could signal it. */
	if (config_uid_count(c) == 0 && pw->pw_uid == user_uid) {
		snprintf(err, errlen,
		    "front_user %s has uid %lu, the sandbox's "
		    "`user`: give the front a user of its own",
		    c->front_user, user_uid);
		return -1;
	}
	return 0;
}
