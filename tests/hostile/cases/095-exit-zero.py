# attack: sys.exit(0) after output: a clean end
# expect: status is ok ; exit_code is 0 ; stdout equals "before\n" ; stderr equals ""
# escaped: status error ; exit_code 1 ; stdout "before\n"
import sys

print("before")
sys.exit(0)
