# attack: name resolution: getaddrinfo for public and docker-internal names; the container
#   has no DNS server to reach
# expect: status in ok|error ; stdout lacks RESOLVED
# escaped: stdout "RESOLVED example.com [('93.184.216.34', 80)]\n"
socket = print.__self__.__import__("socket")
for name in ("example.com", "pypi.org", "host.docker.internal", "gateway.docker.internal"):
    try:
        found = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
        print("RESOLVED", name, [a[4] for a in found])
    except BaseException as exc:
        print("refused", name, type(exc).__name__, exc)
