# attack: forks a child that keeps stdout and stderr open and sleeps, then the parent leaves
#   with os._exit(0): no exit record, so only the container's end (docker-init exiting with
#   its child and taking the namespace down) can end the run
# timeout: 20
# expect: stdout lacks CHILD-LATE ; answered within 6 s
# either: status is ok ; exit_code is 0 ; stdout equals "parent leaving\n"
# either: status in ok|error ; stdout has refused
# escaped: stdout "parent leaving\nCHILD-LATE\n" ; wall 20.5 ; status timeout ; exit_code 137
import sys
import time

os = sys.modules["os"]
try:
    if os.fork() == 0:
        time.sleep(3)
        print("CHILD-LATE", flush=True)
        time.sleep(600)
        os._exit(0)
    print("parent leaving", flush=True)
except BaseException as exc:
    print("refused", type(exc).__name__, exc, flush=True)
os._exit(0)
