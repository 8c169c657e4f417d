# attack: 100 MB on stderr, in small unbuffered writes
# timeout: 20
# expect: status is output_limit ; stderr_truncated is true ; stdout_truncated is false
# expect: stderr max-bytes 1048576 ; stderr min-bytes 1048573 ; stdout equals "" ; answered within 25 s
# escaped: status ok ; stderr_truncated false ; stderr "short"
import sys

line = "e" * 1023 + "\n"
for _ in range(100000):
    sys.stderr.write(line)
