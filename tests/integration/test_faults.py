#!/usr/bin/python3
"""Faults the real engine can be made to show, on extra pycage-fcgi processes.

Each case starts its own responder (the built binary, PYCAGE_FCGI_BIN) with a temporary
config on its own socket and instance label, so the main service is not disturbed, and
talks FastCGI to it directly: the engine unreachable (a socket path that does not exist),
the image missing, every execution slot busy, leftovers removed at start (after a
responder was SIGKILLed mid-run) and by the periodic sweep, the pool emptied on SIGTERM,
and a bad configuration refused at start with file and line.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import re
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

FCGI_BIN = os.environ.get("PYCAGE_FCGI_BIN", "/usr/local/sbin/pycage-fcgi")
EXECUTOR_BIN = os.environ.get("PYCAGE_EXECUTOR_BIN",
                              "/usr/local/libexec/pycage/pycage-executor")
IMAGE = os.environ.get("PYCAGE_IMAGE", "pycage-sandbox:latest")
# The profile every Responder here runs under (config.c's default seccomp_profile).
SECCOMP_PROFILE = "/etc/pycage/seccomp.json"
EXPIRES_LABEL = "org.pycage.expires"
START_WAIT_S = 10
# Under the sanitizer build (scripts/check.sh): the front stays unseparated unless a case
# says otherwise, as in scripts/asan.sh, because LeakSanitizer cannot run in the front's
# chroot (no /proc); every responder's log is read for reports at the end.
ASAN = os.environ.get("PYCAGE_RESPONDER_ASAN") == "1"
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                              r"Sanitizer CHECK failed|LeakSanitizer has encountered")
HOSTILE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile", "cases")
PRELOAD_FAILS_MAX = 6     # retries after 1, 2, 4, 8 s: 4 or 5 in 10 s


class Responder:
    """A pycage-fcgi process with its own config, socket, instance label and uid range."""

    started = 0
    logs = []               # every responder's log, for case_no_sanitizer_reports
    outputs = []            # (command, output) of run_program()

    def __init__(self, instance, **settings):
        self.dir = tempfile.mkdtemp(prefix="pycage-faults-")
        # Removed when the test file ends: cases read the log after stop().
        atexit.register(shutil.rmtree, self.dir, True)
        self.instance = instance
        listen = str(settings.get("listen", os.path.join(self.dir, "fcgi.sock")))
        # A unix socket path, or (host, port) for one listening on TCP.
        self.socket = listen
        if not listen.startswith("/"):
            host, port = listen.rsplit(":", 1)
            self.socket = (host, int(port))
        config = {
            "listen": listen, "socket_mode": "0600", "socket_group": "",
            "pidfile": os.path.join(self.dir, "pid"), "instance": instance,
            "image": IMAGE, "pool_size": "0", "workers": "4",
            "executor_path": EXECUTOR_BIN,
            # Off the main service's range (200000): overlapping ranges are refused.
            "uid_base": str(400000 + 100 * Responder.started),
        }
        if ASAN:
            config["front_user"] = ""
        Responder.started += 1
        config.update({k: str(v) for k, v in settings.items()})
        self.config = os.path.join(self.dir, "pycage.conf")
        with open(self.config, "w") as f:
            f.writelines(f"{k} = {v}\n" for k, v in config.items())
        self.log = open(os.path.join(self.dir, "log"), "w+")
        Responder.logs.append(self.log.name)
        # A session of its own: SIGKILL goes to both processes (front, executor).
        self.proc = subprocess.Popen([FCGI_BIN, "-c", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + START_WAIT_S
        while not self.listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise pt.Unexpected(f"responder did not start: {self.log_text()}")
            time.sleep(0.05)

    def listening(self):
        if isinstance(self.socket, str):
            return os.path.exists(self.socket)
        # Over TCP: the port accepts (the log says so once the front is up).
        return "listening on" in self.log_text()

    def log_lines(self):
        """Every line the responder logged so far."""
        self.log.flush()
        with open(self.log.name) as f:
            return f.read().splitlines()

    def log_text(self):
        """The log's last 2000 characters, for messages."""
        return "\n".join(self.log_lines())[-2000:]

    def call(self, method, path, body=b"", timeout=40, source=None):
        params = pt.fcgi_params(method, path, "application/json",
                                len(body) if body else None)
        return pt.fcgi_request(params, body, socket_path=self.socket, timeout=timeout,
                               source=source)

    def execute(self, code, timeout_s=None, source=None):
        doc = {"code": code}
        if timeout_s is not None:
            doc["timeout"] = timeout_s
        return self.call("POST", pt.EXECUTE, json.dumps(doc).encode(), source=source)

    def stop(self, sig=signal.SIGTERM, wait_s=40):
        if self.proc.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def run_program(argv, timeout):
    """One of the built programs run to its end (start-up checks); its output is kept for
    case_no_sanitizer_reports."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    Responder.outputs.append((" ".join(argv), result.stdout + result.stderr))
    return result


def instance_containers(instance):
    return pt.docker_containers(f"{pt.INSTANCE_LABEL}={instance}")


def instance_events(instance, since, until):
    """The engine's container events for one instance between two unix times, oldest
    first (API 1.41 /events: one JSON object a line; with until it ends by itself)."""
    filters = urllib.parse.quote(json.dumps(
        {"type": ["container"], "label": [f"{pt.INSTANCE_LABEL}={instance}"]}))
    body = pt.docker_get_bytes(f"/v1.41/events?since={since:.3f}&until={until:.3f}"
                               f"&filters={filters}", 30)
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def docker_post(path, doc=None):
    conn = pt._UnixHTTPConnection(pt.DOCKER_SOCKET, 30)
    try:
        body = json.dumps(doc).encode() if doc is not None else b""
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def docker_delete(cid):
    conn = pt._UnixHTTPConnection(pt.DOCKER_SOCKET, 30)
    try:
        conn.request("DELETE", f"/v1.41/containers/{cid}?force=1")
        conn.getresponse().read()
    finally:
        conn.close()


def make_leftover(instance, expires=None):
    """A stopped container that looks like one of pycage's, as a killed responder leaves.

    expires: the unix time its creator said no owner can use it after (the label every
    pycage container carries); None for a container of an older pycage, without it.
    """
    labels = {pt.MANAGED_LABEL: "1", pt.INSTANCE_LABEL: instance}
    if expires is not None:
        labels[EXPIRES_LABEL] = str(int(expires))
    status, body = docker_post("/v1.41/containers/create", {
        "Image": IMAGE, "Cmd": [], "NetworkDisabled": True, "Labels": labels,
        "HostConfig": {"NetworkMode": "none"}})
    if status != 201:
        raise pt.Unexpected(f"create: HTTP {status} {pt.show(body)}")
    return json.loads(body)["Id"]


def wait_gone(instance, wait_s):
    deadline = time.monotonic() + wait_s
    while instance_containers(instance):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def error_problems(answer, status, code, retry_after=False):
    problems = []
    if answer.status != status:
        problems.append(f"status {answer.status}, expected {status}: {pt.show(answer.body)}")
    doc = pt.parse_json(answer.body)
    got = doc.get("error", {}).get("code") if isinstance(doc, dict) else None
    if got != code:
        problems.append(f"error.code {got!r}, expected {code!r}")
    if retry_after and "retry-after" not in answer.headers:
        problems.append(f"no Retry-After header: {answer.headers}")
    return problems


def case_engine_down():
    r = Responder("faults-down", docker_socket="/nonexistent/docker.sock")
    try:
        return (error_problems(r.call("GET", pt.HEALTH), 503, "engine_unavailable", True) +
                error_problems(r.execute("print(1)"), 503, "engine_unavailable", True))
    finally:
        r.stop()


def case_image_missing():
    r = Responder("faults-image", image="pycage-no-such-image:latest")
    try:
        return (error_problems(r.call("GET", pt.HEALTH), 503, "image_missing", True) +
                error_problems(r.execute("print(1)"), 503, "image_missing", True))
    finally:
        r.stop()


def case_busy():
    r = Responder("faults-busy", max_executions=1, queue_wait_ms=300)
    try:
        slow = {}
        thread = threading.Thread(target=lambda: slow.update(
            answer=r.execute("import time\ntime.sleep(4)\nprint('slow')", 10)))
        thread.start()
        time.sleep(1.5)        # the slow run holds the only slot by now
        problems = error_problems(r.execute("print(1)"), 503, "busy", True)
        thread.join(30)
        answer = slow.get("answer")
        if answer is None or answer.status != 200:
            problems.append(f"the slow run did not answer 200: {answer}")
        return problems
    finally:
        r.stop()


def case_killed_responder_leftovers():
    """SIGKILL both processes mid-run: the container stays; the next start removes it."""
    instance = "faults-kill"
    first = Responder(instance)
    def doomed_run():
        try:
            first.execute("import time\ntime.sleep(25)", 30)
        except (OSError, pt.Unexpected):
            pass            # the responder is killed under it: expected
    thread = threading.Thread(target=doomed_run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance_containers(instance):
        if time.monotonic() > deadline:
            first.stop(signal.SIGKILL)
            return ["the run's container never appeared"]
        time.sleep(0.2)
    first.stop(signal.SIGKILL)
    problems = []
    if not instance_containers(instance):
        problems.append("the container vanished with the responder: nothing left to sweep")
    second = Responder(instance)
    try:
        if not wait_gone(instance, 10):
            problems.append(f"leftover still there 10 s after restart: {second.log_text()}")
    finally:
        second.stop()
    return problems


def case_periodic_sweep():
    """The sweep judges each container by the expiry its creator wrote, not by its own limits.

    Three containers of other instances, all older than the sweeper's own
    timeout_max_s (1) + janitor_grace_s (0): one whose expiry has passed and one of an
    older pycage without the label must go; one whose creator still allows it an hour
    (a waiting pool container, a long run of an instance with larger limits) must stay.
    """
    now = time.time()
    expired = make_leftover("faults-sweep-expired", now - 1)
    unlabelled = make_leftover("faults-sweep-unlabelled")
    alive = make_leftover("faults-sweep-alive", now + 3600)
    time.sleep(2.5)
    r = Responder("faults-sweeper", timeout_default_s=1, timeout_max_s=1,
                  janitor_interval_s=1, janitor_grace_s=0)
    problems = []
    try:
        for instance, cid in (("faults-sweep-expired", expired),
                              ("faults-sweep-unlabelled", unlabelled)):
            if not wait_gone(instance, 10):
                problems.append(f"{cid[:12]} ({instance}) not swept within 10 s: "
                                f"{r.log_text()}")
        time.sleep(2.5)   # two more sweeps
        if not instance_containers("faults-sweep-alive"):
            problems.append(f"{alive[:12]} removed although its expiry is an hour away")
        return problems
    finally:
        r.stop()
        docker_delete(alive)


def case_sigterm_idle_kept_connection():
    """SIGTERM while a run is in flight and another peer holds a kept connection
    (FCGI_KEEP_CONN) idle between requests: the run is answered, the idle connection is
    closed at once (not after its 15 s read timeout), and the responder exits 0."""
    r = Responder("faults-kept-stop")
    problems = []
    sock = pt.fcgi_connect(r.socket)
    closed_at = []

    def watch_kept():
        sock.settimeout(30)
        try:
            sock.recv(1)
        except OSError:
            pass
        closed_at.append(time.monotonic())

    try:
        problems += pt.fcgi_keep_health(sock)
        watcher = threading.Thread(target=watch_kept)
        watcher.start()
        result = {}
        run = threading.Thread(target=lambda: result.update(
            answer=r.execute("import time\ntime.sleep(2)\nprint('done')")))
        run.start()
        time.sleep(1)                       # the run is under way
        started = time.monotonic()
        code = r.stop(wait_s=30)
        elapsed = time.monotonic() - started
        run.join()
        watcher.join()
    finally:
        sock.close()
    answer = result.get("answer")
    if answer is None or answer.status != 200 or b'"stdout":"done\\n"' not in answer.body:
        problems.append("the run in flight was not answered: "
                        f"{answer.status if answer else None} "
                        f"{pt.show(answer.body) if answer else ''}")
    if code != 0:
        problems.append(f"exit status {code} on SIGTERM: {r.log_text()}")
    if closed_at[0] - started > 3:
        problems.append(f"the idle kept connection was closed {closed_at[0] - started:.1f} s "
                        "after SIGTERM")
    if elapsed > 12:
        problems.append(f"SIGTERM took {elapsed:.1f} s with an idle kept connection")
    return problems


def case_pool_emptied_on_sigterm():
    instance = "faults-pool"
    r = Responder(instance, pool_size=2, pool_preload="")
    problems = []
    deadline = time.monotonic() + 20
    while len(instance_containers(instance)) < 2:
        if time.monotonic() > deadline:
            problems.append("the pool never filled to 2")
            break
        time.sleep(0.25)
    code = r.stop()
    if code != 0:
        problems.append(f"exit status {code} on SIGTERM: {r.log_text()}")
    left = instance_containers(instance)
    if left:
        problems.append(f"{len(left)} pool container(s) left after SIGTERM")
    return problems


LIAR_IMAGE = "pycage-selfcheck-liar:test"
# Stand-ins for the self-check program that report one limit the
# configuration never asked for: the one fault the real engine cannot be
# made to show on demand (a limit silently not applied).  The shell fills
# in the uid the container really got ($(id -u)).
LIAR_REPORT = ('{"uid": UID, "gid": 65534, "cap_eff": "0000000000000000", "seccomp": "2", '
               '"no_new_privs": "1", "memory": "536870912", "memsw": "536870912", '
               '"swap_v2": "", "cpu_quota": "500000", "cpu_period": "1000000", "cpu_max": "", '
               '"pids": "64", "nproc": 64, "ifaces": ["lo"], "rootfs_ro": true, '
               '"rootfs_errno": 30, "io_uring_errno": 1, "vsock_errno": 1, "vsock_pair_errno": 1, '
               '"ia32": "killed", "x32": "killed", "cpus": 1, "memtotal_kb": 524288}')
LIARS = [  # (what the report says instead, config, the words the refusal must contain)
    ({'"memory": "536870912"': '"memory": "9999"'}, {"uid_base": 0}, b"memory limit"),
    ({'"nproc": 64': '"nproc": 4096'}, {}, b"process limit"),
    # Half a CPU, but counted over Docker's 100 ms instead of the 1 s asked for.
    ({'"cpu_quota": "500000", "cpu_period": "1000000"':
      '"cpu_quota": "50000", "cpu_period": "100000"'}, {}, b"CPU quota"),
]


def build_liar_image(lies, delay_s=0):
    """The image with a python3 that reports LIAR_REPORT with `lies` in it, after delay_s."""
    report = LIAR_REPORT.replace("UID", "$(id -u)")
    for truth, lie in lies.items():
        report = report.replace(truth, lie)
    context = tempfile.mkdtemp(prefix="pycage-liar-")
    try:
        with open(os.path.join(context, "python3"), "w") as f:
            f.write(f"#!/bin/sh\nsleep {delay_s}\n"
                    "echo \"" + report.replace('"', '\\"') + "\"\n")
        os.chmod(os.path.join(context, "python3"), 0o755)
        with open(os.path.join(context, "Dockerfile"), "w") as f:
            f.write(f"FROM {IMAGE}\nCOPY python3 /usr/bin/python3\n")
        result = subprocess.run(["/usr/bin/docker", "build", "-q", "-t", LIAR_IMAGE, context],
                                capture_output=True, text=True, timeout=120,
                                env=dict(os.environ, DOCKER_BUILDKIT="0"))
    finally:
        shutil.rmtree(context, ignore_errors=True)
    if result.returncode != 0:
        raise pt.Unexpected(f"docker build: {result.stderr[-500:]}")


def case_selfcheck_refuses():
    """A limit that did not apply: health and execute answer 503 sandbox_check_failed."""
    problems = []
    for lies, settings, words in LIARS:
        build_liar_image(lies)
        r = Responder("faults-liar", image=LIAR_IMAGE, **settings)
        try:
            health = r.call("GET", pt.HEALTH)
            problems += error_problems(health, 503, "sandbox_check_failed", True)
            if words not in health.body:
                problems.append(f"the message does not name the {words.decode()}: "
                                f"{pt.show(health.body)}")
            problems += error_problems(r.execute("print(1)"), 503, "sandbox_check_failed",
                                       True)
        finally:
            r.stop()
            subprocess.run(["/usr/bin/docker", "rmi", "-f", LIAR_IMAGE], capture_output=True)
    return problems


def case_selfcheck_profile_vsock():
    """A seccomp profile that lets socket() or socketpair() through for every family
    (Docker 20.10's own default did): the real engine applies it, the self-check sees
    AF_VSOCK get past it, 503 naming the call."""
    problems = []
    for call, words in (("socket", b"socket(AF_VSOCK)"), ("socketpair", b"socketpair(AF_VSOCK)")):
        with open(SECCOMP_PROFILE) as f:
            profile = json.load(f)
        everything = next(rule for rule in profile["syscalls"]
                          if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
                          and "read" in rule["names"])
        everything["names"].append(call)
        path = os.path.join(tempfile.mkdtemp(prefix="pycage-seccomp-"), "seccomp.json")
        atexit.register(shutil.rmtree, os.path.dirname(path), True)
        with open(path, "w") as f:
            json.dump(profile, f)
        r = Responder("faults-vsock", seccomp_profile=path)
        try:
            health = r.call("GET", pt.HEALTH)
            problems += [f"{call}: {p}" for p in
                         error_problems(health, 503, "sandbox_check_failed", True)]
            if words not in health.body:
                problems.append(f"the message does not name {words.decode()}: "
                                f"{pt.show(health.body)}")
        finally:
            r.stop()
    return problems


def case_selfcheck_profile_32bit():
    """A seccomp profile that keeps Docker's i386 and x32 sub-ABIs (Docker 20.10's default
    does): the self-check's int $0x80 getpid runs (or, on a kernel without IA32 emulation,
    its x32 getpid gets past the filter), so 503 saying a 32-bit call is not killed."""
    with open(SECCOMP_PROFILE) as f:
        profile = json.load(f)
    for arch in profile["archMap"]:
        if arch["architecture"] == "SCMP_ARCH_X86_64":
            arch["subArchitectures"] = ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    path = os.path.join(tempfile.mkdtemp(prefix="pycage-seccomp-"), "seccomp.json")
    atexit.register(shutil.rmtree, os.path.dirname(path), True)
    with open(path, "w") as f:
        json.dump(profile, f)
    problems = []
    r = Responder("faults-ia32", seccomp_profile=path)
    try:
        health = r.call("GET", pt.HEALTH)
        problems += error_problems(health, 503, "sandbox_check_failed", True)
        if b"system call" not in health.body or b"is not killed" not in health.body:
            problems.append(f"the message does not name the 32-bit call: {pt.show(health.body)}")
    finally:
        r.stop()
    return problems


SLOW_CHECK_S = 6


def case_selfcheck_refresh_aside():
    """While GET /v1/health runs the self-check again (here one that takes SLOW_CHECK_S: a
    truthful report, late), runs keep the last verdict and are not held behind it, and
    health itself answers at once with the last verdict (the check runs on a thread of its
    own: health answers within 1 s whatever is going on, issue 16)."""
    build_liar_image({}, delay_s=SLOW_CHECK_S)
    problems = []
    r = None
    try:
        r = Responder("faults-slowcheck", image=LIAR_IMAGE, selfcheck_max_age_s=1)
        first = r.call("GET", pt.HEALTH)             # the first check: everyone waits for it
        if first.status != 200:
            return [f"the first health: {first.status} {pt.show(first.body)}"]
        time.sleep(1.5)                              # that verdict is old now
        health = {}
        def ask():
            asked = time.monotonic()
            health["r"] = r.call("GET", pt.HEALTH)
            health["s"] = time.monotonic() - asked
        thread = threading.Thread(target=ask)
        thread.start()
        time.sleep(1)                                # the new check is under way
        checking = bool(instance_containers("faults-slowcheck"))
        run_started = time.monotonic()
        answer = r.execute("print(1)")
        run_s = time.monotonic() - run_started
        thread.join()
        health_s = health["s"]
        if answer.status != 200 or pt.parse_json(answer.body).get("stdout") != "1\n":
            problems.append(f"the run: {answer.status} {pt.show(answer.body)}")
        if run_s > SLOW_CHECK_S - 2:
            problems.append(f"the run took {run_s:.1f} s while the check ran: held behind it")
        if health["r"].status != 200:
            problems.append(f"health {health['r'].status}: {pt.show(health['r'].body)}")
        if not checking:
            problems.append("no check container 1 s after health asked: it did not run again")
        if health_s > 1.5:
            problems.append(f"health answered in {health_s:.1f} s: it waited for the check")
    finally:
        if r is not None:
            r.stop()
        subprocess.run(["/usr/bin/docker", "rmi", "-f", LIAR_IMAGE], capture_output=True)
    return problems


def case_selfcheck_passes():
    """The real image under the shipped limits passes the same check."""
    r = Responder("faults-check")
    try:
        answer = r.call("GET", pt.HEALTH)
        if answer.status != 200:
            return [f"health {answer.status}: {pt.show(answer.body)}: {r.log_text()}"]
        log = r.log_text()
        if "every sandbox limit applies" not in log:
            return [f"no passing self-check in the log: {log}"]
        # The 32-bit probes say what they saw: killed, or no IA32 ABI here.
        doors = re.search(r"32-bit system calls: i386 \(int \$0x80\) "
                          r"(killed by seccomp|not tried: no IA32 ABI on this kernel), "
                          r"x32 killed by seccomp", log)
        if not doors:
            return [f"the log does not say how the 32-bit probes ended: {log}"]
        # And the stack it ran on, for the operator matching CVEs to versions.
        return [] if re.search(r"; on Engine [0-9][^,]*, .*runc [0-9]", log) else [
            f"the log does not name the engine's and runc's versions: {log}"]
    finally:
        r.stop()


def case_pool_ages_out():
    """A pool container that waited pool_max_age_s is replaced by a fresh one."""
    instance = "faults-age"
    r = Responder(instance, pool_size=1, pool_preload="", pool_max_age_s=10)
    try:
        deadline = time.monotonic() + 20
        while not instance_containers(instance):
            if time.monotonic() > deadline:
                return ["the pool never filled"]
            time.sleep(0.25)
        first = instance_containers(instance)[0]["Id"]
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            ids = [c["Id"] for c in instance_containers(instance)]
            if first not in ids and ids:
                return []
            time.sleep(0.5)
        return [f"{first[:12]} still pooled (or not replaced) 25 s after it started"]
    finally:
        r.stop()


def case_pool_pauses_when_saturated():
    """While every slot is busy the pool does not refill; when one frees, it does.

    One slot, a pool of one: the run takes the pool's container and holds the only slot
    for 6 s; a container started then would only compete with it for the CPU.
    """
    instance = "faults-saturated"
    r = Responder(instance, pool_size=1, pool_preload="", max_executions=1)
    problems = []
    def pool_ready():
        return b'"pool_ready":1' in r.call("GET", pt.HEALTH).body
    try:
        deadline = time.monotonic() + 20
        while not pool_ready() or len(instance_containers(instance)) != 1:
            if time.monotonic() > deadline:
                return ["the pool never filled (or the self-check's container stayed)"]
            time.sleep(0.25)
        answer = {}
        thread = threading.Thread(target=lambda: answer.update(
            r=r.execute("import time\ntime.sleep(6)\nprint('slept')", 10)))
        thread.start()
        time.sleep(1)
        most = 0
        while thread.is_alive():
            most = max(most, len(instance_containers(instance)))
            time.sleep(0.25)
        thread.join()
        if most != 1:
            problems.append(f"{most} containers during the run, expected 1 "
                            "(the run's own: the pool refilled with the only slot busy)")
        if b"slept" not in answer["r"].body:
            problems.append(f"the run: {pt.show(answer['r'].body)}")
        deadline = time.monotonic() + 15
        while not pool_ready():
            if time.monotonic() > deadline:
                problems.append("the pool did not refill within 15 s after the slot freed")
                break
            time.sleep(0.25)
        return problems
    finally:
        r.stop()


def metrics_of(r, source=None):
    """The responder's /v1/metrics as {series: value}."""
    return pt.parse_metrics(r.call("GET", "/v1/metrics", source=source).body)


