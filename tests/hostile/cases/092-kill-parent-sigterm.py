# attack: SIGTERM to its parent (docker-init forwards it back to the runner), then keeps going
# timeout: 5
# expect: stdout lacks SURVIVED ; answered within 8 s
# either: status is error ; exit_code is 143
# either: status in ok|error ; stdout has refused
# escaped: status ok ; stdout "ppid 1\nSURVIVED\n"
import sys
import time

os = sys.modules["os"]
signal = print.__self__.__import__("signal")
print("ppid", os.getppid(), flush=True)
try:
    os.kill(os.getppid(), signal.SIGTERM)
    time.sleep(3)
    print("SURVIVED")
except BaseException as exc:
    print("refused", type(exc).__name__)
