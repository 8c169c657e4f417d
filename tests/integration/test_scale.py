#!/usr/bin/python3
"""Scale-out: two nodes behind one nginx upstream, one of them on a second Docker engine
reached over TCP with mutual TLS; a node killed and an engine stopped under load.

The file brings up everything it uses, beside the main service and never touching it:
certificates from scripts/engine-certs.sh; a second dockerd (its own data root, exec root,
pidfile, unix socket and bridge, TLS on 127.0.0.1:ENGINE_PORT with --tlsverify); the sandbox
image copied into it by scripts/engine-load-image.sh; two responders (the built binary),
node A on the main engine's unix socket and node B on the second engine over TLS, with
their own instances and uid ranges; and an nginx of its own on 127.0.0.1:HTTP_PORT whose
upstream is nginx/pycage-upstream.conf with the two sockets written in.  The responders
run without scripts/supervise.sh: the test restarts the killed one itself, at a time it
chooses (supervise.sh's restart is test_supervise.py's).  Everything is removed at the
end, on failure too (atexit; the check.sh phase also runs scripts/scale-cleanup.sh).

Each request's program prints a marker of its own; the request carries an id of its own
(X-Scale-Id, which this nginx passes as REQUEST_ID, and which the responders log when they
hand a request to the executor: "execute ID: handed to the executor").  From the nodes'
logs the test counts how many times each request reached a run.

Needs root, dockerd, nginx and openssl; about 2 minutes.  Runs once (the runc phase).
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402
import test_faults as tf  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HTTP_PORT = int(os.environ.get("PYCAGE_SCALE_HTTP_PORT", "8480"))
ENGINE_PORT = int(os.environ.get("PYCAGE_SCALE_ENGINE_PORT", "2376"))
BRIDGE = os.environ.get("PYCAGE_SCALE_BRIDGE", "pycage-eng1")
BRIDGE_ADDR = "169.254.231.5/30"     # link-local: nothing is ever sent there
UID_A, UID_B = 540000, 550000
INSTANCE_A, INSTANCE_B = "scale-a", "scale-b"
CLIENTS = 8
CLIENT_TIMEOUT_S = 90     # above nginx's fastcgi_read_timeout (75 s)
ENGINE_WAIT_S = 60
HEALTHY_WAIT_S = 60
# The documented 503s a request may get while a node or an engine is down (README).
RETRYABLE = {"busy", "engine_unavailable", "draining", "responder_unavailable"}


def measured(text):
    print(f"# measured: {text}", flush=True)


def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)


class Certs:
    """scripts/engine-certs.sh's files in a directory of their own."""

    def __init__(self, parent, name):
        self.dir = os.path.join(parent, name)
        result = sh([os.path.join(TOP, "scripts", "engine-certs.sh"), self.dir, "IP:127.0.0.1"])
        if result.returncode != 0:
            raise pt.Unexpected(f"engine-certs.sh: {result.stderr[-500:]}")

    def path(self, name):
        return os.path.join(self.dir, name)