def case_pool_waits_for_ready():
    """A pool container joins the pool only once its runner has imported the preload
    (its ready record), so a run never waits for (or is timed on) someone else's import.

    At 0.1 CPU importing numpy and pandas (about 0.4 s of CPU) takes seconds: meanwhile
    the pool counts 0 ready and a run starts its own container; afterwards the next run
    takes the pool's, already warm.
    """
    instance = "faults-ready"
    r = Responder(instance, pool_size=1, pool_preload="numpy,pandas", cpu_millis=100,
                  cpu_period_ms=100)
    problems = []
    try:
        deadline = time.monotonic() + 20
        while not any("--preload" in c.get("Command", "") and c.get("State") == "running"
                      for c in instance_containers(instance)):
            if time.monotonic() > deadline:
                return ["no pool container (Cmd with --preload) is running"]
            time.sleep(0.1)
        time.sleep(1)   # started and attached, its import a second along (of several)
        before = metrics_of(r)
        if before.get("pycage_pool_ready") != 0:
            problems.append(f"pool_ready {before.get('pycage_pool_ready')} while its only "
                            "container is still importing")
        answer = r.execute("print('cold')", 10)
        after = metrics_of(r)
        if b'"stdout":"cold\\n"' not in answer.body:
            problems.append(f"the run during the import: {pt.show(answer.body)}")
        if after.get("pycage_pool_hits_total", 0) != before.get("pycage_pool_hits_total", 0):
            problems.append("the run during the import took the importing container")
        deadline = time.monotonic() + 45
        while metrics_of(r).get("pycage_pool_ready") != 1:
            if time.monotonic() > deadline:
                return problems + [f"the pool container never became ready: {r.log_text()}"]
            time.sleep(0.5)
        answer = r.execute("import sys\nprint('pandas' in sys.modules)", 10)
        if b'"stdout":"True\\n"' not in answer.body:
            problems.append(f"the run on the warm container: {pt.show(answer.body)}")
        if metrics_of(r).get("pycage_pool_hits_total", 0) != \
                after.get("pycage_pool_hits_total", 0) + 1:
            problems.append("the run after the import did not take the pool's container")
        return problems
    finally:
        r.stop()


