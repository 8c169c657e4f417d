#!/usr/bin/python3
"""API keys and fair shares (issue 19, part 3), through the front in use (PYCAGE_FRONT).

A responder of its own (the built binary, its own socket, instance label and uid range,
api_keys_file set) and a second nginx or Apache in front of it, started by the real scripts
(scripts/common.sh's start_responder, install_config and start_front with the run, log and
configuration directories and the ports moved), so the main service is not disturbed:
- `pycage-fcgi --new-key NAME` prints a key once and appends NAME and its SHA-256, never
  the key; a malformed keys file fails `pycage-fcgi -t` with file:line;
- without a key, with a wrong one, or with another scheme, every route but /v1/health is
  401 `unauthorized` with `WWW-Authenticate: Bearer`; with a key the API answers as
  before (so Apache passes Authorization on: CGIPassAuth);
- /v1/health says only {"status": "ok"} without a key, all of it with one; /v1/metrics
  needs a key and names keys (pycage_key_requests_total{key="NAME"}), never shows one;
- the responder's log names the key, never shows it;
- starvation: one key sends long runs (`while True: pass`, timeout 30), as many as there
  are workers that may run code (more than all the slots), and a second key's print(1+1)
  is answered within 2 s, each of several times.  On a first-come queue (main before this,
  or job.c's dispatch ranked by arrival only) the hog held every slot and the second key
  waited for one of its runs to end; without the front's share of its workers
  (request.c) the hog held every worker and the second key was refused 503 busy at once.
"""

import hashlib
import json
import os
import re
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
FCGI_BIN = os.environ.get("PYCAGE_FCGI_BIN", "/usr/local/sbin/pycage-fcgi")
EXECUTOR_BIN = os.environ.get("PYCAGE_EXECUTOR_BIN",
                              "/usr/local/libexec/pycage/pycage-executor")
