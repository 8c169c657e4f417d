# attack: kernel attack surface through ctypes.syscall: keyctl, add_key, bpf, userfaultfd,
#   perf_event_open, kexec_load, init_module, open_by_handle_at, reboot, settimeofday,
#   sethostname, acct, swapon
# expect: status in ok|error ; stdout lacks ALLOWED
# escaped: stdout "ALLOWED userfaultfd 3\n"
try:
    ctypes = print.__self__.__import__("ctypes")
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(128)
    calls = (
        ("keyctl", 250, (0, 0, 0, 0)),              # KEYCTL_GET_KEYRING_ID
        ("add_key", 248, (b"user", b"k", b"v", 1, -2)),
        ("bpf", 321, (0, attr, 48)),
        ("userfaultfd", 323, (0,)),
        ("perf_event_open", 298, (attr, 0, -1, -1, 0)),
        ("kexec_load", 246, (0, 0, None, 0)),
        ("init_module", 175, (None, 0, b"")),
        ("open_by_handle_at", 304, (-100, attr, 0)),
        ("reboot", 169, (0xfee1dead, 672274793, 0x4321fedc, None)),
        ("settimeofday", 164, (attr, None)),
        ("sethostname", 170, (b"pwned", 5)),
        ("acct", 163, (b"/tmp/acct",)),
        ("swapon", 167, (b"/tmp/swap", 0)),
    )
    for name, number, args in calls:
        result = libc.syscall(number, *args)
        errno = ctypes.get_errno()
        print("ALLOWED" if result >= 0 else "refused", name, result, errno)
except BaseException as exc:
    print("refused", type(exc).__name__, exc)
