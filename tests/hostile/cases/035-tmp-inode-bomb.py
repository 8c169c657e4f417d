# attack: an inode bomb: tens of thousands of empty files in /tmp cost no tmpfs bytes but
#   kernel memory (inodes, dentries); that memory must be charged to the run's cgroup,
#   not left to the host
# timeout: 20
# expect: stdout lacks UNCHARGED ; answered within 26 s
# either: status in ok|error ; stdout matches "^charged \\d+ MiB for \\d+ files$"
# either: status in ok|error ; stdout has refused
# either: status in oom|timeout
# escaped: stdout "UNCHARGED 1 MiB for 60000 files\n"
import sys

os = sys.modules["os"]
io = sys.modules["io"]


def usage():
    for path in ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/memory.current"):
        try:
            with io.open(path) as f:
                return int(f.read())
        except FileNotFoundError:
            continue
    raise FileNotFoundError("no memory usage file")


FILES = 60000
try:
    before = usage()
    for n in range(FILES):
        os.close(os.open(f"/tmp/{n}", os.O_WRONLY | os.O_CREAT, 0o600))
    grown = (usage() - before) >> 20
    print("charged" if grown >= 16 else "UNCHARGED", grown, "MiB for", FILES, "files")
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
