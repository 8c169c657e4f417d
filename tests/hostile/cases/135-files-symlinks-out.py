# attack: plants symbolic links (and a hard link) in /mnt/data to files elsewhere
#   in the container (/etc/passwd, /proc/self/environ, /proc/1/cmdline, the
#   runner binary, / itself) hoping the answer's files carry their contents out
# expect: status in ok|error ; files lacks "root:x:0:0" ; files lacks "PATH=" ; files lacks-match "^== (passwd|environ|cmdline|runner|root|hard)"
# escaped: files "passwd\nroot:x:0:0:root:/root:/bin/bash\n"
# escaped: files "environ\nPATH=/usr/local/sbin:/usr/local/bin\n"
import sys

os = sys.modules["os"]
targets = {"passwd": "/etc/passwd", "environ": "/proc/self/environ",
           "cmdline": "/proc/1/cmdline", "runner": "/usr/local/bin/pycage-runner",
           "root": "/"}
for name, target in targets.items():
    try:
        os.symlink(target, "/mnt/data/" + name)
        print("planted symlink", name)
    except BaseException as exc:
        print("refused symlink", name, type(exc).__name__)
try:
    os.link("/etc/passwd", "/mnt/data/hard")
    print("planted hard link")
except BaseException as exc:
    print("refused hard link", type(exc).__name__)
print("cwd entries", sorted(e.name for e in os.scandir("/mnt/data")))
