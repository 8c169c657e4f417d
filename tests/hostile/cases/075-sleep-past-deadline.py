# attack: sleeps far past its deadline (a cold container may not even reach the print in 1 s:
#   the deadline runs from when the code is handed over)
# timeout: 1
# expect: status is timeout ; stdout lacks AFTER ; stdout max-bytes 7 ; duration_ms in 1000..2500
# expect: answered within 7 s
# escaped: status ok ; stdout "before\n" ; duration_ms 100000 ; wall 100
import time

print("before")
time.sleep(100)
print("AFTER")
