# attack: prints /proc/1/environ (docker-init), /proc/self/environ and every other readable
#   /proc/PID/environ and cmdline, hoping for the responder's environment or a secret
# expect: status in ok|error ; stdout lacks PYCAGE_CANARY|DOCKER_HOST|SSH_AUTH_SOCK
# escaped: stdout "1 PYCAGE_CANARY=0123\n"
import sys

os = sys.modules["os"]
io = sys.modules["io"]
pids = ["self", "1"]
try:
    pids += sorted(p for p in os.listdir("/proc") if p.isdigit())
except BaseException as exc:
    print("refused listing /proc", type(exc).__name__)
for pid in pids:
    for what in ("environ", "cmdline"):
        try:
            with io.open(f"/proc/{pid}/{what}", "rb") as f:
                print(pid, what, f.read().replace(b"\0", b" ").decode("utf-8", "replace"))
        except BaseException as exc:
            print("refused", pid, what, type(exc).__name__)
