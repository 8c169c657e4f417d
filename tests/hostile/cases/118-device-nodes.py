# attack: creates device nodes in /tmp (a block device for the host's disk, /dev/mem's
#   char device) and opens them, and opens host devices by path. Creating a node is
#   refused under runc (no CAP_MKNOD); gVisor lets it be made in its own tmpfs, where it
#   cannot be opened (nodev): what must never work is opening one.
# expect: status in ok|error ; stdout lacks OPENED
# escaped: stdout "CREATED /tmp/sda\nOPENED /tmp/sda\n"
import sys

os = sys.modules["os"]
stat = sys.modules["stat"]
for path, mode, device in (("/tmp/sda", stat.S_IFBLK, os.makedev(8, 0)),
                           ("/tmp/vda", stat.S_IFBLK, os.makedev(252, 0)),
                           ("/tmp/mem", stat.S_IFCHR, os.makedev(1, 1)),
                           ("/tmp/kmsg", stat.S_IFCHR, os.makedev(1, 11))):
    try:
        os.mknod(path, mode | 0o666, device)
        print("CREATED", path)
    except BaseException as exc:
        print("refused mknod", path, type(exc).__name__, getattr(exc, "errno", ""))
        continue
    try:
        os.close(os.open(path, os.O_RDONLY))
        print("OPENED", path)
    except BaseException as exc:
        print("refused open", path, type(exc).__name__, getattr(exc, "errno", ""))
for path in ("/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem", "/dev/kmsg", "/dev/port", "/dev/kvm",
             "/dev/fuse", "/dev/net/tun", "/dev/console"):
    try:
        os.close(os.open(path, os.O_RDONLY))
        print("OPENED", path)
    except BaseException as exc:
        print("refused open", path, type(exc).__name__, getattr(exc, "errno", ""))
