#!/usr/bin/python3
"""A flood is bounded from the moment it arrives (issue 16).

64 clients, each from a loopback address of its own (127.0.0.2 ...: nginx's limits are per
address, 10 r/s and 32 connections, so they do not shape this), send a long run at once
through an nginx of this file's own (127.0.0.1:8380, nginx/pycage.conf with its own
upstream, pid, logs and temp paths) to a responder of its own (test_faults.Responder: 16
workers, 4 slots, queue_wait_ms 3000, no pool).  Every request must be answered within
queue_wait_ms + its own timeout + 5 s, each 503 busy within queue_wait_ms + 1 s, and
GET /v1/health must answer 200 within 1 s throughout, asked every 0.25 s.  It prints what
it measured ("# measured: ...").  The main service is not touched.  ~25 s; runc phase only.
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402
import test_faults as tf  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PORT = 8380
CLIENTS = 64
QUEUE_WAIT_MS = 3000
RUN_TIMEOUT_S = 10
RUN_SLEEP_S = 4
HEALTH_MAX_S = 1.0
UID_BASE = 600900


class OwnNginx:
    """nginx with pycage's site, on PORT, in front of one responder's socket."""

    def __init__(self, socket_path):
        self.dir = tempfile.mkdtemp(prefix="pycage-flood-nginx-")
        os.chmod(self.dir, 0o755)
        with open(os.path.join(TOP, "nginx", "pycage.conf")) as f:
            site = f.read()
        site = site.replace("server unix:/run/pycage/pycage.sock;",
                            f"server unix:{socket_path};")
        site = re.sub(r"listen 127\.0\.0\.1:8080;", f"listen 127.0.0.1:{PORT};", site)
        site = re.sub(r"\n\s*listen 127\.0\.0\.1:8443 ssl;", "", site)
        site = re.sub(r"\n\s*ssl_[a-z_]+\s[^;]*;", "", site)
        if f":{PORT};" not in site or socket_path not in site:
            raise pt.Unexpected("nginx/pycage.conf changed shape: listen or upstream not found")
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site)
        temp = {name: os.path.join(self.dir, name) for name in
                ("client_body", "fastcgi", "proxy", "uwsgi", "scgi")}
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(f"""user root;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {self.dir}/access.log;
    client_body_temp_path {temp['client_body']};
    fastcgi_temp_path {temp['fastcgi']};
    proxy_temp_path {temp['proxy']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {self.dir}/site.conf;
}}
""")
        result = subprocess.run(["nginx", "-c", os.path.join(self.dir, "nginx.conf"),
                                 "-g", "daemon on;"], capture_output=True, text=True)
        if result.returncode != 0:
            raise pt.Unexpected(f"nginx did not start: {result.stderr[-800:]}")

    def stop(self):
        try:
            with open(os.path.join(self.dir, "nginx.pid")) as f:
                pid = int(f.read())
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def http_call(method, path, body=None, source="127.0.0.1", timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout,
                                      source_address=(source, 0))
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def case_flood():
    sockdir = tempfile.mkdtemp(prefix="pycage-flood-")
    os.chmod(sockdir, 0o755)
    r = tf.Responder("flood", listen=os.path.join(sockdir, "fcgi.sock"), workers=16,
                     max_executions=4, queue_wait_ms=QUEUE_WAIT_MS, pool_size=0,
                     uid_base=UID_BASE, timeout_max_s=30)
    nginx = None
    problems = []
    try:
        nginx = OwnNginx(r.socket)
        status, _, body = http_call("GET", pt.HEALTH)
        if status != 200:
            return [f"health before the flood: {status} {pt.show(body)}"]
        code = json.dumps({"code": f"import time\ntime.sleep({RUN_SLEEP_S})\nprint('done')",
                           "timeout": RUN_TIMEOUT_S}).encode()
        answers = [None] * CLIENTS
        flooding = threading.Event()
        flooding.set()

        def client(i):
            sent = time.monotonic()
            try:
                status, headers, body = http_call("POST", pt.EXECUTE, code,
                                                  source=f"127.0.0.{i + 2}", timeout=120)
            except (OSError, http.client.HTTPException) as exc:
                status, headers, body = None, {}, repr(exc).encode()
            answers[i] = (time.monotonic() - sent, status, headers, body)

        healths = []

        def health_poller():
            while flooding.is_set():
                asked = time.monotonic()
                try:
                    status, _, body = http_call("GET", pt.HEALTH, source="127.0.0.200",
                                                timeout=10)
                except (OSError, http.client.HTTPException) as exc:
                    status, body = None, repr(exc).encode()
                healths.append((time.monotonic() - asked, status, body))
                time.sleep(max(0, 0.25 - (time.monotonic() - asked)))

        poller = threading.Thread(target=health_poller)
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        poller.start()
        for t in threads:
            t.join(180)
        flooding.clear()
        poller.join(30)
        total_s = time.monotonic() - started

        bound_s = QUEUE_WAIT_MS / 1000 + RUN_TIMEOUT_S + 5
        busy_bound_s = QUEUE_WAIT_MS / 1000 + 1
        ok = busy = 0
        for i, a in enumerate(answers):
            if a is None:
                problems.append(f"client {i}: no answer")
                continue
            took, status, headers, body = a
            doc = pt.parse_json(body) if body else None
            code_ = doc.get("error", {}).get("code") if isinstance(doc, dict) else None
            if took > bound_s:
                problems.append(f"client {i}: answered after {took:.1f} s (bound {bound_s} s)")
            if status == 200:
                ok += 1
            elif status == 503 and code_ == "busy":
                busy += 1
                if took > busy_bound_s:
                    problems.append(f"client {i}: 503 busy after {took:.1f} s "
                                    f"(bound {busy_bound_s} s)")
                if "retry-after" not in headers:
                    problems.append(f"client {i}: 503 busy without Retry-After")
            else:
                problems.append(f"client {i}: {status} {pt.show(body)}")
        slow = [h for h in healths if h[1] != 200 or h[0] > HEALTH_MAX_S]
        for took, status, body in slow[:5]:
            problems.append(f"health answered {status} in {took:.2f} s during the flood: "
                            f"{pt.show(body, 150)}")
        if len(slow) > 5:
            problems.append(f"... {len(slow)} of {len(healths)} health answers late or not 200")
        if not healths:
            problems.append("health was never asked")
        times = sorted(a[0] for a in answers if a is not None)
        busy_times = sorted(a[0] for a in answers if a is not None and a[1] == 503)
        health_times = sorted(h[0] for h in healths)
        print(f"# measured: flood of {CLIENTS}: {ok} answered 200, {busy} 503 busy in "
              f"{total_s:.1f} s; slowest answer {times[-1] if times else -1:.1f} s; 503 busy "
              f"from {busy_times[0] if busy_times else -1:.2f} to "
              f"{busy_times[-1] if busy_times else -1:.2f} s; health {len(healths)} times, "
              f"slowest {health_times[-1] if health_times else -1:.3f} s", flush=True)
        if ok == 0:
            problems.append("no run answered 200")
        return problems
    finally:
        if nginx is not None:
            nginx.stop()
        r.stop()
        shutil.rmtree(sockdir, ignore_errors=True)


CASES = [
    ("64 concurrent long runs: each answered within queue_wait_ms + timeout + 5 s, each "
     "503 busy within queue_wait_ms + 1 s, health 200 within 1 s throughout", case_flood),
]


if __name__ == "__main__":
    if os.geteuid() != 0 or shutil.which("nginx") is None:
        print("1..0 # SKIP needs root and nginx", flush=True)
        sys.exit(0)
    if os.environ.get("PYCAGE_RUNTIME") == "runsc" or tf.ASAN:
        print("1..0 # SKIP runs in the runc phase only", flush=True)
        sys.exit(0)
    pt.run_cases(CASES)
