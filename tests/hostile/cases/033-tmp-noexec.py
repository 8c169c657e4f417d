# attack: /tmp is writable: drops a shell script, a copy of /bin/true and a copy of a shared
#   library there and tries execv, subprocess and dlopen on them
# expect: status in ok|error ; stdout lacks EXECUTED|LOADED
# escaped: stdout "EXECUTED script\n"
import sys

os = sys.modules["os"]
io = sys.modules["io"]


def drop(path, data):
    with io.open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)


def run(path):
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(path, [path])
        except BaseException as exc:
            print("refused exec", path, type(exc).__name__, getattr(exc, "errno", ""), flush=True)
        os._exit(99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


try:
    drop("/tmp/script.sh", b"#!/bin/sh\necho EXECUTED script\n")
    with io.open("/bin/true", "rb") as f:
        drop("/tmp/true", f.read())
    if run("/tmp/script.sh") == 0:
        print("EXECUTED /tmp/script.sh")
    if run("/tmp/true") == 0:
        print("EXECUTED /tmp/true")
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
try:
    ctypes = print.__self__.__import__("ctypes")
    libdirs = [f"/usr/lib/{d}" for d in os.listdir("/usr/lib") if d.endswith("-linux-gnu")]
    libm = next(f"{d}/libm.so.6" for d in libdirs if os.path.exists(f"{d}/libm.so.6"))
    with io.open(libm, "rb") as f:
        drop("/tmp/libm.so", f.read())
    ctypes.CDLL("/tmp/libm.so")
    print("LOADED /tmp/libm.so")
except BaseException as exc:
    print("refused dlopen", type(exc).__name__, exc)
