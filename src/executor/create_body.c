/*
 * create_body.c: the body of Docker's POST /containers/create, the one
 * place every limit of a sandbox container is written (the product's
 * promises: no network, read-only root, 512 MB, half a core, no
 * capabilities, non-root, seccomp).  From constants and configuration
 * only: no byte of a request reaches it (the code travels on stdin).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "json_gen.h"

static int
create_body_ulimit(yajl_gen g, const char *name, long long value)
{
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "Name");
	GEN_STR(g, name);
	GEN_KEY(g, "Soft");
	GEN(yajl_gen_integer(g, value));
	GEN_KEY(g, "Hard");
	GEN(yajl_gen_integer(g, value));
	GEN(yajl_gen_map_close(g));
	return 0;
fail:
	return -1;
}

static int
create_body_seccomp(yajl_gen g, const char *profile)
{
	static const char prefix[] = "seccomp=";
	size_t len = strlen(profile);
	char *opt;
	int rc = -1;

	if ((opt = malloc(sizeof(prefix) + len)) == NULL)
		return -1;
	memcpy(opt, prefix, sizeof(prefix) - 1);
	memcpy(opt + sizeof(prefix) - 1, profile, len + 1);
	if (yajl_gen_string(g, (const unsigned char *)opt,
		sizeof(prefix) - 1 + len) == yajl_gen_status_ok)
		rc = 0;
	free(opt);
	return rc;
}

/*
 * The create body, from constants and config only: no byte of a request
 * reaches it (the code travels on stdin).  Field placement per the Engine
 * API v1.41: identity, stdio and labels at the top level, limits in
 * HostConfig.  Leave MaskedPaths/ReadonlyPaths out: an empty list would
 * remove Docker's defaults (docs/FIELD-NOTES.md).
 */
#define DATA_TMPFS_ROOM_BYTES (16UL * 1024 * 1024) /* past the files */

