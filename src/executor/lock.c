/*
 * lock.c: one live responder per instance name on an engine.  At start the
 * executor removes every container labelled with its instance (a killed
 * predecessor's, janitor.c); a second responder started by mistake with the
 * same name would remove the first one's live runs.  So before that sweep
 * the executor takes a lock on the engine itself: a container, created
 * and never started, named for the instance.  The engine refuses a second
 * create of the same name (409) atomically, whoever asks.  Its owner label
 * says which executor holds it ("HOST PID STARTTIME"); a lock whose owner
 * is on this host and no longer runs is stale and taken over.  An owner on
 * another host cannot be checked from here: the lock is refused, and the
 * message says how to remove it if that responder is gone.
 * It never removes a container but its own lock.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"
#include "json_gen.h"

#define LOCK_NAME_PREFIX "pycage-lock-"
#define LOCK_OWNER_MAX (HOST_NAME_MAX + 48)
#define LOCK_TRIES 3 /* a stale lock removed, a race lost */

static char lock_id[DOCKER_ID_MAX + 1]; /* ours, once taken */

/* 32-bit FNV-1a: keeps names apart that differ only in escaped bytes. */
static unsigned
lock_hash(const char *s)
{
	unsigned h = 2166136261U;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619U;
	return h;
}

/* The lock's name: the instance as the engine allows names, plus a hash
 * of it whole. */
static void
lock_name(const char *instance, char *out, size_t outlen)
{
	size_t n = 0, i;
	char safe[CONFIG_STR_MAX];

	for (i = 0; instance[i] != '\0' && n + 1 < sizeof(safe) && n < 64; i++)
		safe[n++] =
		    strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789_.-",
			instance[i]) != NULL ?
		    instance[i] :
		    '_';
	safe[n] = '\0';
	snprintf(out, outlen, LOCK_NAME_PREFIX "%s-%08x", safe,
	    lock_hash(instance));
}

/* A process's start time in clock ticks since boot (/proc/PID/stat field
 * 22), which tells a pid reused since from the process that was; 0 if it
 * is gone or a zombie (killed, not yet reaped: it holds nothing). */
static unsigned long long
lock_starttime(long pid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	unsigned long long start = 0;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	/* After "comm) ": field 3, the state, then space-separated fields. */
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] != 'Z' &&
	    p[2] != 'X') {
		for (field = 3, p++; field < 22 && p != NULL; field++)
			p = strchr(p + 1, ' ');
		if (p != NULL)
			start = strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	return start;
}

static void
lock_me(char *out, size_t outlen)
{
	char host[HOST_NAME_MAX + 1] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(out, outlen, "%s %ld %llu", host, (long)getpid(),
	    lock_starttime(getpid()));
}

/* Whether the owner label names a process that still runs, or one we
 * cannot see (another host): either way not ours to take. */
static bool
lock_owner_alive(const char *owner, char *err, size_t errlen,
    const char *instance, const char *name)
{
	char host[HOST_NAME_MAX + 1] = "", them[HOST_NAME_MAX + 1];
	long pid;
	unsigned long long start;

	gethostname(host, sizeof(host) - 1);
	if (sscanf(owner, "%64s %ld %llu", them, &pid, &start) != 3)
		return false; /* not ours to judge: an unreadable label is stale */
	if (strcmp(them, host) != 0) {
		snprintf(err, errlen,
		    "instance %s is held by a responder on host %s "
		    "(pid %ld); if it is gone, remove the container %s",
		    instance, them, pid, name);
		return true;
	}
	if (pid > 0 && lock_starttime(pid) == start && start != 0) {
		snprintf(err, errlen,
		    "another responder with instance %s runs here "
		    "(executor pid %ld): refusing to start, which would remove its "
		    "containers; give this one another instance",
		    instance, pid);
		return true;
	}
	return false;
}

static int
lock_body(const struct config *c, const char *owner, struct buf *out)
{
	yajl_gen g;

	if ((g = json_gen_begin()) == NULL)
		return -1;
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "Image");
	GEN_STR(g, c->image);
	/* Never started; still, nothing it could do if it were. */
	GEN_KEY(g, "Entrypoint");
	GEN(yajl_gen_array_open(g));
	GEN_STR(g, "/bin/true");
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "NetworkDisabled");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "Labels");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, DOCKER_LABEL_LOCK);
	GEN_STR(g, c->instance);
	GEN_KEY(g, DOCKER_LABEL_OWNER);
	GEN_STR(g, owner);
	GEN(yajl_gen_map_close(g));
	GEN_KEY(g, "HostConfig");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "NetworkMode");
	GEN_STR(g, "none");
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	return json_gen_end(g, out);
fail:
	yajl_gen_free(g);
	return -1;
}

int
lock_take(struct docker *d, const struct config *c, char *err, size_t errlen)
{
	struct api_error e;
	struct buf body;
	char name[CONFIG_STR_MAX + 32], me[LOCK_OWNER_MAX];
	char owner[LOCK_OWNER_MAX];
	int rc = 1, tries, got;

	lock_name(c->instance, name, sizeof(name));
	lock_me(me, sizeof(me));
	buf_init(&body, 64 * 1024);
	if (lock_body(c, me, &body) == -1) {
		snprintf(err, errlen, "could not build the lock's body");
		buf_free(&body);
		return -1;
	}
	for (tries = 0; tries < LOCK_TRIES; tries++) {
		api_error_init(&e);
		got = docker_create_named(d, name, body.data, body.len, lock_id,
		    &e);
		if (got == 0) {
			rc = 0;
			break;
		}
		if (got != DOCKER_NAME_TAKEN) {
			snprintf(err, errlen,
			    "could not take the instance lock: %s", e.message);
			rc = 1; /* the engine is not there: not ours to refuse */
			break;
		}
		got = docker_label(d, name, DOCKER_LABEL_OWNER, owner,
		    sizeof(owner));
		if (got == 1)
			continue; /* removed meanwhile: try again */
		if (got == 0 &&
		    lock_owner_alive(owner, err, errlen, c->instance, name)) {
			rc = -1;
			break;
		}
		log_info("lock: %s was left by an executor that is gone (%s); "
			 "taking it over",
		    name, got == 0 ? owner : "no owner label");
		(void)docker_remove(d, name);
	}
	if (tries == LOCK_TRIES) {
		snprintf(err, errlen, "could not take the instance lock %s",
		    name);
		rc = 1;
	}
	buf_free(&body);
	if (rc != 0)
		lock_id[0] = '\0';
	return rc;
}

void
lock_release(struct docker *d)
{
	if (lock_id[0] != '\0' && docker_remove(d, lock_id) == 0)
		lock_id[0] = '\0';
}
