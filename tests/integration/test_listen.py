#!/usr/bin/python3
"""The FastCGI listener: over TCP (`listen = a.b.c.d:port`), who may use it
(`listen_allow`), and the life of a connection (kept for the next request when the peer
sets FCGI_KEEP_CONN; no descriptor left behind; no spinning once descriptors run out).

Over TCP anyone who reaches the port could run code without nginx's limits, so the front
answers only the peers in listen_allow (default 127.0.0.1) and closes every other
connection before reading a byte. Each case starts its own responder (test_faults.py's
Responder: the built binaries, its own config, instance label and uid range) on a free
loopback port and talks FastCGI to it directly. The whole of 127.0.0.0/8 is loopback on
Linux, so a client bound to 127.0.0.2 is a second peer on the same machine.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402
from test_faults import (ASAN, FCGI_BIN, Responder, case_no_sanitizer_reports,  # noqa: E402
                         metrics_of)

OTHER_PEER = "127.0.0.2"
REFUSED = 40      # more connections than the responder has workers
KEEP_CONN_REQUESTS = 30
EMFILE_WATCH_S = 2
EMFILE_CPU_MAX_S = 0.3   # spinning workers burn a core each


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_problems(answer, expected_stdout):
    if answer.status != 200:
        return [f"status {answer.status}: {pt.show(answer.body)}"]
    doc = pt.parse_json(answer.body)
    if not isinstance(doc, dict) or doc.get("stdout") != expected_stdout:
        return [f"expected stdout {expected_stdout!r}: {pt.show(answer.body)}"]
    return []


def refused_problems(r, source=None):
    """A connection from `source` must be closed with no answer at all."""
    sock = pt.fcgi_connect(r.socket, timeout=10, source=source)
    try:
        try:
            sock.sendall(pt.fcgi_encode_request(
                pt.fcgi_params("GET", pt.HEALTH), b"", 1))
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            return [f"a peer not in listen_allow ({source or '127.0.0.1'}) was held open"]
    finally:
        sock.close()
    if data:
        return [f"a peer not in listen_allow got an answer: {pt.show(data)}"]
    return []


def case_tcp_serves():
    """listen on 127.0.0.1:port, default listen_allow: health and a run answer."""
    r = Responder("listen-tcp", listen=f"127.0.0.1:{free_port()}")
    try:
        problems = []
        health = r.call("GET", pt.HEALTH)
        if health.status != 200:
            problems.append(f"health: status {health.status}: {pt.show(health.body)}")
        return problems + run_problems(r.execute("print(6 * 7)"), "42\n")
    finally:
        r.stop()


def case_peer_not_allowed():
    """listen_allow = 127.0.0.2: 127.0.0.1 is closed unanswered, again and again, without
    using up a worker; 127.0.0.2 still runs code; the refusals are counted and logged
    only at powers of two."""
    r = Responder("listen-allow", listen=f"127.0.0.1:{free_port()}",
                  listen_allow=OTHER_PEER)
    try:
        problems = []
        for _ in range(REFUSED):
            problems += refused_problems(r)
            if problems:
                break
        problems += run_problems(r.execute("print('still here')", source=OTHER_PEER),
                                 "still here\n")
        refused = metrics_of(r, source=OTHER_PEER).get("pycage_fcgi_refused_total")
        if refused != REFUSED:
            problems.append(f"pycage_fcgi_refused_total {refused}, expected {REFUSED}")
        lines = [line for line in r.log_lines()
                 if "refused a FastCGI connection from 127.0.0.1" in line]
        # The 1st, 2nd, 4th, 8th, 16th and 32nd of 40.
        if len(lines) != 6:
            problems.append(f"{len(lines)} log lines for {REFUSED} refusals, expected 6: "
                            f"{lines[:8]}")
        return problems
    finally:
        r.stop()


def case_network_allowed():
    """listen_allow as a network: 127.0.0.0/30 lets both 127.0.0.1 and 127.0.0.2 in;
    127.0.0.0/31 only 127.0.0.1 (and .0)."""
    problems = []
    for allow, source, served in (("127.0.0.0/30", OTHER_PEER, True),
                                  ("127.0.0.0/31", OTHER_PEER, False)):
        r = Responder("listen-net", listen=f"127.0.0.1:{free_port()}", listen_allow=allow)
        try:
            if served:
                got = run_problems(r.execute("print(1)", source=source), "1\n")
            else:
                got = refused_problems(r, source)
                health = r.call("GET", pt.HEALTH)
                if health.status != 200:
                    got.append(f"127.0.0.1 (in the network): health {health.status}")
            problems += [f"listen_allow {allow}, peer {source}: {p}" for p in got]
        finally:
            r.stop()
    return problems


SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nginx",
                    "pycage.conf")


class Nginx:
    """The shipped site (nginx/pycage.conf) on its own nginx: the upstream moved to
    127.0.0.1:fcgi_port, one plain listener on a free port, no TLS. In the foreground
    (daemon off), so that stop() ends it."""

    def __init__(self, fcgi_port, keep_conn=False):
        self.dir = tempfile.mkdtemp(prefix="pycage-listen-nginx-")
        self.port = free_port()
        with open(SITE) as f:
            site = f.read()
        derived = (site.replace("server unix:/run/pycage/pycage.sock;",
                                f"server 127.0.0.1:{fcgi_port};")
                   .replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};"))
        if keep_conn:
            # nginx keeps idle upstream connections and sets FCGI_KEEP_CONN.
            derived = (derived.replace(f"server 127.0.0.1:{fcgi_port};",
                                       f"server 127.0.0.1:{fcgi_port};\n    keepalive 4;")
                       .replace("fastcgi_pass pycage_fcgi;",
                                "fastcgi_pass pycage_fcgi;\n        fastcgi_keep_conn on;"))
        derived = "\n".join(line for line in derived.splitlines()
                             if not line.strip().startswith(("ssl_", "listen 127.0.0.1:8443")))
        if f"server 127.0.0.1:{fcgi_port};" not in derived or ":8080" in derived:
            raise pt.Unexpected("nginx/pycage.conf: upstream or listen not found")
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(derived)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"user www-data;\nworker_processes 1;\ndaemon off;\n"
                    f"pid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log warn;\n"
                    f"events {{ worker_connections 64; }}\n"
                    f"http {{ access_log off; include {self.dir}/site.conf; }}\n")
        self.proc = subprocess.Popen(["nginx", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise pt.Unexpected("nginx did not start")
                time.sleep(0.1)

    def execute(self, code, timeout=60):
        return pt.request("POST", pt.EXECUTE, pt.execute_body(code),
                          {"Content-Type": pt.JSON_TYPE}, url=f"http://127.0.0.1:{self.port}",
                          timeout=timeout, pace=False)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def case_nginx_over_tcp():
    """The shipped nginx site with its upstream on 127.0.0.1:port runs code; with
    127.0.0.1 left out of listen_allow, the connection is closed unanswered and nginx
    gives the client its JSON 503 responder_unavailable with Retry-After instead."""
    problems = []
    for allow, served in (("127.0.0.1", True), (OTHER_PEER, False)):
        port = free_port()
        r = Responder("listen-nginx", listen=f"127.0.0.1:{port}", listen_allow=allow)
        try:
            web = Nginx(port)
            try:
                answer = web.execute("print('via nginx')")
            finally:
                web.stop()
        finally:
            r.stop()
        if served:
            got = run_problems(answer, "via nginx\n")
        else:
            doc = pt.parse_json(answer.body)
            code = doc.get("error", {}).get("code") if isinstance(doc, dict) else None
            got = [] if (answer.status == 503 and code == "responder_unavailable" and
                         "retry-after" in answer.headers) else [
                f"expected 503 responder_unavailable with Retry-After: {answer.status} "
                f"{answer.headers} {pt.show(answer.body)}"]
        problems += [f"listen_allow {allow}: {p}" for p in got]
    return problems


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def case_keep_conn():
    """A peer that sets FCGI_KEEP_CONN keeps its connection: a second request on it is
    answered too; once the peer closes it, nothing is left behind (30 such connections
    do not grow the front's descriptors)."""
    r = Responder("listen-keepconn")
    try:
        problems = []
        pt.fcgi_request(pt.fcgi_params("GET", pt.HEALTH), socket_path=r.socket)
        before = open_fds(r.proc.pid)
        for i in range(KEEP_CONN_REQUESTS):
            sock = pt.fcgi_connect(r.socket, timeout=10)
            try:
                for n in (1, 2):
                    sock.sendall(pt.fcgi_encode_request(pt.fcgi_params("GET", pt.HEALTH),
                                                        flags=pt.FCGI_KEEP_CONN))
                    answer = pt.fcgi_read_answer(sock)
                    if b"200 OK" not in bytes(answer.stdout)[:40]:
                        problems.append(f"connection {i}, request {n}: "
                                        f"{pt.show(bytes(answer.stdout))}")
            except (OSError, pt.Unexpected) as exc:
                problems.append(f"connection {i}: {exc}")
            finally:
                sock.close()
            if problems:
                break
        time.sleep(0.5)
        after = open_fds(r.proc.pid)
        if after > before + 2:
            problems.append(f"the front holds {after} descriptors after "
                            f"{KEEP_CONN_REQUESTS} kept connections, {before} before")
        return problems
    finally:
        r.stop()


def case_nginx_keep_conn():
    """nginx with fastcgi_keep_conn on and an upstream keepalive: ten runs in a row all
    answer on kept connections (one the front no longer read would hang the second, and
    one it closed after each answer would now and then be reused by nginx: a 502)."""
    port = free_port()
    r = Responder("listen-nginx-keep", listen=f"127.0.0.1:{port}")
    problems = []
    try:
        web = Nginx(port, keep_conn=True)
        try:
            for i in range(10):
                try:
                    answer = web.execute(f"print({i})", timeout=20)
                except OSError as exc:
                    problems.append(f"run {i}: {exc}")
                    break
                problems += [f"run {i}: {p}" for p in run_problems(answer, f"{i}\n")]
        finally:
            web.stop()
    finally:
        r.stop()
    return problems


def cpu_seconds(pid):
    """utime + stime of the whole process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def front_nofile(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return tuple(int(x) for x in line.split()[3:5])
    raise pt.Unexpected("no 'Max open files' in /proc/PID/limits")


def set_front_nofile(pid, soft, hard):
    """prlimit on the front. Root here may lack CAP_SYS_RESOURCE, which changing another
    user's limits needs, so it is done as the front's own uid and gid (which may)."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                ids[key] = int(value.split()[0])
    subprocess.run(["/usr/bin/python3", "-c", "import resource; resource.prlimit("
                    f"{pid}, resource.RLIMIT_NOFILE, ({soft}, {hard}))"],
                   user=ids["Uid"], group=ids["Gid"], extra_groups=[], check=True,
                   timeout=10, capture_output=True)


def case_out_of_descriptors():
    """With its descriptors used up, the front's idle workers pause instead of spinning
    on accept (which fails at once, the connection staying queued), log that at most
    once a second, and serve again once descriptors are free."""
    r = Responder("listen-emfile")
    problems, held = [], []
    try:
        pt.fcgi_request(pt.fcgi_params("GET", pt.HEALTH), socket_path=r.socket)
        pid = r.proc.pid
        soft, hard = front_nofile(pid)
        set_front_nofile(pid, open_fds(pid) + 1, hard)
        try:
            # One connection takes the last descriptor (its worker waits for params);
            # the next ones stay queued while the other workers' accepts fail.
            for _ in range(4):
                held.append(pt.fcgi_connect(r.socket, timeout=10))
            time.sleep(0.5)
            start = cpu_seconds(pid)
            time.sleep(EMFILE_WATCH_S)
            used = cpu_seconds(pid) - start
            if used > EMFILE_CPU_MAX_S:
                problems.append(f"the front used {used:.2f} s of CPU in {EMFILE_WATCH_S} s "
                                "with no descriptor left (spinning on accept)")
        finally:
            for sock in held:
                sock.close()
            set_front_nofile(pid, soft, hard)
        health = r.call("GET", pt.HEALTH)
        if health.status != 200:
            problems.append(f"after descriptors were freed: health {health.status}")
        said = [line for line in r.log_lines() if "accept: Too many open files" in line]
        if not 1 <= len(said) <= EMFILE_WATCH_S + 2:
            problems.append(f"{len(said)} 'accept: Too many open files' log lines in "
                            f"about {EMFILE_WATCH_S} s, expected 1 to {EMFILE_WATCH_S + 2}")
        return problems
    finally:
        r.stop()


def case_listen_refused_at_start():
    """An address that would listen everywhere without saying so, or a name, stops
    start-up with file:line (-t, no engine needed)."""
    problems = []
    for value, reason in ((":9000", "'' is not an IPv4 address"),
                          ("localhost:9000", "'localhost' is not an IPv4 address")):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(f"workers = 4\nlisten = {value}\n")
        result = subprocess.run([FCGI_BIN, "-t", "-c", f.name], capture_output=True,
                                text=True, timeout=10)
        os.unlink(f.name)
        if result.returncode == 0:
            problems.append(f"listen = {value} was accepted")
        elif f"{f.name}:2: listen: {reason}" not in result.stderr:
            problems.append(f"listen = {value}: message {result.stderr!r}")
    return problems


CASES = [
    ("listen on 127.0.0.1:port: health and a run answer over TCP", case_tcp_serves),
    ("a peer not in listen_allow is closed unanswered, counted, logged sparingly; "
     "an allowed one still runs code", case_peer_not_allowed),
    ("listen_allow takes networks (a.b.c.d/n)", case_network_allowed),
    ("the shipped nginx site over TCP: served; a peer left out gets nginx's JSON 503",
     case_nginx_over_tcp),
    ("FCGI_KEEP_CONN: a kept connection serves a second request; none is left behind",
     case_keep_conn),
    ("nginx with fastcgi_keep_conn on: runs in a row all answer", case_nginx_keep_conn),
    ("out of descriptors, the front's workers pause instead of spinning, and recover",
     case_out_of_descriptors),
    ("listen = :port or a host name stops start-up with file:line",
     case_listen_refused_at_start),
]


if ASAN:
    CASES.append(("no sanitizer report from any responder started here",
                  case_no_sanitizer_reports))


if __name__ == "__main__":
    pt.run_cases(CASES)
