# attack: checks its own privileges in /proc/self/status: any capability, no_new_privs off or
#   no seccomp filter would be a lever
# expect: status in ok|error
# either: stdout has "CapPrm:\t0000000000000000\n" | "CapEff:\t0000000000000000\n"
#   | "CapBnd:\t0000000000000000\n" | "CapAmb:\t0000000000000000\n" | "NoNewPrivs:\t1\n" | "Seccomp:\t2\n"
# either: stdout has refused ; stdout lacks Cap
# escaped: stdout "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n"
import sys

io = sys.modules["io"]
try:
    with io.open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("Cap", "NoNewPrivs", "Seccomp:")):
                print(line, end="")
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
