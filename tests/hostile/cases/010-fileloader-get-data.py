# attack: importlib's FileLoader (one of object's subclasses) reads any file with get_data()
# expect: status in ok|error ; stdout lacks LEAKED
# escaped: stdout "route FileLoader\nLEAKED /etc/shadow b'root:*:'\n"
subclasses = ().__class__.__base__.__subclasses__()
loader_class = next((c for c in subclasses if c.__name__ == "FileLoader"), None)
if loader_class is None:
    print("no route")
    raise SystemExit(0)
print("route FileLoader")
for path in ("/etc/shadow", "/etc/pycage/canary", "/run/pycage/pycage-fcgi.pid",
             "/proc/1/root/etc/shadow", "/var/run/docker.sock"):
    try:
        data = loader_class("x", path).get_data(path)
        print("LEAKED", path, data[:100])
    except BaseException as exc:
        print("refused", path, type(exc).__name__)