int
create_body(const struct config *c, const char *preload, bool ready,
    const char *const *entrypoint, long uid, const char *cpuset,
    long long expires, struct buf *out)
{
	static const char *const env[] = { "OPENBLAS_NUM_THREADS=1",
		"OMP_NUM_THREADS=1", "PYTHONDONTWRITEBYTECODE=1", "HOME=/tmp",
		"LANG=C.UTF-8" };
	char tmpfs[128], data_tmpfs[192], preload_arg[CONFIG_STR_MAX + 16];
	char user[CONFIG_STR_MAX + 24], expires_str[24], uids_str[24];
	long long memory = (long long)c->memory_mb * 1024 * 1024;
	bool runsc = config_gvisor(c);
	yajl_gen g;
	size_t i;

	snprintf(tmpfs, sizeof(tmpfs),
	    "rw,noexec,nosuid,nodev,size=%um,mode=1777", c->tmpfs_mb);
	/* The program's working directory (issue 17): the request's files,
	 * and room to write as much again plus 16 MiB; private to the
	 * container's uid, pages counted in the memory limit like /tmp's. */
	snprintf(data_tmpfs, sizeof(data_tmpfs),
	    "rw,noexec,nosuid,nodev,"
	    "size=%zuk,mode=0700,uid=%ld,gid=%s",
	    (2 * c->files_max_bytes + DATA_TMPFS_ROOM_BYTES) / 1024,
	    uid >= 0 ? uid : strtol(c->user, NULL, 10), strchr(c->user, ':') + 1);
	if ((g = json_gen_begin()) == NULL)
		return -1;
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "Image");
	GEN_STR(g, c->image);
	/* Per-container uid: uid.c; the group stays the configured one. */
	if (uid >= 0)
		snprintf(user, sizeof(user), "%ld:%s", uid,
		    strchr(c->user, ':') + 1);
	else
		snprintf(user, sizeof(user), "%s", c->user);
	GEN_KEY(g, "User");
	GEN_STR(g, user);
	GEN_KEY(g, "WorkingDir");
	GEN_STR(g, PROTOCOL_DATA_DIR);
	if (entrypoint != NULL) {
		GEN_KEY(g, "Entrypoint");
		GEN(yajl_gen_array_open(g));
		for (i = 0; entrypoint[i] != NULL; i++)
			GEN_STR(g, entrypoint[i]);
		GEN(yajl_gen_array_close(g));
	}
	/* Arguments to the image's entrypoint, pycage-runner. */
	GEN_KEY(g, "Cmd");
	GEN(yajl_gen_array_open(g));
	if (preload != NULL && *preload != '\0') {
		snprintf(preload_arg, sizeof(preload_arg), "--preload=%s",
		    preload);
		GEN_STR(g, preload_arg);
	}
	if (ready)
		GEN_STR(g, "--ready");
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "Env");
	GEN(yajl_gen_array_open(g));
	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		GEN_STR(g, env[i]);
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "Labels");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, DOCKER_LABEL_MANAGED);
	GEN_STR(g, "1");
	GEN_KEY(g, DOCKER_LABEL_INSTANCE);
	GEN_STR(g, c->instance);
	snprintf(expires_str, sizeof(expires_str), "%lld", expires);
	GEN_KEY(g, DOCKER_LABEL_EXPIRES);
	GEN_STR(g, expires_str);
	if (config_uid_count(c) > 0) {
		snprintf(uids_str, sizeof(uids_str), "%u-%u", c->uid_base,
		    c->uid_base + config_uid_count(c) - 1);
		GEN_KEY(g, DOCKER_LABEL_UIDS);
		GEN_STR(g, uids_str);
	}
	GEN(yajl_gen_map_close(g));
	/* stdin open for the code, closed for good when we half-close. */
	GEN_KEY(g, "AttachStdin");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "AttachStdout");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "AttachStderr");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "OpenStdin");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "StdinOnce");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "Tty");
	GEN(yajl_gen_bool(g, 0));
	GEN_KEY(g, "NetworkDisabled");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "StopTimeout");
	GEN(yajl_gen_integer(g, 1));

	GEN_KEY(g, "HostConfig");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "NetworkMode");
	GEN_STR(g, "none");
	GEN_KEY(g, "ReadonlyRootfs");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "Tmpfs");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "/tmp");
	GEN_STR(g, tmpfs);
	GEN_KEY(g, PROTOCOL_DATA_DIR);
	GEN_STR(g, data_tmpfs);
	GEN(yajl_gen_map_close(g));
	/* Memory = MemorySwap: no swap.  tmpfs pages count against it. */
	GEN_KEY(g, "Memory");
	GEN(yajl_gen_integer(g, memory));
	GEN_KEY(g, "MemorySwap");
	GEN(yajl_gen_integer(g, memory));
	/* cpu_millis per second, counted over cpu_period_ms (NanoCpus would
	 * count it over Docker's 100 ms).  The average is the same; a long
	 * period lets a short program, pandas' import, run at a whole core's
	 * speed until it has used its share of the period. */
	GEN_KEY(g, "CpuPeriod");
	GEN(yajl_gen_integer(g, config_cpu_period_us(c)));
	GEN_KEY(g, "CpuQuota");
	GEN(yajl_gen_integer(g, config_cpu_quota_us(c)));
	/* The quota bounds the average, not the parallelism: unpinned, eight
	 * busy threads spent the period's share on every core at once.  A
	 * run's cores are its own few (container.c spreads runs over them). */
	if (cpuset != NULL && cpuset[0] != '\0') {
		GEN_KEY(g, "CpusetCpus");
		GEN_STR(g, cpuset);
	}
	/* PidsLimit <= 0 means unlimited to the engine: config keeps it >= 8.
	 * Under gVisor it caps the host tasks of the whole sandbox, gVisor's
	 * own included (see CREATE_BODY_RUNSC_HOST_TASKS); the program's own
	 * count is then RLIMIT_NPROC, which gVisor enforces inside. */
	GEN_KEY(g, "PidsLimit");
	GEN(yajl_gen_integer(g,
	    runsc ? (long long)c->pids_limit * CREATE_BODY_RUNSC_HOST_TASKS :
		    c->pids_limit));
	GEN_KEY(g, "CapDrop");
	GEN(yajl_gen_array_open(g));
	GEN_STR(g, "ALL");
	GEN(yajl_gen_array_close(g));
	/* Without seccomp= the engine's default profile applies; ours is
	 * Docker's default minus io_uring and friends (docker/make-seccomp.py). */
	GEN_KEY(g, "SecurityOpt");
	GEN(yajl_gen_array_open(g));
	GEN_STR(g, "no-new-privileges");
	if (c->seccomp_json != NULL &&
	    create_body_seccomp(g, c->seccomp_json) == -1)
		goto fail;
	GEN(yajl_gen_array_close(g));
	/* docker-init as PID 1 reaps zombies and takes orphans down with it. */
	GEN_KEY(g, "Init");
	GEN(yajl_gen_bool(g, 1));
	GEN_KEY(g, "Ulimits");
	GEN(yajl_gen_array_open(g));
	if (create_body_ulimit(g, "nofile", c->nofile) == -1 ||
	    create_body_ulimit(g, "fsize",
		(long long)c->fsize_mb * 1024 * 1024) == -1 ||
	    create_body_ulimit(g, "core", 0) == -1 ||
	    /* CPU seconds: a backstop behind the host's own deadline. */
	    create_body_ulimit(g, "cpu", c->timeout_max_ms / 1000 + 5) == -1)
		goto fail;
	/* nproc counts per host uid: only a uid of its own makes it per run.
	 * gVisor counts it per sandbox, in its own kernel: always set there. */
	if ((uid >= 0 || runsc) &&
	    create_body_ulimit(g, "nproc", c->pids_limit) == -1)
		goto fail;
	GEN(yajl_gen_array_close(g));
	GEN_KEY(g, "OomScoreAdj");
	GEN(yajl_gen_integer(g, 1000));
	/* "none": a private IPC namespace and no /dev/shm at all; "private"
	 * would mount Docker's writable 64 MiB tmpfs there (tests/hostile
	 * case 031). */
	GEN_KEY(g, "IpcMode");
	GEN_STR(g, "none");
	GEN_KEY(g, "CgroupnsMode");
	GEN_STR(g, "private");
	GEN_KEY(g, "AutoRemove");
	GEN(yajl_gen_bool(g, 0));
	GEN_KEY(g, "LogConfig");
	GEN(yajl_gen_map_open(g));
	GEN_KEY(g, "Type");
	GEN_STR(g, "none");
	GEN(yajl_gen_map_close(g));
	if (c->runtime[0] != '\0') {
		GEN_KEY(g, "Runtime");
		GEN_STR(g, c->runtime);
	}
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_map_close(g));
	return json_gen_end(g, out);
fail:
	yajl_gen_free(g);
	return -1;
}
