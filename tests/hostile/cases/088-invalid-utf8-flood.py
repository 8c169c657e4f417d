# attack: floods stdout with bytes that are never UTF-8 (0xff): each becomes U+FFFD (three
#   bytes of UTF-8), so the cap must count what the program wrote, and the answer must
#   still be JSON
# timeout: 20
# expect: status is output_limit ; stdout_truncated is true ; stderr equals ""
# expect: stdout max-chars 1048576 ; stdout min-chars 1048573 ; stdout matches "^\ufffd+$"
# expect: answered within 25 s
# escaped: status output_limit ; stdout_truncated true ; stdout "\ufffd\ufffd"
import sys

chunk = b"\xff" * 65536
for _ in range(1600):
    sys.stdout.buffer.write(chunk)
