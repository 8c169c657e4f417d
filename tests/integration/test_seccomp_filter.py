#!/usr/bin/python3
"""The seccomp filter the kernel really holds for a sandboxed process (issue 15, item 1).

docker/seccomp.json used to keep Docker's archMap: x86_64 with the i386 and x32 sub-ABIs.
runc 1.1.5 builds the profile with libseccomp 2.5.4, which for the i386 ABI turns each
`socket(a0 == AF_x)` rule into `socketcall(a0 == SYS_SOCKET)`: the family check is gone,
and removing socketcall by name does not help.  A program that reaches native code could
`int $0x80` and open AF_VSOCK on a kernel with IA32 emulation.  docker/make-seccomp.py now
drops every sub-ABI, so any i386 or x32 call meets the filter's bad-arch action (kill).
On the old profile this file failed its points 1-6 (the i386 socketcall and getpid and the
x32 getpid came out ALLOW, i386 socket(AF_VSOCK) ERRNO); the controls passed.

How: a run through the HTTP API sleeps a few seconds and prints its host name (the
container's short id); meanwhile every running container of this instance is found through
the engine, and the filters of its first host process are read with ptrace
(PTRACE_SEIZE, PTRACE_INTERRUPT, then PTRACE_SECCOMP_GET_FILTER for index 0, 1, ... until
ENOENT, then PTRACE_DETACH).  The run's own container is picked by its host name.  Each
classic-BPF filter is evaluated here by a small interpreter over struct seccomp_data,
and the filters are combined as the kernel does (the action with the lowest value, as a
signed 32-bit number, wins).  Controls on x86_64 (socket(AF_UNIX) allowed, socket(AF_VSOCK)
EPERM, getpid allowed) show that the interpreter reads the filter right.

Also a static check: the installed profile (`seccomp_profile` in the service's
configuration) and docker/seccomp.json name no subArchitectures.

Under gVisor (runtime = runsc) the program's system calls go to gVisor's kernel and the host
process that ptrace would read is runsc's own, so the filter cases skip there.  Needs root
(ptrace of another user's process, and PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN).
"""

import ctypes
import json
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

SOURCE_PROFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "docker", "seccomp.json")
SLEEP_S = 4          # how long the run holds its container
READ_AFTER_S = 1.5   # when, into the request, the filters are read

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_SYSCALL_BIT = 0x40000000

SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF
ACTIONS = {0x80000000: "KILL_PROCESS", 0x00000000: "KILL_THREAD", 0x00030000: "TRAP",
           0x00050000: "ERRNO", 0x7FC00000: "USER_NOTIF", 0x7FF00000: "TRACE",
           0x7FFC0000: "LOG", 0x7FFF0000: "ALLOW"}
KILLS = ("KILL_PROCESS", "KILL_THREAD")
EPERM = 1

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_SECCOMP_GET_FILTER = 0x420C
ENOENT = 2


# ---------------------------------------------------------------- classic BPF

class BpfError(Exception):
    """A filter this interpreter cannot run (an opcode seccomp would not have accepted)."""


