# attack: sys.exit(256) wraps to 0, as CPython
# expect: status is ok ; exit_code is 0 ; stdout equals "" ; stderr equals ""
# escaped: status error ; exit_code 256
import sys

sys.exit(256)
