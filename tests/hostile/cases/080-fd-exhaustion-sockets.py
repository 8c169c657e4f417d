# attack: socketpairs, then pipes, until the descriptor table is full
# expect: status in ok|error ; stdout lacks NO-LIMIT
# escaped: stdout "NO-LIMIT 10000 descriptors\n"
import sys

os = sys.modules["os"]
for kind in ("socketpair", "pipe"):
    held = []
    try:
        socket = print.__self__.__import__("socket")
        make = socket.socketpair if kind == "socketpair" else os.pipe
        for _ in range(5000):
            held.extend(make())
    except BaseException as exc:
        print(kind, "stopped at", len(held), "descriptors:", type(exc).__name__, getattr(exc, "errno", ""))
    if len(held) > 256:
        print("NO-LIMIT", len(held), "descriptors from", kind)
    for item in held:
        try:
            item.close() if hasattr(item, "close") else os.close(item)
        except OSError:
            pass
