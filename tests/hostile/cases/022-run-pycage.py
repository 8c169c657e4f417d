# attack: looks for the host's /run/pycage (pid file, the responder's FastCGI socket) and
#   /etc/pycage inside the container and connects to the FastCGI socket if it is there
# expect: status in ok|error ; stdout lacks FOUND|CONNECTED
# escaped: stdout "FOUND /run/pycage/pycage.sock\nCONNECTED /run/pycage/pycage.sock\n"
import sys

os = sys.modules["os"]
for path in ("/run/pycage", "/run/pycage/pycage.sock", "/run/pycage/pycage-fcgi.pid",
             "/var/run/pycage", "/etc/pycage", "/etc/pycage/canary"):
    try:
        print("FOUND", path, os.stat(path))
    except BaseException as exc:
        print("absent", path, type(exc).__name__)
try:
    print("listing /run", os.listdir("/run"))
except BaseException as exc:
    print("refused /run", type(exc).__name__)
try:
    socket = print.__self__.__import__("socket")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect("/run/pycage/pycage.sock")
    print("CONNECTED /run/pycage/pycage.sock")
except BaseException as exc:
    print("refused connect", type(exc).__name__)