class TlsEngine:
    """A second dockerd: its own roots, pidfile, unix socket and bridge; TLS on TCP."""

    def __init__(self, work, certs):
        self.dir = os.path.join(work, "engine")
        self.root = os.path.join(self.dir, "root")
        self.exec_root = os.path.join(self.dir, "exec")
        self.sock = os.path.join(self.dir, "docker.sock")
        self.pidfile = os.path.join(self.dir, "dockerd.pid")
        self.certs = certs
        self.proc = None
        os.makedirs(self.root)
        os.makedirs(self.exec_root)
        self.log = open(os.path.join(self.dir, "dockerd.log"), "a")
        with open(os.path.join(self.dir, "daemon.json"), "w") as f:
            f.write("{}\n")
        # Its own bridge: with --bridge=none dockerd deletes docker0 (the main engine's).
        if sh(["ip", "link", "show", BRIDGE]).returncode != 0:
            subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
            subprocess.run(["ip", "addr", "add", BRIDGE_ADDR, "dev", BRIDGE], check=True)

    def start(self):
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", self.root, "--exec-root", self.exec_root,
             "--pidfile", self.pidfile, "-H", f"unix://{self.sock}",
             "-H", f"tcp://127.0.0.1:{ENGINE_PORT}", "--tlsverify",
             "--tlscacert", self.certs.path("ca.pem"),
             "--tlscert", self.certs.path("server-cert.pem"),
             "--tlskey", self.certs.path("server-key.pem"),
             "--config-file", os.path.join(self.dir, "daemon.json"), f"--bridge={BRIDGE}",
             "--iptables=false", "--ip-masq=false", "--storage-driver=overlay2"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + ENGINE_WAIT_S
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise pt.Unexpected("the TLS dockerd did not start: " + self.log_tail())
            time.sleep(0.2)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tls_context(self, cert=True, ca=None):
        context = ssl.create_default_context(cafile=ca or self.certs.path("ca.pem"))
        if cert:
            context.load_cert_chain(self.certs.path("client-cert.pem"),
                                    self.certs.path("client-key.pem"))
        return context

    def get(self, path, timeout=10, context=None):
        """GET over TLS, as a client with the test's certificates."""
        conn = http.client.HTTPSConnection("127.0.0.1", ENGINE_PORT, timeout=timeout,
                                           context=context or self.tls_context())
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise pt.Unexpected(f"GET {path}: HTTP {response.status} {pt.show(body)}")
        return json.loads(body)

    def answers(self):
        try:
            self.get("/v1.41/version", 2)
            return True
        except (OSError, pt.Unexpected, ValueError):
            return False

    def containers(self, label):
        filters = urllib.parse.quote(json.dumps({"label": [label]}))
        return self.get("/v1.41/containers/json?all=1&filters=" + filters)

    def log_tail(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-1500:]

    def own_pids(self, program):
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

    def remove(self):
        self.stop()
        for program in (b"containerd-shim-runc-v2", b"containerd"):
            for pid in self.own_pids(program):
                subprocess.run(["pkill", "-KILL", "-P", str(pid)], check=False)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.5)
        # dockerd bind-mounts its data root on itself; then its overlays under it.
        subprocess.run(["sh", "-c", f"grep -o ' {self.root}[^ ]*' /proc/mounts | sort -r | "
                        "xargs -r -n1 umount -l"], check=False)
        subprocess.run(["umount", "-l", self.root], check=False, stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", BRIDGE], check=False, stderr=subprocess.DEVNULL)
        self.log.close()


class Nginx:
    """nginx with pycage's site whose upstream is nginx/pycage-upstream.conf."""

    def __init__(self, work, sockets, port=HTTP_PORT, name="nginx"):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        os.chmod(work, 0o755)
        os.chmod(self.dir, 0o755)
        with open(os.path.join(TOP, "nginx", "pycage.conf")) as f:
            site = f.read()
        with open(os.path.join(TOP, "nginx", "pycage-upstream.conf")) as f:
            upstream = f.read()
        one = re.compile(r"upstream pycage_fcgi \{[^}]*\}\n")
        if not one.search(site):
            raise pt.Unexpected("nginx/pycage.conf changed shape: no upstream block")
        upstream = upstream.replace("unix:/run/pycage/node-a.sock", f"unix:{sockets[0]}")
        if len(sockets) > 1:
            upstream = upstream.replace("unix:/run/pycage/node-b.sock", f"unix:{sockets[1]}")
        else:       # one node: the benchmark's baseline
            upstream = re.sub(r"\n *server unix:/run/pycage/node-b.sock[^;]*;", "", upstream)
        site = one.sub(lambda m: upstream, site)
        site = re.sub(r"listen 127\.0\.0\.1:8080;", f"listen 127.0.0.1:{port};", site)
        site = re.sub(r"\n\s*listen 127\.0\.0\.1:8443 ssl;", "", site)
        site = re.sub(r"\n\s*ssl_[a-z_]+\s[^;]*;", "", site)
        # The test's own id for each request, so that the nodes' logs can be counted.
        site = site.replace("fastcgi_param REQUEST_ID      $request_id;",
                            "fastcgi_param REQUEST_ID      $http_x_scale_id;")
        if (f":{port};" not in site or sockets[-1] not in site or
                "$http_x_scale_id" not in site or "least_conn" not in site):
            raise pt.Unexpected("nginx/pycage.conf or pycage-upstream.conf changed shape")
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
        result = sh(["nginx", "-c", os.path.join(self.dir, "nginx.conf"), "-g", "daemon on;"])
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


class Apache:
    """Apache with pycage's site whose ProxyPass goes to apache/pycage-balancer.conf."""

    def __init__(self, work, sockets, port):
        self.dir = os.path.join(work, "apache")
        os.makedirs(os.path.join(self.dir, "apache-errors"))
        os.chmod(self.dir, 0o755)
        for name in os.listdir(os.path.join(TOP, "apache", "errors")):
            shutil.copy(os.path.join(TOP, "apache", "errors", name),
                        os.path.join(self.dir, "apache-errors", name))
        with open(os.path.join(TOP, "apache", "pycage.conf")) as f:
            site = f.read()
        with open(os.path.join(TOP, "apache", "pycage-balancer.conf")) as f:
            balancer = f.read()
        balancer = balancer.replace("unix:/run/pycage/node-a.sock", f"unix:{sockets[0]}")
        balancer = balancer.replace("unix:/run/pycage/node-b.sock", f"unix:{sockets[1]}")
        site, n = re.subn(r'ProxyPass /v1/ "unix:\$\{PYCAGE_SOCKET\}\|fcgi://pycage/v1/"[^\n]*',
                          'ProxyPass /v1/ "balancer://pycage/v1/"', site)
        # No TLS listener here; the test's id for each request, as with nginx.
        site = re.sub(r"\nListen \$\{PYCAGE_HTTPS\} https", "", site)
        site = re.sub(r"\n<VirtualHost \$\{PYCAGE_HTTPS\}>.*?</VirtualHost>", "", site,
                      flags=re.S)
        site, m = re.subn(r'(ProxyFCGISetEnvIf "true" DOCUMENT_URI "%\{REQUEST_URI\}")',
                          r'\1\n        ProxyFCGISetEnvIf "true" REQUEST_ID "%{HTTP:X-Scale-Id}"',
                          site, count=1)      # /v1/'s Location (the first; /mcp's follows)
        if n != 1 or m != 1 or "PYCAGE_HTTPS}>" in site:
            raise pt.Unexpected("apache/pycage.conf changed shape")
        with open(os.path.join(self.dir, "apache-site.conf"), "w") as f:
            f.write(balancer + "\n" + site)
        shutil.copy(os.path.join(TOP, "apache", "apache2.conf"),
                    os.path.join(self.dir, "apache2.conf"))
        self.argv = ["/usr/sbin/apache2", "-f", os.path.join(self.dir, "apache2.conf"),
                     "-C", f"Define PYCAGE_CONF_DIR {self.dir}",
                     "-C", f"Define PYCAGE_RUN_DIR {self.dir}",
                     "-C", f"Define PYCAGE_LOG_DIR {self.dir}",
                     "-C", f"Define PYCAGE_HTTP 127.0.0.1:{port}",
                     "-C", f"Define PYCAGE_HTTPS 127.0.0.1:{port + 100}",
                     "-C", f"Define PYCAGE_SOCKET {sockets[0]}",
                     "-C", "Define PYCAGE_READ_TIMEOUT 75"]
        result = sh(self.argv + ["-k", "start"])
        if result.returncode != 0:
            raise pt.Unexpected(f"Apache did not start: {result.stderr[-800:]}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise pt.Unexpected("Apache does not listen: " + self.error_log())

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "apache-error.log"), errors="replace") as f:
                return f.read()[-1000:]
        except OSError:
            return ""

    def stop(self):
        sh(self.argv + ["-k", "stop"])
        pidfile = os.path.join(self.dir, "apache2.pid")
        deadline = time.monotonic() + 10
        while os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.2)


