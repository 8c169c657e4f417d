# attack: opens sockets of families that leave the container's network namespace or
#   reach kernel code no computation needs: AF_VSOCK (the hypervisor and the host's vsock
#   services), AF_ALG (the kernel's crypto API), AF_PACKET, AF_KEY, AF_TIPC, AF_RDS,
#   AF_XDP, AF_BLUETOOTH, AF_CAN; then AF_VSOCK and AF_ALG again with bits set above the
#   int the kernel reads (a 32-bit comparison in the filter would miss them); then
#   socketpair() of AF_TIPC, AF_VSOCK and AF_ALG (it creates sockets of its family too);
#   seccomp must refuse each, while socket() and socketpair() of AF_UNIX still work
# expect: status in ok|error ; stdout lacks SOCKET-OPENED
# either: stdout matches "AF_UNIX returned [0-9]" ; stdout matches "socketpair AF_UNIX returned 0 "
# either: stdout has refused ; stdout lacks AF_UNIX
# escaped: stdout "SOCKET-OPENED AF_VSOCK 3\n"
# escaped: stdout "SOCKET-OPENED socketpair AF_TIPC 0\n"
# escaped: stdout "AF_UNIX returned -1 errno 1\nsocketpair AF_UNIX returned -1 errno 1\n"
try:
    ctypes = print.__self__.__import__("ctypes")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    SYS_SOCKET, SYS_SOCKETPAIR = 41, 53
    SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = 1, 2, 3, 5
    for name, family, kind in (("AF_VSOCK", 40, SOCK_STREAM), ("AF_ALG", 38, SOCK_SEQPACKET),
                               ("AF_PACKET", 17, SOCK_DGRAM), ("AF_KEY", 15, SOCK_RAW),
                               ("AF_TIPC", 30, SOCK_DGRAM), ("AF_RDS", 21, SOCK_SEQPACKET),
                               ("AF_XDP", 44, SOCK_RAW), ("AF_BLUETOOTH", 31, SOCK_STREAM),
                               ("AF_CAN", 29, SOCK_DGRAM),
                               ("AF_VSOCK+2^32", 40 | 1 << 32, SOCK_STREAM),
                               ("AF_ALG+2^32", 38 | 1 << 32, SOCK_SEQPACKET),
                               ("AF_UNIX", 1, SOCK_STREAM)):
        fd = libc.syscall(ctypes.c_long(SYS_SOCKET), ctypes.c_long(family),
                          ctypes.c_long(kind), ctypes.c_long(0))
        if fd >= 0 and name != "AF_UNIX":
            print("SOCKET-OPENED", name, fd)
        else:
            print(name, "returned", fd, "errno", ctypes.get_errno())
    pair = (ctypes.c_int * 2)()
    for name, family, kind in (("AF_TIPC", 30, SOCK_SEQPACKET), ("AF_VSOCK", 40, SOCK_STREAM),
                               ("AF_ALG", 38, SOCK_SEQPACKET), ("AF_UNIX", 1, SOCK_STREAM)):
        result = libc.syscall(ctypes.c_long(SYS_SOCKETPAIR), ctypes.c_long(family),
                              ctypes.c_long(kind), ctypes.c_long(0), pair)
        if result == 0 and name != "AF_UNIX":
            print("SOCKET-OPENED socketpair", name, result)
        else:
            print("socketpair", name, "returned", result, "errno", ctypes.get_errno())
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
