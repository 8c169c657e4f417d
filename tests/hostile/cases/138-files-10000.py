# attack: writes 10,000 small files in /mnt/data, hoping the answer carries them all
#   (or that collecting them takes the host past its deadline or caps); the tmpfs
#   (32 MiB, a page per file) may fill first, which ends the writing with ENOSPC
# timeout: 20
# expect: status in ok|error ; files_truncated is true ; files max-bytes 2000 ; stdout has wrote ; answered within 35 s
# escaped: files_truncated false ; stdout "wrote 10000\n"
import sys

io = sys.modules["io"]
written = 0
try:
    for i in range(10000):
        with io.open(f"/mnt/data/f{i:05d}.txt", "w") as f:
            f.write("x")
        written += 1
except OSError as exc:
    print("stopped by", type(exc).__name__, exc.errno)
print("wrote", written)
