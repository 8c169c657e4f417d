#!/usr/bin/env python3
"""pycage's load benchmark (python3 standard library only).  scripts/bench.sh runs it.

Subcommands, each writing one JSON file of raw results that `report` turns into markdown:

  refs    the references: a naive `docker run --rm` per request, the engine's own rate for each
          snippet in fresh containers (create + start + wait + delete of `python3 -c SNIPPET` on the
          Engine API at concurrency 1, 2, 4, 8), and the bare churn limit (the same for `true`).
  run     the load generator against pycage through nginx (--url): per snippet, N sequential
          requests, then 8 concurrent clients for D seconds; the responder's memory (--pidfile);
          with the pool on, the pool containers' idle memory, and an optional --soak; with
          --paired-rounds, after each 8-client block, alternating slices of the engine's own
          rate and pycage under 8 clients (run_paired).
  report  reads the JSON files and prints the markdown tables, the ratios and the targets.

Latency is measured by the client: from sending the request to having read the whole answer.
Percentiles are nearest-rank.  Throughput is correct answers / wall seconds (first request sent
to last answer read).  Every 200 answer's stdout is compared with the expected output; a
mismatch counts as an error, as does any status other than 200 and the documented 503.
"""

import argparse
import http.client
import json
import math
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

IMAGE = "pycage-sandbox:latest"
DOCKER = "/usr/bin/docker"
API = "/v1.41"
INSTANCE_LABEL = "org.pycage.instance"
INSTANCE = "bench"
CLIENTS = 8
ENGINE_LEVELS = (1, 2, 4, 8)


def config_numbers(path, keys):
    """{key: int} of the given keys as set in a pycage.conf."""
    found = {}
    with open(path) as f:
        for line in f:
            key, eq, value = line.partition("=")
            if eq and key.strip() in keys:
                found[key.strip()] = int(value.strip())
    missing = set(keys) - set(found)
    if missing:
        sys.exit(f"bench: {path} does not set {', '.join(sorted(missing))}")
    return found


# The references get pycage's CPU limit as pycage's containers do (src/executor/create_body.c):
# cpu_millis per cpu_period_ms, from the configuration the benchmark's responder copies.
_CPU = config_numbers(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", "..", "etc", "pycage.conf"),
                      ("cpu_millis", "cpu_period_ms"))
CPU_PERIOD_US = _CPU["cpu_period_ms"] * 1000
CPU_QUOTA_US = _CPU["cpu_millis"] * _CPU["cpu_period_ms"]
CPU_TEXT = f"{CPU_QUOTA_US / CPU_PERIOD_US:g} CPU counted over {CPU_PERIOD_US // 1000} ms"

SNIPPETS = [
    {
        "name": "print(1+1)",
        "key": "print",
        "code": "print(1+1)\n",
        "expect": "2\n",
    },
    {
        "name": "pandas example",
        "key": "pandas",
        "code": ('import pandas as pd\n'
                 'df = pd.DataFrame({"region": ["north", "south", "north", "east", "south"], '
                 '"sales": [120, 80, 200, 50, 130]})\n'
                 'print(df.groupby("region")["sales"].sum().sort_values(ascending=False)'
                 '.to_string())\n'),
        "expect": "region\nnorth    320\nsouth    210\neast      50\n",
    },
    {
        "name": "sympy integrate",
        "key": "sympy",
        "code": ('import sympy\n'
                 'x = sympy.Symbol("x")\n'
                 'print(sympy.integrate(sympy.sin(x)**2, x))\n'),
        "expect": "x/2 - sin(x)*cos(x)/2\n",
    },
]
TRUE_NAME = "true (bare churn)"
HARDENED_NAME = "print(1+1), pycage's container body"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ statistics

def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list: the smallest value with at least p% of
    the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(latencies_s):
    v = sorted(x * 1000.0 for x in latencies_s)
    return {"n": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90),
            "p99": percentile(v, 99), "min": v[0] if v else None, "max": v[-1] if v else None}


# ------------------------------------------------------------------ Docker Engine API

class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over the engine's unix socket."""

    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Engine:
    def __init__(self, path):
        self.path = path
        self.conn = UnixHTTPConnection(path)

    def call(self, method, url, body=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, API + url, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = UnixHTTPConnection(self.path)
            raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return resp.status, parsed

    def close(self):
        self.conn.close()


def engine_create_body(entrypoint, cmd):
    return {
        "Image": IMAGE,
        "Entrypoint": entrypoint,
        "Cmd": cmd,
        "NetworkDisabled": True,
        "Labels": {INSTANCE_LABEL: INSTANCE},
        "HostConfig": {
            "NetworkMode": "none",
            "Memory": 536870912,
            "MemorySwap": 536870912,
            "CpuPeriod": CPU_PERIOD_US,
            "CpuQuota": CPU_QUOTA_US,
            "PidsLimit": 64,
        },
    }


def hardened_create_body(cmd, seccomp_path):
    """The reference body plus the rest of what pycage's containers get (src/executor/create_body.c): no
    attach and python3 -c rather than the runner, so only the engine's side of the hardening
    is measured."""
    body = engine_create_body(["/usr/bin/python3"], cmd)
    body.update({"User": "65534:65534", "WorkingDir": "/tmp", "StopTimeout": 1,
                 "Env": ["OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1",
                         "PYTHONDONTWRITEBYTECODE=1", "HOME=/tmp", "LANG=C.UTF-8"]})
    sec = ["no-new-privileges"]
    if seccomp_path:
        with open(seccomp_path) as f:
            sec.append("seccomp=" + json.dumps(json.load(f)))
    body["HostConfig"].update({
        "ReadonlyRootfs": True,
        "Tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,size=16m,mode=1777"},
        "CapDrop": ["ALL"], "SecurityOpt": sec, "Init": True,
        "Ulimits": [{"Name": "nofile", "Soft": 256, "Hard": 256},
                    {"Name": "fsize", "Soft": 16777216, "Hard": 16777216},
                    {"Name": "core", "Soft": 0, "Hard": 0},
                    {"Name": "cpu", "Soft": 35, "Hard": 35}],
        "OomScoreAdj": 1000, "IpcMode": "none", "CgroupnsMode": "private",
        "AutoRemove": False, "LogConfig": {"Type": "none"}})
    return body


def engine_cycle(engine, body):
    """create + start + wait + delete.  Returns (ok, error text)."""
    st, res = engine.call("POST", "/containers/create", body)
    if st != 201:
        return False, f"create {st}: {str(res)[:120]}"
    cid = res["Id"]
    err = None
    try:
        st, res = engine.call("POST", f"/containers/{cid}/start")
        if st != 204:
            err = f"start {st}: {str(res)[:120]}"
        else:
            st, res = engine.call("POST", f"/containers/{cid}/wait")
            if st != 200:
                err = f"wait {st}: {str(res)[:120]}"
            elif res.get("StatusCode") != 0:
                err = f"exit {res.get('StatusCode')}"
    finally:
        st2, res2 = engine.call("DELETE", f"/containers/{cid}?force=1&v=1")
        if st2 != 204 and err is None:
            err = f"delete {st2}: {str(res2)[:120]}"
    return err is None, err