def run_bpf(program, data):
    """Run one classic-BPF program [(code, jt, jf, k)] over `data` (bytes of struct
    seccomp_data); returns the 32-bit value it returns.  The opcodes are those seccomp
    accepts (kernel/seccomp.c, seccomp_check_filter): LD W ABS/LEN, LD/LDX IMM/MEM/LEN,
    ST, STX, ALU with K or X, JA and JEQ/JGT/JGE/JSET with K or X, RET K/A, TAX, TXA."""
    a = x = 0
    mem = [0] * 16
    pc = 0
    while True:
        if not 0 <= pc < len(program):
            raise BpfError(f"pc {pc} outside the program ({len(program)} instructions)")
        code, jt, jf, k = program[pc]
        pc += 1
        cls = code & 0x07
        if cls == 0x00 or cls == 0x01:                     # BPF_LD, BPF_LDX
            size, mode = code & 0x18, code & 0xE0
            if mode == 0x00:                               # BPF_IMM
                value = k
            elif mode == 0x60:                             # BPF_MEM
                value = mem[k]
            elif mode == 0x80 and size == 0x00:            # BPF_LEN (W)
                value = len(data)
            elif mode == 0x20 and size == 0x00 and cls == 0x00:   # BPF_ABS, BPF_W
                if k % 4 or k + 4 > len(data):
                    raise BpfError(f"LD ABS {k} outside struct seccomp_data")
                value = struct.unpack_from("<I", data, k)[0]
            else:
                raise BpfError(f"load opcode {code:#06x}")
            if cls == 0x00:
                a = value
            else:
                x = value
        elif cls == 0x02:                                  # BPF_ST
            mem[k] = a
        elif cls == 0x03:                                  # BPF_STX
            mem[k] = x
        elif cls == 0x04:                                  # BPF_ALU
            op, src = code & 0xF0, (x if code & 0x08 else k)
            if op == 0x00:
                a = a + src
            elif op == 0x10:
                a = a - src
            elif op == 0x20:
                a = a * src
            elif op == 0x30:
                if src == 0:
                    return 0                               # the kernel ends the program: 0
                a = a // src
            elif op == 0x90:
                if src == 0:
                    return 0
                a = a % src
            elif op == 0x40:
                a = a | src
            elif op == 0x50:
                a = a & src
            elif op == 0xA0:
                a = a ^ src
            elif op == 0x60:
                a = a << (src & 31)
            elif op == 0x70:
                a = a >> (src & 31)
            elif op == 0x80:
                a = -a
            else:
                raise BpfError(f"ALU opcode {code:#06x}")
            a &= 0xFFFFFFFF
        elif cls == 0x05:                                  # BPF_JMP
            op, src = code & 0xF0, (x if code & 0x08 else k)
            if op == 0x00:                                 # BPF_JA
                pc += k
                continue
            if op == 0x10:
                taken = a == src
            elif op == 0x20:
                taken = a > src
            elif op == 0x30:
                taken = a >= src
            elif op == 0x40:
                taken = (a & src) != 0
            else:
                raise BpfError(f"jump opcode {code:#06x}")
            pc += jt if taken else jf
        elif cls == 0x06:                                  # BPF_RET
            rval = code & 0x18
            if rval == 0x00:
                return k
            if rval == 0x10:
                return a
            raise BpfError(f"return opcode {code:#06x}")
        elif cls == 0x07:                                  # BPF_MISC
            if code & 0xF8 == 0x00:                        # TAX
                x = a
            elif code & 0xF8 == 0x80:                      # TXA
                a = x
            else:
                raise BpfError(f"misc opcode {code:#06x}")


def seccomp_data(nr, arch, args=(), ip=0):
    """struct seccomp_data {int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]},
    little-endian as on x86_64."""
    args = (list(args) + [0] * 6)[:6]
    return struct.pack("<iIQ6Q", nr, arch, ip, *args)


def verdict(filters, nr, arch, args=()):
    """What the kernel does for this call: every filter runs, and the return value whose
    action (ret & SECCOMP_RET_ACTION_FULL, as a signed 32-bit number) is lowest wins
    (kernel/seccomp.c, seccomp_run_filters).  Returns (action name, its data)."""
    data = seccomp_data(nr, arch, args)
    ret = 0x7FFF0000                                       # SECCOMP_RET_ALLOW
    for program in filters:
        cur = run_bpf(program, data)
        if _signed(cur & SECCOMP_RET_ACTION_FULL) < _signed(ret & SECCOMP_RET_ACTION_FULL):
            ret = cur
    # An action the kernel does not know is treated as KILL_PROCESS.
    return ACTIONS.get(ret & SECCOMP_RET_ACTION_FULL, "KILL_PROCESS"), ret & SECCOMP_RET_DATA


def _signed(value):
    return value - (1 << 32) if value & 0x80000000 else value


# ---------------------------------------------------------------- the kernel's filters

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def _ptrace(request, pid, addr=None, data=None):
    result = _libc.ptrace(request, pid, addr, data)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"ptrace({request:#x}, {pid}): {os.strerror(errno)}")
    return result


