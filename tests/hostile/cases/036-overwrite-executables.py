# attack: opens the binaries a host might run again for writing: /proc/self/exe and
#   /proc/1/exe (the runc CVE-2019-5736 pattern), the runner, docker-init, python3
# expect: status in ok|error ; stdout lacks OPENED-FOR-WRITE
# escaped: stdout "OPENED-FOR-WRITE /proc/1/exe\n"
import sys

os = sys.modules["os"]
for path in ("/proc/self/exe", "/proc/1/exe", "/usr/local/bin/pycage-runner", "/sbin/docker-init",
             "/usr/sbin/docker-init", "/usr/bin/python3.11", "/lib64/ld-linux-x86-64.so.2"):
    try:
        fd = os.open(path, os.O_WRONLY)
        os.close(fd)
        print("OPENED-FOR-WRITE", path)
    except BaseException as exc:
        print("refused", path, type(exc).__name__, getattr(exc, "errno", ""))