IMAGE = os.environ.get("PYCAGE_IMAGE", "pycage-sandbox:latest")
INSTANCE = os.environ.get("PYCAGE_KEYS_INSTANCE", f"keys-{os.getpid()}")
# Off the main service's range (200000), test_faults.py's (310000, 320000, 400000 + 100 n),
# test_supervise.py's (470000), test_service_files.py's (480000), test_flood.py's (600900).
UID_BASE = int(os.environ.get("PYCAGE_KEYS_UID_BASE", "490000"))
START_WAIT_S = 30
MAX_EXECUTIONS = 4          # so the default share is 2
WORKERS = 16
EXEC_WORKERS = WORKERS - 2  # health_workers 2 by default
HOG_RUNS = EXEC_WORKERS     # every worker that may run code: the front's share counts too
HOG_TIMEOUT_S = 30
ANSWER_WITHIN_S = 2.0
PROBES = 5
KEY_RE = re.compile(r"^pycage_[0-9a-f]{64}$")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A responder with api_keys_file and the front in use, on paths and ports of its own."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pycage-keys-")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "pycage.sock")
        self.log = os.path.join(self.dir, "pycage-fcgi.log")
        self.config = os.path.join(self.dir, "pycage.conf")
        self.keys_file = os.path.join(self.dir, "keys")
        settings = {
            "listen": self.socket, "socket_mode": "0660", "socket_group": "www-data",
            "pidfile": os.path.join(self.dir, "pycage-fcgi.pid"), "instance": INSTANCE,
            "image": IMAGE, "executor_path": EXECUTOR_BIN, "uid_base": str(UID_BASE),
            "max_executions": str(MAX_EXECUTIONS), "pool_size": "1", "pool_preload": "",
            "workers": str(WORKERS),
            # A tenth of a CPU each: the hog's busy loops then leave the CPU to the engine and
            # the other key's run, so the case measures the queue, not a loaded machine.
            "cpu_millis": "100",
            "front_chroot": os.path.join(self.dir, "empty"),
            "api_keys_file": self.keys_file,
        }
        if os.environ.get("PYCAGE_RESPONDER_ASAN") == "1":
            settings["front_user"] = ""       # LeakSanitizer needs /proc (scripts/asan.sh)
        with open(self.config, "w") as f:
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())
        self.http = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.http}"
        self.env = dict(os.environ, PYCAGE_RUN_DIR=self.dir, PYCAGE_LOG_DIR=self.dir,
                        PYCAGE_CONF_DIR=self.dir, PYCAGE_FCGI_BIN=FCGI_BIN,
                        PYCAGE_SOCKET=self.socket, PYCAGE_HTTP=self.http,
                        PYCAGE_HTTPS=f"127.0.0.1:{free_port()}", PYCAGE_FRONT=pt.FRONT)
        self.keys = {}

    def run(self, shell, timeout=120):
        return subprocess.run(["bash", "-c", f". {TOP}/scripts/common.sh; {shell}"],
                              env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        self.run("stop_nginx; stop_apache; stop_responder", timeout=180)
        shutil.rmtree(self.dir, ignore_errors=True)

    def get(self, path, key=None, scheme="Bearer", timeout=30):
        headers = {} if key is None else {"Authorization": f"{scheme} {key}"}
        return pt.request("GET", path, headers=headers, url=self.url, timeout=timeout)

    def execute(self, code, key=None, timeout=None, pace=True):
        headers = {"Content-Type": pt.JSON_TYPE}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        wait_s = timeout if timeout is not None else pt.DEFAULT_EXEC_TIMEOUT_S
        return pt.request("POST", pt.EXECUTE, pt.execute_body(code, timeout=timeout), headers,
                          url=self.url, timeout=wait_s + pt.HTTP_SLACK_S, pace=pace)


# ---------------------------------------------------------------- cases

def case_new_key(stack):
    """--new-key NAME, three times: a key printed once, its SHA-256 appended under NAME."""
    problems = []
    for name in ("alice", "bob", "hog"):
        made = subprocess.run([FCGI_BIN, "-c", stack.config, "--new-key", name],
                              capture_output=True, text=True, timeout=30)
        key = made.stdout.strip()
        if made.returncode != 0 or not KEY_RE.match(key):
            problems.append(f"--new-key {name}: status {made.returncode}, stdout "
                            f"{pt.show(made.stdout)}, stderr {pt.show(made.stderr)}")
            continue
        stack.keys[name] = key
    with open(stack.keys_file) as f:
        text = f.read()
    expected = "".join(f"{name} {hashlib.sha256(key.encode()).hexdigest()}\n"
                       for name, key in stack.keys.items())
    if text != expected:
        problems.append(f"keys file: expected {pt.show(expected)}, got {pt.show(text)}")
    if any(key in text for key in stack.keys.values()):
        problems.append("a key itself is in the keys file")
    if oct(os.stat(stack.keys_file).st_mode & 0o777) != "0o600":
        problems.append(f"keys file mode {oct(os.stat(stack.keys_file).st_mode & 0o777)}")
    again = subprocess.run([FCGI_BIN, "-c", stack.config, "--new-key", "alice"],
                           capture_output=True, text=True, timeout=30)
    if again.returncode == 0 or "already" not in again.stderr:
        problems.append(f"a second key named alice: status {again.returncode}, "
                        f"{pt.show(again.stderr)}")
    return problems


def case_bad_keys_file(stack):
    """A malformed keys file fails the configuration check with file:line."""
    bad = os.path.join(stack.dir, "bad-keys")
    with open(bad, "w") as f:
        f.write("# fine\nalice " + "0" * 63 + "\n")
    os.chmod(bad, 0o600)
    config = os.path.join(stack.dir, "bad.conf")
    with open(stack.config) as f, open(config, "w") as out:
        out.write(f.read().replace(stack.keys_file, bad))
    checked = subprocess.run([FCGI_BIN, "-t", "-c", config], capture_output=True, text=True,
                             timeout=30)
    if checked.returncode == 0 or f"{bad}:2: the hash is 64 hex digits" not in checked.stderr:
        return [f"pycage-fcgi -t: status {checked.returncode}, {pt.show(checked.stderr)}"]
    return []


def case_start(stack):
    started = stack.run(f"start_responder {stack.config}", timeout=START_WAIT_S + 30)
    if started.returncode != 0:
        return [f"start_responder failed: {started.stderr[-1500:]}",
                f"log: {stack.log_text()[-2000:]}"]
    front = stack.run("install_config && start_front && wait_healthy", timeout=180)
    if front.returncode != 0:
        return [f"{pt.FRONT} did not start: {front.stderr[-1500:]}"]
    return []


def unauthorized_problems(response):
    problems = pt.error_problems(response, 401, "unauthorized")
    challenge = response.headers.get("www-authenticate", "")
    if not challenge.startswith("Bearer"):
        problems.append(f"WWW-Authenticate: expected Bearer ..., got {challenge!r}")
    return problems


def case_401(stack):
    """No key, a wrong key, another scheme: 401 on execute, runtime, metrics, unknown paths."""
    need(stack)
    problems = []
    attempts = [(None, "Bearer"), ("pycage_" + "0" * 64, "Bearer"),
                (stack.keys["alice"], "Basic"), (stack.keys["alice"] + "x", "Bearer"),
                (hashlib.sha256(stack.keys["alice"].encode()).hexdigest(), "Bearer")]
    for key, scheme in attempts:
        what = f"{scheme} {'no key' if key is None else key[:12] + '...'}"
        headers = {"Content-Type": pt.JSON_TYPE}
        if key is not None:
            headers["Authorization"] = f"{scheme} {key}"
        response = pt.request("POST", pt.EXECUTE, pt.execute_body("print(1+1)"), headers,
                              url=stack.url)
        problems += [f"POST /v1/execute, {what}: {p}" for p in unauthorized_problems(response)]
    for path in ("/v1/runtime", "/v1/metrics", "/v1/nope"):
        response = stack.get(path)
        problems += [f"GET {path} without a key: {p}" for p in unauthorized_problems(response)]
    return problems


def case_key_runs(stack):
    """With a key the API answers as before: a run, /v1/runtime, a 404."""
    need(stack)
    problems = []
    response = stack.execute("print(1+1)", key=stack.keys["alice"])
    if response.status != 200 or pt.parse_json(response.body).get("stdout") != "2\n":
        problems.append(f"execute with alice's key: {response.status} {pt.show(response.body)}")
    response = stack.get("/v1/runtime", stack.keys["bob"])
    if response.status != 200:
        problems.append(f"GET /v1/runtime with bob's key: {response.status}")
    response = stack.get("/v1/nope", stack.keys["bob"])
    problems += [f"GET /v1/nope with a key: {p}"
                 for p in pt.error_problems(response, 404, "not_found")]
    return problems


def case_mcp(stack):
    """POST /mcp takes the same key: 401 without one (before any JSON-RPC), a
    tools/call with one, run under the key's name (the log's line)."""
    need(stack)
    problems = []
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "run_python", "arguments": {"code": "print(6*7)"}}}
    base = {"Content-Type": pt.JSON_TYPE, "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25"}
    body = json.dumps(call).encode()
    for what, extra in (("no key", {}), ("a wrong key", {"Authorization": "Bearer nope"})):
        response = pt.request("POST", "/mcp", body, dict(base, **extra), url=stack.url)
        problems += [f"POST /mcp, {what}: {p}" for p in unauthorized_problems(response)]
    response = pt.request("POST", "/mcp", body,
                          dict(base, Authorization=f"Bearer {stack.keys['bob']}"), url=stack.url)
    answer = pt.parse_json(response.body) if response.status == 200 else None
    structured = ((answer or {}).get("result") or {}).get("structuredContent") or {}
    if structured.get("stdout") != "42\n":
        problems.append(f"tools/call with bob's key: {response.status} {pt.show(response.body)}")
    log = stack.log_text()
    if not re.search(r"mcp tools/call \S+: ok exit 0 in \d+ ms \(key bob\)", log):
        problems.append("no 'mcp tools/call ...: ok ... (key bob)' line in the log")
    return problems


