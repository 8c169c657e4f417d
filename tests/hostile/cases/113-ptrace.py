# attack: ptrace: attach to PID 1, PTRACE_TRACEME, process_vm_readv of PID 1; the profile
#   removes all three
# expect: status in ok|error ; stdout lacks ATTACHED|TRACED|READ-PID1
# escaped: stdout "ATTACHED 1\n"
try:
    ctypes = print.__self__.__import__("ctypes")
    libc = ctypes.CDLL(None, use_errno=True)
    PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE = 0, 16, 0x4206
    for name, args, marker in (("PTRACE_ATTACH 1", (PTRACE_ATTACH, 1, None, None), "ATTACHED"),
                               ("PTRACE_SEIZE 1", (PTRACE_SEIZE, 1, None, None), "ATTACHED"),
                               ("PTRACE_TRACEME", (PTRACE_TRACEME, 0, None, None), "TRACED")):
        result = libc.syscall(101, *args)
        print(marker if result == 0 else "refused", name, result, ctypes.get_errno())

    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    buf = ctypes.create_string_buffer(16)
    local = IoVec(ctypes.cast(buf, ctypes.c_void_p), 16)
    remote = IoVec(0x400000, 16)
    result = libc.syscall(310, 1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    print("READ-PID1" if result > 0 else "refused process_vm_readv", result, ctypes.get_errno())
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
