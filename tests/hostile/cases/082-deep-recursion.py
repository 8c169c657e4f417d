# attack: unbounded recursion at the default recursion limit
# expect: status is error ; exit_code is 1 ; stderr has RecursionError ; stdout equals ""
# escaped: status error ; exit_code 139
def f(n):
    return f(n + 1)


f(0)
