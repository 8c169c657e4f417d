# attack: leaves a 10 GB sparse file in /mnt/data (or the largest the fsize limit
#   lets it make), hoping the answer's files read it whole into the host's memory
# expect: status in ok|error ; files max-bytes 100000 ; files lacks-match "^== sparse" ; answered within 20 s
# either: files_truncated is true ; stdout has "size 0"
# either: stdout has refused
# escaped: files "sparse.bin\n" ; stdout "size 10737418240\n"
import sys

os = sys.modules["os"]
fd = None
try:
    fd = os.open("/mnt/data/sparse.bin", os.O_WRONLY | os.O_CREAT, 0o644)
    for size in (10 * 1024 ** 3, 16 * 1024 * 1024 - 1, 9 * 1024 * 1024):
        try:
            os.ftruncate(fd, size)
            break
        except OSError as exc:
            print("refused size", size, type(exc).__name__)
    print("size", os.fstat(fd).st_size)
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
finally:
    if fd is not None:
        os.close(fd)
