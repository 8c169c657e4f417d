# attack: floods stderr with NUL bytes, each of which becomes a six-byte \u0000 escape in
#   the answer's JSON
# timeout: 20
# expect: status is output_limit ; stderr_truncated is true ; stdout equals ""
# expect: stderr max-chars 1048576 ; stderr min-chars 1048573 ; stderr matches "^\u0000+$"
# expect: answered within 25 s
# escaped: status output_limit ; stderr_truncated true ; stderr "\u0000"
import sys

chunk = b"\0" * 65536
for _ in range(1600):
    sys.stderr.buffer.write(chunk)