def case_health(stack):
    """/v1/health: only the status without a key (or with a wrong one), all with a key."""
    need(stack)
    problems = []
    for key in (None, "pycage_" + "1" * 64):
        response = stack.get(pt.HEALTH, key)
        if response.status != 200 or pt.parse_json(response.body) != {"status": "ok"}:
            problems.append(f"health with {'no' if key is None else 'a wrong'} key: "
                            f"{response.status} {pt.show(response.body)}")
    response = stack.get(pt.HEALTH, stack.keys["alice"])
    body = pt.parse_json(response.body) if response.status == 200 else {}
    if not body.get("engine_version") or body.get("max_executions") != MAX_EXECUTIONS:
        problems.append(f"health with a key: {response.status} {pt.show(response.body)}")
    return problems


def case_metrics(stack):
    """/v1/metrics with a key: each key's name as a label, the 401s counted, no key shown."""
    need(stack)
    response = stack.get("/v1/metrics", stack.keys["bob"])
    if response.status != 200:
        return [f"metrics with a key: {response.status} {pt.show(response.body)}"]
    values = pt.parse_metrics(response.body)
    problems = []
    for name in ("alice", "bob", "hog"):
        if f'pycage_key_requests_total{{key="{name}"}}' not in values:
            problems.append(f"no pycage_key_requests_total for {name}")
    # alice: a run and a health; bob: /v1/runtime, a 404 and this request.
    for name, expected in (("alice", 2), ("bob", 3)):
        got = values.get(f'pycage_key_requests_total{{key="{name}"}}')
        if got != expected:
            problems.append(f"{name}'s requests: {got}, expected {expected}")
    if values.get('pycage_requests_total{route="other",code="401"}', 0) < 1:
        problems.append("the 401s are not in pycage_requests_total")
    text = response.body.decode("utf-8", "replace")
    for name, key in stack.keys.items():
        if key in text or hashlib.sha256(key.encode()).hexdigest() in text:
            problems.append(f"{name}'s key or hash is in the metrics")
    return problems


