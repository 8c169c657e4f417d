# attack: 100 MB on stdout as fast as it can
# timeout: 20
# expect: status is output_limit ; stdout_truncated is true ; stderr_truncated is false
# expect: stdout max-bytes 1048576 ; stdout min-bytes 1048573 ; answered within 25 s
# escaped: status output_limit ; stdout_truncated true ; stdout "xxxx"
import sys

chunk = "x" * 65535 + "\n"
for _ in range(1600):
    sys.stdout.write(chunk)
