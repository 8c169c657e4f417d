# attack: through ctypes: unshare a user namespace (to be root in it), unshare mount and net
#   namespaces, mount a tmpfs and proc, setns into PID 1's namespaces, chroot, pivot_root
# expect: status in ok|error ; stdout lacks ESCALATED
# escaped: stdout "ESCALATED unshare(CLONE_NEWUSER)\n"
import sys

try:
    ctypes = print.__self__.__import__("ctypes")
    os = sys.modules["os"]
    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID = 0x20000, 0x10000000, 0x40000000, 0x20000000
    attempts = {
        "unshare(CLONE_NEWUSER)": lambda: libc.unshare(CLONE_NEWUSER),
        "unshare(CLONE_NEWNS)": lambda: libc.unshare(CLONE_NEWNS),
        "unshare(CLONE_NEWNET)": lambda: libc.unshare(CLONE_NEWNET),
        "unshare(CLONE_NEWPID)": lambda: libc.unshare(CLONE_NEWPID),
        "mount tmpfs /mnt": lambda: libc.mount(b"none", b"/mnt", b"tmpfs", 0, None),
        "mount proc /tmp": lambda: libc.mount(b"proc", b"/tmp", b"proc", 0, None),
        "mount remount / rw": lambda: libc.mount(None, b"/", None, 0x20, None),
        "chroot /tmp": lambda: libc.chroot(b"/tmp"),
        "pivot_root": lambda: libc.syscall(155, b"/tmp", b"/tmp"),
    }
    for ns in ("mnt", "net", "pid", "user"):
        def enter(ns=ns):
            fd = os.open(f"/proc/1/ns/{ns}", os.O_RDONLY)
            return libc.setns(fd, 0)
        attempts[f"setns /proc/1/ns/{ns}"] = enter
    for name, attempt in attempts.items():
        try:
            result = attempt()
        except OSError as exc:
            print("refused", name, type(exc).__name__)
            continue
        if result == 0 and not name.startswith("setns"):
            print("ESCALATED", name)
        elif result == 0:
            print("joined own namespace", name)
        else:
            print("refused", name, "errno", ctypes.get_errno())
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