def case_pool_preload_fails():
    """A preload the runner refuses (the audit hook refuses sqlite3): the container never
    joins the pool, the log says why in the runner's words, and runs start their own.
    The pool retries after 1 s, then 2, 4... however often runs wake it: runs every
    0.5 s for 10 s see at most PRELOAD_FAILS_MAX failed starts, not one per run."""
    r = Responder("faults-badpreload", pool_size=1, pool_preload="sqlite3")
    try:
        problems = []
        deadline = time.monotonic() + 20
        while "not ready: its runner exited" not in r.log_text():
            if time.monotonic() > deadline:
                return [f"no 'not ready' in the log: {r.log_text()}"]
            time.sleep(0.25)
        if "sqlite3" not in r.log_text():
            problems.append(f"the runner's reason is not in the log: {r.log_text()}")
        until = time.monotonic() + 10
        while time.monotonic() < until:
            # Naming the module keeps it in the adaptive preload under load.
            answer = r.execute("# sqlite3\nprint(2)", 10)
            if answer.status != 200 or b'"stdout":"2\\n"' not in answer.body:
                problems.append(f"a run with the pool failing: {pt.show(answer.body)}")
                break
            time.sleep(0.5)
        if metrics_of(r).get("pycage_pool_ready") != 0:
            problems.append(f"a container whose preload failed counts as ready: "
                            f"pycage_pool_ready {metrics_of(r).get('pycage_pool_ready')}")
        fails = sum("not ready: its runner exited" in line for line in r.log_lines())
        if fails > PRELOAD_FAILS_MAX:
            problems.append(f"{fails} failed pool starts in about 10 s of runs, "
                            f"expected at most {PRELOAD_FAILS_MAX} (no back-off)")
        return problems
    finally:
        r.stop()


