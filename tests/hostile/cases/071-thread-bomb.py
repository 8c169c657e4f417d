# attack: a thread bomb: threading.Thread started in a loop, each sleeping
# timeout: 5
# expect: status in error|timeout ; answered within 12 s
# escaped: status ok ; stdout "started 100000 threads\n"
import time

threading = print.__self__.__import__("threading")
started = 0
for _ in range(100000):
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    started += 1
print("started", started, "threads")
