# attack: raise SystemExit(3) directly
# expect: status is error ; exit_code is 3 ; stdout equals "" ; stderr equals ""
# escaped: status error ; exit_code 1 ; stderr "Traceback (most recent call last):\n"
raise SystemExit(3)
