# attack: fills /tmp past its 16 MiB: one big file (the fsize ulimit) and many small ones
# expect: status in ok|error ; stdout lacks UNBOUNDED
# escaped: stdout "UNBOUNDED 33554432 bytes in /tmp\n"
import sys

os = sys.modules["os"]
LIMIT = 16 * 1024 * 1024
total = 0
chunk = b"x" * 1048576
try:
    fd = os.open("/tmp/big", os.O_WRONLY | os.O_CREAT, 0o600)
    for _ in range(40):
        total += os.write(fd, chunk)
    print("no limit on one file")
except BaseException as exc:
    print("one file stopped after", total, type(exc).__name__, getattr(exc, "errno", ""))
try:
    os.unlink("/tmp/big")
except BaseException:
    pass
total = 0
try:
    for n in range(40):
        fd = os.open(f"/tmp/small{n}", os.O_WRONLY | os.O_CREAT, 0o600)
        total += os.write(fd, chunk)
        os.close(fd)
except BaseException as exc:
    print("many files stopped after", total, type(exc).__name__, getattr(exc, "errno", ""))
if total > LIMIT:
    print("UNBOUNDED", total, "bytes in /tmp")
