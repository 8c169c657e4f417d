# attack: os.system() through sys.modules: a shell that tries to read /etc/shadow, write to
#   /usr, reach the network with bash's /dev/tcp and become root with su
# expect: status in ok|error ; stdout lacks SHADOW-READ|WROTE|CONNECTED|BECAME-ROOT ; stdout lacks-match ^UID=0$
# escaped: stdout "UID=0\nSHADOW-READ\n"
import sys

SHELL = r'''
echo "UID=$(id -u)"
if cat /etc/shadow >/dev/null 2>&1; then echo SHADOW-READ; fi
if (echo x > /usr/pwned) 2>/dev/null; then echo WROTE /usr/pwned; fi
if timeout 3 bash -c 'exec 3<>/dev/tcp/1.1.1.1/80' 2>/dev/null; then echo CONNECTED 1.1.1.1:80; fi
if [ "$(su -c 'id -u' root </dev/null 2>/dev/null)" = 0 ]; then echo BECAME-ROOT; fi
'''
try:
    status = sys.modules["os"].system(SHELL)
    print("shell exit status", status)
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
