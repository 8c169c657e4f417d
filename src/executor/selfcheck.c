/*
 * selfcheck.c: proof that the sandbox limits apply, read back from inside
 * a real sandbox container.  A create can succeed while the engine drops
 * a limit (docs/FIELD-NOTES.md), and a kernel, runtime or daemon.json change can
 * quietly weaken one; so before serving, and again from GET /v1/health at
 * most every selfcheck_max_age_s, pycage starts a container exactly as
 * for a run (same body, same limits) with python3 as the entrypoint and a
 * fixed script (never request data) that reports what the process got:
 * cgroup memory, swap, CPU and pids limits, the cores it may use, the process limit
 * (RLIMIT_NPROC, with per-container uids), capabilities, seccomp mode,
 * no_new_privs, uid, network interfaces, whether / is writable, and
 * whether io_uring_setup, socket(AF_VSOCK) and socketpair(AF_VSOCK) are
 * refused, and whether an i386 (int $0x80) and an x32 system call are
 * killed.  Any mismatch with the configuration
 * makes every execution answer 503 sandbox_check_failed until a later
 * check passes.  The check bypasses pycage-runner on purpose: it tests the
 * container, not the runner's tripwire.
 *
 * Under gVisor (runtime = runsc) the sandbox sees no cgroupfs and no
 * seccomp or no_new_privs fields: runsc enforces those on the host around
 * its own kernel.  There the check reads the memory limit from MemTotal
 * (gVisor sizes it to the limit), the process limit from RLIMIT_NPROC
 * (gVisor enforces it inside; the host pids limit there also counts
 * gVisor's own tasks), and skips CPU, seccomp and no_new_privs; the rest
 * is checked as under runc.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "executor.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define SELFCHECK_TIMEOUT_MS 20000
#define SELFCHECK_OUTPUT_MAX 16384

/* Both cgroup v1 (this project's machines) and v2 paths are tried. */
static const char selfcheck_script[] =
    "import ctypes, errno, json, os, resource, sys\n"
    /* The platform's numbers, from the C headers (selfcheck_argv). */
    "N = {k: int(v) for k, v in (a.split('=') for a in sys.argv[1:])}\n"
    "def read(*paths):\n"
    "    for p in paths:\n"
    "        try:\n"
    "            with open(p) as f:\n"
    "                return f.read().strip()\n"
    "        except OSError:\n"
    "            pass\n"
    "    return ''\n"
    "status = {}\n"
    "for line in open('/proc/self/status'):\n"
    "    k, _, v = line.partition(':')\n"
    "    status[k] = v.strip()\n"
    "r = {'uid': os.getuid(), 'gid': os.getgid(),\n"
    "     'cap_eff': status.get('CapEff', ''), 'cap_bnd': status.get('CapBnd', ''),\n"
    "     'seccomp': status.get('Seccomp', ''), 'no_new_privs': status.get('NoNewPrivs', ''),\n"
    "     'memory': read('/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory.max'),\n"
    "     'memsw': read('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),\n"
    "     'swap_v2': read('/sys/fs/cgroup/memory.swap.max'),\n"
    "     'cpu_quota': read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us'),\n"
    "     'cpu_period': read('/sys/fs/cgroup/cpu/cpu.cfs_period_us', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us'),\n"
    "     'cpu_max': read('/sys/fs/cgroup/cpu.max'),\n"
    "     'pids': read('/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/pids.max'),\n"
    "     'nproc': resource.getrlimit(resource.RLIMIT_NPROC)[0],\n"
    "     'memtotal_kb': int(read('/proc/meminfo').split()[1]),\n"
    "     'cpus': len(os.sched_getaffinity(0)),\n"
    "     'ifaces': sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:])}\n"
    "root = [l.split() for l in open('/proc/self/mounts') if l.split()[1:2] == ['/']]\n"
    "r['rootfs_ro'] = bool(root) and 'ro' in root[-1][3].split(',')\n"
    "try:\n"
    "    os.close(os.open('/.pycage-selfcheck', os.O_WRONLY | os.O_CREAT, 0o600))\n"
    "    r['rootfs_errno'] = 0\n"
    "except OSError as e:\n"
    "    r['rootfs_errno'] = e.errno\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "params = ctypes.create_string_buffer(120)\n"
    "fd = libc.syscall(N['io_uring_setup'], 1, params)\n"
    "r['io_uring_errno'] = ctypes.get_errno() if fd < 0 else 0\n"
    "fd = libc.syscall(N['socket'], N['AF_VSOCK'], 1, 0)\n"
    "r['vsock_errno'] = ctypes.get_errno() if fd < 0 else 0\n"
    "pair = (ctypes.c_int * 2)()\n"
    "fd = libc.syscall(N['socketpair'], N['AF_VSOCK'], 1, 0, pair)\n"
    "r['vsock_pair_errno'] = ctypes.get_errno() if fd < 0 else 0\n"
    /* The 32-bit doors: i386 getpid by int $0x80 and x32 getpid (nr 39 with
 * bit 30), from machine code in an executable page below 4 GiB, each in a
 * child whose fate is the answer: "killed" (SIGSYS, the filter's bad-arch
 * action), "no_abi" (SIGSEGV: the kernel has no IA32 emulation), "ran". */
    "import signal\n"
    "libc.mmap.restype = ctypes.c_void_p\n"
    "libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)\n"
    "page = libc.mmap(None, 4096, 7, 0x62, -1, 0)\n"
    "def door(code):\n"
    "    if page in (None, ctypes.c_void_p(-1).value):\n"
    "        return 'no_page'\n"
    "    ctypes.memmove(page, code, len(code))\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        ctypes.CFUNCTYPE(ctypes.c_long)(page)()\n"
    "        os._exit(0)\n"
    "    st = os.waitpid(pid, 0)[1]\n"
    "    sig = os.WTERMSIG(st) if os.WIFSIGNALED(st) else 0\n"
    "    return {signal.SIGSYS: 'killed', signal.SIGSEGV: 'no_abi', 0: 'ran'}.get(sig, 'signal %d' % sig)\n"
    "def imm(n):\n"
    "    return n.to_bytes(4, 'little')\n"
    "if 'ia32_getpid' in N:\n"
    "    r['ia32'] = door(bytes([0x53, 0xb8]) + imm(N['ia32_getpid']) + bytes([0xcd, 0x80, 0x5b, 0xc3]))\n"
    "    r['x32'] = door(bytes([0xb8]) + imm(N['x32_getpid']) + bytes([0x0f, 0x05, 0xc3]))\n"
    "else:\n"
    "    r['ia32'] = r['x32'] = 'not_x86_64'\n"
    /* What GET /v1/runtime reports, from the runner in this very image. */
    "import subprocess\n"
    "try:\n"
    "    d = subprocess.run(['/usr/local/bin/pycage-runner', '" PROTOCOL_ARG_DESCRIBE
    "'],\n"
    "                       capture_output=True, timeout=10)\n"
    "    r['runtime'] = json.loads(d.stdout[:" STR(
	PROTOCOL_DESCRIBE_MAX_BYTES) "])\n"
				     "except Exception as e:\n"
				     "    r['runtime_error'] = repr(e)[:200]\n"
				     "print(json.dumps(r))\n";

