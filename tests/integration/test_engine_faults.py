#!/usr/bin/python3
"""The engine breaking under a responder: dockerd killed mid-run, containerd killed (dockerd
starts it again in ~10 s), the engine's data root full.

None of this touches the main engine: the file starts a second dockerd of its own (its own
--data-root on a small loop-mounted ext4 file, --exec-root, --pidfile, unix socket, no
bridge, no iptables; it starts its own containerd), loads the sandbox image into it from the
main engine (`docker save | docker load`), and points test_faults.Responder's at it through
docker_socket.  Each case checks what a client gets during the fault (503
engine_unavailable with Retry-After, naming the cause), that /v1/health goes 503 during it
and back to 200 after, with no restart of pycage, and what is left; it prints what it
measured ("# measured: ...") for docs/RELIABILITY.md.  Everything it made is removed at the
end (dockerd and its containerd stopped, the file system unmounted, the files deleted).

Needs root, mount(8), mkfs.ext4 and dockerd; ~2 minutes.  Runs once (the runc phase): it
changes nothing under gVisor or the sanitizer build that test_faults.py does not cover.
"""

import atexit
import json
import os
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

DOCKER = "/usr/bin/docker"
DISK_MB = 1600            # the image takes ~600 MB unpacked
UID_BASE = 600000         # off the main service's and the other stacks' ranges
ENGINE_WAIT_S = 60
# The fault is over: health must be 200 again within this (janitor probes every 2 s).
RECOVERY_S = 30


def measured(text):
    print(f"# measured: {text}", flush=True)


OWN_BRIDGE = "pycage-eng0"
OWN_BRIDGE_ADDR = "169.254.231.1/30"     # link-local: nothing is ever sent there


