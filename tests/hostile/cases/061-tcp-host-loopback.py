# attack: connects to the host's own services through 127.0.0.1: nginx (8080, 8443), a
#   docker TCP port (2375, 2376), ssh; the container's loopback must be its own and empty
# expect: status in ok|error ; stdout lacks CONNECTED
# escaped: stdout "CONNECTED ('127.0.0.1', 8080)\n"
socket = print.__self__.__import__("socket")
for address in (("127.0.0.1", 8080), ("127.0.0.1", 8443), ("127.0.0.1", 2375), ("127.0.0.1", 2376),
                ("127.0.0.1", 22), ("127.0.0.1", 80), ("::1", 8080)):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(address)
        print("CONNECTED", address)
    except BaseException as exc:
        print("refused", address, type(exc).__name__, getattr(exc, "errno", ""))
