# attack: raw IP, ICMP and packet sockets (need CAP_NET_RAW) and a netlink route socket that
#   asks the kernel to add an address to lo (needs CAP_NET_ADMIN)
# expect: status in ok|error ; stdout lacks RAW-OPEN|ADDRESS-ADDED
# escaped: stdout "RAW-OPEN AF_PACKET\n"
import struct

socket = print.__self__.__import__("socket")
for name, family, kind, proto in (("AF_INET SOCK_RAW icmp", socket.AF_INET, socket.SOCK_RAW, 1),
                                  ("AF_INET SOCK_RAW raw", socket.AF_INET, socket.SOCK_RAW, 255),
                                  ("AF_PACKET", 17, socket.SOCK_RAW, 0x0300)):
    try:
        socket.socket(family, kind, proto)
        print("RAW-OPEN", name)
    except BaseException as exc:
        print("refused", name, type(exc).__name__, getattr(exc, "errno", ""))
try:
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    nl.bind((0, 0))
    # RTM_NEWADDR (20), NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE|NLM_F_EXCL: 10.9.9.9/32 on ifindex 1
    ifaddr = struct.pack("BBBBI", socket.AF_INET, 32, 0, 0, 1)
    rta = struct.pack("HH4s", 8, 2, bytes([10, 9, 9, 9]))   # IFA_LOCAL
    body = ifaddr + rta
    nl.send(struct.pack("IHHII", 16 + len(body), 20, 0x1 | 0x4 | 0x400 | 0x200, 1, 0) + body)
    reply = nl.recv(4096)
    error = struct.unpack("i", reply[16:20])[0]
    print("ADDRESS-ADDED" if error == 0 else f"refused RTM_NEWADDR error {error}")
except BaseException as exc:
    print("refused netlink", type(exc).__name__, exc)