def case_uid_range_conflict():
    """Two instances whose per-container uid ranges overlap: the one that sees it refuses.

    A keeps a pool container (labelled with A's range 310000-310012) alive; B starts with
    uid_base 310005 and must answer health and execute with 503 uid_range_conflict naming
    A; C, with a range of its own, serves. Once A is gone, B's next sweep clears it.
    """
    a = Responder("faults-uids-a", pool_size=1, pool_preload="", uid_base=310000)
    b = c = None
    problems = []
    try:
        deadline = time.monotonic() + 20
        while not b'"pool_ready":1' in a.call("GET", pt.HEALTH).body:
            if time.monotonic() > deadline:
                return ["A's pool never filled"]
            time.sleep(0.25)
        b = Responder("faults-uids-b", uid_base=310005, janitor_interval_s=1)
        health = b.call("GET", pt.HEALTH)
        problems += error_problems(health, 503, "uid_range_conflict", True)
        if b"faults-uids-a" not in health.body:
            problems.append(f"the message does not name the other instance: "
                            f"{pt.show(health.body)}")
        problems += error_problems(b.execute("print(1)"), 503, "uid_range_conflict", True)
        c = Responder("faults-uids-c", uid_base=320000)
        if c.call("GET", pt.HEALTH).status != 200:
            problems.append(f"C, with a range of its own, is not healthy: {c.log_text()}")
        a.stop()
        deadline = time.monotonic() + 10
        while b.call("GET", pt.HEALTH).status != 200:
            if time.monotonic() > deadline:
                problems.append(f"B still refuses 10 s after A stopped: {b.log_text()}")
                break
            time.sleep(0.5)
        return problems
    finally:
        for r in (a, b, c):
            if r is not None:
                r.stop()