def kernel_filters(pid):
    """The seccomp filters attached to host process `pid`, newest first as the kernel
    numbers them, each as [(code, jt, jf, k)].  The process is stopped with PTRACE_SEIZE +
    PTRACE_INTERRUPT (no SIGSTOP is queued for it) and let go at once."""
    _ptrace(PTRACE_SEIZE, pid)
    pending = 0
    try:
        _ptrace(PTRACE_INTERRUPT, pid)
        _, status = os.waitpid(pid, 0)
        if not os.WIFSTOPPED(status):
            raise pt.Unexpected(f"pid {pid} did not stop (wait status {status:#x})")
        if status >> 16 == 0:
            # A signal-delivery stop came before the interrupt's: the signal is passed on
            # at the detach.
            pending = os.WSTOPSIG(status)
        filters = []
        for index in range(64):
            try:
                count = _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index)
            except OSError as exc:
                if exc.errno == ENOENT:
                    break
                raise
            buf = ctypes.create_string_buffer(8 * count)
            _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, ctypes.addressof(buf))
            filters.append([struct.unpack_from("<HBBI", buf.raw, 8 * i) for i in range(count)])
    finally:
        try:
            _ptrace(PTRACE_DETACH, pid, None, pending or None)
        except OSError:
            pass
    return filters


class _Again(Exception):
    """The service went away under the run (restarted): the whole capture is tried again."""


_capture = {}
CAPTURE_TRIES = 3


def capture():
    """Once per file: (the run's container id, its runtime, its filters).  Raises Skip or
    Unexpected, the same each time it is asked."""
    if not _capture:
        try:
            _capture["result"] = _capture_retrying()
        except Exception as exc:
            _capture["error"] = exc
    if "error" in _capture:
        raise _capture["error"]
    return _capture["result"]


def _capture_retrying():
    if os.environ.get("PYCAGE_RUNTIME") == "runsc":
        raise pt.Skip("PYCAGE_RUNTIME=runsc: the program's calls go to gVisor's kernel, "
                      "the host filter ptrace would read is runsc's own")
    if os.geteuid() != 0:
        raise pt.Skip("not root: ptrace of the sandbox's processes needs it")
    for attempt in range(1, CAPTURE_TRIES + 1):
        try:
            return _capture_once()
        except _Again as why:
            if attempt == CAPTURE_TRIES:
                raise pt.Unexpected(f"{CAPTURE_TRIES} tries, the last: {why}") from None
            print(f"# try {attempt}: {why}; again in 5 s", flush=True)
            time.sleep(5)


def _capture_once():
    code = ('import sys, time\n'
            f'time.sleep({SLEEP_S})\n'
            'print(sys.modules["os"].uname().nodename)\n')
    answer = {}

    def run():
        try:
            answer["r"] = pt.execute(code, timeout=SLEEP_S + 10)
        except Exception as exc:     # reported below, from the main thread
            answer["exc"] = exc
    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(READ_AFTER_S)
    seen, errors = {}, []
    instance = pt.service_instance()
    for container in pt.docker_containers(f"{pt.INSTANCE_LABEL}={instance}"):
        if container.get("State") != "running":
            continue
        info = pt.container_inspect(container["Id"])
        pid = pt.running_pid(info)
        if pid is None:
            continue
        runtime = (info.get("HostConfig") or {}).get("Runtime")
        if runtime == "runsc":
            seen[container["Id"]] = (runtime, None)
            continue
        try:
            seen[container["Id"]] = (runtime, kernel_filters(pid))
        except (OSError, pt.Unexpected) as exc:
            errors.append(f"{container['Id'][:12]} (pid {pid}): {exc}")
    thread.join()
    if isinstance(answer.get("exc"), OSError):          # refused, reset: a restart
        raise _Again(f"the sleeping run: {type(answer['exc']).__name__}: {answer['exc']}")
    if "exc" in answer:
        raise answer["exc"]
    status, run_answer = answer["r"]
    if status == 503 and isinstance(run_answer, dict) and \
            (run_answer.get("error") or {}).get("code") == "responder_unavailable":
        raise _Again("the sleeping run: 503 responder_unavailable")
    problems = pt.answer_problems(status, run_answer, {
        **pt.OK, "stdout": pt.Matches(r"^[0-9a-f]{12}\n$")})
    if problems:
        raise pt.Unexpected("the sleeping run: " + "; ".join(problems))
    host = run_answer["stdout"].strip()
    ours = [c for c in seen if c.startswith(host)]
    if not ours:
        raise _Again(f"the run's container {host} was not seen running in instance "
                     f"{instance!r} {READ_AFTER_S} s into the request (seen: "
                     f"{[c[:12] for c in seen]}; {errors})")
    runtime, filters = seen[ours[0]]
    if runtime == "runsc":
        raise pt.Skip("runtime runsc: the program's calls go to gVisor's kernel, the host "
                      "filter ptrace would read is runsc's own")
    if not filters:
        raise pt.Unexpected(f"no seccomp filter on container {host}'s first process")
    return ours[0], runtime, filters


