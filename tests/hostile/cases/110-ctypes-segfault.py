# attack: ctypes.string_at(0): a NULL dereference kills the interpreter with SIGSEGV
# expect: stdout equals "" ; answered within 8 s
# either: status is error ; exit_code is 139
# either: status is error ; exit_code is 1 ; stderr has Traceback
# escaped: status ok ; exit_code 0 ; stdout "b''\n"
# escaped: status oom ; exit_code 139
ctypes = print.__self__.__import__("ctypes")
print(ctypes.string_at(0))
