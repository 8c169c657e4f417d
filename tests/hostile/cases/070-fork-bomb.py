# attack: a fork bomb (os.fork in a loop, in every child too) against the 64-pid limit
# timeout: 3
# expect: status in error|timeout|oom ; answered within 10 s
# escaped: status timeout ; wall 40
import sys

os = sys.modules["os"]
while True:
    os.fork()