def case_bad_config():
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("workers = 4\nmemory_mb = 1\n")
    result = run_program([FCGI_BIN, "-t", "-c", f.name], timeout=10)
    os.unlink(f.name)
    problems = []
    if result.returncode == 0:
        problems.append("a memory_mb of 1 was accepted")
    if f"{f.name}:2:" not in result.stderr:
        problems.append(f"no file:line in the message: {result.stderr!r}")
    return problems


def case_uid_range_holds_account():
    """A uid range that holds an account (nobody, 65534) stops start-up with the reason,
    as does a front user that does not exist: checked by -t too (src/common/host.c)."""
    problems = []
    for text, words in (("uid_base = 65530\n", "65534"),
                        ("front_user = pycage-no-such-user\n", "no such user")):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(f"executor_path = {EXECUTOR_BIN}\n" + text)
        result = run_program([FCGI_BIN, "-t", "-c", f.name], timeout=10)
        os.unlink(f.name)
        if result.returncode == 0:
            problems.append(f"{text.strip()}: accepted")
        if words not in result.stderr:
            problems.append(f"{text.strip()}: the reason does not say {words!r}: "
                            f"{result.stderr[-300:]!r}")
    return problems


def case_same_instance_refused():
    """A second responder started with the same instance on the same engine refuses to
    start (its start-up sweep would remove the first one's live containers), and the first
    keeps its pool container; once the first is gone, SIGKILLed or stopped, a responder of
    that instance starts again (the engine-side lock, src/executor/lock.c)."""
    instance = "faults-twin"
    problems = []
    first = Responder(instance, pool_size=1, pool_preload="")
    try:
        # Its pool container, once the self-check's own container is gone.
        deadline = time.monotonic() + 20
        while ("every sandbox limit applies" not in first.log_text() or
               len(instance_containers(instance)) != 1):
            if time.monotonic() > deadline:
                return ["the first responder's pool never filled"]
            time.sleep(0.25)
        held = {c["Id"] for c in instance_containers(instance)}
        # Its front may be listening a moment before its executor refuses.
        try:
            second = Responder(instance)
            deadline = time.monotonic() + 15
            while second.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            why = second.log_text()
            if second.stop() == 0:
                problems.append("a second responder of the same instance started")
        except pt.Unexpected as exc:
            why = str(exc)
        if "another responder with instance faults-twin" not in why:
            problems.append(f"the refusal does not say why: {why[-400:]}")
        left = {c["Id"] for c in instance_containers(instance)}
        if not held <= left:
            problems.append(f"the first responder's containers were removed: {held - left}")
        if first.call("GET", pt.HEALTH).status != 200:
            problems.append("the first responder stopped answering")
    finally:
        first.stop(signal.SIGKILL)
    for how in ("SIGKILL", "SIGTERM"):
        try:
            after = Responder(instance)
            health = after.call("GET", pt.HEALTH)
            if health.status != 200:
                problems.append(f"after the first one's {how}, a responder of that instance "
                                f"answers {health.status}: {after.log_text()[-400:]}")
            after.stop()
        except (pt.Unexpected, OSError) as exc:
            problems.append(f"after the first one's {how}, its lock was not taken over: "
                            f"{str(exc)[-400:]}")
    return problems