def http_execute(code, scale_id, source, timeout=CLIENT_TIMEOUT_S, port=HTTP_PORT):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request("POST", "/v1/execute", json.dumps({"code": code}),
                     {"Content-Type": "application/json", "X-Scale-Id": scale_id})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def error_code(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


class Stack:
    """Everything above, made once for the file's cases."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="pycage-scale-", dir="/var/tmp")
        self.engine = None
        self.nginx = None
        self.nodes = {}
        self.logs = []
        self.certs = None
        atexit.register(self.remove)
        began = time.monotonic()
        self.certs = Certs(self.work, "certs")
        self.rogue = Certs(self.work, "rogue")      # another CA, and a client it signed
        self.engine = TlsEngine(self.work, self.certs)
        self.engine.start()
        result = sh([os.path.join(TOP, "scripts", "engine-load-image.sh"),
                     f"tcp://127.0.0.1:{ENGINE_PORT}", tf.IMAGE],
                    env=dict(os.environ, TLS_CA=self.certs.path("ca.pem"),
                             TLS_CERT=self.certs.path("client-cert.pem"),
                             TLS_KEY=self.certs.path("client-key.pem")))
        if result.returncode != 0:
            raise pt.Unexpected(f"engine-load-image.sh: {result.stdout[-300:]} "
                                f"{result.stderr[-500:]}")
        self.sockets = [os.path.join(self.work, "node-a.sock"),
                        os.path.join(self.work, "node-b.sock")]
        self.start_node("a")
        self.start_node("b")
        self.nginx = Nginx(self.work, self.sockets)
        measured(f"bring-up (certificates, TLS dockerd, image load, two nodes, nginx) "
                 f"{time.monotonic() - began:.1f} s")

    def tls_settings(self, ca=None, cert=None, key=None):
        return {"docker_host": f"tcp://127.0.0.1:{ENGINE_PORT}",
                "docker_tls_ca": ca or self.certs.path("ca.pem"),
                "docker_tls_cert": cert or self.certs.path("client-cert.pem"),
                "docker_tls_key": key or self.certs.path("client-key.pem")}

    def start_node(self, name):
        settings = {"listen": self.sockets[0 if name == "a" else 1], "workers": "16",
                    "pool_size": "1", "socket_mode": "0660", "socket_group": "www-data"}
        if name == "a":
            settings.update(uid_base=UID_A)
            r = tf.Responder(INSTANCE_A, **settings)
        else:
            settings.update(self.tls_settings(), uid_base=UID_B)
            r = tf.Responder(INSTANCE_B, **settings)
        self.nodes[name] = r
        self.logs.append(r.log.name)
        if not wait_healthy(r, HEALTHY_WAIT_S):
            raise pt.Unexpected(f"node {name} not healthy: {r.log_text()}")
        return r

    def run_lines(self):
        """Every "execute ID: handed to the executor" line of every node so far, by id."""
        handed = {}
        pattern = re.compile(r"execute (\S+): handed to the executor")
        for path in self.logs:
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        m = pattern.search(line)
                        if m:
                            handed.setdefault(m.group(1), []).append(path)
            except OSError:
                pass
        return handed

    def remove(self):
        for r in self.nodes.values():
            r.stop()
        if self.nginx is not None:
            self.nginx.stop()
        if self.engine is not None:
            self.engine.remove()
        shutil.rmtree(self.work, ignore_errors=True)


STACK = None
STACK_FAILED = []


def stack():
    """The stack, brought up once; if that failed, every case says why."""
    global STACK
    if STACK_FAILED:
        raise pt.Unexpected(f"bring-up failed: {STACK_FAILED[0]}")
    if STACK is None:
        try:
            STACK = Stack()
        except Exception as e:
            STACK_FAILED.append(repr(e))
            raise
    return STACK


def health(r):
    try:
        return r.call("GET", "/v1/health", timeout=20)
    except OSError:
        return None


def wait_healthy(r, wait_s):
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        h = health(r)
        if h is not None and h.status == 200:
            return True
        time.sleep(0.5)
    return False


def wait_health_code(r, code, wait_s):
    deadline = time.monotonic() + wait_s
    h = None
    while time.monotonic() < deadline:
        h = health(r)
        if h is not None and h.status == 503 and error_code(h.body) == code:
            return h
        time.sleep(0.5)
    return h


# ------------------------------------------------------------------------------ cases

def case_tls_refusals():
    """The engine refuses a client without a certificate; pycage refuses plain TCP at start
    and an engine whose certificate its CA did not sign; the engine refuses a client
    certificate another CA signed; a key others can read stops the executor at start."""
    s = stack()
    problems = []
    # A client with the right CA but no certificate of its own: the engine ends the handshake.
    try:
        s.engine.get("/v1.41/version", 5, s.engine.tls_context(cert=False))
        problems.append("the engine answered a client without a certificate")
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, pt.Unexpected,
            http.client.HTTPException) as e:
        if isinstance(e, pt.Unexpected):
            problems.append(f"no-certificate client: not a TLS refusal: {e}")
    # pycage with plain TCP: refused at start, saying why.
    conf = os.path.join(s.work, "plain.conf")
    with open(conf, "w") as f:
        f.write(f"docker_host = tcp://127.0.0.1:{ENGINE_PORT}\ninstance = scale-plain\n"
                f"uid_base = {UID_B + 100}\n")
    result = tf.run_program([tf.FCGI_BIN, "-t", "-c", conf], 30)
    out = result.stdout + result.stderr
    if result.returncode == 0 or "plain TCP to the Docker engine is refused" not in out:
        problems.append(f"plain TCP: pycage-fcgi -t exit {result.returncode}: {out[-400:]}")
    # Wrong CA: the engine's certificate is not the rogue CA's: health 503 naming TLS,
    # and no container of the instance on the engine.
    for what, names_tls, settings in (
            ("a CA that did not sign the engine's certificate", True,
             s.tls_settings(ca=s.rogue.path("ca.pem"))),
            ("a client certificate another CA signed", False,
             s.tls_settings(cert=s.rogue.path("client-cert.pem"),
                            key=s.rogue.path("client-key.pem")))):
        instance = "scale-wrong-" + str(len(problems)) + what[:3].strip().replace(" ", "")
        r = tf.Responder(instance, uid_base=UID_B + 200, **settings)
        try:
            h = wait_health_code(r, "engine_unavailable", 20)
            # The engine's refusal of a foreign client certificate reaches curl as an
            # alert or as a reset of the connection (TLS 1.3 checks it after the
            # handshake): the log names it, the answer may not.
            named = not names_tls or (h is not None and b"TLS" in h.body)
            if h is None or h.status != 503 or not named:
                problems.append(f"{what}: health {h and h.status} "
                                f"{pt.show(h and h.body)} (503 engine_unavailable naming "
                                "TLS expected)")
            answer = r.execute("print(1)")
            if answer.status != 503 or error_code(answer.body) != "engine_unavailable":
                problems.append(f"{what}: a run answered {answer.status} "
                                f"{pt.show(answer.body)}")
            if s.engine.containers(f"{pt.INSTANCE_LABEL}={instance}"):
                problems.append(f"{what}: containers of {instance} on the engine")
        finally:
            r.stop()
    # A key its group can read: the executor stops at start with the reason.
    loose = os.path.join(s.work, "loose-key.pem")
    shutil.copy(s.certs.path("client-key.pem"), loose)
    os.chmod(loose, 0o640)
    try:
        r = tf.Responder("scale-loose", uid_base=UID_B + 300, **s.tls_settings(key=loose))
        code = r.proc.wait(20)
        text = "\n".join(r.log_lines())
        if code == 0 or "readable by root only" not in text:
            problems.append(f"a 0640 key: responder exit {code}, log {text[-400:]}")
    except pt.Unexpected as e:       # stopped before it listened: the same verdict
        if "readable by root only" not in str(e):
            problems.append(f"a 0640 key: {e}")
    except subprocess.TimeoutExpired:
        r.stop()
        problems.append("a 0640 key: the responder kept running")
    return problems


def case_remote_engine():
    """Node B drives the second engine over TLS: self-check, pool, runs (attach over TLS,
    1 MiB of output, a file back), its containers on that engine only, with its labels and
    uids; the instance lock is there too."""
    s = stack()
    b = s.nodes["b"]
    problems = []
    h = health(b)
    if h is None or h.status != 200:
        problems.append(f"node B health: {h and h.status} {pt.show(h and h.body)}")
    code = ("import pandas as pd\nprint('x' * (1 << 20), end='')\n"
            "pd.DataFrame({'a': [1, 2]}).to_csv('out.csv', index=False)\n")
    body = json.dumps({"code": code}).encode()
    answer = b.call("POST", pt.EXECUTE, body)
    try:
        doc = json.loads(answer.body)
    except ValueError:
        doc = {}
    if answer.status != 200 or doc.get("stdout") != "x" * (1 << 20) or doc.get("status") != "ok":
        problems.append(f"a 1 MiB run on node B: {answer.status} {pt.show(answer.body)}")
    else:
        files = {f["name"]: f["content"] for f in doc.get("files", [])}
        if files.get("out.csv") != "a\n1\n2\n":
            problems.append(f"node B: the file did not come back: {pt.show(doc.get('files'))}")
    labelled = s.engine.containers(f"{pt.INSTANCE_LABEL}={INSTANCE_B}")
    if not labelled:
        problems.append("no container of node B's instance on the second engine (its pool)")
    for c in labelled:
        try:
            user = s.engine.get(f"/v1.41/containers/{c['Id']}/json")["Config"]["User"]
        except pt.Unexpected:
            continue        # used and removed since the list
        uid = int(user.split(":")[0])
        if not UID_B <= uid < UID_B + 64:
            problems.append(f"node B's container runs as {user}, not in its range from {UID_B}")
    if tf.instance_containers(INSTANCE_B):
        problems.append("node B's containers on the main engine")
    locks = s.engine.containers(f"org.pycage.lock={INSTANCE_B}")
    if len(locks) != 1:
        problems.append(f"node B's instance lock on the second engine: {len(locks)}")
    return problems


def case_drain():
    """SIGUSR1: node B answers runs and health 503 draining while a run in flight finishes;
    SIGUSR2 ends it.  Through nginx, a node leaves with SIGTERM (its listening socket shut,
    runs in flight finished): nginx passes new runs to the other node, and after the node
    is started again it is sent runs by itself."""
    s = stack()
    b = s.nodes["b"]
    problems = []
    slow = {}

    def in_flight():
        slow["answer"] = b.execute("import time\ntime.sleep(3)\nprint('slow')", timeout_s=20)

    t = threading.Thread(target=in_flight)
    t.start()
    time.sleep(1.0)
    # To the whole process group (front and executor): only the front drains; the
    # executor, which ignores it, keeps the run in flight.
    os.killpg(b.proc.pid, signal.SIGUSR1)
    h = wait_health_code(b, "draining", 5)
    if h is None or h.status != 503 or h.headers.get("retry-after") is None:
        problems.append(f"draining: health {h and h.status} {pt.show(h and h.body)}")
    answer = b.execute("print(1)")
    if answer.status != 503 or error_code(answer.body) != "draining":
        problems.append(f"a run on a draining node: {answer.status} {pt.show(answer.body)}")
    t.join(30)
    got = slow.get("answer")
    if got is None or got.status != 200 or b'"stdout":"slow\\n"' not in got.body:
        problems.append(f"the run in flight at the drain: {got and got.status} "
                        f"{pt.show(got and got.body)}")
    os.killpg(b.proc.pid, signal.SIGUSR2)
    if not wait_healthy(b, 10):
        problems.append(f"node B not healthy after SIGUSR2: {pt.show(health(b).body)}")

    # Through nginx: runs in flight on both nodes, then SIGTERM to B.
    results = {}

    def through(sid, code):
        try:
            results[sid] = http_execute(code, sid, "127.0.0.9")
        except Exception as e:    # noqa: BLE001
            results[sid] = (None, {}, repr(e).encode())

    slow_ids = [f"drain-slow-{i}" for i in range(6)]
    threads = [threading.Thread(target=through, args=(sid, "import time\ntime.sleep(3)\n"
                                                      f"print({sid!r})")) for sid in slow_ids]
    for th in threads:
        th.start()
    time.sleep(1.5)
    handed = s.run_lines()
    on_b = [sid for sid in slow_ids if b.log.name in handed.get(sid, [])]
    if not on_b:
        problems.append(f"no slow run went to node B: {handed}")
    stopper = threading.Thread(target=b.stop)
    stopper.start()
    time.sleep(0.3)
    quick_ids = [f"drain-quick-{i}" for i in range(6)]
    for sid in quick_ids:
        through(sid, f"print({sid!r})")
    for th in threads:
        th.join(30)
    stopper.join(60)
    for sid in slow_ids + quick_ids:
        status, headers, body = results.get(sid, (None, {}, b"missing"))
        if status != 200 or f'"stdout":"{sid}\\n"'.encode() not in body:
            problems.append(f"{sid} while B stopped: {status} {pt.show(body)}")
    handed = s.run_lines()
    late = [sid for sid in quick_ids if b.log.name in handed.get(sid, [])]
    if late:
        problems.append(f"node B was handed {late} after SIGTERM")
    measured(f"SIGTERM drain through nginx: {len(on_b)} runs in flight on B finished 200, "
             f"{len(quick_ids)} new runs 200 on A")
    # Started again: back in rotation by itself (fail_timeout 5 s).
    b = s.start_node("b")
    deadline = time.monotonic() + 30
    n = 0
    back = False
    while time.monotonic() < deadline and not back:
        ids = []
        for _ in range(4):
            ids.append(f"undrain-{n}")
            threading.Thread(target=through, args=(ids[-1], "import time\ntime.sleep(0.5)"
                                                    )).start()
            n += 1
        time.sleep(1.5)
        lines = s.run_lines()
        back = any(b.log.name in lines.get(i, []) for i in ids)
    if not back:
        problems.append("node B was not handed a run through nginx within 30 s of its restart")
    return problems


def case_apache_balancer():
    """Apache's mod_proxy_balancer over the same two nodes (apache/pycage-balancer.conf):
    8 clients, node A SIGKILLed and started again: every answer right or a documented
    503, none lost, none run twice, node A back in rotation by itself."""
    s = stack()
    port = HTTP_PORT + 3
    apache = Apache(s.work, s.sockets, port)
    problems = []
    results = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(k):
        i = 0
        while not stop.is_set():
            sid = f"apache-{k}-{i}"
            marker = f"apache {k} {i}"
            began = time.monotonic()
            status = None
            try:
                status, headers, body = http_execute(
                    f"import time\ntime.sleep(0.2)\nprint({marker!r})", sid,
                    f"127.0.0.{60 + k}", port=port)
                if status == 200:
                    doc = json.loads(body)
                    bad = None if doc.get("stdout") == marker + "\n" else pt.show(body)
                    entry = (sid, status, bad, time.monotonic() - began)
                else:
                    entry = (sid, status, error_code(body), time.monotonic() - began)
            except Exception as e:   # noqa: BLE001
                entry = (sid, None, repr(e), time.monotonic() - began)
            with lock:
                results.append(entry)
            i += 1
            if status != 200:
                time.sleep(0.2)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        time.sleep(5)
        s.nodes["a"].stop(signal.SIGKILL)
        time.sleep(4)
        a = s.start_node("a")
        time.sleep(12)
    finally:
        stop.set()
        for t in threads:
            t.join(CLIENT_TIMEOUT_S + 10)
        apache.stop()
    handed = s.run_lines()
    statuses = {}
    for sid, status, detail, took in results:
        key = "200" if status == 200 else f"{status} {detail if status else ''}"
        statuses[key] = statuses.get(key, 0) + 1
        runs = len(handed.get(sid, []))
        if status == 200 and detail is not None:
            problems.append(f"{sid}: wrong answer {detail}")
        elif status is None:
            problems.append(f"{sid}: {detail} after {took:.1f} s")
        elif status != 200 and not (status == 503 and detail in RETRYABLE):
            problems.append(f"{sid}: {status} {detail} (not a documented 503)")
        if runs > 1:
            problems.append(f"{sid} reached a run {runs} times")
        if status == 200 and runs != 1:
            problems.append(f"{sid}: 200 with {runs} runs in the logs")
    tail = [sid for sid, status, *_ in results[-40:] if status == 200]
    on_a = sum(1 for sid in tail if a.log.name in handed.get(sid, []))
    measured(f"Apache balancer: {len(results)} requests from {CLIENTS} clients: {statuses}; "
             f"the last 40 requests' 200s on node A (restarted): {on_a}")
    if not on_a:
        problems.append("node A was not back in Apache's rotation after its restart")
    if problems:
        problems.append("Apache's error log: " + apache.error_log()[-600:])
    return problems


def case_node_and_engine_lost_under_load():
    """8 clients through nginx; node A SIGKILLed, then started again; the second engine
    stopped, then started again: every request gets its own program's answer or a
    documented 503, none hangs, none is lost or reaches a run twice, both nodes serve again
    by themselves, and no container is left on either engine."""
    s = stack()
    problems = []
    results = []        # (scale id, status, code or None, seconds, exception)
    lock = threading.Lock()
    stop = threading.Event()
    sent = [0]

    def client(k):
        source = f"127.0.0.{20 + k}"
        i = 0
        while not stop.is_set():
            sid = f"load-{k}-{i}"
            marker = f"marker {k} {i}"
            code = f"import time\ntime.sleep(0.2)\nprint({marker!r})"
            with lock:
                sent[0] += 1
            began = time.monotonic()
            status = None
            try:
                status, headers, body = http_execute(code, sid, source)
                took = time.monotonic() - began
                if status == 200:
                    doc = json.loads(body)
                    ok = doc.get("stdout") == marker + "\n" and doc.get("status") == "ok"
                    entry = (sid, status, None if ok else f"wrong answer {pt.show(body)}",
                             took, None)
                else:
                    entry = (sid, status, error_code(body), took,
                             None if headers.get("retry-after") else "no Retry-After")
            except Exception as e:   # noqa: BLE001: a hang or a broken answer is the finding
                entry = (sid, None, None, time.monotonic() - began, repr(e))
            with lock:
                results.append(entry)
            i += 1
            if status != 200:
                time.sleep(0.2)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    marks = {}
    try:
        time.sleep(6)
        a = s.nodes["a"]
        marks["A killed"] = time.monotonic() - t0
        a.stop(signal.SIGKILL)
        time.sleep(4)
        marks["A started again"] = time.monotonic() - t0
        s.start_node("a")
        marks["A healthy"] = time.monotonic() - t0
        time.sleep(4)
        marks["engine 2 stopped"] = time.monotonic() - t0
        s.engine.stop()
        marks["engine 2 down"] = time.monotonic() - t0
        time.sleep(5)
        s.engine.start()
        marks["engine 2 answering"] = time.monotonic() - t0
        if not wait_healthy(s.nodes["b"], HEALTHY_WAIT_S):
            problems.append(f"node B not healthy again: {s.nodes['b'].log_text()[-600:]}")
        marks["B healthy"] = time.monotonic() - t0
        recovered = time.monotonic()
        time.sleep(10)
    finally:
        stop.set()
        for t in threads:
            t.join(CLIENT_TIMEOUT_S + 10)
    measured("timeline (s from the load's start): " +
             ", ".join(f"{k} {v:.1f}" for k, v in marks.items()))
    handed = s.run_lines()
    statuses = {}
    for sid, status, code, took, exc in results:
        key = f"{status} {code}" if status != 200 else "200"
        statuses[key] = statuses.get(key, 0) + 1
        runs = len(handed.get(sid, []))
        if exc is not None:
            problems.append(f"{sid}: {exc} after {took:.1f} s")
        elif status == 200 and code is not None:
            problems.append(f"{sid}: {code}")
        elif status != 200 and not (status == 503 and code in RETRYABLE):
            problems.append(f"{sid}: {status} {code} (not a documented 503)")
        if runs > 1:
            problems.append(f"{sid} reached a run {runs} times: {handed[sid]}")
        if status == 200 and runs != 1:
            problems.append(f"{sid}: 200 with {runs} runs in the logs")
        if took > CLIENT_TIMEOUT_S:
            problems.append(f"{sid}: answered after {took:.1f} s")
    if len(results) != sent[0]:
        problems.append(f"{sent[0]} requests sent, {len(results)} answered or failed")
    late = [r for r in results if r[3] > 30]
    measured(f"{len(results)} requests from {CLIENTS} clients: {statuses}; slowest "
             f"{max(r[3] for r in results):.1f} s; {len(late)} over 30 s")
    # Both nodes served runs in the last 10 s (back in rotation by themselves).
    tail = [sid for sid, status, *_ in results[-40:] if status == 200]
    served = {name: sum(1 for sid in tail if s.nodes[name].log.name in handed.get(sid, []))
              for name in ("a", "b")}
    measured(f"the last 40 requests' 200s by node: {served}")
    if not served["a"] or not served["b"]:
        problems.append(f"not both nodes back in rotation after {time.monotonic() - recovered:.0f}"
                        f" s: the last 200s by node {served}")
    # Nothing left: the nodes stopped (their pools emptied), then no container of either
    # instance on either engine.
    for r in s.nodes.values():
        r.stop()
    deadline = time.monotonic() + 30
    left = None
    while time.monotonic() < deadline:
        left = (tf.instance_containers(INSTANCE_A) + tf.instance_containers(INSTANCE_B) +
                s.engine.containers(f"{pt.INSTANCE_LABEL}={INSTANCE_A}") +
                s.engine.containers(f"{pt.INSTANCE_LABEL}={INSTANCE_B}"))
        if not left:
            break
        time.sleep(1)
    if left:
        problems.append(f"{len(left)} containers left: {[c['Names'] for c in left]}")
    return problems


# ------------------------------------------------------------------------------ bench

def bench(seconds, seq_n):
    """`make bench`'s scale row (scripts/bench.sh --scale): print(1+1) through an nginx in
    front of node A alone (main engine, unix socket), node B alone (second engine, mutual
    TLS over TCP), and both behind the upstream: 1 client paced at 4/s (latency), then 8
    clients back to back for `seconds` (throughput).  Prints a markdown table."""
    s = stack()
    fronts = [("one engine: node A, unix socket", Nginx(s.work, s.sockets[:1], HTTP_PORT + 1,
                                                     "nginx-a")),
              ("one engine: node B, TCP + mutual TLS", Nginx(s.work, s.sockets[1:],
                                                           HTTP_PORT + 2, "nginx-b")),
              ("two engines: A and B behind one upstream", s.nginx)]
    ports = [HTTP_PORT + 1, HTTP_PORT + 2, HTTP_PORT]
    code = "print(1+1)"
    rows = []
    try:
        for (label, front), port in zip(fronts, ports):
            for r in s.nodes.values():
                wait_healthy(r, 30)
            lat = []
            for i in range(seq_n):
                began = time.monotonic()
                status, _, _ = http_execute(code, f"bench-seq-{port}-{i}", "127.0.0.9",
                                            port=port)
                if status == 200:
                    lat.append(time.monotonic() - began)
                time.sleep(0.25)
            lat.sort()
            done = []
            lock = threading.Lock()
            end = time.monotonic() + seconds

            def client(k):
                i = 0
                while time.monotonic() < end:
                    began = time.monotonic()
                    try:
                        status, _, _ = http_execute(code, f"bench-{port}-{k}-{i}",
                                                    f"127.0.0.{40 + k}", port=port)
                    except OSError:
                        status = None
                    with lock:
                        done.append((status, time.monotonic() - began))
                    i += 1

            threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
            began = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - began
            ok = sorted(d for st, d in done if st == 200)
            others = {}
            for st, _ in done:
                if st != 200:
                    others[st] = others.get(st, 0) + 1

            def pct(v, p):
                return f"{1000 * v[min(len(v) - 1, int(p * len(v)))]:.0f}" if v else "-"

            rows.append(f"| {label} | {pct(lat, 0.5)} | {pct(lat, 0.95)} | "
                        f"{len(ok) / wall:.2f} | {pct(ok, 0.5)} | {pct(ok, 0.95)} | "
                        f"{others or 'none'} |")
            print(f"# bench: {rows[-1]}", flush=True)
    finally:
        for front, _ in [(f, None) for _, f in fronts[:2]]:
            front.stop()
    print("\n| setup (print(1+1), nginx in front) | paced p50 ms | paced p95 ms | "
          f"{CLIENTS} clients: runs/s | p50 ms | p95 ms | not 200 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)


CASES = [
    ("TLS refusals: no client certificate (the engine), plain TCP (start-up), wrong CA (503 "
     "engine_unavailable naming TLS), a foreign client certificate (503), a loose key "
     "(start-up)",
     case_tls_refusals),
    ("a node on a remote engine over mutual TLS: pool, self-check, attach, labels, uids, lock",
     case_remote_engine),
    ("drain: SIGUSR1 gives 503 draining for new runs and health while the run in flight "
     "finishes; through nginx a node stopped with SIGTERM costs no request, and is back in "
     "rotation by itself once started", case_drain),
    ("Apache's balancer (apache/pycage-balancer.conf): a node SIGKILLed under 8 clients "
     "and started again: answers right or a documented 503, none run twice, back in rotation",
     case_apache_balancer),
    ("8 clients through one upstream; a node SIGKILLed and an engine stopped, both back: "
     "every answer right or a documented 503, none lost, none run twice, nothing left",
     case_node_and_engine_lost_under_load),
]


if __name__ == "__main__":
    if os.geteuid() != 0 or shutil.which("dockerd") is None or shutil.which("nginx") is None:
        print("1..0 # SKIP needs root, dockerd and nginx", flush=True)
        sys.exit(0)
    if os.environ.get("PYCAGE_RUNTIME") == "runsc" or tf.ASAN:
        print("1..0 # SKIP runs in the runc phase only", flush=True)
        sys.exit(0)
    if sys.argv[1:2] == ["--bench"]:
        bench(float(sys.argv[2]) if len(sys.argv) > 2 else 20,
              int(sys.argv[3]) if len(sys.argv) > 3 else 40)
        sys.exit(0)
    only = os.environ.get("PYCAGE_CASE")
    pt.run_cases([c for c in CASES if only is None or only in c[1].__name__])
