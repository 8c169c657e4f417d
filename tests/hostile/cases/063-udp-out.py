# attack: UDP out: sendto a public DNS server, the broadcast address, a multicast group and
#   the docker gateway; a datagram to anything but the container's own loopback is an escape
# expect: status in ok|error ; stdout lacks SENT
# escaped: stdout "SENT ('1.1.1.1', 53)\n"
socket = print.__self__.__import__("socket")
for address in (("1.1.1.1", 53), ("255.255.255.255", 9), ("224.0.0.251", 5353), ("172.17.0.1", 53)):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.sendto(b"pycage", address)
        print("SENT", address)
    except BaseException as exc:
        print("refused", address, type(exc).__name__, getattr(exc, "errno", ""))
