# attack: double-forks a daemon in its own session that outlives the program and writes
#   after it; the answer must not wait for it and the container must still go away
# timeout: 10
# expect: stdout lacks CHILD-LATE ; status in ok|error ; answered within 5 s
# escaped: stdout "parent done\nCHILD-LATE\n" ; wall 3.5
# escaped: stdout "parent done\n" ; wall 10.5
import sys
import time

os = sys.modules["os"]
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(3)
            print("CHILD-LATE", flush=True)
            time.sleep(600)
        os._exit(0)
    print("parent done", flush=True)
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
