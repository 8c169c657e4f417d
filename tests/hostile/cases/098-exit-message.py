# attack: sys.exit("msg") prints msg on stderr and exits 1
# expect: status is error ; exit_code is 1 ; stdout equals "" ; stderr equals "msg\n"
# escaped: status ok ; exit_code 0 ; stdout "msg\n"
import sys

sys.exit("msg")