# ---------------------------------------------------------------- cases

#  (description, nr, arch, args, expected: "KILL" for either kill action, or (action, data))
FILTER_CASES = [
    ("i386 socketcall(SYS_SOCKET, [AF_VSOCK, ...]) by int $0x80 is killed, not allowed",
     102, AUDIT_ARCH_I386, (1,), "KILL"),
    ("i386 socket(AF_VSOCK) (nr 359) is killed",
     359, AUDIT_ARCH_I386, (40, 1, 0), "KILL"),
    ("i386 getpid (nr 20) is killed: no i386 call gets through",
     20, AUDIT_ARCH_I386, (), "KILL"),
    ("x32 getpid (nr 39 | 0x40000000) is killed",
     39 | X32_SYSCALL_BIT, AUDIT_ARCH_X86_64, (), "KILL"),
    # Controls: the interpreter reads the filter as the kernel does.
    ("control: x86_64 socket(AF_UNIX) is allowed",
     41, AUDIT_ARCH_X86_64, (1, 1, 0), ("ALLOW", 0)),
    ("control: x86_64 socket(AF_VSOCK) fails with EPERM",
     41, AUDIT_ARCH_X86_64, (40, 1, 0), ("ERRNO", EPERM)),
    ("control: x86_64 socket(AF_VSOCK + 2^32) fails with EPERM (64-bit compare)",
     41, AUDIT_ARCH_X86_64, (40 | 1 << 32, 1, 0), ("ERRNO", EPERM)),
    ("control: x86_64 getpid (nr 39) is allowed",
     39, AUDIT_ARCH_X86_64, (), ("ALLOW", 0)),
]


def filter_problems(nr, arch, args, expected):
    container, _, filters = capture()
    action, data = verdict(filters, nr, arch, args)
    got = f"{action} (data {data})"
    where = (f"container {container[:12]}, {len(filters)} filter(s) of "
             f"{'+'.join(str(len(f)) for f in filters)} instructions")
    if expected == "KILL":
        if action not in KILLS:
            return [f"expected: KILL_THREAD or KILL_PROCESS", f"     got: {got}", where]
        return []
    if (action, data) != expected:
        return [f"expected: {expected[0]} (data {expected[1]})", f"     got: {got}", where]
    return []


def conf_value(key, default):
    """`key` from the service's configuration (PYCAGE_CONF), or `default`."""
    value = default
    try:
        with open(pt.PYCAGE_CONF) as f:
            for line in f:
                name, eq, rest = line.split("#", 1)[0].partition("=")
                if eq and name.strip() == key:
                    value = rest.strip()
    except OSError:
        pass
    return value


def profile_problems(path):
    """The profile names no sub-ABI: every archMap entry has empty subArchitectures and
    there is no "architectures" list (the older format)."""
    if path is None:
        path = conf_value("seccomp_profile", "/etc/pycage/seccomp.json")
        if not path:
            return ["seccomp_profile is empty in the configuration: the engine's default "
                    "profile, which keeps the i386 and x32 sub-ABIs"]
        pt.require_file(path)
    with open(path) as f:
        profile = json.load(f)
    problems = []
    if not profile.get("archMap"):
        problems.append(f"{path}: no archMap")
    for entry in profile.get("archMap") or []:
        if entry.get("subArchitectures"):
            problems.append(f"{path}: {entry.get('architecture')} keeps "
                            f"{entry['subArchitectures']}")
    if profile.get("architectures"):
        problems.append(f"{path}: architectures {profile['architectures']}")
    return problems


def main():
    tap = pt.start(len(FILTER_CASES) + 2)
    tap.check("the installed profile (seccomp_profile) names no subArchitectures",
              profile_problems, None)
    tap.check("docker/seccomp.json names no subArchitectures",
              profile_problems, os.path.normpath(SOURCE_PROFILE))
    for desc, nr, arch, args, expected in FILTER_CASES:
        tap.check(desc, filter_problems, nr, arch, args, expected)
    tap.done()


if __name__ == "__main__":
    main()