/*
 * The numbers the script needs, from this platform's headers: the
 * program runs on the same kernel ABI as the executor.  The 32-bit doors
 * exist on x86-64 only: i386's getpid is 20 in the kernel's
 * arch/x86/entry/syscalls/syscall_32.tbl (no header of this ABI can be
 * included beside the native one), x32's is the native number with
 * __X32_SYSCALL_BIT set.
 */
#define SELFCHECK_IA32_GETPID 20
#define SELFCHECK_X32_BIT 0x40000000L
#define SELFCHECK_ARGS_MAX 6

static char selfcheck_args[SELFCHECK_ARGS_MAX][48];
static const char *selfcheck_entrypoint[5 + SELFCHECK_ARGS_MAX] = {
	"/usr/bin/python3", "-I", "-c", selfcheck_script
};
static pthread_once_t selfcheck_args_once = PTHREAD_ONCE_INIT;

static void
selfcheck_args_init(void)
{
	int n = 0;

	snprintf(selfcheck_args[n++], sizeof(selfcheck_args[0]),
	    "io_uring_setup=%ld", (long)SYS_io_uring_setup);
	snprintf(selfcheck_args[n++], sizeof(selfcheck_args[0]), "socket=%ld",
	    (long)SYS_socket);
	snprintf(selfcheck_args[n++], sizeof(selfcheck_args[0]),
	    "socketpair=%ld", (long)SYS_socketpair);
	snprintf(selfcheck_args[n++], sizeof(selfcheck_args[0]), "AF_VSOCK=%d",
	    AF_VSOCK);
#if defined(__x86_64__)
	snprintf(selfcheck_args[n++], sizeof(selfcheck_args[0]),
	    "ia32_getpid=%d", SELFCHECK_IA32_GETPID);
	snprintf(selfcheck_args[n++], sizeof(selfcheck_args[0]),
	    "x32_getpid=%ld", (long)SYS_getpid | SELFCHECK_X32_BIT);
#endif
	for (int i = 0; i < n; i++)
		selfcheck_entrypoint[4 + i] = selfcheck_args[i];
}

