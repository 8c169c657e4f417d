# attack: invalid UTF-8, a NUL byte, a truncated sequence and JSON-breaking bytes on both
#   streams; the answer must stay valid JSON with U+FFFD where bytes were invalid
# expect: status is ok
# expect: stdout equals "A\ufffd\ufffdB\ufffdC\u0000D\ufffdE\ud83d\ude00 \"}\\\n"
# expect: stderr equals "\ufffd(\u001b[2J\n"
# escaped: stdout "AB\n"
# escaped: stdout "A\ufffd\ufffdB\ufffdC\u0000D\ufffdE\ud83d\ude00 \"}\\\n" ; stderr "\ufffd\ufffd\n"
import sys

sys.stdout.buffer.write(b'A\xff\xfeB\x80C\x00D\xe2\x82E\xf0\x9f\x98\x80 "}\\\n')
sys.stderr.buffer.write(b"\xc3(\x1b[2J\n")