def engine_rate(sock, body, clients, seconds):
    """`clients` threads doing cycles back to back until `seconds` have passed; the last cycles
    finish.  Rate = successful cycles / wall seconds."""
    lock = threading.Lock()
    lat, errors = [], []
    start = time.monotonic()
    deadline = start + seconds

    def worker():
        engine = Engine(sock)
        try:
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                try:
                    ok, err = engine_cycle(engine, body)
                except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                    ok, err = False, f"{type(e).__name__}: {e}"
                dt = time.monotonic() - t0
                with lock:
                    if ok:
                        lat.append(dt)
                    else:
                        errors.append(err)
        finally:
            engine.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    return {"clients": clients, "seconds": seconds, "wall": wall, "ok": len(lat),
            "errors": len(errors), "error_examples": sorted(set(errors))[:3],
            "rate": len(lat) / wall, "latency": latency_summary(lat)}


class CreateWatcher:
    """Counts containers created by anyone but the benchmark while it runs, from the engine's
    live event stream (the engine keeps only the last 256 events for `since` queries, too few
    for a busy minute)."""

    def __init__(self, sock):
        self.sock_path = sock
        self.count = 0
        self.ok = True
        self.stopping = False
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self):
        filters = urllib.parse.quote(json.dumps({"type": ["container"], "event": ["create"]}))
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock_path)
            s.settimeout(0.5)
            s.sendall(f"GET {API}/events?filters={filters} HTTP/1.1\r\nHost: docker\r\n\r\n"
                      .encode())
        except OSError:
            self.ok = False
            self.ready.set()
            return
        self.ready.set()
        buf = b""
        dec = json.JSONDecoder()
        while not self.stopping:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                self.ok = False
                break
            if not chunk:
                break
            buf += chunk
            # Chunked encoding around newline-separated JSON: pick out the objects.
            text = buf.decode(errors="replace")
            i, last = 0, 0
            while True:
                j = text.find("{", i)
                if j < 0:
                    break
                try:
                    ev, end = dec.raw_decode(text, j)
                except ValueError:
                    break
                attrs = (ev.get("Actor") or {}).get("Attributes") or {}
                if ev.get("Action") == "create" and attrs.get(INSTANCE_LABEL) != INSTANCE:
                    self.count += 1
                i = last = end
            buf = text[last:].encode()
        s.close()

    def stop(self):
        time.sleep(0.2)         # events of the last moment
        self.stopping = True
        self.thread.join(5)
        return self.count if self.ok else None


CLK_TCK = os.sysconf("SC_CLK_TCK")
ENGINE_COMMS = ("dockerd", "containerd", "runc", "docker-init", "docker-proxy", "docker",
                "exe", "memfd:")
CID_RE = re.compile(r"[0-9a-f]{64}")
SAMPLE_EVERY_S = 1.0


def _proc_stat(pid):
    """(comm, ppid, utime + stime ticks, starttime ticks) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    comm = s[s.index("(") + 1:s.rindex(")")]
    fields = s[s.rindex(")") + 2:].split()
    # stat fields 4 (ppid), 14-15 (utime, stime), 22 (starttime): indexes 1, 11-12, 19 here.
    return comm, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19])


def process_tree(root_pids):
    """root_pids and every descendant."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                _, ppid, _, _ = _proc_stat(d)
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = set(), [p for p in root_pids if p]
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(children.get(p, []))
    return out


def read_pid(pidfile):
    try:
        with open(pidfile) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _uptime_ticks():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) * CLK_TCK


class Disturbance:
    """What else ran on the machine during a measurement: containers created by others (the
    engine's event log), and CPU time of processes that are neither this benchmark (its client,
    responder, nginx and their children), the engine (dockerd, containerd, shims, runc) nor a
    container of the benchmark.  A thread samples /proc every second; processes that live less
    than that are missed, so the CPU figure is a lower bound."""

    def __init__(self, args):
        self.args = args
        self.labels = {}
        self.seen = {}          # (pid, starttime) -> [class or None, last ticks]
        self.cpu = {}           # class -> ticks
        self.stop_event = threading.Event()

    def _container_instance(self, cid):
        if cid not in self.labels:
            try:
                engine = Engine(self.args.docker_socket)
                st, res = engine.call("GET", f"/containers/{cid}/json")
                engine.close()
                lab = ((res.get("Config") or {}).get("Labels") or {}) if st == 200 else {}
                self.labels[cid] = lab.get(INSTANCE_LABEL, "?") if st == 200 else "?"
            except (OSError, http.client.HTTPException, AttributeError):
                self.labels[cid] = "?"
        return self.labels[cid]

    def _classify(self, pid, comm, ppid, own):
        """A label for someone else's process, or None for ours, the engine's, the kernel's."""
        if pid in own or ppid in (0, 2) or pid == 2:
            return None
        # The container first: gVisor's sandbox and runc's init are "exe" or "runc:[..]" too.
        with open(f"/proc/{pid}/cgroup") as f:
            m = CID_RE.search(f.read())
        if not m:
            return None if comm.startswith(ENGINE_COMMS) else comm
        inst = self._container_instance(m.group(0))
        if inst in (INSTANCE, "?"):     # "?": gone before it could be looked up
            return None
        return f"container:{inst}"

    def _sample(self, first=False):
        own = process_tree([os.getpid(), read_pid(self.args.pidfile),
                            read_pid(self.args.nginx_pidfile)])
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            pid = int(d)
            try:
                comm, ppid, ticks, start = _proc_stat(pid)
                key = (pid, start)
                ent = self.seen.get(key)
                if ent is None:
                    cls = self._classify(pid, comm, ppid, own)
                    # Born during the measurement: all its CPU counts; else from now on.
                    base = 0 if (not first and start >= self.t0_ticks) else ticks
                    ent = self.seen[key] = [cls, base]
            except (OSError, ValueError, IndexError):
                continue
            if ent[0] is not None and ticks > ent[1]:
                self.cpu[ent[0]] = self.cpu.get(ent[0], 0) + ticks - ent[1]
            ent[1] = ticks

    def _loop(self):
        while not self.stop_event.wait(SAMPLE_EVERY_S):
            self._sample()

    def start(self):
        self.creates = CreateWatcher(self.args.docker_socket)
        self.t0 = time.time()
        self.t0_ticks = _uptime_ticks()
        self._sample(first=True)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        self._sample()
        t1 = time.time()
        cpu = sum(self.cpu.values()) / CLK_TCK
        top = sorted(self.cpu.items(), key=lambda kv: -kv[1])[:3]
        return {"foreign_creates": self.creates.stop(),
                "foreign_cpu_s": cpu,
                "foreign_cpu_pct": 100.0 * cpu / ((t1 - self.t0) * (os.cpu_count() or 1)),
                "foreign_top": [(c, t / CLK_TCK) for c, t in top]}


def bench_containers(sock, running_only=True):
    engine = Engine(sock)
    try:
        filters = urllib.parse.quote(json.dumps({"label": [f"{INSTANCE_LABEL}={INSTANCE}"]}))
        st, res = engine.call("GET", f"/containers/json?all={0 if running_only else 1}"
                              f"&filters={filters}")
        return res if st == 200 else []
    finally:
        engine.close()