def case_executor_missing():
    """A missing executor is refused by -t; one that cannot be exec'd stops start-up
    with the reason (the close-on-exec report pipe, main.c), not a front without engine."""
    problems = []
    tmp = tempfile.mkdtemp(prefix="pycage-faults-")
    conf = os.path.join(tmp, "pycage.conf")
    bogus = os.path.join(tmp, "not-an-executor")
    try:
        with open(conf, "w") as f:
            f.write(f"executor_path = {tmp}/nowhere\n")
        result = run_program([FCGI_BIN, "-t", "-c", conf], timeout=10)
        if result.returncode == 0 or "nowhere" not in result.stderr:
            problems.append(f"-t accepted a missing executor: {result.returncode} "
                            f"{result.stderr!r}")
        with open(bogus, "w") as f:
            f.write("not a program\n")
        os.chmod(bogus, 0o755)
        sock = os.path.join(tmp, "fcgi.sock")
        with open(conf, "w") as f:
            f.write(f"executor_path = {bogus}\nlisten = {sock}\nsocket_group =\n"
                    f"pidfile = {tmp}/pid\ninstance = faults-noexec\nworkers = 2\n")
        result = run_program([FCGI_BIN, "-c", conf], timeout=20)
        if result.returncode == 0:
            problems.append("started with an executor that cannot be exec'd")
        if "cannot run" not in result.stderr or "Exec format error" not in result.stderr:
            problems.append(f"no reason given: {result.stderr[-400:]!r}")
    finally:
        subprocess.run(["rm", "-rf", tmp], check=False)
    return problems


