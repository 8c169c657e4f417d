#!/usr/bin/python3
"""The process that reads request bytes cannot reach the Docker engine.

pycage runs as two processes (src/common/privsep.c): the front, pycage-fcgi (FastCGI, JSON), and
the executor, pycage-executor, which the front's start-up forks and execs (the only process
that talks to Docker). The front is the pidfile's pid. Checked against the running service:
the front is not root and cannot become root again (no_new_privs), its root directory is
an empty chroot, none of its sockets is connected to the engine's socket, a process with
its uid and gid is refused by the engine's socket, and it maps no part of libcurl or a TLS
library; the executor, its child, is a separate program with an address-space layout of
its own and is the one that holds engine connections.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402


def front_pid():
    with open(pt.PYCAGE_PIDFILE) as f:
        return int(f.read().split()[0])


def status_of(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(m.group(1))
    return inodes


def engine_peers():
    """Inodes of client sockets connected to the engine's socket, from `ss -xa`."""
    out = subprocess.run(["ss", "-xaH"], capture_output=True, text=True, check=True).stdout
    peers = set()
    for line in out.splitlines():
        cols = line.split()
        # u_str ESTAB 0 0 /var/run/docker.sock <inode> * <peer inode>
        if len(cols) >= 8 and cols[4].endswith("docker.sock") and cols[1] == "ESTAB":
            peers.add(cols[7])
    return peers


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def case_front_unprivileged():
    st = status_of(front_pid())
    problems = []
    if "0" in st["Uid"] or "0" in st["Gid"]:
        problems.append(f"front runs with uid {st['Uid']} gid {st['Gid']}")
    if st.get("NoNewPrivs") != ["1"]:
        problems.append(f"NoNewPrivs is {st.get('NoNewPrivs')}")
    if st.get("CapEff") != ["0000000000000000"]:
        problems.append(f"front has capabilities {st.get('CapEff')}")
    return problems


def case_front_chrooted():
    root = os.readlink(f"/proc/{front_pid()}/root")
    if root == "/":
        return ["the front's root directory is the host's /"]
    entries = os.listdir(root)
    return [f"the chroot {root} is not empty: {entries}"] if entries else []


def case_front_holds_no_engine_connection():
    pid = front_pid()
    mine = socket_inodes(pid) & engine_peers()
    problems = [f"front fds connected to the engine: {sorted(mine)}"] if mine else []
    executor = children(pid)
    if not executor:
        problems.append("the front has no executor child")
    return problems


def case_front_uid_cannot_connect():
    st = status_of(front_pid())
    uid, gid = st["Uid"][0], st["Gid"][0]
    probe = ("import socket\ns = socket.socket(socket.AF_UNIX)\n"
             f"s.connect({pt.DOCKER_SOCKET!r})\nprint('CONNECTED')\n")
    result = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                             "/usr/bin/python3", "-c", probe],
                            capture_output=True, text=True, timeout=20)
    if "CONNECTED" in result.stdout or result.returncode == 0:
        return [f"uid {uid} connected to {pt.DOCKER_SOCKET}"]
    if "PermissionError" not in result.stderr:
        return [f"refused, but not for permission: {result.stderr[-300:]}"]
    return []


def mapped_files(pid):
    """{path: lowest start address} of the files mapped into pid."""
    files = {}
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            cols = line.split()
            if len(cols) >= 6 and cols[5].startswith("/"):
                start = int(cols[0].split("-")[0], 16)
                files[cols[5]] = min(start, files.get(cols[5], start))
    return files


def case_front_maps_no_engine_libraries():
    front = mapped_files(front_pid())
    problems = [f"the front maps {path}" for path in sorted(front)
                if re.search(r"/lib(curl|ssl|crypto|gnutls|ssh2|krb5|ldap)[.-]", path)]
    if not any("/libfcgi." in path for path in front):
        problems.append(f"no libfcgi among the front's mappings: {sorted(front)}")
    return problems


def case_executor_is_its_own_program():
    pid = front_pid()
    executor = children(pid)
    if len(executor) != 1:
        return [f"the front has {len(executor)} children: {executor}"]
    exe = os.readlink(f"/proc/{executor[0]}/exe")
    problems = []
    if os.path.basename(exe) != "pycage-executor":
        problems.append(f"the executor runs {exe}")
    # A fork without exec would share the front's layout: libc at the same address.
    front, ex = mapped_files(pid), mapped_files(executor[0])
    libc = [path for path in front if re.search(r"/libc\.so", path)]
    if not libc or libc[0] not in ex:
        problems.append("libc not mapped in both processes")
    elif front[libc[0]] == ex[libc[0]]:
        problems.append(f"libc at the same address in both: {front[libc[0]]:#x}")
    if not any("/libcurl." in path for path in ex):
        problems.append("the executor maps no libcurl (is it the engine's process?)")
    return problems


def case_still_serving():
    status, answer = pt.execute("print(6 * 7)")
    return pt.answer_problems(status, answer, pt.ok_with("42\n"))


CASES = [
    ("the front runs as an unprivileged user with no_new_privs and no capabilities",
     case_front_unprivileged),
    ("the front's root is an empty chroot", case_front_chrooted),
    ("no front socket is connected to the engine; the executor is its child",
     case_front_holds_no_engine_connection),
    ("the front's uid is refused by the engine's socket", case_front_uid_cannot_connect),
    ("the front maps no libcurl and no TLS library", case_front_maps_no_engine_libraries),
    ("the executor is pycage-executor, exec'd: a layout of its own, libcurl",
     case_executor_is_its_own_program),
    ("requests are served through the split", case_still_serving),
]


if __name__ == "__main__":
    pt.run_cases(CASES)
