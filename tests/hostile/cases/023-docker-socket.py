# attack: looks for the Docker engine's socket where it usually is, connects to it and asks
#   GET /containers/json; also searches /run, /var/run, /tmp, /dev for any unix socket
# expect: status in ok|error ; stdout lacks DOCKER-SOCKET|CONNECTED|ENGINE-ANSWERED|SOCKET-FILE
# escaped: stdout "DOCKER-SOCKET /var/run/docker.sock\nCONNECTED\nENGINE-ANSWERED HTTP/1.1 200 OK\n"
import sys

os = sys.modules["os"]
stat = sys.modules["stat"]
socket = print.__self__.__import__("socket")
for path in ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
             "/var/run/containerd/containerd.sock", "/run/docker/libnetwork"):
    try:
        os.stat(path)
        print("DOCKER-SOCKET", path)
    except BaseException as exc:
        print("absent", path, type(exc).__name__)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(path)
        print("CONNECTED", path)
        s.sendall(b"GET /containers/json HTTP/1.0\r\n\r\n")
        print("ENGINE-ANSWERED", s.recv(200))
    except BaseException as exc:
        print("refused", path, type(exc).__name__)
for top in ("/run", "/var/run", "/tmp", "/dev"):
    try:
        for root, dirs, files in os.walk(top):
            for name in files + dirs:
                path = os.path.join(root, name)
                try:
                    if stat.S_ISSOCK(os.lstat(path).st_mode):
                        print("SOCKET-FILE", path)
                except OSError:
                    pass
    except BaseException as exc:
        print("refused walk", top, type(exc).__name__)
