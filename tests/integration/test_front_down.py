#!/usr/bin/python3
"""The front's own answers when the responder fails it, in JSON, byte for byte nginx's.

A second instance of the front in use (PYCAGE_FRONT: nginx or apache), started by the real
scripts (scripts/common.sh's install_config and start_front, with PYCAGE_CONF_DIR,
PYCAGE_RUN_DIR, PYCAGE_LOG_DIR, the ports and PYCAGE_SOCKET moved to a directory of its own,
and the read timeout to 2 s by PYCAGE_READ_TIMEOUT), so the service is not disturbed:
- no responder on the socket: GET /v1/health over HTTP and HTTPS is 503
  responder_unavailable with Retry-After: 5;
- a responder that takes the connection and closes it unanswered: 503
  responder_unavailable too (nginx's 502 is answered as 503; Apache answers 503 itself);
- a responder that takes the request and never answers: 504 gateway_timeout once the read
  timeout has passed;
- the ports handed from one front to the other (start_front, as scripts/check.sh does between
  its nginx and Apache phases) when the stopped front's pidfile is no longer trusted (its time
  an hour back, as a step of the clock makes it look; the pidfile check then calls the front
  gone): the other front still starts and serves, both ways.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Front:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pycage-front-down-")
        os.chmod(self.dir, 0o755)
        self.http = f"127.0.0.1:{free_port()}"
        self.https = f"127.0.0.1:{free_port()}"
        self.env = dict(os.environ, PYCAGE_CONF_DIR=self.dir, PYCAGE_RUN_DIR=self.dir,
                        PYCAGE_LOG_DIR=self.dir, PYCAGE_HTTP=self.http,
                        PYCAGE_HTTPS=self.https, PYCAGE_FRONT=pt.FRONT,
                        PYCAGE_SOCKET=os.path.join(self.dir, "responder.sock"),
                        PYCAGE_READ_TIMEOUT=str(READ_TIMEOUT_S))
        self.socket = self.env["PYCAGE_SOCKET"]

    def run(self, shell):
        return subprocess.run(["bash", "-c", f". {TOP}/scripts/common.sh; {shell}"],
                              env=self.env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def start(self):
        result = self.run("install_config && start_front")
        if result.returncode != 0:
            raise pt.Unexpected(f"{pt.FRONT} did not start: {result.stderr[-1500:]}")

    def stop(self):
        self.run("stop_nginx; stop_apache")
        shutil.rmtree(self.dir, ignore_errors=True)


READ_TIMEOUT_S = 2


class FakeResponder:
    """A unix socket the front can reach (mode 0666) whose peer either closes each
    connection at once ("close") or reads the request and never answers ("hang")."""

    def __init__(self, path, behaviour):
        self.behaviour = behaviour
        self.held = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(16)
        self.path = path
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.behaviour == "close":
                conn.close()
            else:
                conn.settimeout(0.5)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
                self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()
        os.unlink(self.path)


def fake_responder_problems(front, behaviour, status, code):
    fake = FakeResponder(front.socket, behaviour)
    try:
        started = time.monotonic()
        response = pt.request("GET", pt.HEALTH, url=f"http://{front.http}",
                              timeout=READ_TIMEOUT_S + 20, pace=False)
        took = time.monotonic() - started
    finally:
        fake.close()
    problems = pt.error_problems(response, status, code)
    problems += pt.front_body_problems(response.body, code)
    if behaviour == "hang" and not READ_TIMEOUT_S - 0.5 <= took <= READ_TIMEOUT_S + 5:
        problems.append(f"answered after {took:.1f} s; the read timeout is {READ_TIMEOUT_S} s")
    return problems


def unavailable_problems(url):
    response = pt.request("GET", pt.HEALTH, url=url, timeout=10, pace=False)
    problems = pt.error_problems(response, 503, "responder_unavailable")
    problems += pt.front_body_problems(response.body, "responder_unavailable")
    if response.headers.get("retry-after") != "5":
        problems.append(f"Retry-After {response.headers.get('retry-after')!r}, expected '5'")
    return problems


OTHER = {"nginx": "apache", "apache": "nginx"}
PIDFILE = {"nginx": "nginx.pid", "apache": "apache2.pid"}


def handover_problems(front):
    problems = []
    for old, new in ((pt.FRONT, OTHER[pt.FRONT]), (OTHER[pt.FRONT], pt.FRONT)):
        hour_ago = time.time() - 3600
        os.utime(os.path.join(front.dir, PIDFILE[old]), (hour_ago, hour_ago))
        result = front.run(f"start_front {new}")
        if result.returncode != 0:
            return problems + [f"start_front {new} after {old}: {result.stderr[-800:]}"]
        problems += [f"{new}: {p}" for p in unavailable_problems(f"http://{front.http}")]
    return problems


def main():
    tap = pt.start(5)
    front = Front()
    try:
        front.start()
        tap.check(f"{pt.FRONT} with no responder behind it: 503 responder_unavailable over HTTP",
                  unavailable_problems, f"http://{front.http}")
        tap.check(f"{pt.FRONT} with no responder behind it: the same over HTTPS",
                  unavailable_problems, f"https://{front.https}")
        tap.check(f"{pt.FRONT}, a responder that closes unanswered: 503 responder_unavailable",
                  fake_responder_problems, front, "close", 503, "responder_unavailable")
        tap.check(f"{pt.FRONT}, a responder that never answers: 504 gateway_timeout after "
                  f"the read timeout", fake_responder_problems, front, "hang", 504,
                  "gateway_timeout")
        tap.check(f"{pt.FRONT} to {OTHER[pt.FRONT]} and back by start_front, the stopped "
                  f"one's pidfile an hour old: the other starts and serves",
                  handover_problems, front)
    finally:
        front.stop()
    tap.done()


if __name__ == "__main__":
    main()
