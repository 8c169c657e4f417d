# attack: walks ().__class__.__base__.__subclasses__() to a class defined in os (such as
#   os._wrap_close), whose __init__.__globals__ is the real os namespace, then reads
#   /etc/shadow and lists /run/pycage with it
# expect: status in ok|error ; stdout lacks LEAKED ; stdout lacks-match ^root:
# escaped: stdout "route os._wrap_close\nLEAKED /etc/shadow root:*:19000:0:99999:7:::\n"
os_namespace = None
for cls in ().__class__.__base__.__subclasses__():
    init = cls.__dict__.get("__init__")
    namespace = getattr(init, "__globals__", None) or {}
    if namespace.get("__name__") == "os":
        os_namespace = namespace
    elif hasattr(namespace.get("os"), "listdir"):
        os_namespace = namespace["os"].__dict__
    if os_namespace is not None:
        print("route", cls.__module__ + "." + cls.__qualname__)
        break
if os_namespace is None:
    print("no route to os")
    raise SystemExit(0)

try:
    fd = os_namespace["open"]("/etc/shadow", os_namespace["O_RDONLY"])
    print("LEAKED /etc/shadow", os_namespace["read"](fd, 4096).decode("utf-8", "replace"))
except BaseException as exc:
    print("refused /etc/shadow", type(exc).__name__, exc)
try:
    print("LEAKED /run/pycage", os_namespace["listdir"]("/run/pycage"))
except BaseException as exc:
    print("refused /run/pycage", type(exc).__name__, exc)