def wait_no_bench_containers(sock, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not bench_containers(sock, running_only=False):
            return True
        time.sleep(0.5)
    return False


def container_memory(sock, cid):
    engine = Engine(sock)
    try:
        st, res = engine.call("GET", f"/containers/{cid}/stats?stream=false&one-shot=true")
    finally:
        engine.close()
    if st != 200 or not isinstance(res, dict):
        return None
    ms = res.get("memory_stats") or {}
    stats = ms.get("stats") or {}
    usage = ms.get("usage")
    cache = stats.get("cache", stats.get("total_inactive_file", 0))
    return {"usage": usage, "cache": cache, "rss": stats.get("rss", stats.get("total_rss")),
            "usage_minus_cache": usage - cache if usage is not None else None}


# ------------------------------------------------------------------ machine

def machine_info(sock):
    info = {"nproc": os.cpu_count(), "kernel": platform.release(), "cpu": None,
            "mem_total_kb": None, "docker": None, "runc": None}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem_total_kb"] = int(line.split()[1])
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        engine = Engine(sock)
        st, res = engine.call("GET", f"/images/{IMAGE}/json")
        if st == 200:
            info["image"] = f"{IMAGE} {res.get('Id', '?')[7:19]}"
        st, res = engine.call("GET", "/version")
        engine.close()
        if st == 200:
            info["docker"] = f"{res.get('Version')} (API {res.get('ApiVersion')})"
            for comp in res.get("Components") or []:
                if comp.get("Name") == "runc":
                    info["runc"] = comp.get("Version")
    except (OSError, http.client.HTTPException):
        pass
    return info


# ------------------------------------------------------------------ references

NAIVE_LIMITS = ["--cpu-period", str(CPU_PERIOD_US), "--cpu-quota", str(CPU_QUOTA_US),
                "--memory", "512m", "--memory-swap", "512m",
                "--pids-limit", "64"]


def naive_docker_run(snippet, n, limits=()):
    lat, errors = [], []
    for _ in range(n):
        t0 = time.monotonic()
        p = subprocess.run([DOCKER, "run", "--rm", "--network", "none",
                            "--label", f"{INSTANCE_LABEL}={INSTANCE}", *limits,
                            "--entrypoint", "/usr/bin/python3", IMAGE, "-c", snippet["code"]],
                           capture_output=True, text=True)
        dt = time.monotonic() - t0
        if p.returncode == 0 and p.stdout == snippet["expect"]:
            lat.append(dt)
        else:
            errors.append(f"exit {p.returncode}, stdout {p.stdout[:60]!r}, "
                          f"stderr {p.stderr.strip()[-100:]!r}")
    return {"n": n, "ok": len(lat), "errors": len(errors),
            "error_examples": sorted(set(errors))[:3], "latency": latency_summary(lat)}


def cmd_refs(args):
    out = {"machine": machine_info(args.docker_socket), "naive": {}, "engine": {},
           "quick": args.quick}
    naive_n = args.naive_n
    secs = args.engine_secs
    out["naive_limited"] = {}
    for sn in SNIPPETS:
        for key, limits in (("naive", ()), ("naive_limited", NAIVE_LIMITS)):
            log(f"{key} docker run, {sn['name']}, {naive_n} sequential")
            dist = Disturbance(args).start()
            r = naive_docker_run(sn, naive_n, limits)
            r.update(dist.stop())
            out[key][sn["name"]] = r
            log(f"  p50 {r['latency']['p50']:.0f} ms, errors {r['errors']}, "
                f"others' CPU {r['foreign_cpu_pct']:.0f} %")
    cases = [(sn["name"], engine_create_body(["/usr/bin/python3"], ["-c", sn["code"]]))
             for sn in SNIPPETS]
    cases.append((TRUE_NAME, engine_create_body(["/bin/true"], [])))
    if args.seccomp_profile is not None:
        cases.append((HARDENED_NAME, hardened_create_body(["-c", SNIPPETS[0]["code"]],
                                                          args.seccomp_profile)))
    for name, body in cases:
        levels = []
        for c in (ENGINE_LEVELS if name != HARDENED_NAME else (4, 8)):
            wait_no_bench_containers(args.docker_socket)
            log(f"engine fresh containers, {name}, concurrency {c}, {secs} s")
            dist = Disturbance(args).start()
            r = engine_rate(args.docker_socket, body, c, secs)
            r.update(dist.stop())
            log(f"  {r['rate']:.2f}/s ({r['ok']} ok, {r['errors']} errors), others' CPU "
                f"{r['foreign_cpu_pct']:.0f} %, others' containers {r['foreign_creates']}")
            levels.append(r)
        best = max(levels, key=lambda r: r["rate"])
        out["engine"][name] = {"levels": levels, "best_rate": best["rate"],
                               "best_clients": best["clients"]}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


# ------------------------------------------------------------------ pycage through nginx

class Client:
    def __init__(self, url, timeout=120):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def get(self, path):
        c = self._conn()
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def execute(self, snippet):
        """One execution.  Returns (latency s, outcome) where outcome is "ok", "503", or an
        error label."""
        body = json.dumps({"code": snippet["code"]}).encode()
        c = self._conn()
        t0 = time.monotonic()
        try:
            c.request("POST", "/v1/execute", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return time.monotonic() - t0, f"connection: {type(e).__name__}"
        dt = time.monotonic() - t0
        if r.status == 503:
            return dt, "503"
        if r.status != 200:
            try:
                code = json.loads(raw)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = raw[:60]
            return dt, f"{r.status} {code}"
        try:
            ans = json.loads(raw)
        except ValueError:
            return dt, "200 with a body that is not JSON"
        if ans.get("stdout") != snippet["expect"] or ans.get("exit_code") != 0:
            return dt, (f"200 wrong output: status {ans.get('status')}, "
                        f"exit {ans.get('exit_code')}, "
                        f"stdout {str(ans.get('stdout'))[:40]!r}, "
                        f"stderr {str(ans.get('stderr'))[-80:]!r}")
        return dt, "ok"

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def tally(results, wall):
    """results: list of (latency, outcome)."""
    ok_lat = [dt for dt, o in results if o == "ok"]
    all_lat = [dt for dt, _ in results]
    n503 = sum(1 for _, o in results if o == "503")
    errs = {}
    for _, o in results:
        if o not in ("ok", "503"):
            errs[o] = errs.get(o, 0) + 1
    return {"requests": len(results), "ok": len(ok_lat), "n503": n503,
            "errors": sum(errs.values()), "error_kinds": errs, "wall": wall,
            "throughput": len(ok_lat) / wall if wall > 0 else 0.0,
            "latency": latency_summary(all_lat), "latency_ok": latency_summary(ok_lat)}


def run_sequential(url, snippet, n, gap_s=0.0):
    client = Client(url)
    results = []
    start = time.monotonic()
    for i in range(n):
        results.append(client.execute(snippet))
        if gap_s:
            time.sleep(gap_s)
    wall = time.monotonic() - start
    client.close()
    return tally(results, wall)


def run_concurrent(url, snippet, clients, seconds=None, total=None, on_progress=None):
    """`clients` threads, each sending requests back to back, until `seconds` have passed or
    `total` requests have been started.  The last requests finish; wall includes them."""
    lock = threading.Lock()
    results = []
    started = [0]
    start = time.monotonic()
    deadline = start + seconds if seconds else None

    def take():
        with lock:
            if total is not None and started[0] >= total:
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False
            started[0] += 1
            return True

    def worker():
        client = Client(url)
        while take():
            r = client.execute(snippet)
            with lock:
                results.append(r)
                done = len(results)
            if on_progress:
                on_progress(done)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    return tally(results, wall)


def _status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def responder_memory(pidfile):
    """VmRSS of the responder's processes: the pidfile's (the front, since privilege separation)
    and its children (the executor), their sum, and the sum of their PSS (shared pages split)."""
    pid = read_pid(pidfile)
    if pid is None:
        return None
    procs = []
    for p in sorted(process_tree([pid])):
        rss = _status_kb(p, "VmRSS")
        if rss is not None:
            procs.append({"pid": p, "rss_kb": rss, "pss_kb": _pss_kb(p),
                          "role": "pidfile" if p == pid else "child"})
    if not procs:
        return None
    return {"rss_kb": sum(x["rss_kb"] for x in procs),
            "pss_kb": sum(x["pss_kb"] or 0 for x in procs), "procs": procs}


def read_rss_kb(pidfile):
    m = responder_memory(pidfile)
    return m["rss_kb"] if m else None


METRIC_RE = re.compile(r'^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$')


def read_metrics(client):
    for attempt in range(3):
        try:
            st, raw = client.get("/v1/metrics")
            break
        except (OSError, http.client.HTTPException):
            if attempt == 2:
                return {}
            time.sleep(0.2)
    if st != 200:
        return {}
    m = {}
    for line in raw.decode(errors="replace").splitlines():
        mm = METRIC_RE.match(line)
        if mm:
            m[mm.group(1) + (mm.group(2) or "")] = float(mm.group(3))
    return m


def metrics_delta(before, after):
    if not before or not after:
        return None

    def d(key):
        return after.get(key, 0) - before.get(key, 0)
    out = {"pool_hits": d("pycage_pool_hits_total"),
           "cold_starts": d("pycage_cold_starts_total"),
           "created": d("pycage_containers_created_total"),
           "removed": d("pycage_containers_removed_total"),
           "docker_errors": d("pycage_docker_errors_total"),
           "janitor_removed": d("pycage_janitor_removed_total")}
    for phase in ("queue", "acquire", "run"):
        cnt = d(f'pycage_execution_phase_seconds_count{{phase="{phase}"}}')
        s = d(f'pycage_execution_phase_seconds_sum{{phase="{phase}"}}')
        out[f"mean_{phase}_ms"] = 1000.0 * s / cnt if cnt else None
    return out


def wait_pool_ready(client, size, timeout=90):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = read_metrics(client)
        if m.get("pycage_pool_ready", -1) >= size:
            return True
        time.sleep(0.5)
    return False


def settle(args, mclient, pool_size):
    """Between blocks: no bench container busy, the pool full again, and a short pause."""
    if pool_size:
        if not wait_pool_ready(mclient, pool_size):
            log("warning: the pool did not refill within 90 s")
    else:
        end = time.monotonic() + 60
        while time.monotonic() < end and bench_containers(args.docker_socket):
            time.sleep(0.5)
    time.sleep(args.settle)


def log_problems(path, offset):
    """warn/error lines the responder logged since `offset`."""
    counts, examples = {"warn": 0, "error": 0}, []
    try:
        with open(path, errors="replace") as f:
            f.seek(offset)
            for line in f:
                for lvl in ("warn", "error"):
                    if f" {lvl}: " in line:
                        counts[lvl] += 1
                        text = re.sub(r"[0-9a-f]{12,}", "ID", line.split(f" {lvl}: ", 1)[1].strip())
                        if text not in examples and len(examples) < 6:
                            examples.append(text)
    except OSError:
        pass
    return counts, examples


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def run_paired(args, sn, refs, mclient):
    """8 clients on pycage and the engine's own rate for sn, in alternating slices of
    --paired-secs: engine, pycage, engine, pycage...  Both see the same minutes of the
    machine, whose speed drifts by 30 % within two minutes here (docs/BENCHMARKS.md), so
    their ratio is steadier than a 60 s block against one bracket.  Each slice starts
    after a 1 s pause; pycage's slices have no settle, so the pool starts a slice as the
    last one left it."""
    c = refs["engine"][sn["name"]]["best_clients"]
    body = engine_create_body(["/usr/bin/python3"], ["-c", sn["code"]])
    rounds = []
    m0 = read_metrics(mclient)
    dist = Disturbance(args).start()
    for i in range(args.paired_rounds):
        time.sleep(1)
        e = engine_rate(args.docker_socket, body, c, args.paired_secs)
        time.sleep(1)
        p = run_concurrent(args.url, sn, CLIENTS, seconds=args.paired_secs)
        rounds.append({"engine_ok": e["ok"], "engine_wall": e["wall"],
                       "engine_errors": e["errors"], "ok": p["ok"], "wall": p["wall"],
                       "n503": p["n503"], "errors": p["errors"],
                       "error_kinds": p["error_kinds"]})
        log(f"paired {sn['name']} round {i + 1}: engine {e['rate']:.2f}/s at C={c}, "
            f"pycage {p['throughput']:.2f}/s ({p['ok']} ok, {p['n503']} 503, "
            f"{p['errors']} errors)")
    out = {"clients": c, "secs": args.paired_secs, "rounds": rounds,
           "errors": sum(r["errors"] for r in rounds), "n503": sum(r["n503"] for r in rounds),
           "server": metrics_delta(m0, read_metrics(mclient))}
    out.update(dist.stop())
    eng = sum(r["engine_ok"] for r in rounds) / sum(r["engine_wall"] for r in rounds)
    got = sum(r["ok"] for r in rounds) / sum(r["wall"] for r in rounds)
    out.update({"engine_rate": eng, "rate": got, "pct": 100 * got / eng if eng else None})
    log(f"paired {sn['name']}: pycage {got:.2f}/s, engine {eng:.2f}/s: {out['pct']:.0f} %")
    return out


def cmd_run(args):
    pool_on = args.pool == "on"
    pool_size = args.pool_size if pool_on else 0
    seq_n = args.seq_on if pool_on else args.seq_off
    mclient = Client(args.url, timeout=30)
    out = {"pool": args.pool, "pool_size": pool_size, "seq_n": seq_n,
           "duration": args.duration, "clients": CLIENTS, "blocks": {}, "quick": args.quick,
           "seq_gap_ms": args.seq_gap_ms, "paced_n": args.paced_n if pool_on else 0,
           "paced_gap_ms": args.paced_gap_ms}

    # Idle: the responder just started; with the pool, wait until it is full.
    if pool_on and not wait_pool_ready(mclient, pool_size):
        log("warning: the pool did not fill within 90 s")
    time.sleep(args.settle)
    out["mem_idle"] = responder_memory(args.pidfile)
    log(f"responder memory at idle: {out['mem_idle']}")
    if pool_on:
        mems = []
        for c in bench_containers(args.docker_socket):
            m = container_memory(args.docker_socket, c["Id"])
            if m:
                m["command"] = c.get("Command")
                mems.append(m)
        out["pool_idle_memory"] = mems
        log(f"pool containers idle: {[m['usage'] for m in mems]}")

    refs = None
    if args.refs:
        with open(args.refs) as f:
            refs = json.load(f)

    def engine_now(sn):
        """The engine's own rate for sn in fresh containers at the refs' best concurrency,
        measured now: the engine's rate drifts by more than 10 % within minutes here, so
        each 8-client block is bracketed by one of these before and one after."""
        if refs is None or sn["name"] not in refs["engine"]:
            return None
        c = refs["engine"][sn["name"]]["best_clients"]
        body = engine_create_body(["/usr/bin/python3"], ["-c", sn["code"]])
        log(f"engine fresh containers, {sn['name']}, concurrency {c}, {args.engine_secs} s "
            f"(bracket)")
        r = engine_rate(args.docker_socket, body, c, args.engine_secs)
        log(f"  {r['rate']:.2f}/s ({r['ok']} ok, {r['errors']} errors)")
        return {"rate": r["rate"], "clients": c, "errors": r["errors"]}

    log_off = log_size(args.log)
    kinds = ["seq"] + (["paced"] if pool_on and args.paced_n else []) + ["conc"]
    for sn in SNIPPETS:
        blocks = {}
        # One request that is not counted: the connection, and the first use of this snippet.
        Client(args.url).execute(sn)
        settle(args, mclient, pool_size)
        for kind in kinds:
            if kind == "conc":
                before = engine_now(sn)
                settle(args, mclient, pool_size)
            m0 = read_metrics(mclient)
            dist = Disturbance(args).start()
            if kind == "seq":
                log(f"pool {args.pool}: {sn['name']}, {seq_n} sequential")
                r = run_sequential(args.url, sn, seq_n, args.seq_gap_ms / 1000.0)
            elif kind == "paced":
                log(f"pool {args.pool}: {sn['name']}, {args.paced_n} sequential, "
                    f"{args.paced_gap_ms} ms apart")
                r = run_sequential(args.url, sn, args.paced_n, args.paced_gap_ms / 1000.0)
            else:
                log(f"pool {args.pool}: {sn['name']}, {CLIENTS} clients for {args.duration} s")
                r = run_concurrent(args.url, sn, CLIENTS, seconds=args.duration)
            r.update(dist.stop())
            r["server"] = metrics_delta(m0, read_metrics(mclient))
            if kind == "conc":
                settle(args, mclient, pool_size)
                r["engine_bracket"] = [before, engine_now(sn)]
            log(f"  p50 {r['latency']['p50']:.1f} ms p99 {r['latency']['p99']:.1f} ms, "
                f"{r['throughput']:.2f}/s, {r['ok']} ok, {r['n503']} 503, "
                f"{r['errors']} errors {r['error_kinds'] or ''}; server {r['server']}; "
                f"others: {r['foreign_creates']} containers, {r['foreign_cpu_pct']:.0f} % CPU "
                f"{r['foreign_top']}")
            blocks[kind] = r
            settle(args, mclient, pool_size)
        if args.paired_rounds and refs is not None and sn["name"] in refs["engine"]:
            blocks["paired"] = run_paired(args, sn, refs, mclient)
            settle(args, mclient, pool_size)
        out["blocks"][sn["name"]] = blocks

    time.sleep(args.settle)
    out["mem_after"] = responder_memory(args.pidfile)
    log(f"responder memory after the runs: {out['mem_after']}")

    if pool_on and args.soak:
        sn = SNIPPETS[0]
        samples = [(0, read_rss_kb(args.pidfile))]
        every = args.soak_every
        next_mark = [every]
        lock = threading.Lock()

        def progress(done):
            with lock:
                if done >= next_mark[0]:
                    samples.append((done, read_rss_kb(args.pidfile)))
                    log(f"  soak {done}: RSS {samples[-1][1]} kB")
                    next_mark[0] += every

        log(f"soak: {args.soak} executions of print(1+1), {CLIENTS} clients, pool on")
        m0 = read_metrics(mclient)
        dist = Disturbance(args).start()
        r = run_concurrent(args.url, sn, CLIENTS, total=args.soak, on_progress=progress)
        r.update(dist.stop())
        r["server"] = metrics_delta(m0, read_metrics(mclient))
        settle(args, mclient, pool_size)
        r["rss_samples"] = samples
        r["mem_idle_after"] = responder_memory(args.pidfile)
        out["soak"] = r
        log(f"soak done: {r['throughput']:.2f}/s, {r['errors']} errors, RSS {samples}")

    out["log_problems"], out["log_examples"] = log_problems(args.log, log_off)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


# ------------------------------------------------------------------ report

def ms(x):
    if x is None:
        return "–"
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def mb(kb):
    return "–" if kb is None else f"{kb / 1024:.1f} MB"


def mem_text(m):
    if not m:
        return "–"
    parts = " + ".join(f"{p['rss_kb'] / 1024:.1f}" for p in m["procs"])
    return (f"{m['rss_kb'] / 1024:.1f} MB VmRSS ({parts} MB: front, executor); "
            f"PSS {m['pss_kb'] / 1024:.1f} MB")


def others(r):
    """The disturbance cell: others' containers created / others' CPU as % of the machine."""
    n = r.get("foreign_creates")
    pct = r.get("foreign_cpu_pct")
    cell = f"{'?' if n is None else n} / {'?' if pct is None else f'{pct:.0f} %'}"
    top = [c for c, sec in r.get("foreign_top") or [] if sec >= 0.05 * max(1.0, r.get("wall", 1))]
    return cell + (f" ({', '.join(top[:2])})" if top and pct and pct >= 5 else "")


def cmd_report(args):
    with open(args.refs) as f:
        refs = json.load(f)
    runs = {}
    for path in (args.off, args.on):
        with open(path) as f:
            r = json.load(f)
        runs[r["pool"]] = r
    mach = refs["machine"]
    quick = refs.get("quick") or runs["on"].get("quick")
    on_run, off_run = runs["on"], runs["off"]
    P = print

    P("# pycage benchmark" + (" (--quick: a sanity run, not a measurement)" if quick else ""))
    P()
    P(f"- Machine: {mach['nproc']} CPUs ({mach.get('cpu')}), "
      f"{mach['mem_total_kb'] / 1048576:.1f} GiB RAM, kernel {mach['kernel']}, "
      f"Docker {mach['docker']}, runc {mach.get('runc')}, image {mach.get('image')}")
    P(f"- Command: `{args.command}`" + (f", {args.date}" if args.date else "")
      + (f"; responder {args.responder}" if args.responder else ""))
    P("- Path: client → own nginx on 127.0.0.1:8081 → own pycage-fcgi on "
      "/run/pycage/bench.sock (instance `bench`, etc/pycage.conf with pool_size 0 or "
      f"{on_run['pool_size']}, max_executions {args.max_executions}, preload "
      f"`{args.preload}`) → dockerd. The main service on :8080 is not touched.")
    P("- **nginx's `limit_req` (10 r/s per address, burst 30) and `limit_conn` (32) lines are "
      "removed in the benchmark's nginx**: from one address they would otherwise answer 429 "
      "and throttle the benchmark. Everything else is nginx/pycage.conf as shipped (no TLS).")
    P("- Latency: client side, request sent → whole answer read; nearest-rank percentiles over "
      "every answer. Throughput: correct 200 answers / wall seconds (first request → last "
      "answer). Every 200 is checked byte for byte against the expected stdout. One uncounted "
      "request per snippet and configuration comes first.")
    paced = ""
    if on_run.get("paced_n"):
        paced = (f"; with the pool on also {on_run['paced_n']} requests "
                 f"{on_run['paced_gap_ms']} ms apart (\"paced\")")
    P(f"- Sequential: back to back on one keep-alive connection, {on_run['seq_n']} requests "
      f"with the pool on, {off_run['seq_n']} with it off"
      + (f", {on_run['seq_gap_ms']} ms apart" if on_run.get('seq_gap_ms') else "")
      + f"{paced}. Concurrent: {CLIENTS} clients for {on_run['duration']} s.")
    P("- \"others\": containers created on the engine by anyone but the benchmark during that "
      "measurement (Docker's event log) / CPU used by processes that are neither the benchmark, "
      "the engine nor the benchmark's containers, as % of all CPUs. Non-zero means the machine "
      "was shared while measuring.")
    P()

    P("## pycage through nginx")
    P()
    P("| snippet | pool | load | requests | 200 ok | 503 | errors | p50 ms | p90 ms | p99 ms "
      "| exec/s | pool hits / cold | server mean queue / acquire / run ms | others |")
    P("| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- "
      "| --- |")
    for sn in SNIPPETS:
        for pool in ("off", "on"):
            for kind in ("seq", "paced", "conc"):
                r = runs[pool]["blocks"][sn["name"]].get(kind)
                if r is None:
                    continue
                s = r["server"]
                load = {"seq": "sequential",
                        "paced": f"paced, {runs[pool]['paced_gap_ms']} ms apart",
                        "conc": f"{CLIENTS} clients, {runs[pool]['duration']} s"}[kind]
                err = str(r["errors"])
                if r["error_kinds"]:
                    err += " (" + "; ".join(f"{k}: {v}" for k, v in r["error_kinds"].items()) + ")"
                if s:
                    hits = f"{int(s['pool_hits'])} / {int(s['cold_starts'])}"
                    phases = (f"{ms(s['mean_queue_ms'])} / {ms(s['mean_acquire_ms'])} / "
                              f"{ms(s['mean_run_ms'])}")
                else:
                    hits = phases = "–"
                P(f"| {sn['name']} | {pool} | {load} | {r['requests']} | {r['ok']} "
                  f"| {r['n503']} | {err} | {ms(r['latency']['p50'])} "
                  f"| {ms(r['latency']['p90'])} | {ms(r['latency']['p99'])} "
                  f"| {r['throughput']:.2f} | {hits} | {phases} | {others(r)} |")
    P()

    P("## References (same run)")
    P()
    n_naive = next(iter(refs["naive"].values()))["n"]
    secs = refs["engine"][TRUE_NAME]["levels"][0]["seconds"]
    P(f"- Naive: `docker run --rm --network none --entrypoint /usr/bin/python3 {IMAGE} -c "
      f"CODE`, {n_naive} sequential per snippet: what most users would write; no CPU or memory "
      f"limit, so the program gets a whole core where pycage gives it {CPU_TEXT}.")
    P("- Naive, same limits: the same with `" + " ".join(NAIVE_LIMITS) + "` (for reading "
      "only; the target compares with the plain naive run).")
    P("- Engine: create + start + wait + delete of `python3 -c SNIPPET` over the API "
      f"({CPU_TEXT}, 512 MiB, 64 pids, no network, no attach), back to back from C clients for {secs} s per "
      "level; rate = successful cycles / wall seconds. `true` is the bare churn limit.")
    if HARDENED_NAME in refs["engine"]:
        P("- Engine, pycage's container body: the print(1+1) cycle again with everything else "
          "pycage's containers get (read-only root + /tmp tmpfs, CapDrop ALL, "
          "no-new-privileges, pycage's seccomp profile, Init, ulimits, OomScoreAdj, IPC none, "
          "private cgroupns, no log driver; src/executor/create_body.c), still python3 -c and no attach: "
          "how much of the gap is the engine's side of the hardening. For reading only.")
    P()
    P("| snippet | naive p50 / p90 / p99 ms | naive, limited p50 / p90 / p99 ms "
      "| engine/s C=1 | C=2 | C=4 | C=8 | engine best | errors | others (max of the levels) |")
    P("| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    for name in [sn["name"] for sn in SNIPPETS] + [TRUE_NAME, HARDENED_NAME]:
        if name not in refs["engine"]:
            continue
        e = refs["engine"][name]
        lv = {lvl["clients"]: lvl for lvl in e["levels"]}
        errs = sum(lvl["errors"] for lvl in e["levels"])
        cols = []
        parts = list(e["levels"])
        for key in ("naive", "naive_limited"):
            nv = refs.get(key, {}).get(name)
            if nv:
                lat = nv["latency"]
                cols.append(f"{ms(lat['p50'])} / {ms(lat['p90'])} / {ms(lat['p99'])}")
                errs += nv["errors"]
                parts.append(nv)
            else:
                cols.append("–")
        worst = max(parts, key=lambda r: (r.get("foreign_cpu_pct") or 0))
        P(f"| {name} | {cols[0]} | {cols[1]} | "
          + " | ".join(f"{lv[c]['rate']:.2f}" if c in lv else "–" for c in ENGINE_LEVELS)
          + f" | **{e['best_rate']:.2f}/s at C={e['best_clients']}** | {errs} "
          f"| {sum((r.get('foreign_creates') or 0) for r in parts)} / "
          f"{worst.get('foreign_cpu_pct') or 0:.0f} % |")
    P()

    P("## Ratios")
    P()
    P("8 clients: each block against the engine's best rate from the references above and "
      "against the engine's rate for the same snippet at the same concurrency measured just "
      "before and just after that block (its bracket: before + after, and their mean).")
    P()
    P("| snippet | engine best /s (references) | pool on, 8 clients /s | bracket /s "
      "| % of references | % of bracket | pool off, 8 clients /s | bracket /s "
      "| % of references | % of bracket |")
    P("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = {}
    for sn in SNIPPETS:
        name = sn["name"]
        eng = refs["engine"][name]["best_rate"]
        ratios[name] = {}
        cols = []
        for pool, run in (("on", on_run), ("off", off_run)):
            conc = run["blocks"][name]["conc"]
            got = conc["throughput"]
            br = [b["rate"] for b in conc.get("engine_bracket") or [] if b]
            mean = sum(br) / len(br) if br else None
            ratios[name][pool] = {"rate": got, "pct": 100 * got / eng, "bracket": br,
                                  "bracket_mean": mean,
                                  "bracket_pct": 100 * got / mean if mean else None}
            x = ratios[name][pool]
            cols.append(f"{got:.2f} | "
                        + (" + ".join(f"{b:.2f}" for b in br) + f" → {mean:.2f}" if br else "–")
                        + f" | {x['pct']:.0f} % | "
                        + (f"{x['bracket_pct']:.0f} %" if mean else "–"))
        P(f"| {name} | {eng:.2f} | {cols[0]} | {cols[1]} |")
    P()
    paired = [(sn["name"], pool, run["blocks"][sn["name"]]["paired"])
              for sn in SNIPPETS for pool, run in (("on", on_run), ("off", off_run))
              if "paired" in run["blocks"][sn["name"]]]
    if paired:
        P("Paired slices (run_paired): 8 clients on pycage and the engine's own rate at the "
          "references' best concurrency, in alternating slices, so that both see the same "
          "minutes of the machine. Rates are summed over the slices.")
        P()
        P("| snippet | pool | slices | engine /s (C) | pycage /s | % of engine | pycage per "
          "slice /s | engine per slice /s | 503 / errors | pool hits | others |")
        P("| --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: | --- |")
        for name, pool, x in paired:
            rs = x["rounds"]
            P(f"| {name} | {pool} | {len(rs)} × {x['secs']} s | {x['engine_rate']:.2f} "
              f"({x['clients']}) | {x['rate']:.2f} | {x['pct']:.0f} % | "
              + ", ".join(f"{r['ok'] / r['wall']:.1f}" for r in rs) + " | "
              + ", ".join(f"{r['engine_ok'] / r['engine_wall']:.1f}" for r in rs) + " | "
              + f"{sum(r['n503'] for r in rs)} / {sum(r['errors'] for r in rs)} | "
              f"{x['server'].get('pool_hits', 0):.0f} | {others(x)} |")
        P()
    P("| snippet | pool off seq p50 ms | naive p50 ms | pool off / naive "
      "| naive, limited p50 ms |")
    P("| --- | ---: | ---: | ---: | ---: |")
    for sn in SNIPPETS:
        name = sn["name"]
        off_p50 = off_run["blocks"][name]["seq"]["latency"]["p50"]
        naive_p50 = refs["naive"][name]["latency"]["p50"]
        lim = refs.get("naive_limited", {}).get(name, {}).get("latency", {}).get("p50")
        P(f"| {name} | {ms(off_p50)} | {ms(naive_p50)} "
          f"| {off_p50 / naive_p50 if naive_p50 else 0:.2f} | {ms(lim)} |")
    P()

    P("## Memory")
    P()
    P("| what | figure |")
    P("| --- | --- |")
    P(f"| responder at idle after start, pool off | {mem_text(off_run.get('mem_idle'))} |")
    P(f"| responder after the pool-off runs | {mem_text(off_run.get('mem_after'))} |")
    P(f"| responder at idle after start, pool on | {mem_text(on_run.get('mem_idle'))} |")
    P(f"| responder after the pool-on runs | {mem_text(on_run.get('mem_after'))} |")
    soak = on_run.get("soak")
    if soak:
        samples = soak["rss_samples"]
        vals = [kb for _, kb in samples if kb is not None]
        P(f"| soak: {soak['requests']} executions of print(1+1), {CLIENTS} clients, pool on: "
          f"VmRSS (front + executor) after N executions | "
          + ", ".join(f"{n}: {kb / 1024:.1f}" for n, kb in samples if kb is not None)
          + f" MB (spread {(max(vals) - min(vals)) / 1024:.2f} MB) |")
        P(f"| soak: throughput, 503s, errors, others | {soak['throughput']:.2f}/s, "
          f"{soak['n503']}, {soak['errors']} {soak['error_kinds'] or ''}, {others(soak)} |")
        P(f"| responder at idle after the soak | {mem_text(soak.get('mem_idle_after'))} |")
    for i, m in enumerate(on_run.get("pool_idle_memory") or []):
        P(f"| pool container {i + 1} at idle (`{m.get('command')}`): memory_stats.usage "
          f"/ usage − cache / rss | {m['usage'] / 1048576:.1f} / "
          f"{m['usage_minus_cache'] / 1048576:.1f} / {(m['rss'] or 0) / 1048576:.1f} MiB |")
    P()

    P("## Responder health under load")
    P()
    P(f"- Containers labelled `{INSTANCE_LABEL}={INSTANCE}` left on the engine after each "
      f"clean stop of the bench responder (before the script removed them): {args.leftovers}")
    for pool in ("off", "on"):
        r = runs[pool]
        blocks = [b[k] for b in r["blocks"].values() for k in b]
        if r.get("soak"):
            blocks.append(r["soak"])
        tot_err = sum(b["errors"] for b in blocks)
        tot_503 = sum(b["n503"] for b in blocks)
        derr = sum((b["server"] or {}).get("docker_errors", 0) for b in blocks)
        jan = sum((b["server"] or {}).get("janitor_removed", 0) for b in blocks)
        P(f"- Pool {pool}: {tot_err} errors, {tot_503} 503s, {int(derr)} engine call failures "
          f"(pycage_docker_errors_total), {int(jan)} containers removed by its janitor; "
          f"responder log: {r['log_problems']['warn']} warn, {r['log_problems']['error']} error"
          + (" — " + "; ".join(f"`{e}`" for e in r["log_examples"][:4])
             if r["log_examples"] else ""))
    P()

    P("## Targets")
    P()
    P("| target | figure | result |")
    P("| --- | --- | --- |")

    def row(target, figure, ok):
        P(f"| {target} | {figure} | {'PASS' if ok else '**FAIL**'} |")

    on = on_run["blocks"]
    limits = {"print(1+1)": 15.0, "pandas example": 40.0}
    for name, lim in limits.items():
        if name not in on:      # left out by --snippets
            continue
        p50 = on[name]["seq"]["latency"]["p50"]
        row(f"pool on, sequential: {name} p50 ≤ {lim:.0f} ms", f"{ms(p50)} ms", p50 <= lim)
    for sn in SNIPPETS:
        lat = on[sn["name"]]["seq"]["latency"]
        row(f"pool on, sequential: {sn['name']} p99 ≤ 3 × p50",
            f"p99 {ms(lat['p99'])} ms vs 3 × {ms(lat['p50'])} = {ms(3 * lat['p50'])} ms",
            lat["p99"] <= 3 * lat["p50"])
    for sn in SNIPPETS:
        name = sn["name"]
        off_p50 = off_run["blocks"][name]["seq"]["latency"]["p50"]
        naive_p50 = refs["naive"][name]["latency"]["p50"]
        row(f"pool off, sequential: {name} p50 no slower than naive docker run",
            f"{ms(off_p50)} ms vs {ms(naive_p50)} ms", off_p50 <= naive_p50)
    dur_note = "" if on_run["duration"] >= 60 else f" (only {on_run['duration']} s)"
    # Judged against the bracket (the engine's rate for the same snippet measured right
    # before and after the block); the references' figure, minutes older, is shown beside it.
    for pool in ("on", "off"):
        for sn in SNIPPETS:
            name = sn["name"]
            x = ratios[name][pool]
            judged = x["bracket_pct"] if x["bracket_pct"] is not None else x["pct"]
            row(f"pool {pool}, 8 clients{dur_note}: {name} ≥ 90 % of the engine's rate",
                f"{x['rate']:.2f}/s = "
                + (f"{x['bracket_pct']:.0f} % of {x['bracket_mean']:.2f}/s (bracket); "
                   if x["bracket_mean"] else "")
                + f"{x['pct']:.0f} % of {refs['engine'][name]['best_rate']:.2f}/s "
                f"(references)", judged >= 90.0)
    for name, pool, x in paired:
        row(f"pool {pool}, 8 clients in paired slices: {name} ≥ 90 % of the engine's rate",
            f"{x['rate']:.2f}/s = {x['pct']:.0f} % of {x['engine_rate']:.2f}/s",
            x["pct"] >= 90.0)
    for pool in ("on", "off"):
        blocks = [runs[pool]["blocks"][sn["name"]] for sn in SNIPPETS]
        e = sum(b[k]["errors"] for b in blocks for k in ("conc", "paired") if k in b)
        n5 = sum(b[k]["n503"] for b in blocks for k in ("conc", "paired") if k in b)
        row(f"pool {pool}, 8 clients: no error but documented 503s",
            f"{e} errors, {n5} 503s", e == 0)
    for pool in ("off", "on"):
        for key, when in (("mem_idle", "after start"), ("mem_after", "after the runs")):
            m = runs[pool].get(key)
            kb = m["rss_kb"] if m else None
            big = max((p["rss_kb"] for p in m["procs"]), default=None) if m else None
            row(f"responder ≤ 16 MB resident at idle, {when} (pool {pool}; VmRSS of front + "
                f"executor)", f"{mb(kb)} (larger process {mb(big)}; PSS "
                f"{mb(m['pss_kb'] if m else None)})", kb is not None and kb <= 16 * 1024)
    if on_run.get("soak") and on_run["soak"].get("mem_idle_after"):
        m = on_run["soak"]["mem_idle_after"]
        row("responder ≤ 16 MB resident at idle, after the soak (VmRSS of front + executor)",
            f"{mb(m['rss_kb'])} (PSS {mb(m['pss_kb'])})", m["rss_kb"] <= 16 * 1024)
    if soak:
        vals = [kb for _, kb in soak["rss_samples"] if kb is not None]
        spread = (max(vals) - min(vals)) / 1024
        n = soak["requests"]
        row("responder memory flat (± 1 MB) over 10,000 executions"
            + ("" if n >= 10000 else f" (a soak of {n} only)"),
            f"{min(vals) / 1024:.1f}–{max(vals) / 1024:.1f} MB over {n} executions "
            f"(spread {spread:.2f} MB)", spread <= 1.0 and n >= 10000)
    else:
        P("| responder memory flat (± 1 MB) over 10,000 executions | no --soak in this run "
          "| not measured |")
    mems = on_run.get("pool_idle_memory") or []
    P("| a pool container's idle memory reported | "
      + (", ".join(f"{m['usage'] / 1048576:.1f} MiB" for m in mems) or "–")
      + " (memory_stats.usage) | reported |")


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["refs", "run", "report"])
    ap.add_argument("--quick", action="store_true",
                    help="a fast sanity run: 15 s concurrent, fewer requests")
    ap.add_argument("--url", default="http://127.0.0.1:8081")
    ap.add_argument("--pool", choices=["on", "off"])
    ap.add_argument("--pool-size", type=int, default=2)
    ap.add_argument("--pidfile", default="/run/pycage/bench-fcgi.pid")
    ap.add_argument("--log", default="")
    ap.add_argument("--docker-socket", default="/var/run/docker.sock")
    ap.add_argument("--seq-on", type=int, help="sequential requests, pool on (200; 50 quick)")
    ap.add_argument("--seq-off", type=int, help="sequential requests, pool off (40; 10 quick)")
    ap.add_argument("--seq-gap-ms", type=int, default=0,
                    help="pause between sequential requests (default 0: back to back)")
    ap.add_argument("--paced-n", type=int,
                    help="pool on: also N sequential requests --paced-gap-ms apart (30; 10 quick)")
    ap.add_argument("--paced-gap-ms", type=int, default=1000)
    ap.add_argument("--nginx-pidfile", default="/run/pycage/bench-nginx.pid")
    ap.add_argument("--duration", type=int, help="concurrent seconds (60; 15 quick)")
    ap.add_argument("--naive-n", type=int, help="naive docker runs per snippet (20; 5 quick)")
    ap.add_argument("--engine-secs", type=int, help="seconds per engine level (20; 8 quick)")
    ap.add_argument("--paired-rounds", type=int, default=0,
                    help="after each 8-client block, N rounds of engine and pycage slices "
                         "in turn (run_paired; default 0: none)")
    ap.add_argument("--paired-secs", type=int, default=10, help="seconds per paired slice")
    ap.add_argument("--snippets", default="",
                    help="only these snippets, by key: print,pandas,sympy (default all)")
    ap.add_argument("--soak", type=int, default=0, help="executions in the memory soak")
    ap.add_argument("--soak-every", type=int, default=1000)
    ap.add_argument("--settle", type=float, default=2.0, help="pause between blocks, s")
    ap.add_argument("--out", help="JSON results (refs, run)")
    ap.add_argument("--refs", help="run, report: the refs JSON")
    ap.add_argument("--off", help="report: the pool-off JSON")
    ap.add_argument("--on", help="report: the pool-on JSON")
    ap.add_argument("--command-line", dest="command_line", default="scripts/bench.sh")
    ap.add_argument("--date", default="")
    ap.add_argument("--leftovers", default="not checked")
    ap.add_argument("--max-executions", default="4")
    ap.add_argument("--preload", default="numpy,pandas")
    ap.add_argument("--responder", default="", help="report: which binary ran")
    ap.add_argument("--seccomp-profile", default=None,
                    help="refs: pycage's seccomp profile, for the hardened-body reference")
    args = ap.parse_args()
    if args.snippets:
        keys = args.snippets.split(",")
        unknown = set(keys) - {sn["key"] for sn in SNIPPETS}
        if unknown:
            ap.error(f"--snippets: unknown {', '.join(sorted(unknown))}")
        SNIPPETS[:] = [sn for sn in SNIPPETS if sn["key"] in keys]
    q = args.quick
    if args.seq_on is None:
        args.seq_on = 50 if q else 200
    if args.seq_off is None:
        args.seq_off = 10 if q else 40
    if args.paced_n is None:
        args.paced_n = 10 if q else 30
    if args.duration is None:
        args.duration = 15 if q else 60
    if args.naive_n is None:
        args.naive_n = 5 if q else 20
    if args.engine_secs is None:
        args.engine_secs = 8 if q else 20
    if args.command == "refs":
        cmd_refs(args)
    elif args.command == "run":
        if args.pool is None:
            ap.error("run needs --pool on|off")
        cmd_run(args)
    else:
        args.command = args.command_line
        cmd_report(args)


if __name__ == "__main__":
    main()
