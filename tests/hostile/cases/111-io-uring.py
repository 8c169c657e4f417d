# attack: io_uring_setup (syscall 425) through ctypes: Docker 20.10's default seccomp
#   profile allows it, pycage's must not
# expect: status in ok|error ; stdout lacks IO-URING-FD
# escaped: stdout "IO-URING-FD 3\n"
try:
    ctypes = print.__self__.__import__("ctypes")
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    for name, number, args in (("io_uring_setup", 425, (8, params)),
                               ("io_uring_enter", 426, (0, 0, 0, 0, None, 0)),
                               ("io_uring_register", 427, (0, 0, None, 0))):
        result = libc.syscall(number, *args)
        if name == "io_uring_setup" and result >= 0:
            print("IO-URING-FD", result)
        else:
            print(name, "returned", result, "errno", ctypes.get_errno())
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
