#!/usr/bin/python3
"""The responder under scripts/up.sh's supervisor, and scripts/down.sh's pidfiles.

Each case drives the real scripts (scripts/common.sh's start_responder, scripts/down.sh)
with PYCAGE_RUN_DIR and PYCAGE_LOG_DIR moved to a directory of its own, and a responder of
its own (the built binary, its own socket, instance label and uid range), so the main
service is not disturbed:
- SIGKILL to the executor: the front exits by design (status 1), the supervisor starts
  both again after its backoff, the socket answers a run again within seconds, and no
  container of the instance is left;
- the same through the front in use (PYCAGE_FRONT), a second nginx or Apache started by
  the scripts in front of that responder: GET /v1/health answers 200 again within seconds;
- scripts/down.sh stops the supervisor, the responder and that front, with nothing started
  again;
- a stale pidfile whose pid now belongs to another program, or to a pycage-fcgi started
  after the file was written, is not signalled by scripts/down.sh (issue 16).
"""

import os
import shutil
import signal
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
INSTANCE = f"supervise-{os.getpid()}"
# Off the main service's range (200000) and test_faults.py's (400000 + 100 n).
UID_BASE = 470000
START_WAIT_S = 20
# The supervisor's first backoff is 1 s and a start takes about 1 s more: "within seconds".
RECOVER_S = 10


class Scripts:
    """scripts/common.sh and scripts/down.sh with their run and log directories moved."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pycage-supervise-")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "pycage.sock")
        self.pidfile = os.path.join(self.dir, "pycage-fcgi.pid")
        self.supervisor_pidfile = os.path.join(self.dir, "supervise.pid")   # common.sh's
        self.log = os.path.join(self.dir, "pycage-fcgi.log")
        self.config = os.path.join(self.dir, "pycage.conf")
        settings = {
            "listen": self.socket, "socket_mode": "0660", "socket_group": "www-data",
            "pidfile": self.pidfile, "instance": INSTANCE, "image": IMAGE,
            "pool_size": "0", "workers": "4", "executor_path": EXECUTOR_BIN,
            "uid_base": str(UID_BASE),
        }
        if os.environ.get("PYCAGE_RESPONDER_ASAN") == "1":
            settings["front_user"] = ""       # LeakSanitizer needs /proc (scripts/asan.sh)
        with open(self.config, "w") as f:
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())
        self.started = []
        self.http = f"127.0.0.1:{free_port()}"
        self.env = dict(os.environ, PYCAGE_RUN_DIR=self.dir, PYCAGE_LOG_DIR=self.dir,
                        PYCAGE_CONF_DIR=self.dir, PYCAGE_FCGI_BIN=FCGI_BIN,
                        PYCAGE_SOCKET=self.socket, PYCAGE_HTTP=self.http,
                        PYCAGE_HTTPS=f"127.0.0.1:{free_port()}", PYCAGE_FRONT=pt.FRONT)

    def run(self, shell, timeout=120):
        """A line of bash after sourcing scripts/common.sh; returns the CompletedProcess."""
        return subprocess.run(["bash", "-c", f". {TOP}/scripts/common.sh; {shell}"],
                              env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def down(self):
        return subprocess.run(["bash", f"{TOP}/scripts/down.sh"], env=self.env,
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def pid(self, path):
        try:
            with open(path) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def cleanup(self):
        """down.sh, then whatever this file started that is still running."""
        self.down()
        for pid in self.started:
            if alive(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in self.started) and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)

    def remember(self):
        """Notes the supervisor's and the front's pids, for cleanup()."""
        for path in (self.supervisor_pidfile, self.pidfile):
            pid = self.pid(path)
            if pid and pid not in self.started:
                self.started.append(pid)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return found


def runs_problems(scripts, wait_s):
    """A run of print(1) answered on the responder's socket within wait_s."""
    deadline = time.monotonic() + wait_s
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            params = pt.fcgi_params("POST", pt.EXECUTE, pt.JSON_TYPE, 19)
            response = pt.fcgi_request(params, b'{"code":"print(1)"}', socket_path=scripts.socket,
                                       timeout=30)
            if response.status == 200 and b'"stdout":"1\\n"' in response.body:
                return []
            last = f"{response.status} {pt.show(response.body)}"
        except (OSError, pt.Unexpected) as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.2)
    return [f"no answer to print(1) within {wait_s} s; last: {last}",
            f"log: {scripts.log_text()}"]


