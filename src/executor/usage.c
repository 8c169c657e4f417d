/*
 * usage.c: what a run cost, measured by the host: the CPU time and the
 * memory peak the kernel charged to the container's cgroup, read by this
 * process (root, on the host) from the cgroup's own files, never from
 * inside the sandbox.  cgroup v1 (this machine): cpuacct.usage (ns) and
 * memory.max_usage_in_bytes; v2: cpu.stat's usage_usec and memory.peak.
 *
 * The directory is the engine's default cgroup parent for the container's
 * full id, with the cgroupfs driver (/docker/<id>) or the systemd one
 * (system.slice/docker-<id>.scope); another cgroup parent reads as
 * unknown (-1), never as a wrong number.  Under gVisor the counters are
 * the host's, for the whole sandbox (runsc's own processes included).
 *
 * The files are opened when the run begins and read again while it runs:
 * once the container stops, runc removes its cgroup, and a read through a
 * descriptor of a removed cgroup fails, so the last reading stands (a
 * program killed between two readings is reported as of the last one).
 * CPU is counted from the run's start (a pooled container's preload is
 * not the run's); the memory peak is reset when the run begins (v1, and
 * v2 kernels that allow it), so a pooled container reports the run's
 * peak, which includes what the preload keeps resident.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"

#define USAGE_CGROUP_ROOT "/sys/fs/cgroup"
#define USAGE_FILE_MAX_BYTES 4096 /* cpu.stat is about 200 bytes */

/* A candidate directory: prefix, the container's id, suffix. */
struct usage_dir {
	const char *prefix;
	const char *suffix;
};

/* The first of the candidate directories that has the file. */
static int
usage_find(const struct usage_dir *dirs, const char *id, const char *file,
    int flags)
{
	char path[512];
	int n, fd = -1;

	for (; dirs->prefix != NULL && fd == -1; dirs++) {
		n = snprintf(path, sizeof(path), USAGE_CGROUP_ROOT "/%s%s%s/%s",
		    dirs->prefix, id, dirs->suffix, file);
		if (n > 0 && (size_t)n < sizeof(path))
			fd = open(path, flags | O_CLOEXEC);
	}
	return fd;
}

static long long
usage_read_number(int fd, const char *key)
{
	char text[USAGE_FILE_MAX_BYTES];
	const char *p;
	ssize_t n;
	char *end;
	long long v;

	if (fd == -1 || (n = pread(fd, text, sizeof(text) - 1, 0)) <= 0)
		return -1;
	text[n] = '\0';
	p = text;
	if (key != NULL) {
		size_t klen = strlen(key);

		for (p = text; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : p)
			if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
				break;
		if (p == NULL)
			return -1;
		p += klen + 1;
	}
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno != 0 || end == p || v < 0)
		return -1;
	return v;
}

void
usage_begin(struct usage_probe *u, const char *container_id)
{
	static const struct usage_dir v1_cpu[] = { { "cpuacct/docker/", "" },
		{ "cpu,cpuacct/docker/", "" },
		{ "cpuacct/system.slice/docker-", ".scope" },
		{ "cpu,cpuacct/system.slice/docker-", ".scope" },
		{ NULL, NULL } };
	static const struct usage_dir v1_memory[] = { { "memory/docker/", "" },
		{ "memory/system.slice/docker-", ".scope" }, { NULL, NULL } };
	static const struct usage_dir v2[] = { { "docker/", "" },
		{ "system.slice/docker-", ".scope" }, { NULL, NULL } };
	memset(u, 0, sizeof(*u));
	u->cpu_fd = usage_find(v1_cpu, container_id, "cpuacct.usage", O_RDONLY);
	if (u->cpu_fd != -1) {
		u->memory_fd = usage_find(v1_memory, container_id,
		    "memory.max_usage_in_bytes", O_RDWR);
	} else {
		u->v2 = true;
		u->cpu_fd = usage_find(v2, container_id, "cpu.stat", O_RDONLY);
		u->memory_fd =
		    usage_find(v2, container_id, "memory.peak", O_RDWR);
	}
	/* Writing resets the peak to the current usage (v1; v2 from 6.12). */
	if (u->memory_fd != -1 && pwrite(u->memory_fd, "0\n", 2, 0) == -1)
		log_debug("usage: the memory peak could not be reset: %s",
		    strerror(errno));
	u->cpu_start = u->cpu_last = -1;
	u->memory_last = -1;
	usage_sample(u);
	u->cpu_start = u->cpu_last;
	if (u->cpu_fd == -1 || u->memory_fd == -1)
		log_warn("usage: no cgroup counters for container %.12s",
		    container_id);
}

void
usage_sample(struct usage_probe *u)
{
	long long v;

	v = u->v2 ? usage_read_number(u->cpu_fd, "usage_usec") :
		    usage_read_number(u->cpu_fd, NULL);
	if (v >= 0)
		u->cpu_last = u->v2 ? v * 1000 : v; /* ns */
	if ((v = usage_read_number(u->memory_fd, NULL)) >= 0)
		u->memory_last = v;
}

void
usage_end(struct usage_probe *u, struct job_usage *out)
{
	usage_sample(u);
	out->cpu_ms = u->cpu_start >= 0 && u->cpu_last >= u->cpu_start ?
	    (u->cpu_last - u->cpu_start + 500000) / 1000000 :
	    -1;
	out->memory_peak_bytes = u->memory_last;
	if (u->cpu_fd != -1)
		close(u->cpu_fd);
	if (u->memory_fd != -1)
		close(u->memory_fd);
	u->cpu_fd = u->memory_fd = -1;
}
