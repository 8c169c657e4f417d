/*
 * test-selfcheck.c: src/executor/selfcheck.c's verdict on a report
 * (selfcheck_compare).  A report that matches the shipped configuration
 * passes; each limit that did not apply, taken one at a time, fails with
 * a reason naming it; under gVisor the fields its kernel does not show
 * (seccomp, no_new_privs, the cgroup's CPU and pids files) are not asked
 * for, and the memory limit is read from MemTotal.  The real check runs
 * in test_faults.py against the real engine; this is every branch of the
 * comparison, at once.
 */
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "common.h"
#include "executor.h"
#include "tap.h"

#define UID 200005L

/* What the real image reports under the shipped limits (runc). */
static const char good[] =
    "{\"uid\": 200005, \"gid\": 65534, \"cap_eff\": \"0000000000000000\", "
    "\"cap_bnd\": \"0000000000000000\", \"seccomp\": \"2\", \"no_new_privs\": \"1\", "
    "\"memory\": \"536870912\", \"memsw\": \"536870912\", \"swap_v2\": \"\", "
    "\"cpu_quota\": \"500000\", \"cpu_period\": \"1000000\", \"cpu_max\": \"\", "
    "\"pids\": \"64\", \"nproc\": 64, \"memtotal_kb\": 524288, \"cpus\": 1, "
    "\"ifaces\": [\"lo\"], \"rootfs_ro\": true, \"rootfs_errno\": 30, "
    "\"io_uring_errno\": 1, \"vsock_errno\": 1, \"vsock_pair_errno\": 1, "
    "\"ia32\": \"killed\", \"x32\": \"killed\"}";

/* The verdict on good with one substring replaced. */
static void
verdict(const struct config *c, const char *from, const char *to, char *why,
    size_t len)
{
	char text[sizeof(good) + 64], err[128];
	const char *at = from != NULL ? strstr(good, from) : NULL;
	yajl_val tree;

	if (from != NULL && at == NULL) {
		snprintf(why, len, "(test: '%s' not in the report)", from);
		return;
	}
	if (at == NULL)
		snprintf(text, sizeof(text), "%s", good);
	else
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good,
		    to, at + strlen(from));
	if ((tree = yajl_tree_parse(text, err, sizeof(err))) == NULL) {
		snprintf(why, len, "(test: the report does not parse: %s)", err);
		return;
	}
	selfcheck_compare(c, UID, tree, why, len);
	yajl_tree_free(tree);
}

int
main(void)
{
	static const struct {
		const char *from, *to, *words;
	} lies[] = {
		{ "\"uid\": 200005", "\"uid\": 0", "uid is 0" },
		{ "\"cap_eff\": \"0000000000000000\"",
		    "\"cap_eff\": \"00000000a80425fb\"", "capabilities" },
		{ "\"no_new_privs\": \"1\"", "\"no_new_privs\": \"0\"",
		    "no_new_privs" },
		{ "\"seccomp\": \"2\"", "\"seccomp\": \"0\"", "seccomp" },
		{ "\"memory\": \"536870912\"",
		    "\"memory\": \"9223372036854771712\"", "memory limit" },
		{ "\"memsw\": \"536870912\"", "\"memsw\": \"1073741824\"",
		    "memory+swap" },
		{ "\"swap_v2\": \"\"", "\"swap_v2\": \"max\"", "swap limit" },
		{ "\"pids\": \"64\"", "\"pids\": \"max\"", "pids limit" },
		{ "\"nproc\": 64", "\"nproc\": 4096", "process limit" },
		{ "\"cpus\": 1", "\"cpus\": 2", "cores at once" },
		{ "[\"lo\"]", "[\"eth0\", \"lo\"]", "network interfaces" },
		{ "\"rootfs_ro\": true", "\"rootfs_ro\": false",
		    "root filesystem" },
		{ "\"io_uring_errno\": 1", "\"io_uring_errno\": 0", "io_uring" },
		{ "\"vsock_errno\": 1", "\"vsock_errno\": 0", "socket(AF_VSOCK)" },
		{ "\"vsock_pair_errno\": 1", "\"vsock_pair_errno\": 0",
		    "socketpair(AF_VSOCK)" },
		{ "\"ia32\": \"killed\"", "\"ia32\": \"ran\"", "i386" },
		{ "\"x32\": \"killed\"", "\"x32\": \"ran\"", "x32" },
		{ "\"cpu_quota\": \"500000\"", "\"cpu_quota\": \"50000\"",
		    "CPU quota" },
		{ "\"cpu_period\": \"1000000\"", "\"cpu_period\": \"100000\"",
		    "CPU quota" },
	};
	struct config c;
	char why[256];
	size_t i;

	config_defaults(&c);
	c.seccomp_json = (char *)"{}"; /* a profile is configured */
	verdict(&c, NULL, NULL, why, sizeof(why));
	is_str(why, "", "the shipped limits' report passes");
	verdict(&c, "\"ia32\": \"killed\"", "\"ia32\": \"no_abi\"", why,
	    sizeof(why));
	is_str(why, "", "a kernel without IA32 emulation passes (no_abi)");
	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		verdict(&c, lies[i].from, lies[i].to, why, sizeof(why));
		ok(strstr(why, lies[i].words) != NULL,
		    "%s -> refused naming '%s': %s", lies[i].to, lies[i].words,
		    why);
	}
	verdict(&c, "\"memory\": \"536870912\"", "\"memory\": \"\"", why,
	    sizeof(why));
	ok(strstr(why, "memory limit") != NULL,
	    "no memory file at all is refused: %s", why);

	/* gVisor: its kernel shows no seccomp, cgroup CPU or pids files. */
	snprintf(c.runtime, sizeof(c.runtime), "runsc");
	verdict(&c, "\"seccomp\": \"2\"", "\"seccomp\": \"\"", why, sizeof(why));
	is_str(why, "", "under gVisor no seccomp field is asked for");
	verdict(&c, "\"ia32\": \"killed\"", "\"ia32\": \"ran\"", why,
	    sizeof(why));
	is_str(why, "",
	    "under gVisor the 32-bit probes are its kernel's, not compared");
	verdict(&c, "\"memtotal_kb\": 524288", "\"memtotal_kb\": 1048576", why,
	    sizeof(why));
	ok(strstr(why, "MemTotal") != NULL,
	    "under gVisor MemTotal is the memory limit: %s", why);
	return done_testing();
}
