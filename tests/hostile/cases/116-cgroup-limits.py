# attack: reads its cgroup limits (allowed) to plan around them: they must be the documented
#   512 MiB memory with no swap, 64 pids, 0.5 CPU (0.5 s per 1 s period)
# expect: status in ok|error
# either: stdout has "memory 536870912\n" | "memsw 536870912\n" | "pids 64\n" | "cpu 500000/1000000\n"
# either: stdout has "memory.max 536870912\n" | "memory.swap.max 0\n" | "pids.max 64\n" | "cpu.max 500000 1000000\n"
# either: stdout has refused ; stdout lacks-match "^(memory|memsw|pids|memory.max|pids.max) (?!536870912|64)"
# escaped: stdout "memory 9223372036854771712\nmemsw 9223372036854771712\npids max\ncpu -1/100000\n"
import sys

io = sys.modules["io"]


def read(path):
    with io.open(path) as f:
        return f.read().strip()


try:
    print("memory", read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
    print("memsw", read("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))
    print("pids", read("/sys/fs/cgroup/pids/pids.max"))
    print("cpu", read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") + "/" + read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
except FileNotFoundError:
    try:
        print("memory.max", read("/sys/fs/cgroup/memory.max"))
        print("memory.swap.max", read("/sys/fs/cgroup/memory.swap.max"))
        print("pids.max", read("/sys/fs/cgroup/pids.max"))
        print("cpu.max", read("/sys/fs/cgroup/cpu.max"))
    except BaseException as exc:
        print("refused", type(exc).__name__, exc)
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