def case_executor_dies():
    """SIGKILL the executor alone: the front, which cannot start another (no root), stops
    with exit 1 and says why, rather than answering 503 for good; the next start serves."""
    instance = "faults-executor-dies"
    r = Responder(instance)
    problems = []
    try:
        if r.call("GET", pt.HEALTH).status != 200:
            return [f"not healthy before the kill: {r.log_text()}"]
        with open(f"/proc/{r.proc.pid}/task/{r.proc.pid}/children") as f:
            children = [int(c) for c in f.read().split()]
        if len(children) != 1:
            return [f"the front has children {children}"]
        os.kill(children[0], signal.SIGKILL)
        try:
            code = r.proc.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            problems.append("the front still runs 10 s after its executor died")
        elif code != 1:
            problems.append(f"the front exited {code}, not 1")
        if "the executor exited (signal 9)" not in r.log_text():
            problems.append(f"no reason in the log: {r.log_text()[-300:]!r}")
    finally:
        r.stop()
    again = Responder(instance)
    try:
        answer = again.execute("print(6 * 7)")
        if answer.status != 200 or json.loads(answer.body).get("stdout") != "42\n":
            problems.append(f"the restarted pair does not serve: {answer.status} "
                            f"{answer.body[:200]!r}")
    finally:
        again.stop()
    return problems


def case_executor_by_hand():
    """pycage-executor started by anything but the front (no channels) refuses to run."""
    result = run_program([EXECUTOR_BIN, "-n", "4"], timeout=10)
    if result.returncode == 0 or "not a channel" not in result.stderr:
        return [f"ran without channels: {result.returncode} {result.stderr[-300:]!r}"]
    return []


def case_ended_runs_not_killed():
    """A run that ended with its exit record is answered at once, and its container is
    removed only after it stopped by itself: the engine logs no kill for it.

    Removing a container the engine still counts as running makes the engine kill it
    first, 10-15 ms more of its CPU per execution than a wait (docs/BENCHMARKS.md). Pool
    hits and cold starts, and a program that exits with 3, all end this way.
    """
    instance = "faults-ended"
    r = Responder(instance, pool_size=1, pool_preload="")
    problems = []
    try:
        since = time.time()
        runs = [("print(1+1)", b'"stdout":"2\\n"'), ("import sys\nsys.exit(3)", b'"exit_code":3'),
                ("print(1+1)", b'"stdout":"2\\n"')]
        for code, expected in runs:
            answer = r.execute(code)
            if answer.status != 200 or expected not in answer.body:
                problems.append(f"{code!r}: {answer.status} {pt.show(answer.body)}")
        time.sleep(3)           # the removals follow the answers
        events = instance_events(instance, since, time.time())
    finally:
        r.stop()
    destroyed = {e["id"] for e in events if e.get("Action") == "destroy"}
    killed = {e["id"] for e in events if e.get("Action") == "kill"}
    if len(destroyed) < len(runs):
        problems.append(f"{len(destroyed)} containers removed after {len(runs)} runs")
    for cid in sorted(destroyed & killed):
        signals = [e["Actor"]["Attributes"].get("signal") for e in events
                   if e["id"] == cid and e.get("Action") == "kill"]
        problems.append(f"{cid[:12]}: killed (signal {signals}) before its removal")
    return problems


def case_forged_record_removed():
    """A program that forges its exit record and runs on (hostile case 130, with the
    runner's audit hook removed so that it can read the nonce): it is answered early, as
    documented, then killed and removed once JOB_EXIT_WAIT_MS (2 s) has passed without the
    container stopping; that wait's expiry is the program's doing, not a Docker error."""
    instance = "faults-forged"
    with open(os.path.join(HOSTILE_DIR, "130-forged-exit-record.py")) as f:
        code = pt.hook_bypass_prelude() + f.read()
    r = Responder(instance, pool_size=0)
    problems = []
    try:
        errors_before = metrics_of(r).get("pycage_docker_errors_total")
        since = time.time()
        answer = r.execute(code, timeout_s=5)
        answered = time.time()
        doc = pt.parse_json(answer.body) or {}
        if answer.status != 200 or doc.get("status") != "ok" or doc.get("stdout") != "":
            return [f"the forgery did not work, so nothing is tested: {answer.status} "
                    f"{pt.show(answer.body)}"]
        deadline = time.monotonic() + 15
        while instance_containers(instance) and time.monotonic() < deadline:
            time.sleep(0.2)
        gone = time.time()
        if instance_containers(instance):
            problems.append("the forger's container is still there 15 s after the answer")
        events = instance_events(instance, since, time.time())
        errors_after = metrics_of(r).get("pycage_docker_errors_total")
    finally:
        r.stop()
    if not any(e.get("Action") == "kill" for e in events):
        problems.append(f"no kill for a container that kept running: {[e.get('Action') for e in events]}")
    if gone - answered < 1.5:
        problems.append(f"removed {gone - answered:.1f} s after the answer, before the "
                        "2 s wait for it to stop by itself")
    if errors_before is None or errors_after != errors_before:
        problems.append(f"pycage_docker_errors_total went from {errors_before} to "
                        f"{errors_after}: the wait's expiry was counted as an engine error")
    return problems