def long_run(scripts):
    """A run of 60 s on the responder's socket; whatever becomes of it is not judged."""
    body = pt.execute_body("import time\ntime.sleep(60)", timeout=60)
    try:
        pt.fcgi_request(pt.fcgi_params("POST", pt.EXECUTE, pt.JSON_TYPE, len(body)), body,
                        socket_path=scripts.socket, timeout=90)
    except (OSError, pt.Unexpected):
        pass


def leftovers_problems(wait_s=10):
    deadline = time.monotonic() + wait_s
    while True:
        left = pt.docker_containers(f"{pt.INSTANCE_LABEL}={INSTANCE}")
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    return [f"{len(left)} containers of {INSTANCE} left: "
            f"{[c.get('Id', '')[:12] for c in left]}"] if left else []


def kill_executor(scripts):
    """SIGKILL to the responder's executor; returns its front's pid, or problems."""
    front = scripts.pid(scripts.pidfile)
    executors = children(front) if front else []
    if len(executors) != 1:
        return None, [f"front {front}, executors {executors}"]
    os.kill(executors[0], signal.SIGKILL)
    return front, []


def health_through_front(scripts):
    try:
        return pt.request("GET", pt.HEALTH, url=f"http://{scripts.http}", timeout=5,
                          pace=False).status
    except (OSError, pt.http.client.HTTPException) as exc:
        return type(exc).__name__


def case_front_recovers(scripts):
    """The front (PYCAGE_FRONT) in front of the supervised responder: after SIGKILL to the
    executor it answers GET /v1/health 200 again within RECOVER_S (Apache's retry=0)."""
    if runs_problems(scripts, 0.5):
        started = scripts.run(f"start_responder {scripts.config}", timeout=START_WAIT_S + 30)
        if started.returncode != 0:
            return [f"start_responder failed: {started.stderr[-1500:]}"]
    scripts.remember()
    front = scripts.run("install_config && start_front && wait_healthy")
    if front.returncode != 0:
        return [f"{pt.FRONT} did not start in front of the responder: {front.stderr[-1500:]}"]
    dead_front, problems = kill_executor(scripts)
    if problems:
        return problems
    killed = time.monotonic()
    seen = []
    while time.monotonic() - killed < RECOVER_S:
        status = health_through_front(scripts)
        if not seen or seen[-1][1] != status:
            seen.append((round(time.monotonic() - killed, 1), status))
        if status == 200 and scripts.pid(scripts.pidfile) not in (None, dead_front):
            break
        time.sleep(0.1)
    else:
        problems.append(f"{pt.FRONT} did not answer 200 within {RECOVER_S} s: {seen}")
    scripts.remember()
    print(f"# through {pt.FRONT}, (seconds after the SIGKILL, status): {seen}", flush=True)
    return problems + leftovers_problems()


def case_executor_killed(scripts):
    pt.responder_only()
    started = scripts.run(f"start_responder {scripts.config}", timeout=START_WAIT_S + 30)
    if started.returncode != 0:
        return [f"start_responder failed ({started.returncode}): {started.stderr[-1500:]}",
                f"log: {scripts.log_text()}"]
    scripts.remember()
    problems = runs_problems(scripts, START_WAIT_S)
    if problems:
        return problems
    front = scripts.pid(scripts.pidfile)
    supervisor = scripts.pid(scripts.supervisor_pidfile)
    executors = children(front) if front else []
    if not front or not supervisor or len(executors) != 1:
        return [f"front {front}, supervisor {supervisor}, executors {executors}"]
    # A run in flight, so that the dead executor leaves its container behind.
    in_flight = threading.Thread(target=long_run, args=(scripts,), daemon=True)
    in_flight.start()
    deadline = time.monotonic() + START_WAIT_S
    while not pt.docker_containers(f"{pt.INSTANCE_LABEL}={INSTANCE}"):
        if time.monotonic() > deadline:
            return [f"no container for the run in flight after {START_WAIT_S} s"]
        time.sleep(0.1)
    os.kill(executors[0], signal.SIGKILL)
    killed = time.monotonic()
    deadline = killed + RECOVER_S
    while alive(front) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(front):
        problems.append(f"the front {front} still runs after its executor was killed")
    problems += runs_problems(scripts, RECOVER_S)
    took = time.monotonic() - killed
    scripts.remember()
    new_front = scripts.pid(scripts.pidfile)
    if new_front in (None, front):
        problems.append(f"the pidfile names {new_front}, not a new front")
    if not alive(supervisor):
        problems.append("the supervisor is gone")
    problems += leftovers_problems()
    if "restart" not in scripts.log_text():
        problems.append(f"the log does not say the responder was restarted: {scripts.log_text()}")
    print(f"# answered again {took:.1f} s after the SIGKILL", flush=True)
    return problems


