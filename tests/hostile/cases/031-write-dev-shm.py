# attack: writes outside /tmp to the other tmpfs mounts a container gets by default:
#   /dev/shm (Docker's 64 MiB shm), /dev/mqueue, /dev, /dev/pts
# expect: status in ok|error ; stdout lacks WROTE
# escaped: stdout "WROTE /dev/shm/pwned 1048576 bytes\n"
import sys

os = sys.modules["os"]
for path in ("/dev/shm/pwned", "/dev/mqueue/pwned", "/dev/pwned", "/dev/pts/pwned"):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        written = os.write(fd, b"x" * 1048576)
        os.close(fd)
        print("WROTE", path, written, "bytes")
    except BaseException as exc:
        print("refused", path, type(exc).__name__, getattr(exc, "errno", ""))
