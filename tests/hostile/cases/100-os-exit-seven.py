# attack: os._exit(7) via sys.modules: no flush by the runner, no exit record; the engine's
#   exit status decides
# expect: status is error ; exit_code is 7 ; stdout equals "before\n" ; stderr equals ""
# escaped: status error ; exit_code 1 ; stdout "before\n"
import sys

print("before")
sys.modules["os"]._exit(7)