def case_down_stops_everything(scripts):
    supervisor = scripts.pid(scripts.supervisor_pidfile)
    front = scripts.pid(scripts.pidfile)
    web = scripts.pid(os.path.join(scripts.dir, "apache2.pid" if pt.FRONT == "apache"
                                   else "nginx.pid"))
    if not supervisor or not front:
        raise pt.Unexpected(f"nothing to stop: supervisor {supervisor}, front {front}")
    down = scripts.down()
    problems = [] if down.returncode == 0 else [f"down.sh: {down.returncode} {down.stderr}"]
    for name, pid in (("supervisor", supervisor), ("front", front), (pt.FRONT, web)):
        if pid and alive(pid):
            problems.append(f"the {name} {pid} still runs after scripts/down.sh")
    time.sleep(3)             # past the supervisor's backoff: nothing may come back
    if os.path.exists(scripts.socket) and runs_problems(scripts, 1) == []:
        problems.append("the responder answers again after scripts/down.sh")
    return problems + leftovers_problems()


def stale_pidfile_problems(scripts, program_name, written_before):
    """scripts/down.sh with a pidfile whose pid is a live process that is not the responder
    that wrote it: a copy of sleep named `program_name`, started after the file was written
    (written_before) or before it (not the right name then)."""
    pt.responder_only()
    work = tempfile.mkdtemp(prefix="pycage-stale-")
    try:
        program = os.path.join(work, program_name)
        shutil.copy("/bin/sleep", program)
        sleeper = subprocess.Popen([program, "300"], start_new_session=True)
        try:
            with open(scripts.pidfile, "w") as f:
                f.write(f"{sleeper.pid}\n")
            if written_before:
                past = time.time() - 5
                os.utime(scripts.pidfile, (past, past))
            down = scripts.down()
            time.sleep(0.5)
            problems = [] if sleeper.poll() is None else [
                f"scripts/down.sh signalled {program_name} {sleeper.pid}, which the stale "
                f"pidfile named: it ended with {sleeper.returncode}"]
            if down.returncode != 0:
                problems.append(f"down.sh: {down.returncode} {down.stderr}")
            return problems
        finally:
            if sleeper.poll() is None:
                sleeper.kill()
                sleeper.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        try:
            os.unlink(scripts.pidfile)
        except OSError:
            pass


def main():
    tap = pt.start(5)
    scripts = Scripts()
    try:
        tap.check("SIGKILL to the executor mid-run: the supervisor starts the responder again, "
                  f"it answers within {RECOVER_S} s, no container left", case_executor_killed,
                  scripts)
        tap.check(f"through {pt.FRONT}: SIGKILL to the executor, GET /v1/health answers 200 "
                  f"again within {RECOVER_S} s", case_front_recovers, scripts)
        tap.check(f"scripts/down.sh stops the supervisor, the responder and {pt.FRONT} for good",
                  case_down_stops_everything, scripts)
        tap.check("scripts/down.sh leaves alone another program holding a stale pidfile's pid",
                  stale_pidfile_problems, scripts, "not-pycage", False)
        tap.check("scripts/down.sh leaves alone a pycage-fcgi started after the pidfile was "
                  "written", stale_pidfile_problems, scripts, "pycage-fcgi", True)
    finally:
        scripts.cleanup()
    tap.done()


if __name__ == "__main__":
    main()
