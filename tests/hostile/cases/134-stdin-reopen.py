# attack: reopens the container's stdin pipe through /proc/1/fd/0 (docker-init still holds
#   it) and blocks reading it, hoping to hang the run or read another request
# timeout: 3
# expect: stdout lacks pycage1|pycage2 ; answered within 9 s
# either: status is ok ; stdout has "read 0 bytes"
# either: status in ok|error|timeout ; stdout lacks-match "read [1-9]"
# escaped: status ok ; stdout "read 40 bytes: pycage1 10 0 abc\n"
import sys

os = sys.modules["os"]
try:
    fd = os.open("/proc/1/fd/0", os.O_RDONLY)
    data = os.read(fd, 4096)
    print("read", len(data), "bytes:", data[:60])
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
