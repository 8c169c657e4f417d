# attack: runs the image's setuid-root binaries (mount, su, sg, passwd) to gain root or
#   mount a filesystem; no-new-privileges must make the setuid bit inert
# expect: status in ok|error ; stdout lacks MOUNTED|BECAME-ROOT
# escaped: stdout "MOUNTED tmpfs on /mnt\n"
import sys

os = sys.modules["os"]
SHELL = r'''
mount -t tmpfs none /mnt 2>&1 | head -1
grep -q " /mnt " /proc/self/mounts && echo MOUNTED tmpfs on /mnt
[ "$(su -c 'id -u' root </dev/null 2>/dev/null)" = 0 ] && echo BECAME-ROOT su
[ "$(sg root -c "id -g" </dev/null 2>/dev/null)" = 0 ] && echo BECAME-ROOT sg
passwd -S root 2>&1 | head -1
exit 0
'''
try:
    print("shell exit status", os.system(SHELL))
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
