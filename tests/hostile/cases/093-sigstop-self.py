# attack: SIGSTOPs itself: a stopped process must not hang the answer past the deadline
# timeout: 3
# expect: stdout lacks RESUMED ; answered within 9 s
# either: status is timeout ; stdout equals "stopping\n"
# either: status in ok|error ; stdout has refused
# escaped: status ok ; stdout "stopping\nRESUMED\n"
# escaped: status timeout ; stdout "stopping\n" ; wall 60
import sys

os = sys.modules["os"]
signal = print.__self__.__import__("signal")
print("stopping", flush=True)
try:
    os.kill(os.getpid(), signal.SIGSTOP)
    print("RESUMED")
except BaseException as exc:
    print("refused", type(exc).__name__)
