#!/usr/bin/python3
"""The front's answer when the responder is not there: 503 responder_unavailable in JSON.

A second instance of the front in use (PYCAGE_FRONT: nginx or apache), started by the real
scripts (scripts/common.sh's install_config and start_front, with PYCAGE_CONF_DIR,
PYCAGE_RUN_DIR, PYCAGE_LOG_DIR, the ports and PYCAGE_SOCKET moved to a directory of its own
and a socket nobody listens on), so the service is not disturbed: GET /v1/health over HTTP
and HTTPS must be 503, byte for byte nginx/pycage.conf's responder_unavailable body, with
Retry-After: 5.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

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
                        PYCAGE_SOCKET=os.path.join(self.dir, "nobody-listens.sock"))

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


def unavailable_problems(url):
    response = pt.request("GET", pt.HEALTH, url=url, timeout=10, pace=False)
    problems = pt.error_problems(response, 503, "responder_unavailable")
    problems += pt.front_body_problems(response.body, "responder_unavailable")
    if response.headers.get("retry-after") != "5":
        problems.append(f"Retry-After {response.headers.get('retry-after')!r}, expected '5'")
    return problems


def main():
    tap = pt.start(2)
    front = Front()
    try:
        front.start()
        tap.check(f"{pt.FRONT} with no responder behind it: 503 responder_unavailable over HTTP",
                  unavailable_problems, f"http://{front.http}")
        tap.check(f"{pt.FRONT} with no responder behind it: the same over HTTPS",
                  unavailable_problems, f"https://{front.https}")
    finally:
        front.stop()
    tap.done()


if __name__ == "__main__":
    main()