def case_ghost_process_killed():
    """A host process under a uid of the range that no container holds, as a container the
    engine lost leaves (dockerd dropped it while containerd was down; its processes ran on,
    issue 16): no run is given that uid while it lives, and the janitor kills it, says so
    in the log and counts it."""
    instance, base, interval_s = "faults-ghost", 600700, 6
    r = Responder(instance, uid_base=base, max_executions=1, janitor_interval_s=interval_s)
    # The start-up self-check's container (uid base) gone first: only runs are looked at.
    deadline = time.monotonic() + 20
    while ((not any("selfcheck:" in line for line in r.log_lines()) or
            instance_containers(instance)) and time.monotonic() < deadline):
        time.sleep(0.1)
    ghost = subprocess.Popen(["setpriv", f"--reuid={base}", "--regid=65534", "--clear-groups",
                              "sleep", "300"], start_new_session=True)
    started = time.monotonic()
    problems = []
    while f"Uid:\t{base}\t" not in open(f"/proc/{ghost.pid}/status").read():
        time.sleep(0.01)        # setpriv has not switched yet
    try:
        for i in range(2):
            alive_before = ghost.poll() is None
            result = {}
            run = threading.Thread(target=lambda: result.update(
                answer=r.execute("import time\ntime.sleep(1)", 10)))
            run.start()
            user, deadline = None, time.monotonic() + 10
            while user is None and time.monotonic() < deadline:
                for c in instance_containers(instance):
                    user = pt.container_inspect(c["Id"]).get("Config", {}).get("User")
                time.sleep(0.05)
            run.join(30)
            answer = result.get("answer")
            if answer is None or answer.status != 200:
                problems.append(f"run {i + 1} did not answer 200: "
                                f"{pt.show(answer.body) if answer else None}")
            if alive_before and user is not None and user.split(":")[0] == str(base):
                problems.append(f"run {i + 1} was given uid {base} while a process ran under "
                                "it")
        try:
            ghost.wait(interval_s + 10 - (time.monotonic() - started))
            pt_measured = time.monotonic() - started
            print(f"# measured: the ghost process was killed {pt_measured:.1f} s after it "
                  f"started (janitor_interval_s = {interval_s})", flush=True)
        except subprocess.TimeoutExpired:
            problems.append(f"the process under uid {base} still runs "
                            f"{interval_s + 10} s later: {r.log_text()}")
        if not any("janitor: killed pid" in line for line in r.log_lines()):
            problems.append(f"no log line for the kill: {r.log_text()}")
        killed = metrics_of(r).get("pycage_janitor_killed_processes_total")
        if not killed:
            problems.append(f"pycage_janitor_killed_processes_total is {killed}")
        return problems
    finally:
        if ghost.poll() is None:
            ghost.kill()
        ghost.wait()
        r.stop()


def case_no_sanitizer_reports():
    """Under the sanitizer build: no report in the log of any responder the cases started,
    nor in the output of the programs they ran to their end (exits, SIGTERM included, run
    the leak checks; a SIGKILLed process runs none)."""
    problems = []
    texts = list(Responder.outputs)
    for path in Responder.logs:
        with open(path, errors="replace") as f:
            texts.append((path, f.read()))
    for where, text in texts:
        m = SANITIZER_REPORT.search(text)
        if m:
            problems.append(f"{where}: {text[max(0, m.start() - 200):m.start() + 1500]}")
    return problems or ([] if Responder.logs else ["no responder was started"])


CASES = [
    ("engine unreachable: health and execute answer 503 engine_unavailable", case_engine_down),
    ("image missing: health and execute answer 503 image_missing", case_image_missing),
    ("every slot busy past queue_wait_ms: 503 busy with Retry-After", case_busy),
    ("a SIGKILLed responder's container is removed at the next start",
     case_killed_responder_leftovers),
    ("the periodic sweep removes stale containers of any instance", case_periodic_sweep),
    ("SIGTERM exits 0 and removes the pool's containers", case_pool_emptied_on_sigterm),
    ("SIGTERM: the run in flight is answered, an idle kept connection closed at once, exit 0",
     case_sigterm_idle_kept_connection),
    ("a pool container older than pool_max_age_s is replaced", case_pool_ages_out),
    ("a pool container joins only once its preload is imported; runs meanwhile start "
     "their own", case_pool_waits_for_ready),
    ("a preload the runner refuses: never pooled, the reason logged, runs still answer",
     case_pool_preload_fails),
    ("while every slot is busy the pool waits; it refills once one frees",
     case_pool_pauses_when_saturated),
    ("a run that ended itself is removed after it stopped, never killed",
     case_ended_runs_not_killed),
    ("a run that forged its exit record is answered, then killed and removed; no engine "
     "error counted", case_forged_record_removed),
    ("another instance's overlapping uid range: 503 uid_range_conflict until it goes",
     case_uid_range_conflict),
    ("a second responder of the same instance refuses to start; the first keeps its "
     "containers; the lock of one that is gone is taken over", case_same_instance_refused),
    ("a host process under a uid of the range that no container holds: no run gets the "
     "uid, the janitor kills it", case_ghost_process_killed),
    ("a configuration value out of range stops start-up with file:line", case_bad_config),
    ("a uid range holding an account, or a missing front user, stops start-up",
     case_uid_range_holds_account),
    ("an executor that is missing or cannot be exec'd stops start-up, with the reason",
     case_executor_missing),
    ("pycage-executor started by hand, without channels, refuses", case_executor_by_hand),
    ("the executor killed alone: the front stops with exit 1 and the reason",
     case_executor_dies),
    ("the self-check passes on the real image with the shipped limits", case_selfcheck_passes),
    ("a limit that did not apply: 503 sandbox_check_failed naming it", case_selfcheck_refuses),
    ("a seccomp profile that lets socket() or socketpair() of AF_VSOCK through: 503",
     case_selfcheck_profile_vsock),
    ("a seccomp profile that keeps the i386 and x32 sub-ABIs: 503",
     case_selfcheck_profile_32bit),
    ("runs are not held behind a self-check that health runs again",
     case_selfcheck_refresh_aside),
]
if ASAN:
    CASES.append(("no sanitizer report from any responder started here",
                  case_no_sanitizer_reports))


if __name__ == "__main__":
    pt.run_cases(CASES)
