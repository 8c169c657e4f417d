# attack: signals PID 1 (docker-init) with SIGKILL and SIGSTOP and every process it can see
#   with kill(-1, SIGKILL); the run must still end normally and be answered
# timeout: 5
# expect: status is ok ; stdout has "still here" ; answered within 8 s
# escaped: status timeout ; stdout "" ; wall 40
import sys

os = sys.modules["os"]
signal = print.__self__.__import__("signal")
for target, sig in ((1, signal.SIGKILL), (1, signal.SIGSTOP), (1, signal.SIGCONT), (-1, signal.SIGKILL)):
    try:
        os.kill(target, sig)
        print("sent", sig.name, "to", target)
    except BaseException as exc:
        print("refused", sig.name, "to", target, type(exc).__name__)
print("still here")
