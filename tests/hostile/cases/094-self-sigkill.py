# attack: SIGKILLs itself: exit 137 without an OOM must be reported as error, not oom
# expect: stdout equals "before\n" ; answered within 8 s
# either: status is error ; exit_code is 137
# either: status is error ; exit_code is 1 ; stderr has Traceback
# escaped: status oom ; exit_code 137 ; stdout "before\n"
import sys

print("before", flush=True)
os = sys.modules["os"]
os.kill(os.getpid(), print.__self__.__import__("signal").SIGKILL)
