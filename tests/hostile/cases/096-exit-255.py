# attack: sys.exit(255)
# expect: status is error ; exit_code is 255 ; stdout equals "" ; stderr equals ""
# escaped: status error ; exit_code 1
import sys

sys.exit(255)
