# attack: print.__self__ is the real builtins module: uses its open() on host secrets
# expect: status in ok|error ; stdout lacks LEAKED
# escaped: stdout "route print.__self__\nLEAKED /etc/shadow 'root:*:19000'\n"
real = print.__self__
print("route print.__self__", hasattr(real, "open"))
for path in ("/etc/shadow", "/etc/gshadow", "/etc/pycage/canary", "/etc/pycage/pycage.conf",
             "/run/pycage/pycage-fcgi.pid", "/root/.ssh/id_rsa", "/root/.docker/config.json",
             "/proc/1/root/etc/shadow"):
    try:
        with real.open(path, "rb") as f:
            print("LEAKED", path, f.read(200))
    except BaseException as exc:
        print("refused", path, type(exc).__name__)