enum selfcheck_state {
	SELFCHECK_UNCHECKED,
	SELFCHECK_PASSED,
	SELFCHECK_FAILED
};

static pthread_mutex_t selfcheck_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t selfcheck_done = PTHREAD_COND_INITIALIZER;
static bool selfcheck_running; /* a check is under way */
static enum selfcheck_state selfcheck_state;
static time_t selfcheck_at;
static char selfcheck_reason[200];
static struct runtime_info selfcheck_runtime_info; /* under the lock */

/* A string of at most RUNTIME_NAME_MAX - 1 printable ASCII bytes. */
static bool
selfcheck_name(yajl_val v, char dst[RUNTIME_NAME_MAX])
{
	const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) >= RUNTIME_NAME_MAX)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	memcpy(dst, s, strlen(s) + 1);
	return true;
}

/* The check program's "runtime" object (pycage-runner --describe) into
 * *rt; known stays false if it is missing or out of shape. */
static void
selfcheck_read_runtime(yajl_val tree, struct runtime_info *rt)
{
	static const char *python_path[] = { "runtime", "python", NULL };
	static const char *modules_path[] = { "runtime", "modules", NULL };
	static const char *libs_path[] = { "runtime", "libraries", NULL };
	yajl_val modules, libs;
	size_t i;

	memset(rt, 0, sizeof(*rt));
	modules = yajl_tree_get(tree, modules_path, yajl_t_array);
	libs = yajl_tree_get(tree, libs_path, yajl_t_object);
	if (!selfcheck_name(yajl_tree_get(tree, python_path, yajl_t_string),
		rt->python) ||
	    modules == NULL || libs == NULL ||
	    modules->u.array.len > RUNTIME_MODULES_MAX ||
	    libs->u.object.len > RUNTIME_LIBRARIES_MAX)
		goto bad;
	for (i = 0; i < modules->u.array.len; i++)
		if (!selfcheck_name(modules->u.array.values[i], rt->modules[i]))
			goto bad;
	rt->nmodules = modules->u.array.len;
	for (i = 0; i < libs->u.object.len; i++) {
		if (strlen(libs->u.object.keys[i]) >= RUNTIME_NAME_MAX ||
		    !selfcheck_name(libs->u.object.values[i], rt->version[i]))
			goto bad;
		memcpy(rt->library[i], libs->u.object.keys[i],
		    strlen(libs->u.object.keys[i]) + 1);
	}
	rt->nlibraries = libs->u.object.len;
	rt->known = true;
	return;
bad:
	memset(rt, 0, sizeof(*rt));
	log_warn("selfcheck: the image did not describe its runtime "
		 "(pycage-runner --describe)");
}

