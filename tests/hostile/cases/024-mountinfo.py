# attack: reads /proc/self/mountinfo looking for host paths bind-mounted in (the docker
#   socket, /run/pycage, /etc/pycage, the host's root) and a writable root
# expect: status in ok|error ; stdout lacks docker.sock|/run/pycage|/etc/pycage|/var/lib/docker/volumes
# expect: stdout lacks-match "^\\S+ \\S+ \\S+ \\S+ / rw"
# escaped: stdout "110 104 0:5 /run/docker.sock /var/run/docker.sock rw,nosuid - tmpfs tmpfs rw\n"
import sys

io = sys.modules["io"]
try:
    with io.open("/proc/self/mountinfo") as f:
        print(f.read(), end="")
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
