# attack: the 32-bit doors of a 64-bit process, from machine code in an executable
#   anonymous page below 4 GiB: int $0x80 socketcall(SYS_SOCKET, [AF_VSOCK, ...]) (for the
#   i386 ABI libseccomp turns the socket() family rules into socketcall(a0 == SYS_SOCKET),
#   any family), int $0x80 socket(AF_VSOCK) and getpid, and an x32 getpid (nr 39 |
#   0x40000000), each in a child whose fate the parent prints; the profile names no
#   sub-ABI, so the filter kills each (SIGSYS); without IA32 emulation int $0x80 is a
#   SIGSEGV ("no IA32 ABI on this kernel")
# expect: status in ok|error ; stdout lacks SOCKET-OPENED|IA32-RAN|X32-RAN
# either: stdout has-any refused|"no IA32 ABI on this kernel"
# escaped: stdout "SOCKET-OPENED int $0x80 socketcall(SYS_SOCKET, AF_VSOCK) 3\n"
# escaped: stdout "refused int $0x80 socket(AF_VSOCK): returned -1 EPERM\nIA32-RAN int $0x80 getpid 7\n"
# escaped: stdout "X32-RAN x32 getpid 7\n"
# timeout: 5
try:
    builtins = print.__self__
    ctypes, os, signal = (builtins.__import__(m) for m in ("ctypes", "os", "signal"))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long)
    PROT_RWX, MAP_PRIVATE_ANON_32BIT = 7, 0x02 | 0x20 | 0x40
    page = libc.mmap(None, 4096, PROT_RWX, MAP_PRIVATE_ANON_32BIT, -1, 0)
    if page in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap of an executable page")
    # long int80(long nr, long b, long c, long d): ebx, ecx, edx as the i386 ABI wants
    INT80 = bytes([0x53,                    # push rbx
                   0x48, 0x89, 0xF8,        # mov rax, rdi
                   0x48, 0x89, 0xF3,        # mov rbx, rsi
                   0x49, 0x89, 0xC8,        # mov r8, rcx
                   0x48, 0x89, 0xD1,        # mov rcx, rdx
                   0x4C, 0x89, 0xC2,        # mov rdx, r8
                   0xCD, 0x80,              # int $0x80
                   0x48, 0x63, 0xC0,        # movsxd rax, eax
                   0x5B, 0xC3])             # pop rbx; ret
    # long sys64(long nr): the syscall instruction, nr as given (x32 when bit 30 is set)
    SYSCALL = bytes([0x48, 0x89, 0xF8, 0x0F, 0x05, 0xC3])   # mov rax, rdi; syscall; ret
    ctypes.memmove(page, INT80, len(INT80))
    ctypes.memmove(page + 64, SYSCALL, len(SYSCALL))
    # socketcall's argument block: three 32-bit longs, in the page (below 4 GiB)
    ctypes.memmove(page + 128, (ctypes.c_uint32 * 3)(40, 1, 0), 12)
    proto = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_long,
                             ctypes.c_long)
    int80, sys64 = proto(page), proto(page + 64)
    probes = (
        ("int $0x80 socketcall(SYS_SOCKET, AF_VSOCK)", "SOCKET-OPENED", "i386",
         lambda: int80(102, 1, page + 128, 0)),
        ("int $0x80 socket(AF_VSOCK)", "SOCKET-OPENED", "i386", lambda: int80(359, 40, 1, 0)),
        ("int $0x80 getpid", "IA32-RAN", "i386", lambda: int80(20, 0, 0, 0)),
        ("x32 getpid", "X32-RAN", "x32", lambda: sys64(39 | 0x40000000, 0, 0, 0)),
    )
    SOL_SOCKET, SO_DOMAIN, AF_VSOCK = 1, 39, 40
    for name, marker, abi, probe in probes:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(reader)
                result = probe()
                # What the result really is: the family of the socket it names, or this
                # process's pid (under gVisor int $0x80 ran 64-bit calls of those numbers:
                # 102 is getuid there, which answered 65534)
                check = os.getpid()
                if marker == "SOCKET-OPENED":
                    domain, size = ctypes.c_int(-1), ctypes.c_uint(4)
                    check = domain.value if libc.getsockopt(
                        int(result), SOL_SOCKET, SO_DOMAIN, ctypes.byref(domain),
                        ctypes.byref(size)) == 0 else -ctypes.get_errno()
                os.write(writer, f"{result} {check}".encode())
            finally:
                os._exit(0)
        os.close(writer)
        said = os.read(reader, 64).decode().split()
        os.close(reader)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGSYS:
                print("refused", name + ": killed by SIGSYS (seccomp)")
            elif sig == signal.SIGSEGV and abi == "i386":
                print(name + ": killed by SIGSEGV: no IA32 ABI on this kernel")
            else:
                print("refused", name + ": killed by signal", sig)
            continue
        if len(said) != 2:
            print("refused", name + ": the child said", said, "wait status", status)
            continue
        result, check = int(said[0]), int(said[1])
        if marker == "SOCKET-OPENED" and result >= 0 and check == AF_VSOCK or \
                marker != "SOCKET-OPENED" and result == check:
            print(marker, name, result)
        elif result >= 0 and marker == "SOCKET-OPENED":
            print("refused", name + ": returned", result, "but that is no AF_VSOCK socket "
                  "(SO_DOMAIN:", str(check) + "): another call ran")
        elif result >= 0:
            print("refused", name + ": returned", result, "not the pid", check,
                  "(another call ran)")
        elif result == -38 and abi == "x32":
            print("refused", name + ": returned -38 ENOSYS (no x32 ABI on this kernel)")
        else:
            print("refused", name + ": returned", result, os.strerror(-result))
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