class OwnEngine:
    """A second dockerd with its own containerd, data root (a loop mount) and socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pycage-engine-", dir="/var/tmp")
        self.image_file = os.path.join(self.dir, "disk.img")
        self.root = os.path.join(self.dir, "root")
        self.exec_root = os.path.join(self.dir, "exec")
        self.sock = os.path.join(self.dir, "docker.sock")
        self.pidfile = os.path.join(self.dir, "dockerd.pid")
        self.log = open(os.path.join(self.dir, "dockerd.log"), "a")
        self.proc = None
        self.mounted = False
        atexit.register(self.remove)
        os.makedirs(self.root)
        os.makedirs(self.exec_root)
        with open(os.path.join(self.dir, "daemon.json"), "w") as f:
            f.write("{}\n")
        subprocess.run(["truncate", "-s", f"{DISK_MB}M", self.image_file], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", self.image_file], check=True)
        subprocess.run(["mount", "-o", "loop", self.image_file, self.root], check=True)
        self.mounted = True
        # A bridge of its own: with --bridge=none, dockerd deletes any link named docker0
        # at start (the main engine's, which image builds then miss).
        if subprocess.run(["ip", "link", "show", OWN_BRIDGE], capture_output=True).returncode:
            subprocess.run(["ip", "link", "add", OWN_BRIDGE, "type", "bridge"], check=True)
            subprocess.run(["ip", "addr", "add", OWN_BRIDGE_ADDR, "dev", OWN_BRIDGE],
                           check=True)
        self.start()
        save = subprocess.Popen([DOCKER, "save", tf.IMAGE], stdout=subprocess.PIPE)
        load = subprocess.run([DOCKER, "-H", f"unix://{self.sock}", "load"],
                              stdin=save.stdout, capture_output=True, text=True, timeout=300)
        save.stdout.close()
        save.wait()
        if load.returncode != 0 or save.returncode != 0:
            raise pt.Unexpected(f"image load into the own engine: {load.stderr[-500:]}")

    def start(self):
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", self.root, "--exec-root", self.exec_root,
             "--pidfile", self.pidfile, "-H", f"unix://{self.sock}",
             "--config-file", os.path.join(self.dir, "daemon.json"), f"--bridge={OWN_BRIDGE}",
             "--iptables=false", "--ip-masq=false", "--storage-driver=overlay2"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + ENGINE_WAIT_S
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise pt.Unexpected("own dockerd did not start: " + self.log_tail())
            time.sleep(0.2)

    def answers(self):
        try:
            self.get("/v1.41/version", 2)
            return True
        except (OSError, pt.Unexpected):
            return False

    def log_tail(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-1500:]

    def get(self, path, timeout=10):
        conn = pt._UnixHTTPConnection(self.sock, timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise pt.Unexpected(f"GET {path}: HTTP {response.status} {pt.show(body)}")
        return json.loads(body)

    def containers(self, instance):
        filters = json.dumps({"label": [f"{pt.INSTANCE_LABEL}={instance}"]})
        import urllib.parse
        return self.get("/v1.41/containers/json?all=1&filters=" + urllib.parse.quote(filters))

    def containerd_pid(self):
        """The pid of this engine's containerd (its config lives under our exec root)."""
        pids = self.own_pids(b"containerd")
        return pids[0] if pids else None

    def own_pids(self, program):
        """Processes of `program` (containerd, a shim) whose arguments name our exec root."""
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if (argv and os.path.basename(argv[0]) == program and
                    any(self.exec_root.encode() in a for a in argv)):
                found.append(int(pid))
        return found

    @staticmethod
    def kill(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def kill_dockerd(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def fill(self):
        """Every free block of the data root taken (root's reserve too: dockerd is root)."""
        n = 0
        try:
            while True:
                fd = os.open(os.path.join(self.root, f"filler-{n}"),
                             os.O_CREAT | os.O_WRONLY, 0o600)
                n += 1
                try:
                    os.posix_fallocate(fd, 0, 64 << 20)
                finally:
                    os.close(fd)
        except OSError:
            pass
        try:
            with open(os.path.join(self.root, "filler-tail"), "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass

    def unfill(self):
        for name in os.listdir(self.root):
            if name.startswith("filler-"):
                os.unlink(os.path.join(self.root, name))

    def remove(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # A shim dockerd lost track of (the old build's leftover of a dockerd kill) and its
        # container's processes; then containerd.
        for pid in self.own_pids(b"containerd-shim-runc-v2"):
            subprocess.run(["pkill", "-KILL", "-P", str(pid)], check=False)
            self.kill(pid)
        for pid in self.own_pids(b"containerd"):
            self.kill(pid)
        time.sleep(0.5)
        if self.mounted:
            # Shims and overlay mounts of containers still running under it go first.
            subprocess.run(["sh", "-c", f"grep -o ' {self.root}[^ ]*' /proc/mounts | "
                            "sort -r | xargs -r -n1 umount -l"], check=False)
            subprocess.run(["umount", "-l", self.root], check=False,
                           stderr=subprocess.DEVNULL)
            self.mounted = False
        subprocess.run(["ip", "link", "del", OWN_BRIDGE], check=False,
                       stderr=subprocess.DEVNULL)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


ENGINE = None


def engine():
    global ENGINE
    if ENGINE is None:
        ENGINE = OwnEngine()
    return ENGINE


def responder(instance, n, **settings):
    # Six workers that run code: the cases send runs from one address faster than a held
    # run ends, and the front keeps the last free worker from a client that holds half
    # of them (fair shares, README): with test_faults' four workers (two that run code)
    # every run behind a held one was 503 busy instead of what the engine's fault gives.
    settings.setdefault("workers", 8)
    return tf.Responder(instance, docker_socket=engine().sock, uid_base=UID_BASE + 100 * n,
                        **settings)


def engine_problems(answer, where, cause=None):
    """503 engine_unavailable with Retry-After, its message naming the cause."""
    problems = [f"{where}: {p}" for p in
                tf.error_problems(answer, 503, "engine_unavailable", True)]
    if cause is not None and cause.encode() not in answer.body:
        problems.append(f"{where}: the message does not name {cause!r}: "
                        f"{pt.show(answer.body)}")
    return problems


def wait_health(r, status, wait_s):
    """Seconds until GET /v1/health answered `status`, or None."""
    started = time.monotonic()
    while time.monotonic() - started < wait_s:
        if r.call("GET", pt.HEALTH, timeout=10).status == status:
            return time.monotonic() - started
        time.sleep(0.25)
    return None


def wait_run_ok(r, wait_s):
    """Seconds until a run answered 200, or None."""
    started = time.monotonic()
    while time.monotonic() - started < wait_s:
        if r.execute("print(1)").status == 200:
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def wait_container(e, instance, wait_s=15):
    deadline = time.monotonic() + wait_s
    while not e.containers(instance):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def case_dockerd_killed():
    """dockerd SIGKILLed while a run is in flight, started again 3 s later."""
    e = engine()
    instance = "engine-dockerd"
    r = responder(instance, 0, janitor_interval_s=3600)
    problems = []
    try:
        if wait_run_ok(r, 30) is None:
            return [f"no run answered 200 before the fault: {r.log_text()}"]
        result = {}
        run = threading.Thread(target=lambda: result.update(
            answer=r.execute("import time\ntime.sleep(8)\nprint('late')", 15)))
        run.start()
        if not wait_container(e, instance):
            problems.append("the run's container never appeared")
        time.sleep(1)
        killed = time.monotonic()
        e.kill_dockerd()
        run.join(40)
        answer = result.get("answer")
        if answer is None:
            problems.append("the run in flight was not answered")
        else:
            measured(f"dockerd killed: the run in flight answered {answer.status} "
                     f"{time.monotonic() - killed:.1f} s after the kill")
            problems += engine_problems(answer, "the run in flight")
        for i in range(3):
            problems += engine_problems(r.execute("print(1)"), f"a run while dockerd is down")
        health = r.call("GET", pt.HEALTH)
        problems += engine_problems(health, "health while dockerd is down")
        time.sleep(max(0, 3 - (time.monotonic() - killed)))
        e.start()
        up = time.monotonic()
        measured(f"dockerd down {up - killed:.1f} s (killed, then started and answering)")
        took = wait_health(r, 200, RECOVERY_S)
        if took is None:
            problems.append(f"health not 200 within {RECOVERY_S} s of dockerd's return: "
                            f"{pt.show(r.call('GET', pt.HEALTH).body)}")
        else:
            measured(f"dockerd killed: health 200 again {took:.1f} s after dockerd answered")
        took = wait_run_ok(r, RECOVERY_S)
        if took is None:
            problems.append(f"no run 200 within {RECOVERY_S} s of dockerd's return")
        else:
            measured(f"dockerd killed: a run 200 again {time.monotonic() - up:.1f} s after "
                     "dockerd answered")
        # The killed run's container: swept as soon as the engine is back, not at expiry.
        deadline = time.monotonic() + 15
        while e.containers(instance) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = e.containers(instance)
        if left:
            problems.append(f"{len(left)} container(s) left 15 s after recovery")
        else:
            measured(f"dockerd killed: nothing left {time.monotonic() - up:.1f} s after "
                     "dockerd answered")
        return problems
    finally:
        r.stop()


def case_containerd_killed():
    """containerd SIGKILLed; dockerd starts it again by itself (~10 s).  Meanwhile dockerd
    fails most starts at once and holds some until containerd is back: a run is sent every
    0.5 s on a thread of its own, and health asked every 0.5 s."""
    e = engine()
    instance = "engine-containerd"
    r = responder(instance, 1)
    problems = []
    try:
        if wait_run_ok(r, 30) is None:
            return [f"no run answered 200 before the fault: {r.log_text()}"]
        pid = e.containerd_pid()
        if pid is None:
            return ["the own engine's containerd was not found"]
        lines_before = len(r.log_lines())
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        runs, healths, threads = [], [], []

        def one():
            sent = time.monotonic() - killed
            answer = r.execute("print(1)")
            runs.append((sent, time.monotonic() - killed, answer))

        while time.monotonic() - killed < RECOVERY_S:
            thread = threading.Thread(target=one)
            thread.start()
            threads.append(thread)
            health = r.call("GET", pt.HEALTH)
            healths.append((time.monotonic() - killed, health))
            if (any(h.status == 503 for _, h in healths) and health.status == 200 and
                    any(a.status == 200 and sent > 1 for sent, _, a in runs)):
                break
            time.sleep(0.5)
        for thread in threads:
            thread.join(60)
        for sent, _, answer in sorted(runs, key=lambda x: x[0]):
            if answer.status != 200 and len(problems) < 12:
                problems += engine_problems(answer, f"a run sent {sent:.1f} s after the kill",
                                            "containerd")
        sick = [(t, h) for t, h in healths if h.status != 200]
        if not sick:
            problems.append("health stayed 200 while containerd was down")
        for t, h in sick:
            problems += engine_problems(h, f"health {t:.1f} s after the kill", "containerd")
        if healths[-1][1].status != 200:
            problems.append(f"health not 200 within {RECOVERY_S} s: "
                            f"{pt.show(healths[-1][1].body)}")
        failed = [a for _, _, a in runs if a.status != 200]
        measured(f"containerd killed: {len(failed)} of {len(runs)} runs answered 503; health "
                 f"503 from {sick[0][0] if sick else -1:.1f} s to "
                 f"{sick[-1][0] if sick else -1:.1f} s, 200 at {healths[-1][0]:.1f} s; the "
                 f"slowest run answered at {max(t for _, t, _ in runs):.1f} s after the kill; "
                 f"the responder logged {len(r.log_lines()) - lines_before} lines meanwhile")
        deadline = time.monotonic() + 10
        while e.containers(instance) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = e.containers(instance)
        if left:
            problems.append(f"{len(left)} container(s) left 10 s after recovery")
        return problems
    finally:
        r.stop()


def case_data_root_full():
    """The engine's data root full (its own loop-mounted file system), then freed."""
    e = engine()
    r = responder("engine-full", 2)
    problems = []
    try:
        if wait_run_ok(r, 30) is None:
            return [f"no run answered 200 before the fault: {r.log_text()}"]
        e.fill()
        try:
            filled = time.monotonic()
            answers = [r.execute("print(1)") for i in range(3)]
            answers.append(r.call("GET", pt.HEALTH))
            for i, answer in enumerate(answers):
                problems += engine_problems(answer, "health on a full disk" if i == 3 else
                                            "a run on a full disk", "no space left on device")
            measured(f"data root full: 3 runs and health answered "
                     f"{' '.join(str(a.status) for a in answers)} in "
                     f"{time.monotonic() - filled:.1f} s")
        finally:
            e.unfill()
        freed = time.monotonic()
        took = wait_health(r, 200, RECOVERY_S)
        if took is None:
            problems.append(f"health not 200 within {RECOVERY_S} s of freeing the disk: "
                            f"{pt.show(r.call('GET', pt.HEALTH).body)}")
        else:
            measured(f"data root full: health 200 again {took:.1f} s after freeing space")
        took = wait_run_ok(r, RECOVERY_S)
        if took is None:
            problems.append(f"no run 200 within {RECOVERY_S} s of freeing the disk")
        else:
            measured(f"data root full: a run 200 again {time.monotonic() - freed:.1f} s "
                     "after freeing space")
        deadline = time.monotonic() + 10
        while e.containers("engine-full") and time.monotonic() < deadline:
            time.sleep(0.5)
        left = e.containers("engine-full")
        if left:
            problems.append(f"{len(left)} container(s) left 10 s after recovery")
        return problems
    finally:
        r.stop()


CASES = [
    ("dockerd killed mid-run: 503 engine_unavailable with Retry-After, health 503, then "
     "200 and runs again once it is back, its leftovers swept at once", case_dockerd_killed),
    ("containerd killed: runs and health 503 engine_unavailable naming containerd until "
     "dockerd has it back, then 200", case_containerd_killed),
    ("the engine's data root full: 503 engine_unavailable naming no space left, health 503, "
     "200 again once space is freed", case_data_root_full),
]


if __name__ == "__main__":
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        print("1..0 # SKIP needs root and dockerd", flush=True)
        sys.exit(0)
    # Its responders are the plain build under runc whatever the phase: once is enough.
    if os.environ.get("PYCAGE_RUNTIME") == "runsc" or tf.ASAN:
        print("1..0 # SKIP runs in the runc phase only", flush=True)
        sys.exit(0)
    only = os.environ.get("PYCAGE_CASE")
    pt.run_cases([c for c in CASES if only is None or only in c[1].__name__])
