#!/usr/bin/python3
"""Writes docker/seccomp.json: pycage's seccomp profile, Docker's default minus
what a Python computation never needs.

Input: Docker 20.10's own default profile, as Debian ships it in
golang-github-docker-docker-dev (profiles/seccomp/default.json); fetch it with
  apt-get download golang-github-docker-docker-dev && dpkg-deb -x *.deb d/
and run: docker/make-seccomp.py d/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json

Removed (each stays refused with EPERM, the profile's default action):
- io_uring_setup, io_uring_enter, io_uring_register: still allowed by Docker
  20.10's default (removed upstream in Docker 25); a large kernel attack
  surface that no Python computation uses.
- ptrace, process_vm_readv, process_vm_writev, kcmp, pidfd_getfd: debugging
  another process; Docker allows ptrace on kernels >= 4.8 even without
  CAP_SYS_PTRACE.
- userfaultfd: a favourite of kernel exploits; nothing here needs it.
- perf_event_open, bpf: only ever allowed with CAP_SYS_ADMIN, which the
  sandbox never has; dropped to keep the profile honest about that.
- socketcall: the multiplexer hides socket()'s arguments from the filter; x86_64
  has no such call, so this only keeps the name out of the allow list.  It did not
  close the 32-bit path: see the next paragraph.
Every 32-bit and compat sub-ABI is dropped: each archMap entry keeps its native
architecture with no subArchitectures (Docker's default adds SCMP_ARCH_X86 and
SCMP_ARCH_X32 to x86_64, ARM to aarch64, and so on).  A 64-bit program can still
enter the i386 table (int 0x80, on a kernel with IA32 emulation) or the x32 one
(syscall with nr | 0x40000000); with the i386 ABI in the filter, libseccomp 2.5.4
(through runc 1.1.5) turns each `socket(a0 == AF_x)` rule into
`socketcall(a0 == SYS_SOCKET)` for that ABI, whatever the family, and removing
socketcall by name does not undo it: AF_VSOCK was one int 0x80 away.  With no
sub-ABI the filter answers any i386 call with its bad-arch action (the thread
is killed with SIGSYS), and x32 calls too (libseccomp's x86_64 filter kills
nr >= 0x40000000 when x32 is not in it).  Nothing in the image is 32-bit.
tests/integration/test_seccomp_filter.py reads the filter the kernel holds for
a sandboxed process and checks both; tests/hostile/cases/120-ia32-x32-syscalls.py
tries them.  The family rules below hold only where the native ABI has no
socketcall (x86_64, aarch64): libseccomp rewrites them for a native socketcall
too (s390x, ppc64le; not tried here).
socket() is allowed only for the families a Python computation may use, all
of them kept inside the container's network namespace: AF_UNIX, AF_INET,
AF_INET6 (with no network, only the container's own loopback) and AF_NETLINK
(glibc's getaddrinfo asks it for the interfaces).  Refused, among the rest:
AF_VSOCK (not namespaced: it reaches the hypervisor and the host's vsock
services), AF_ALG (the kernel's crypto API, a known exploit surface),
AF_PACKET, AF_KEY, AF_TIPC, AF_RDS, AF_XDP, AF_BLUETOOTH.  SCMP_CMP_EQ
compares all 64 bits of the argument, so a family with high bits set (which
the kernel would truncate to an int) matches none of the rules.
socketpair() creates sockets of its family too (AF_TIPC makes a working
pair): it is allowed for AF_UNIX only, the one family Python pairs.
clone3 stays as Docker has it: refused with ENOSYS (not EPERM) without
CAP_SYS_ADMIN, which makes glibc fall back to clone for threads.
"""
import json
import sys

REMOVE = {
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "userfaultfd", "perf_event_open", "bpf", "socketcall",
}
# Calls allowed only for these address families (their first argument).
FAMILIES = {
    "socket": {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16},
    "socketpair": {"AF_UNIX": 1},
}


def main(src, dst):
    with open(src) as f:
        profile = json.load(f)
    kept = []
    for rule in profile["syscalls"]:
        names = [n for n in rule["names"] if n not in REMOVE and n not in FAMILIES]
        if rule.get("action") == "SCMP_ACT_ALLOW" and not names:
            continue
        if names:
            kept.append(dict(rule, names=names))
    for call, families in sorted(FAMILIES.items()):
        for family, number in sorted(families.items(), key=lambda f: f[1]):
            kept.append({"names": [call], "action": "SCMP_ACT_ALLOW", "comment": family,
                         "args": [{"index": 0, "value": number, "op": "SCMP_CMP_EQ"}],
                         "includes": {}, "excludes": {}})
    profile["syscalls"] = kept
    # Native architectures only: a sub-ABI lets the i386 or x32 tables through.
    for entry in profile.get("archMap") or []:
        entry["subArchitectures"] = []
    allowed = {n for r in kept if r.get("action") == "SCMP_ACT_ALLOW" for n in r["names"]}
    leaked = REMOVE & allowed
    if leaked:
        sys.exit(f"still allowed: {sorted(leaked)}")
    subs = [e for e in profile.get("archMap") or [] if e.get("subArchitectures")]
    if subs or not profile.get("archMap") or profile.get("architectures"):
        sys.exit(f"sub-architectures left, or no archMap: {subs}")
    with open(dst, "w") as f:
        json.dump(profile, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "docker/seccomp.json")
