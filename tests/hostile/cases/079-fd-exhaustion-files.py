# attack: opens /tmp files until the kernel says no (the nofile ulimit is 256), then tries
#   to raise the hard limit
# expect: status in ok|error ; stdout lacks NO-LIMIT|RAISED
# escaped: stdout "NO-LIMIT 5000 files open\n"
import sys

os = sys.modules["os"]
try:
    resource = print.__self__.__import__("resource")
except BaseException as exc:
    resource = None
    print("refused import resource", type(exc).__name__)
fds = []
try:
    for n in range(5000):
        fds.append(os.open(f"/tmp/f{n}", os.O_RDWR | os.O_CREAT, 0o600))
    print("NO-LIMIT", len(fds), "files open")
except BaseException as exc:
    print("stopped at", len(fds), "open files:", type(exc).__name__, getattr(exc, "errno", ""))
if len(fds) > 256:
    print("NO-LIMIT: more than 256 files open:", len(fds))
for fd in fds:
    os.close(fd)
try:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    print("nofile", soft, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard * 4, hard * 4))
    print("RAISED nofile to", resource.getrlimit(resource.RLIMIT_NOFILE))
except BaseException as exc:
    print("refused setrlimit", type(exc).__name__, exc)