def case_log(stack):
    """The responder's log names the key that ran, and shows no key."""
    need(stack)
    log = stack.log_text()
    problems = []
    if not re.search(r"execute \S+: ok exit 0 in \d+ ms \(key alice\)", log):
        problems.append("no 'execute: ... (key alice)' line in the log")
    if "401 unauthorized" not in log:
        problems.append("no 401 line in the log")
    for name, key in stack.keys.items():
        if key in log or key[:20] in log:
            problems.append(f"{name}'s key is in the log")
    if problems:
        problems.append(f"log: {log[-1500:]}")
    return problems


def case_starvation(stack):
    """One key holds long runs (more than every slot); another key's print(1+1) is answered
    within ANSWER_WITHIN_S, PROBES times in a row."""
    need(stack)
    hog_answers = []

    sent = []

    def hog():
        try:
            pt._pace()
            sent.append(True)
            response = stack.execute("while True: pass", key=stack.keys["hog"],
                                     timeout=HOG_TIMEOUT_S, pace=False)
            hog_answers.append((response.status, pt.parse_json(response.body).get(
                "status", pt.parse_json(response.body).get("error", {}).get("code"))))
        except (OSError, pt.Unexpected) as exc:
            hog_answers.append((type(exc).__name__, str(exc)))

    threads = [threading.Thread(target=hog, daemon=True) for _ in range(HOG_RUNS)]
    for thread in threads:
        thread.start()
    # The hog holds its slots once at least all but one run: a first-come queue gives it all.
    deadline = time.monotonic() + 20
    running = 0
    while time.monotonic() < deadline:
        health = pt.parse_json(stack.get(pt.HEALTH, stack.keys["alice"]).body)
        running = health.get("executions_running", 0)
        if running >= MAX_EXECUTIONS - 1:
            break
        time.sleep(0.2)
    while len(sent) < HOG_RUNS and time.monotonic() < deadline:
        time.sleep(0.1)
    problems = []
    if running < MAX_EXECUTIONS - 1:
        problems.append(f"the hog never held {MAX_EXECUTIONS - 1} slots (running {running})")
    time.sleep(1)       # every hog request has reached a worker or been refused by now
    times = []
    for _ in range(PROBES):
        # A warm container for it, as a service that is not starved has (pool_size 1): what
        # is measured is the wait for a slot, not a cold start on a busy machine.
        pool_wait = time.monotonic() + 10
        while (pt.parse_json(stack.get(pt.HEALTH, stack.keys["alice"]).body).get("pool_ready")
               != 1 and time.monotonic() < pool_wait):
            time.sleep(0.2)
        pt._pace()
        started = time.monotonic()
        try:
            response = stack.execute("print(1+1)", key=stack.keys["bob"], pace=False)
            took = time.monotonic() - started
            stdout = pt.parse_json(response.body).get("stdout")
            status = response.status
        except (OSError, pt.Unexpected) as exc:
            took, stdout, status = time.monotonic() - started, None, type(exc).__name__
        times.append(round(took, 2))
        if status != 200 or stdout != "2\n" or took > ANSWER_WITHIN_S:
            problems.append(f"bob's print(1+1): {status}, stdout {stdout!r}, in {took:.2f} s")
    print(f"# bob's print(1+1) while hog holds its runs, seconds each: {times}", flush=True)
    for thread in threads:
        thread.join(HOG_TIMEOUT_S + pt.HTTP_SLACK_S + 30)
    timed_out = sum(1 for status, what in hog_answers if status == 200 and what == "timeout")
    print(f"# the hog's {HOG_RUNS} runs: {sorted(map(str, hog_answers))}", flush=True)
    # Alone in the queue but for bob, the hog ran all slots but one at once (past its share
    # of 2); the rest were refused busy: by the front, the one that would have taken the
    # last free worker, and by the executor, the others after queue_wait_ms.
    busy = sum(1 for status, what in hog_answers if status == 503 and what == "busy")
    if timed_out != MAX_EXECUTIONS - 1 or busy != HOG_RUNS - timed_out:
        problems.append(f"the hog ran {timed_out} runs, expected {MAX_EXECUTIONS - 1}, the "
                        f"rest 503 busy: {hog_answers}")
    return problems


