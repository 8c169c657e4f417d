# attack: reads what the kernel might leak to a container: symbol addresses in
#   /proc/kallsyms (KASLR), /proc/kcore, the kernel log (/proc/kmsg, syslog(2)), the host's
#   keys in /proc/keys, debugfs
# expect: status in ok|error ; stdout lacks LEAKED
# escaped: stdout "LEAKED /proc/kallsyms ffffffff81000000 T _text\n"
import sys

os = sys.modules["os"]
io = sys.modules["io"]
try:
    with io.open("/proc/kallsyms") as f:
        addresses = [line for line in f.read().splitlines() if line.split()[0].strip("0")]
    print(f"LEAKED /proc/kallsyms {addresses[0]}" if addresses else "kallsyms: every address is 0")
except BaseException as exc:
    print("refused /proc/kallsyms", type(exc).__name__)
for path in ("/proc/kcore", "/proc/kmsg", "/dev/kmsg", "/sys/kernel/debug/kprobes/list",
             "/sys/kernel/debug/tracing/trace"):
    try:
        with io.open(path, "rb") as f:
            print("LEAKED", path, f.read(64))
    except BaseException as exc:
        print("refused", path, type(exc).__name__)
try:
    with io.open("/proc/keys") as f:
        keys = f.read()
    print(f"LEAKED /proc/keys {keys[:200]!r}" if keys.strip() else "/proc/keys: no key visible")
except BaseException as exc:
    print("refused /proc/keys", type(exc).__name__)
try:
    ctypes = print.__self__.__import__("ctypes")
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(4096)
    size = libc.klogctl(3, buffer, 4096)        # SYSLOG_ACTION_READ_ALL
    if size > 0:
        print("LEAKED syslog(2)", buffer.raw[:100])
    else:
        print("refused syslog(2) errno", ctypes.get_errno())
except BaseException as exc:
    print("refused syslog(2)", type(exc).__name__)
