# attack: lists network interfaces (socket.if_nameindex, /proc/net/dev, /sys/class/net)
#   looking for a way out; the only interface may be lo
# expect: status in ok|error ; stdout lacks-match "^IFACE (?!lo$)"
# escaped: stdout "IFACE lo\nIFACE eth0\n"
import sys

socket = print.__self__.__import__("socket")
os = sys.modules["os"]
io = sys.modules["io"]
names = set()
try:
    names.update(name for _, name in socket.if_nameindex())
except BaseException as exc:
    print("refused if_nameindex", type(exc).__name__)
try:
    with io.open("/proc/net/dev") as f:
        names.update(line.split(":")[0].strip() for line in f.read().splitlines()[2:])
except BaseException as exc:
    print("refused /proc/net/dev", type(exc).__name__)
try:
    names.update(os.listdir("/sys/class/net"))
except BaseException as exc:
    print("refused /sys/class/net", type(exc).__name__)
for name in sorted(names):
    print("IFACE", name)
