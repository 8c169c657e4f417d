#!/usr/bin/python3
"""FastCGI over TCP (`listen = a.b.c.d:port`) and who may use it (`listen_allow`).

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
from test_faults import FCGI_BIN, Responder  # noqa: E402

OTHER_PEER = "127.0.0.2"
REFUSED = 40      # more connections than the responder has workers


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


def metric_value(answer, name):
    for line in answer.body.decode("utf-8", "replace").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


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
        refused = metric_value(r.call("GET", "/v1/metrics", source=OTHER_PEER),
                               "pycage_fcgi_refused_total")
        if refused != REFUSED:
            problems.append(f"pycage_fcgi_refused_total {refused}, expected {REFUSED}")
        r.log.flush()
        with open(r.log.name) as f:
            lines = [line for line in f
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

    def __init__(self, fcgi_port):
        self.dir = tempfile.mkdtemp(prefix="pycage-listen-nginx-")
        self.port = free_port()
        with open(SITE) as f:
            site = f.read()
        derived = (site.replace("server unix:/run/pycage/pycage.sock;",
                                f"server 127.0.0.1:{fcgi_port};")
                   .replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};"))
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

    def execute(self, code):
        return pt.request("POST", pt.EXECUTE, pt.execute_body(code),
                          {"Content-Type": pt.JSON_TYPE}, url=f"http://127.0.0.1:{self.port}",
                          timeout=60, pace=False)

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
    ("listen = :port or a host name stops start-up with file:line",
     case_listen_refused_at_start),
]


if __name__ == "__main__":
    pt.run_cases(CASES)
