# attack: sys is allowlisted and sys.modules["os"] is the real os: tries to become root
#   (setuid, setgid, setgroups, setresuid), chown a file to root, chroot
# expect: status in ok|error ; stdout lacks PRIVILEGED
# escaped: stdout "PRIVILEGED setuid(0)\n"
import sys

os = sys.modules.get("os")
if os is None:
    print("no os in sys.modules")
    raise SystemExit(0)
print("uid", os.getuid(), "euid", os.geteuid(), "gid", os.getgid())
attempts = {
    "setuid(0)": lambda: os.setuid(0),
    "seteuid(0)": lambda: os.seteuid(0),
    "setresuid(0,0,0)": lambda: os.setresuid(0, 0, 0),
    "setgid(0)": lambda: os.setgid(0),
    "setgroups([0])": lambda: os.setgroups([0]),
    "chroot('/tmp')": lambda: os.chroot("/tmp"),
}
for name, attempt in attempts.items():
    try:
        attempt()
        print("PRIVILEGED", name, "uid now", os.getuid())
    except BaseException as exc:
        print("refused", name, type(exc).__name__)
try:
    fd = os.open("/tmp/mine", os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chown("/tmp/mine", 0, 0)
    print("PRIVILEGED chown to root")
except BaseException as exc:
    print("refused chown", type(exc).__name__)
