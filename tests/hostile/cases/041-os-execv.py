# attack: replaces the runner with a shell through os.execv (no exit record any more) that
#   reads /etc/shadow, writes to /etc and tries the docker socket with bash
# expect: stdout lacks SHADOW-READ|WROTE|DOCKER-SOCKET ; stdout lacks-match ^UID=0$ ; status in ok|error
# escaped: stdout "UID=65534\nWROTE /etc/pwned\n"
import sys

SHELL = r'''
echo "UID=$(id -u)"
if cat /etc/shadow >/dev/null 2>&1; then echo SHADOW-READ; fi
if (echo x > /etc/pwned) 2>/dev/null; then echo WROTE /etc/pwned; fi
if [ -S /var/run/docker.sock ]; then echo DOCKER-SOCKET; fi
exit 3
'''
try:
    sys.modules["os"].execv("/bin/bash", ["bash", "-c", SHELL])
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
