# attack: writes to the root filesystem: /, /etc, /usr, the runner binary itself, /var/tmp,
#   /run, /home, /root, /var/lib
# expect: status in ok|error ; stdout lacks WROTE
# escaped: stdout "WROTE /usr/local/bin/pycage-runner\n"
import sys

os = sys.modules["os"]
for path in ("/pwned", "/etc/pwned", "/etc/passwd", "/usr/pwned", "/usr/local/bin/pycage-runner",
             "/usr/bin/python3", "/var/tmp/pwned", "/run/pwned", "/home/pwned", "/root/pwned",
             "/var/lib/pwned"):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o755)
        os.write(fd, b"pwned\n")
        os.close(fd)
        print("WROTE", path)
    except BaseException as exc:
        print("refused", path, type(exc).__name__, getattr(exc, "errno", ""))
for path in ("/newdir", "/usr/newdir"):
    try:
        os.mkdir(path)
        print("WROTE", path)
    except BaseException as exc:
        print("refused", path, type(exc).__name__, getattr(exc, "errno", ""))