def case_no_leftovers(stack):
    """Once the hog's runs ended, only the pool's container (pool_size 1) is left."""
    need(stack)
    deadline = time.monotonic() + 15
    while True:
        left = pt.docker_containers(f"{pt.INSTANCE_LABEL}={INSTANCE}")
        if len(left) <= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    return [f"{len(left)} containers of {INSTANCE}: {[c.get('Id', '')[:12] for c in left]}"
            ] if len(left) > 1 else []


_started = []


def need(stack):
    if not _started:
        raise pt.Unexpected("the responder with keys did not start")


def main():
    cases = [
        ("pycage-fcgi --new-key prints a key once and appends its SHA-256 under the name",
         case_new_key),
        ("a malformed keys file fails pycage-fcgi -t with file:line", case_bad_keys_file),
        (f"a responder with api_keys_file starts, {pt.FRONT} in front", case_start),
        ("no key, a wrong key, another scheme: 401 unauthorized with WWW-Authenticate: Bearer",
         case_401),
        (f"with a key the API answers as before (through {pt.FRONT})", case_key_runs),
        ("/v1/health: status only without a key, all of it with one", case_health),
        ("/v1/metrics with a key names keys (pycage_key_requests_total), shows none",
         case_metrics),
        ("the log names the key, shows none", case_log),
        ("POST /mcp: 401 without a key, tools/call with one, logged under its name", case_mcp),
        (f"one key sending {HOG_RUNS} runs of 30 s ({MAX_EXECUTIONS} slots, {EXEC_WORKERS} "
         f"workers that run code): another key's "
         f"print(1+1) is answered within {ANSWER_WITHIN_S} s, {PROBES} times", case_starvation),
        ("no container of the instance left but the pool's", case_no_leftovers),
    ]
    tap = pt.start(len(cases))
    stack = Stack()
    try:
        for desc, case in cases:
            if tap.check(desc, case, stack) and case is case_start:
                _started.append(True)
    finally:
        stack.stop()
    tap.done()


if __name__ == "__main__":
    main()