void
selfcheck_runtime(struct runtime_info *rt)
{
	pthread_mutex_lock(&selfcheck_lock);
	*rt = selfcheck_runtime_info;
	pthread_mutex_unlock(&selfcheck_lock);
}

static const char *
selfcheck_str(yajl_val tree, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(tree, path, yajl_t_string);

	return v != NULL ? YAJL_GET_STRING(v) : "";
}

static long long
selfcheck_int(yajl_val tree, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(tree, path, yajl_t_number);

	return v != NULL && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

static bool
selfcheck_true(yajl_val tree, const char *key)
{
	const char *path[] = { key, NULL };

	return YAJL_IS_TRUE(yajl_tree_get(tree, path, yajl_t_true));
}

void
selfcheck_compare(const struct config *c, long got_uid, yajl_val r, char *why,
    size_t len)
{
	const char *ifaces_path[] = { "ifaces", NULL };
	long long memory = (long long)c->memory_mb * 1024 * 1024;
	long long quota, period, uid;
	yajl_val ifaces = yajl_tree_get(r, ifaces_path, yajl_t_array);
	const char *s;
	bool runsc = config_gvisor(c);
	unsigned cores = (c->cpu_millis + 999) / 1000;

	why[0] = '\0';
	uid = got_uid >= 0 ? got_uid : strtoll(c->user, NULL, 10);
	if (selfcheck_int(r, "uid") != uid)
		snprintf(why, len, "uid is %lld, not %lld",
		    selfcheck_int(r, "uid"), uid);
	else if (strcmp(selfcheck_str(r, "cap_eff"), "0000000000000000") != 0)
		snprintf(why, len, "capabilities %s remain",
		    selfcheck_str(r, "cap_eff"));
	else if (!runsc && strcmp(selfcheck_str(r, "no_new_privs"), "1") != 0)
		snprintf(why, len, "no_new_privs is off");
	else if (!runsc && strcmp(selfcheck_str(r, "seccomp"), "2") != 0)
		snprintf(why, len, "seccomp filtering is off (mode %s)",
		    selfcheck_str(r, "seccomp"));
	else if (runsc && selfcheck_int(r, "memtotal_kb") * 1024 != memory)
		snprintf(why, len, "memory limit (MemTotal) is %lld kB, not %lld",
		    selfcheck_int(r, "memtotal_kb"), memory / 1024);
	else if (!runsc && strtoll(selfcheck_str(r, "memory"), NULL, 10) != memory)
		snprintf(why, len, "memory limit is '%s', not %lld",
		    selfcheck_str(r, "memory"), memory);
	else if (*(s = selfcheck_str(r, "memsw")) != '\0' &&
	    strtoll(s, NULL, 10) != memory)
		snprintf(why, len, "memory+swap limit is '%s', not %lld", s,
		    memory);
	else if (*(s = selfcheck_str(r, "swap_v2")) != '\0' && strcmp(s, "0") != 0)
		snprintf(why, len, "swap limit is '%s', not 0", s);
	else if (!runsc &&
	    strtoll(selfcheck_str(r, "pids"), NULL, 10) != c->pids_limit)
		snprintf(why, len, "pids limit is '%s', not %u",
		    selfcheck_str(r, "pids"), c->pids_limit);
	/* Under gVisor RLIMIT_NPROC is the program's process limit. */
	else if ((runsc || got_uid >= 0) &&
	    selfcheck_int(r, "nproc") != c->pids_limit)
		snprintf(why, len, "process limit (RLIMIT_NPROC) is %lld, not %u",
		    selfcheck_int(r, "nproc"), c->pids_limit);
	/* The quota bounds the average; the cpuset, the cores at once. */
	else if (!runsc && selfcheck_int(r, "cpus") > (long long)cores)
		snprintf(why, len, "a run may use %lld cores at once, not %u",
		    selfcheck_int(r, "cpus"), cores);
	else if (ifaces == NULL || YAJL_GET_ARRAY(ifaces)->len != 1 ||
	    (s = YAJL_GET_STRING(YAJL_GET_ARRAY(ifaces)->values[0])) == NULL ||
	    strcmp(s, "lo") != 0)
		snprintf(why, len,
		    "network interfaces other than lo are present");
	/* As non-root, a write to / may fail for permission (EACCES, gVisor)
	 * before the read-only mount is seen: the mount flags decide. */
	else if (!selfcheck_true(r, "rootfs_ro") ||
	    selfcheck_int(r, "rootfs_errno") == 0)
		snprintf(why, len, "the root filesystem is writable");
	else if (c->seccomp_json != NULL && !runsc &&
	    selfcheck_int(r, "io_uring_errno") != EPERM)
		snprintf(why, len,
		    "io_uring_setup is not refused by the profile");
	else if (c->seccomp_json != NULL && !runsc &&
	    selfcheck_int(r, "vsock_errno") != EPERM)
		snprintf(why, len,
		    "socket(AF_VSOCK) is not refused by the profile");
	else if (c->seccomp_json != NULL && !runsc &&
	    selfcheck_int(r, "vsock_pair_errno") != EPERM)
		snprintf(why, len,
		    "socketpair(AF_VSOCK) is not refused by the "
		    "profile");
	/* Any 32-bit call must die (the profile names no sub-ABI): i386
	 * through int $0x80 reached socketcall() with no family check. */
	else if (c->seccomp_json != NULL && !runsc &&
	    strcmp(selfcheck_str(r, "ia32"), "killed") != 0 &&
	    strcmp(selfcheck_str(r, "ia32"), "no_abi") != 0 &&
	    strcmp(selfcheck_str(r, "ia32"), "not_x86_64") != 0)
		snprintf(why, len,
		    "an i386 system call (int $0x80) is not killed "
		    "by the profile (%s)",
		    selfcheck_str(r, "ia32"));
	else if (c->seccomp_json != NULL && !runsc &&
	    strcmp(selfcheck_str(r, "x32"), "killed") != 0 &&
	    strcmp(selfcheck_str(r, "x32"), "not_x86_64") != 0)
		snprintf(why, len,
		    "an x32 system call is not killed by the "
		    "profile (%s)",
		    selfcheck_str(r, "x32"));
	if (why[0] != '\0')
		return;
	/* CPU: v1 quota/period, or v2 "quota period"; runsc may show none. */
	if (*(s = selfcheck_str(r, "cpu_max")) != '\0') {
		if (sscanf(s, "%lld %lld", &quota, &period) != 2)
			quota = period = -1;
	} else {
		quota = strtoll(selfcheck_str(r, "cpu_quota"), NULL, 10);
		period = strtoll(selfcheck_str(r, "cpu_period"), NULL, 10);
	}
	if (runsc && period <= 0)
		return;
	if (period != config_cpu_period_us(c) || quota != config_cpu_quota_us(c))
		snprintf(why, len,
		    "CPU quota is %lld us per %lld us, not %lld "
		    "per %lld",
		    quota, period, config_cpu_quota_us(c),
		    config_cpu_period_us(c));
}

#define SELFCHECK_VERSION_WAIT_MS 2000

/*
 * The first line `PATH --version` prints (gVisor's runsc answers
 * "runsc version ..."), for the log: the engine does not report the
 * version of a runtime it runs.  PATH comes from the engine's own
 * configuration (GET /info), not from a request.  "" if it does not
 * answer within SELFCHECK_VERSION_WAIT_MS.
 */
static void
selfcheck_runtime_version(const char *path, char *out, size_t outlen)
{
	char *argv[] = { (char *)path, "--version", NULL };
	extern char **environ;
	posix_spawn_file_actions_t fa;
	struct pollfd pfd;
	ssize_t n = 0;
	pid_t pid;
	int fds[2], st;

	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) == -1)
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	if (posix_spawn(&pid, path, &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	if (pid > 0 && poll(&pfd, 1, SELFCHECK_VERSION_WAIT_MS) == 1 &&
	    (n = read(fds[0], out, outlen - 1)) > 0) {
		out[n] = '\0';
		out[strcspn(out, "\n")] = '\0';
	} else
		out[0] = '\0';
	close(fds[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

/* The versions of the stack the sandbox runs on, for the log line. */
static void
selfcheck_stack(struct docker *d, const struct config *c, char *out, size_t outlen)
{
	char engine[400] = "", path[256], runtime[128] = "";

	if (docker_versions(d, engine, sizeof(engine)) == -1)
		snprintf(engine, sizeof(engine), "engine version unknown");
	if (config_gvisor(c) &&
	    docker_runtime_path(d, c->runtime, path, sizeof(path)) == 0)
		selfcheck_runtime_version(path, runtime, sizeof(runtime));
	snprintf(out, outlen, "%s%s%s", engine, runtime[0] ? ", " : "", runtime);
}

/* What the 32-bit probes showed, in words for the log. */
static const char *
selfcheck_door(const char *seen)
{
	if (strcmp(seen, "killed") == 0)
		return "killed by seccomp";
	if (strcmp(seen, "no_abi") == 0)
		return "not tried: no IA32 ABI on this kernel";
	return seen[0] != '\0' ? seen : "not reported";
}

/* Runs the check; 0 with why set ("" = passed) and what the 32-bit
 * probes showed in doors, -1 if it could not run. */
static int
selfcheck_run(struct executor *ex, struct docker *d, char *why, size_t len,
    char *doors, size_t doorslen, struct api_error *err)
{
	struct job job;
	const struct job_result *r = &job.result;
	yajl_val tree;
	char parse_err[128];
	int rc = -1;

	pthread_once(&selfcheck_args_once, selfcheck_args_init);
	job_init(&job, SELFCHECK_OUTPUT_MAX);
	if (job_run_special(ex, d, selfcheck_entrypoint, SELFCHECK_TIMEOUT_MS,
		&job, err) == -1)
		goto out;
	if (r->status != JOB_OK || r->stdout_buf.data == NULL ||
	    (tree = yajl_tree_parse(r->stdout_buf.data, parse_err,
		 sizeof(parse_err))) == NULL) {
		snprintf(why, len,
		    "the check program failed (%s, exit %d): %.80s",
		    job_status_name(r->status), r->exit_code,
		    r->stderr_buf.data ? r->stderr_buf.data : "");
		rc = 0;
		goto out;
	}
	selfcheck_compare(executor_config(ex), job.container.uid, tree, why, len);
	{
		struct runtime_info *rt = calloc(1, sizeof(*rt));

		if (rt != NULL) {
			selfcheck_read_runtime(tree, rt);
			pthread_mutex_lock(&selfcheck_lock);
			selfcheck_runtime_info = *rt;
			pthread_mutex_unlock(&selfcheck_lock);
			free(rt);
		}
	}
	if (config_gvisor(executor_config(ex)))
		snprintf(doors, doorslen, "answered by gVisor's own kernel");
	else
		snprintf(doors, doorslen, "i386 (int $0x80) %s, x32 %s",
		    selfcheck_door(selfcheck_str(tree, "ia32")),
		    selfcheck_door(selfcheck_str(tree, "x32")));
	yajl_tree_free(tree);
	rc = 0;
out:
	job_finish(ex, d, &job);
	job_free(&job);
	return rc;
}

/* With selfcheck_lock held: is a check wanted now? */
static bool
selfcheck_due(struct executor *ex, bool refresh)
{
	return selfcheck_state == SELFCHECK_UNCHECKED ||
	    (refresh &&
		time(NULL) - selfcheck_at >=
		    (time_t)executor_config(ex)->selfcheck_max_age_s);
}

/* With selfcheck_lock held: what a check that ran says (ran: 0, or -1
 * for engine or image trouble, which changes no verdict); d names the
 * stack in the log line when the verdict turns to passed. */
static void
selfcheck_record(struct executor *ex, struct docker *d, int ran,
    const char *why, const char *doors)
{
	char stack[600];

	selfcheck_running = false;
	pthread_cond_broadcast(&selfcheck_done);
	if (ran == -1)
		return;
	selfcheck_at = time(NULL);
	if (why[0] == '\0') {
		if (selfcheck_state != SELFCHECK_PASSED) {
			selfcheck_stack(d, executor_config(ex), stack,
			    sizeof(stack));
			log_info("selfcheck: every sandbox limit applies; "
				 "32-bit system calls: %s; on %s",
			    doors, stack);
		}
		selfcheck_state = SELFCHECK_PASSED;
	} else {
		log_error("selfcheck: %s: refusing to run code", why);
		snprintf(selfcheck_reason, sizeof(selfcheck_reason), "%s", why);
		selfcheck_state = SELFCHECK_FAILED;
	}
}

/* A check again, on a thread of its own with its own engine connection,
 * so that /v1/health, which asks for it, answers at once (issue 16). */
static void *
selfcheck_aside(void *arg)
{
	struct executor *ex = arg;
	const struct config *c = executor_config(ex);
	struct docker *d;
	struct api_error err;
	char why[sizeof(selfcheck_reason)], doors[160] = "";
	int ran = -1;

	api_error_init(&err);
	why[0] = '\0';
	if ((d = docker_open(c)) != NULL)
		ran = selfcheck_run(ex, d, why, sizeof(why), doors,
		    sizeof(doors), &err);
	if (ran == -1)
		log_warn("selfcheck: the check again did not run: %s",
		    err.message);
	pthread_mutex_lock(&selfcheck_lock);
	selfcheck_record(ex, d, ran, why, doors);
	pthread_mutex_unlock(&selfcheck_lock);
	docker_free(d);
	return NULL;
}

void
selfcheck_wait_idle(void)
{
	pthread_mutex_lock(&selfcheck_lock);
	while (selfcheck_running)
		pthread_cond_wait(&selfcheck_done, &selfcheck_lock);
	pthread_mutex_unlock(&selfcheck_lock);
}

/*
 * The check itself runs outside the lock (it starts a container: a second
 * or more, up to the engine's timeouts).  While one runs, every other
 * caller keeps the last verdict, and only a caller that has none yet (at
 * start) waits for it.  A check again (refresh, from /v1/health) runs on
 * a thread of its own: the caller keeps the last verdict.
 */
int
selfcheck_ensure(struct executor *ex, struct docker *d, bool refresh,
    struct api_error *err)
{
	char why[sizeof(selfcheck_reason)], doors[160] = "";
	pthread_t t;
	int rc = 0, ran;

	pthread_mutex_lock(&selfcheck_lock);
	while (selfcheck_due(ex, refresh)) {
		if (selfcheck_running) {
			if (selfcheck_state != SELFCHECK_UNCHECKED)
				break;
			pthread_cond_wait(&selfcheck_done, &selfcheck_lock);
			continue;
		}
		selfcheck_running = true;
		if (selfcheck_state != SELFCHECK_UNCHECKED) {
			if (pthread_create(&t, NULL, selfcheck_aside, ex) == 0)
				pthread_detach(t);
			else
				selfcheck_running = false;
			break;
		}
		pthread_mutex_unlock(&selfcheck_lock);
		why[0] = '\0';
		ran = selfcheck_run(ex, d, why, sizeof(why), doors,
		    sizeof(doors), err);
		pthread_mutex_lock(&selfcheck_lock);
		selfcheck_record(ex, d, ran, why, doors);
		if (ran == -1) {
			pthread_mutex_unlock(&selfcheck_lock);
			return -1; /* engine or image trouble: err says */
		}
		break;
	}
	if (selfcheck_state == SELFCHECK_FAILED) {
		api_error_set(err, 503, "sandbox_check_failed",
		    "A sandbox limit "
		    "did not apply (%s); pycage refuses to run code.",
		    selfcheck_reason);
		err->retry_after_s = RETRY_AFTER_OPERATOR_S;
		rc = -1;
	}
	pthread_mutex_unlock(&selfcheck_lock);
	return rc;
}
