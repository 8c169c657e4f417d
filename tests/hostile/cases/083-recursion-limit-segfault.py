# attack: sys.setrecursionlimit(10**6), then C-level recursion (repr of a list nested a
#   million deep) until the C stack overflows
# timeout: 20
# expect: status in error|oom ; exit_code in 1|134|137|139 ; stdout lacks-match ^\d+$ ; answered within 30 s
# escaped: status ok ; stdout "3000000\n"
import sys

sys.setrecursionlimit(10**6)
nested = []
for _ in range(10**6):
    nested = [nested]
print(len(repr(nested)))
