# attack: writes kernel and cgroup knobs: core_pattern, sysrq-trigger, drop_caches,
#   hostname, its own memory and pids limits, the cgroup v1 release_agent, oom_score_adj
#   down to -1000
# expect: status in ok|error ; stdout lacks WROTE
# escaped: stdout "WROTE /sys/fs/cgroup/memory/memory.limit_in_bytes\n"
import sys

os = sys.modules["os"]
targets = {
    "/proc/sys/kernel/core_pattern": b"|/tmp/x",
    "/proc/sysrq-trigger": b"h",
    "/proc/sys/vm/drop_caches": b"3",
    "/proc/sys/kernel/hostname": b"pwned",
    "/proc/sys/kernel/pid_max": b"4194304",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes": b"-1",
    "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes": b"-1",
    "/sys/fs/cgroup/memory.max": b"max",
    "/sys/fs/cgroup/pids/pids.max": b"max",
    "/sys/fs/cgroup/pids.max": b"max",
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": b"-1",
    "/sys/fs/cgroup/memory/notify_on_release": b"1",       # the cgroup v1 release_agent escape
    "/sys/fs/cgroup/memory/release_agent": b"/tmp/x",
    "/sys/fs/cgroup/memory/cgroup.procs": b"1",
    "/proc/self/oom_score_adj": b"-1000",
    "/proc/1/oom_score_adj": b"-1000",
}
for path, value in targets.items():
    try:
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, value)
        os.close(fd)
        print("WROTE", path)
    except BaseException as exc:
        print("refused", path, type(exc).__name__, getattr(exc, "errno", ""))
