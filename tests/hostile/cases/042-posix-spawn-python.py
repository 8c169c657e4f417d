# attack: os.posix_spawn starts a second, unrestricted python3 (no runner, real open, real
#   import) that reads /etc/shadow, connects out and writes to /usr
# expect: status in ok|error ; stdout lacks LEAKED|CONNECTED|WROTE
# escaped: stdout "child: LEAKED /etc/shadow\n"
import sys

os = sys.modules["os"]
CHILD = r'''
import os, socket
print("child uid", os.getuid(), flush=True)
try:
    print("child: LEAKED /etc/shadow", open("/etc/shadow").read(50))
except OSError as e:
    print("child: refused /etc/shadow", type(e).__name__)
try:
    socket.create_connection(("1.1.1.1", 443), timeout=3)
    print("child: CONNECTED 1.1.1.1:443")
except OSError as e:
    print("child: refused connect", type(e).__name__)
try:
    open("/usr/pwned", "w").write("x")
    print("child: WROTE /usr/pwned")
except OSError as e:
    print("child: refused write", type(e).__name__)
'''
try:
    pid = os.posix_spawn("/usr/bin/python3", ["python3", "-c", CHILD], {"PATH": "/usr/bin:/bin"})
    print("child exit", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
