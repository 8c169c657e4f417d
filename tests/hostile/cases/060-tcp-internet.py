# attack: TCP connects out: the internet (1.1.1.1:80, 8.8.8.8:53), the docker bridge's
#   gateway, the cloud metadata service 169.254.169.254, and IPv6
# expect: status in ok|error ; stdout lacks CONNECTED
# escaped: stdout "CONNECTED ('169.254.169.254', 80)\n"
socket = print.__self__.__import__("socket")
for address in (("1.1.1.1", 80), ("8.8.8.8", 53), ("172.17.0.1", 80), ("172.17.0.1", 2375),
                ("169.254.169.254", 80), ("10.0.0.1", 80), ("192.168.0.1", 80),
                ("2606:4700:4700::1111", 80)):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(address)
        print("CONNECTED", address)
    except BaseException as exc:
        print("refused", address, type(exc).__name__, getattr(exc, "errno", ""))
