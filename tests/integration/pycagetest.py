"""Shared helpers for pycage's integration tests (standard library only, Debian's Python 3.11).

What lives here:
- Tap: TAP output, one line per case, `# ` diagnostics saying what was expected and what came.
- start(): the gate each test file passes first. GET /v1/health must answer 200 within 5 s;
  otherwise the file skips (`1..0 # SKIP`), or fails when PYCAGE_REQUIRE_SERVICE=1.
- Matchers (Contains, LastLine, OneOf, Between, Utf8Length) for declarative expectations,
  and answer_problems() / error_problems(), which turn an answer into a list of diagnostics.
- request() / execute(): HTTP to nginx, paced under nginx's limit_req (10 r/s per address)
  so that only test_ratelimit.py ever meets a 429.
- docker_containers(): the Docker Engine API over its unix socket.
- fcgi_*(): a raw FastCGI client (FastCGI 1.0 spec), to reach the responder's socket
  without nginx, including requests whose CONTENT_LENGTH lies.
- openapi_problems(): every answer request() and the FastCGI client receive is checked
  against docs/openapi.yaml (the schema for its route and status, with Debian's
  python3-jsonschema); a mismatch fails the TAP point of the case that received it.

The test files share one rate-limit bucket and one Docker engine: run them one at a time,
test_ratelimit.py after the others and test_leftovers.py last.
"""

import functools
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from collections import namedtuple

PYCAGE_URL = os.environ.get("PYCAGE_URL", "http://127.0.0.1:8080")
PYCAGE_HTTPS_URL = os.environ.get("PYCAGE_HTTPS_URL", "https://127.0.0.1:8443")
PYCAGE_FCGI_SOCKET = os.environ.get("PYCAGE_FCGI_SOCKET", "/run/pycage/pycage.sock")
DOCKER_SOCKET = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
PYCAGE_PIDFILE = os.environ.get("PYCAGE_PIDFILE", "/run/pycage/pycage-fcgi.pid")
PYCAGE_CONF = os.environ.get("PYCAGE_CONF", "/etc/pycage/pycage.conf")
REQUIRE_SERVICE = os.environ.get("PYCAGE_REQUIRE_SERVICE") == "1"
# The web server in front (scripts/check.sh runs the HTTP suites through each): nginx or
# apache.  A case whose answer depends on it says what it expects from each (front()).
FRONT = os.environ.get("PYCAGE_FRONT", "nginx")
if FRONT not in ("nginx", "apache"):
    raise SystemExit(f"PYCAGE_FRONT={FRONT!r}: nginx or apache")
# The service's responder log (scripts/common.sh; scripts/asan.sh's for the ASan build).
RESPONDER_LOG = os.environ.get("PYCAGE_RESPONDER_LOG", "/var/log/pycage/pycage-fcgi-asan.log"
                               if os.environ.get("PYCAGE_RESPONDER_ASAN") == "1"
                               else "/var/log/pycage/pycage-fcgi.log")

EXECUTE = "/v1/execute"
HEALTH = "/v1/health"
JSON_TYPE = "application/json"
MANAGED_LABEL = "org.pycage.managed"
INSTANCE_LABEL = "org.pycage.instance"   # its value: the responder's `instance`

HEALTH_WAIT_S = 5
FILE_BUDGET_S = 900            # the watchdog: no test file may run longer than this
DEFAULT_EXEC_TIMEOUT_S = 10    # the API's default "timeout"
HTTP_SLACK_S = 30              # container start, queueing, and the answer on top of the run
PACE_S = 0.12                  # nginx allows 10 r/s per address; stay just under it

OUTPUT_CAP = 1048576           # bytes of UTF-8 per stream
ANSWER_KEYS = ["stdout", "stderr", "exit_code", "status",
               "stdout_truncated", "stderr_truncated", "duration_ms",
               # issue 17, after the original keys: made in the sandbox, then host-measured
               "exception", "result", "result_truncated", "usage", "files",
               "files_truncated"]
USAGE_KEYS = ["cpu_ms", "memory_peak_bytes", "queue_ms"]
RESULT_CAP = 65536             # bytes of UTF-8 of the last expression's repr()
ANSWER_STATUSES = {"ok", "error", "timeout", "oom", "output_limit"}

Response = namedtuple("Response", "status headers body")


class Unexpected(Exception):
    """The service answered something a case cannot even compare (no JSON, a broken record)."""


class Skip(Exception):
    """Raised by a case that cannot run here; Tap.check reports it as a SKIP with the reason."""


# ---------------------------------------------------------------- TAP

def show(value, limit=300):
    """repr() of a value, cut to `limit` characters so a 1 MiB stdout cannot flood the log."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters in all)"


class Tap:
    """TAP producer: plan, one line per case, diagnostics on failure, exit status at the end."""

    def __init__(self):
        self.planned = None
        self.count = 0
        self.failures = 0

    def plan(self, count):
        self.planned = count
        print(f"1..{count}", flush=True)

    def ok(self, cond, desc, diag=()):
        contract = take_contract_problems()
        if contract:  # an answer this case received is not what docs/openapi.yaml says
            cond, diag = False, [*diag, *contract]
        self.count += 1
        print(f"{'ok' if cond else 'not ok'} {self.count} - {_tap_text(desc)}")
        if not cond:
            self.failures += 1
            for line in diag:
                for part in str(line).splitlines() or [""]:
                    print(f"#   {part}")
        sys.stdout.flush()
        return bool(cond)

    def is_(self, got, expected, desc):
        return self.ok(same(got, expected), desc,
                       [f"expected: {show(expected)}", f"     got: {show(got)}"])

    def skip(self, desc, reason):
        self.count += 1
        print(f"ok {self.count} - {_tap_text(desc)} # SKIP {_tap_text(reason)}", flush=True)

    def check(self, desc, problems_of, *args):
        """One case: `problems_of(*args)` returns diagnostics, empty when the case passes,
        or raises Skip."""
        try:
            problems = problems_of(*args)
        except Skip as reason:
            self.skip(desc, str(reason))
            return True
        except Exception as exc:  # a case that blows up is a failed case, not a dead file
            problems = [f"raised {type(exc).__name__}: {exc}"]
        if not isinstance(problems, list):  # a case that forgot to return asserted nothing
            problems = [f"the case returned {show(problems)}, not a list of problems"]
        return self.ok(not problems, desc, problems)

    def done(self):
        for problem in take_contract_problems():  # received after the last point
            print(f"# {problem}")
            self.failures += 1
        if self.planned is not None and self.count != self.planned:
            print(f"# planned {self.planned} tests but ran {self.count}")
            self.failures += 1
        sys.stdout.flush()
        sys.exit(1 if self.failures else 0)


def _tap_text(text):
    """A description on one line, with `#` escaped so TAP does not read it as a directive."""
    return " ".join(str(text).split()).replace("#", "\\#")


def start(plan):
    """Gate every file on GET /v1/health, print the plan, arm the watchdog; return the Tap."""
    tap = Tap()
    if os.environ.get("PYCAGE_SKIP_INTEGRATION") == "1":
        # make distcheck: the suite already ran against the service.
        print("1..0 # SKIP PYCAGE_SKIP_INTEGRATION=1", flush=True)
        sys.exit(0)
    up, why = service_is_up()
    if not up and not REQUIRE_SERVICE:
        print("1..0 # SKIP service not running", flush=True)
        sys.exit(0)
    if not up:
        tap.plan(1)
        tap.ok(False, "service is up", [f"GET {PYCAGE_URL}{HEALTH}: {why}"])
        tap.done()
    _arm_watchdog(FILE_BUDGET_S)
    tap.plan(plan)
    return tap


def run_cases(cases):
    """A whole file of (description, function returning problems) cases."""
    tap = start(len(cases))
    for desc, case in cases:
        tap.check(desc, case)
    tap.done()


def service_is_up():
    """(True, "") if GET /v1/health answers 200 within HEALTH_WAIT_S, else (False, reason)."""
    try:
        status, _, body = request("GET", HEALTH, timeout=HEALTH_WAIT_S)
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if status != 200:
        return False, f"HTTP {status}: {show(body)}"
    return True, ""


def _arm_watchdog(seconds):
    def bail(signum, frame):
        print(f"Bail out! test file still running after {seconds} s", flush=True)
        os._exit(1)
    signal.signal(signal.SIGALRM, bail)
    signal.alarm(seconds)


def require_file(path):
    """Skip the case if `path` is missing; under PYCAGE_REQUIRE_SERVICE=1 fail it instead."""
    if os.path.exists(path):
        return
    if REQUIRE_SERVICE:
        raise Unexpected(f"{path} does not exist")
    raise Skip(f"{path} does not exist")


# ---------------------------------------------------------------- matchers

class Matcher:
    """An expectation that is not one exact value. Subclasses define __call__ and __repr__,
    and may override describe() to say what about a value that failed them matters."""

    def describe(self, got):
        return show(got)


class Contains(Matcher):
    """A string holding each of `parts`."""

    def __init__(self, *parts):
        self.parts = parts

    def __call__(self, got):
        return isinstance(got, str) and all(part in got for part in self.parts)

    def __repr__(self):
        return "a string containing " + " and ".join(map(repr, self.parts))


class Matches(Matcher):
    """A string in which `pattern` is found (re.search)."""

    def __init__(self, pattern):
        self.pattern = re.compile(pattern)

    def __call__(self, got):
        return isinstance(got, str) and self.pattern.search(got) is not None

    def __repr__(self):
        return f"a string matching {self.pattern.pattern!r}"


class LastLine(Matcher):
    """A string whose last line matches the regular expression `pattern` (re.fullmatch)."""

    def __init__(self, pattern):
        self.pattern = pattern

    def __call__(self, got):
        lines = got.splitlines() if isinstance(got, str) else []
        return bool(lines) and re.fullmatch(self.pattern, lines[-1]) is not None

    def __repr__(self):
        return f"a last line matching {self.pattern!r}"


class OneOf(Matcher):
    def __init__(self, *values):
        self.values = values

    def __call__(self, got):
        return any(same(got, value) for value in self.values)

    def __repr__(self):
        return "one of " + ", ".join(map(repr, self.values))


class Between(Matcher):
    """An int (not a bool) with low <= value <= high."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def __call__(self, got):
        return type(got) is int and self.low <= got <= self.high

    def __repr__(self):
        return f"an int in [{self.low}, {self.high}]"


class Utf8Length(Matcher):
    """A string whose UTF-8 encoding is between low and high bytes long."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def __call__(self, got):
        return isinstance(got, str) and self.low <= len(got.encode("utf-8", "surrogatepass")) <= self.high

    def __repr__(self):
        return f"a string of {self.low} to {self.high} bytes of UTF-8"

    def describe(self, got):
        if not isinstance(got, str):
            return show(got)
        size = len(got.encode("utf-8", "surrogatepass"))
        return f"{size} bytes of UTF-8 ending {show(got[-8:])}"


def same(got, expected):
    """Equality that tells JSON's true from 1 and 1 from 1.0; matchers decide for themselves."""
    if isinstance(expected, Matcher):
        return expected(got)
    return type(got) is type(expected) and got == expected


def field_problems(got, expected, where=""):
    """Diagnostics for each key of `expected` that `got` lacks or holds a different value for."""
    problems = []
    for key, want in expected.items():
        if key not in got:
            problems.append(f"{where}{key}: missing, expected {show(want)}")
        elif not same(got[key], want):
            seen = want.describe(got[key]) if isinstance(want, Matcher) else show(got[key])
            problems.append(f"{where}{key}: expected {show(want)}")
            problems.append(f"{where}{' ' * len(key)}       got {seen}")
    return problems


# ---------------------------------------------------------------- HTTP

_pace_lock = threading.Lock()
_last_request_at = 0.0


def _pace():
    """Space request starts PACE_S apart so this process never trips nginx's limit_req."""
    global _last_request_at
    with _pace_lock:
        wait = _last_request_at + PACE_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _last_request_at = time.monotonic()


def _unverified_context():
    context = ssl.create_default_context()
    context.check_hostname = False       # the test deployment's certificate is self-signed
    context.verify_mode = ssl.CERT_NONE
    return context


def _connection(url, timeout):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout,
                                           context=_unverified_context())
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)


def parse_metrics(body):
    """A Prometheus text answer as {series with its labels: value}."""
    values = {}
    for line in body.decode("utf-8", "replace").splitlines():
        if line and not line.startswith("#") and " " in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def metric_value(series):
    """One series of the service's GET /v1/metrics, or None if it is missing."""
    response = request("GET", "/v1/metrics")
    if response.status != 200:
        raise Unexpected(f"GET /v1/metrics: {response.status} {show(response.body)}")
    return parse_metrics(response.body).get(series)


def request(method, path, body=None, headers=None, url=None, timeout=30, pace=True):
    """One HTTP request; returns Response(status, headers with lower-case names, body bytes).

    `timeout` bounds every socket operation. A server may answer (413) before it has read the
    whole body and close: a failed send is then not fatal, the answer is still read.
    """
    if pace:
        _pace()
    conn = _connection(url or PYCAGE_URL, timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = conn.getresponse()
        data = response.read()
        answer = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()
    check_contract(method, path, answer)
    return answer


def execute_body(code, stdin=None, timeout=None, **extra):
    """The JSON body of POST /v1/execute, sent as raw UTF-8 (no \\u escapes)."""
    fields = {"code": code}
    if stdin is not None:
        fields["stdin"] = stdin
    if timeout is not None:
        fields["timeout"] = timeout
    fields.update(extra)
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def execute_raw(code, stdin=None, timeout=None, *, url=None, content_type=JSON_TYPE, pace=True,
                **extra):
    """POST /v1/execute; returns the raw Response. `extra` become more keys of the body."""
    wait_s = (timeout if isinstance(timeout, (int, float)) else DEFAULT_EXEC_TIMEOUT_S)
    return request("POST", EXECUTE, execute_body(code, stdin, timeout, **extra),
                   {"Content-Type": content_type}, url=url, timeout=wait_s + HTTP_SLACK_S, pace=pace)


def execute(code, stdin=None, timeout=None, *, url=None, pace=True, **extra):
    """POST /v1/execute; returns (HTTP status, the answer's JSON as a dict in document order)."""
    response = execute_raw(code, stdin, timeout, url=url, pace=pace, **extra)
    return response.status, parse_json(response.body)


def parse_json(body):
    """The JSON value of a body, or Unexpected naming what came instead."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unexpected(f"body is not JSON ({exc}): {show(body)}") from None


def top_level_keys(body):
    """The top-level keys of a JSON object body in document order, duplicates kept."""
    pairs = json.loads(body.decode("utf-8"), object_pairs_hook=lambda pairs: pairs)
    return [key for key, _ in pairs]


# ---------------------------------------------------------------- the fronts

# scripts/check.sh's phase through Apache runs the HTTP suites for the front's sake: cases
# that talk to the responder's socket directly, never through the front, skip there (they
# ran in the nginx phases).
FRONT_PHASE = os.environ.get("PYCAGE_FRONT_PHASE") == "1"


def responder_only():
    """Called first by a case that never passes through the front: skips in the front phase."""
    if FRONT_PHASE:
        raise Skip("talks to the responder directly; run in the nginx phases")


def front(nginx, apache):
    """What the front in use (PYCAGE_FRONT) is expected to do: one of two values."""
    return apache if FRONT == "apache" else nginx


NGINX_SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nginx",
                          "pycage.conf")


@functools.lru_cache(maxsize=1)
def nginx_error_bodies():
    """{error code: the exact bytes nginx/pycage.conf answers with it}: each `return NNN
    '...';` of its error locations.  Apache's own errors must be the same bytes."""
    with open(NGINX_SITE) as f:
        site = f.read()
    bodies = {}
    for body in re.findall(r"return \d{3} '(.*?)';", site):
        code = re.search(r'"code":"([a-z_]+)"', body).group(1)
        bodies[code] = body.replace("\\n", "\n").encode()
    return bodies


def front_body_problems(body, code):
    """An answer the front made itself must be, byte for byte, nginx's body for `code`."""
    want = nginx_error_bodies().get(code)
    if want is None:
        return [f"nginx/pycage.conf has no body for {code!r}"]
    return [] if body == want else [f"body {show(body)}, expected nginx's {show(want)}"]


# ---------------------------------------------------------------- judging answers

OK = {"stderr": "", "exit_code": 0, "status": "ok",
      "stdout_truncated": False, "stderr_truncated": False}


def ok_with(stdout):
    """Expectation of a clean run that printed exactly `stdout`."""
    return {"stdout": stdout, **OK}


def answer_problems(status, answer, expected):
    """What is wrong with a 200 answer: HTTP status, shape, then the `expected` fields."""
    if status != 200:
        return [f"HTTP status: expected 200, got {status}", f"body: {show(answer)}"]
    problems = shape_problems(answer)
    return problems + field_problems(answer, expected)


def shape_problems(answer):
    """The 200 answer's keys, their order and types, and status agreeing with exit_code."""
    if not isinstance(answer, dict):
        return [f"answer is not a JSON object: {show(answer)}"]
    problems = []
    if list(answer) != ANSWER_KEYS:
        problems.append(f"keys: expected {ANSWER_KEYS}, got {list(answer)}")
    kinds = {"stdout": str, "stderr": str, "exit_code": int, "status": str,
             "stdout_truncated": bool, "stderr_truncated": bool, "duration_ms": int}
    for key, kind in kinds.items():
        if key in answer and type(answer[key]) is not kind:
            problems.append(f"{key}: expected a {kind.__name__}, got {show(answer[key])}")
    if "exception" in answer and not (answer["exception"] is None
                                      or isinstance(answer["exception"], dict)):
        problems.append(f"exception: expected null or an object, got {show(answer['exception'])}")
    if "result" in answer and not (answer["result"] is None or type(answer["result"]) is str):
        problems.append(f"result: expected null or a string, got {show(answer['result'])}")
    if "result_truncated" in answer and type(answer["result_truncated"]) is not bool:
        problems.append(f"result_truncated: expected a bool, got {show(answer['result_truncated'])}")
    usage = answer.get("usage")
    if "usage" in answer and (not isinstance(usage, dict) or list(usage) != USAGE_KEYS or any(
            not (value is None or type(value) is int and value >= 0) for value in usage.values())):
        problems.append(f"usage: expected {{{', '.join(USAGE_KEYS)}}} of counts or null, "
                        f"got {show(usage)}")
    status, exit_code = answer.get("status"), answer.get("exit_code")
    if status not in ANSWER_STATUSES:
        problems.append(f"status: expected one of {sorted(ANSWER_STATUSES)}, got {show(status)}")
    if status == "ok" and exit_code != 0 or status == "error" and exit_code == 0:
        problems.append(f"status {status!r} disagrees with exit_code {exit_code!r}")
    if type(answer.get("duration_ms")) is int and answer["duration_ms"] < 0:
        problems.append(f"duration_ms is negative: {answer['duration_ms']}")
    return problems


def run_case(case):
    """Run one declarative case {code, stdin?, timeout?, expect}; return its problems."""
    status, answer = execute(case["code"], case.get("stdin"), case.get("timeout"))
    return answer_problems(status, answer, case["expect"])


def error_problems(response, status, code, allow=None):
    """What is wrong with an error answer: status, JSON {"error": {code, message}}, Allow."""
    problems = []
    if response.status != status:
        problems.append(f"HTTP status: expected {status}, got {response.status}")
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != JSON_TYPE:
        problems.append(f"Content-Type: expected {JSON_TYPE}, got {content_type!r}")
    problems += _error_object_problems(response.body, code)
    if allow is not None and not same(response.headers.get("allow"), allow):
        problems.append(f"Allow header: expected {show(allow)}, got {show(response.headers.get('allow'))}")
    return problems


def _error_object_problems(body, code):
    try:
        error = parse_json(body).get("error")
    except (Unexpected, AttributeError):
        return [f"body is not a JSON object: {show(body)}"]
    if not isinstance(error, dict):
        return [f"no \"error\" object in {show(body)}"]
    problems = []
    if not same(error.get("code"), code):
        problems.append(f"error.code: expected {show(code)}, got {show(error.get('code'))}")
    message = error.get("message")
    if not isinstance(message, str) or not message.strip():
        problems.append(f"error.message: expected a non-empty string, got {show(message)}")
    return problems


def service_config(key, default):
    """KEY's value in the service's configuration file (PYCAGE_CONF), else DEFAULT."""
    value = default
    try:
        with open(PYCAGE_CONF) as f:
            for line in f:
                name, eq, text = line.split("#", 1)[0].partition("=")
                if eq and name.strip() == key and text.strip():
                    value = text.strip()
    except OSError:
        pass
    return value


def service_instance():
    """`instance` from the service's configuration (PYCAGE_CONF; default "default"): the
    label value of its containers, as opposed to other responders' on the same engine."""
    return service_config("instance", "default")


def service_pool_size():
    """The service's pool_size from GET /v1/health (0 if it does not say)."""
    response = request("GET", HEALTH, timeout=10)
    health = parse_json(response.body) if response.status == 200 else {}
    size = health.get("pool_size", 0) if isinstance(health, dict) else 0
    return size if type(size) is int else 0


def responder_pids():
    """The responder's processes: the one in PYCAGE_PIDFILE and its children (the executor)."""
    with open(PYCAGE_PIDFILE) as pidfile:
        pid = int(pidfile.read().split()[0])
    children = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid ...: comm may hold spaces, so split after the ')'
                if entry.isdigit() and int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return [pid] + children


def responder_rss_kib():
    """VmRSS of the responder's processes (responder_pids()), summed, in KiB."""
    total = 0
    for pid in responder_pids():
        with open(f"/proc/{pid}/status") as status:
            lines = [line for line in status if line.startswith("VmRSS:")]
        if not lines:
            raise Unexpected(f"no VmRSS line in /proc/{pid}/status")
        total += int(lines[0].split()[1])
    return total


# ---------------------------------------------------------------- the OpenAPI document
# Every answer the suite receives is checked against docs/openapi.yaml: the response the
# document gives for its path, method and status (a path the document does not list, or a
# method a route does not take, gets the document's components.responses.Error<status>),
# its media type, and its JSON body against that response's schema (JSON Schema 2020-12,
# as OpenAPI 3.1 says).  A mismatch is kept and reported by the next TAP point, which is
# the case that received it (Tap.ok), so no test can pass on an answer the document
# contradicts.

OPENAPI_DOCUMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "docs", "openapi.yaml")
_contract_problems = []
_contract_lock = threading.Lock()


def debian_module(name):
    """A module from Debian's python3-* packages, also when the python3 running the tests
    is another 3.11 build (pyenv's here) whose path lacks them: their directory last."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError:
        if "/usr/lib/python3/dist-packages" not in sys.path:
            sys.path.append("/usr/lib/python3/dist-packages")
        return importlib.import_module(name)


@functools.lru_cache(maxsize=1)
def openapi_document():
    """docs/openapi.yaml as data (Debian's python3-yaml; its libyaml loader, 0.03 s here against
    0.1 s for the pure-Python one: every test file loads the document once)."""
    yaml = debian_module("yaml")
    with open(OPENAPI_DOCUMENT, encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _pointer(parts):
    """A JSON pointer (RFC 6901) of a list of keys."""
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _deref(node):
    """A local $ref ('#/components/...') followed to what it names."""
    document = openapi_document()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise Unexpected(f"docs/openapi.yaml: non-local $ref {ref}")
        node = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _openapi_response(method, path, status):
    """(the keys leading to the document's response object for an answer, that object
    with its $ref followed, or None when the document has none)."""
    document = openapi_document()
    item = document["paths"].get(path)
    verb = "get" if method.upper() == "HEAD" else method.lower()
    if item is not None and verb in item:
        responses = item[verb]["responses"]
        keys = ["paths", path, verb, "responses", str(status)]
        if str(status) in responses:
            return keys, _deref(responses[str(status)])
        return keys, None
    # A path the document does not list, or a method its route does not take.
    keys = ["components", "responses", f"Error{status}"]
    response = document["components"]["responses"].get(f"Error{status}")
    return keys, _deref(response) if response is not None else None


_validators = {}


def _schema_validator(schema):
    """A Draft 2020-12 validator of one of the document's schemas (cached: the document is
    loaded once, so its objects live as long as the process), resolving its $refs."""
    if id(schema) not in _validators:
        jsonschema = debian_module("jsonschema")
        resolver = jsonschema.RefResolver.from_schema(openapi_document())
        _validators[id(schema)] = jsonschema.Draft202012Validator(schema, resolver=resolver)
    return _validators[id(schema)]


def openapi_problems(method, path, response):
    """What in an answer (Response) docs/openapi.yaml does not allow; [] when it agrees."""
    path = path.split("?", 1)[0]
    label = f"docs/openapi.yaml: {method} {path} -> {response.status}"
    keys, described = _openapi_response(method, path, response.status)
    if described is None:
        return [f"{label}: status {response.status} is not documented ({_pointer(keys)})"]
    content = described.get("content") or {}
    if method.upper() == "HEAD" or not response.body:
        if content and not response.body and method.upper() != "HEAD":
            return [f"{label}: empty body, the document has {sorted(content)}"]
        return []
    if not content:
        return [f"{label}: a body ({show(response.body, 80)}), the document has none"]
    media_type = (response.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type not in content:
        return [f"{label}: Content-Type {media_type!r}, the document has {sorted(content)}"]
    if media_type != JSON_TYPE:
        return []
    try:
        value = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"{label}: the body is not JSON ({exc}): {show(response.body, 120)}"]
    error = debian_module("jsonschema").exceptions.best_match(
        _schema_validator(content[media_type]["schema"]).iter_errors(value))
    if error is None:
        return []
    at = "".join(f"[{part!r}]" for part in error.absolute_path)
    return [f"{label}: the body does not match the schema of {_pointer(keys)}: at body{at}: "
            f"{show(error.message, 240)}"]


def check_contract(method, path, response):
    """Check an answer against the document; keep what disagrees for the next TAP point."""
    try:
        problems = openapi_problems(method, path, response)
    except Exception as exc:  # no yaml, no jsonschema, a broken document: fail, never skip
        problems = [f"docs/openapi.yaml: could not check {method} {path}: "
                    f"{type(exc).__name__}: {exc}"]
    if problems:
        with _contract_lock:
            _contract_problems.extend(problems)


def take_contract_problems():
    """The mismatches received since the last call (and forget them)."""
    with _contract_lock:
        problems = _contract_problems[:]
        del _contract_problems[:]
    return problems


# ---------------------------------------------------------------- Docker Engine API

class _UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over AF_UNIX: the Docker engine listens on a unix socket."""

    def __init__(self, socket_path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def docker_get_bytes(path, timeout=10):
    """GET on the Docker Engine API; returns the body, or Unexpected for any status but 200."""
    conn = _UnixHTTPConnection(DOCKER_SOCKET, timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise Unexpected(f"docker GET {path}: HTTP {response.status} {show(body)}")
    return body


def docker_get(path, timeout=10):
    """GET on the Docker Engine API; returns the JSON."""
    return parse_json(docker_get_bytes(path, timeout))


def docker_containers(label=MANAGED_LABEL):
    """Every container carrying `label`, running or stopped (API 1.41, containers/json)."""
    filters = urllib.parse.quote(json.dumps({"label": [label]}))
    return docker_get(f"/v1.41/containers/json?all=1&filters={filters}")


def container_inspect(container_id):
    """The engine's description of a container (containers/{id}/json), or {} if it is gone
    or cannot be read."""
    try:
        info = docker_get(f"/v1.41/containers/{container_id}/json")
    except Unexpected:
        return {}
    return info if isinstance(info, dict) else {}


def container_runtime(container_id):
    """HostConfig.Runtime of a container ("runc", "runsc"), or None if it is gone."""
    return (container_inspect(container_id).get("HostConfig") or {}).get("Runtime")


def running_pid(info):
    """State.Pid in a container_inspect() answer: its first process on the host (under
    gVisor, the sandbox's); None if it is not running."""
    state = info.get("State") or {}
    pid = state.get("Pid")
    return pid if state.get("Running") and type(pid) is int and pid > 0 else None


@functools.lru_cache(maxsize=1)
def _cgroup_mounts():
    """{controller: (mount point, the hierarchy's path mounted there)} of this process's
    cgroup hierarchies; "" for cgroup v2."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype, options = fields[fields.index("-") + 1], fields[-1].split(",")
            if fstype == "cgroup2":
                mounts.setdefault("", (fields[4], fields[3]))
            elif fstype == "cgroup":
                for option in options:
                    mounts.setdefault(option, (fields[4], fields[3]))
    return mounts


def _cgroup_dir(mount, path):
    """The directory of cgroup `path` (as /proc/PID/cgroup names it) under a mount."""
    point, root = mount
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    return point + path


def cgroup_cpu_s(pid):
    """CPU time charged to the cgroup of host process `pid`, in seconds (cgroup v1's
    cpuacct.usage, or v2's usage_usec in cpu.stat): what the kernel counted, whatever the
    sandbox inside tells its own programs.  None if the process is gone."""
    mounts = _cgroup_mounts()
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            entries = [line.rstrip("\n").split(":", 2) for line in f]
        for _, controllers, path in entries:
            if "cpuacct" in controllers.split(",") and "cpuacct" in mounts:
                with open(f"{_cgroup_dir(mounts['cpuacct'], path)}/cpuacct.usage") as usage:
                    return int(usage.read()) / 1e9
        for _, controllers, path in entries:
            if controllers == "" and "" in mounts:
                with open(f"{_cgroup_dir(mounts[''], path)}/cpu.stat") as stat:
                    for line in stat:
                        if line.startswith("usage_usec "):
                            return int(line.split()[1]) / 1e6
    except (OSError, ValueError):
        return None
    raise Unexpected(f"no CPU accounting found for pid {pid}: {entries}")


# ---------------------------------------------------------------- FastCGI client
# FastCGI 1.0: every record is an 8-byte header {version 1, type, requestId (u16 big-endian),
# contentLength (u16), paddingLength (u8), reserved} then content then padding. A request is
# FCGI_BEGIN_REQUEST, the FCGI_PARAMS stream, the FCGI_STDIN stream; a stream ends with an
# empty record of its type. The answer is FCGI_STDOUT/FCGI_STDERR records, then END_REQUEST.

FCGI_VERSION_1 = 1
FCGI_BEGIN_REQUEST = 1
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_RESPONDER = 1
FCGI_KEEP_CONN = 1             # BEGIN_REQUEST flag: the web server keeps the connection
FCGI_REQUEST_COMPLETE = 0
FCGI_HEADER = struct.Struct(">BBHHBx")
FCGI_BEGIN_BODY = struct.Struct(">HB5x")       # role, flags, reserved[5]
FCGI_END_BODY = struct.Struct(">IB3x")         # appStatus, protocolStatus, reserved[3]
FCGI_CHUNK = 65528             # largest multiple of 8 under contentLength's 65535: no padding
FCGI_LENGTH_MAX = 0x7FFFFFFF   # a name-value length has 31 bits

FcgiAnswer = namedtuple("FcgiAnswer", "stdout stderr app_status protocol_status")


def fcgi_record(record_type, request_id, content=b""):
    """One record, padded to a multiple of 8 bytes as the spec recommends."""
    padding = -len(content) % 8
    header = FCGI_HEADER.pack(FCGI_VERSION_1, record_type, request_id, len(content), padding)
    return header + content + bytes(padding)


def fcgi_stream(record_type, request_id, data):
    """`data` cut into records, then the empty record that ends the stream."""
    records = [fcgi_record(record_type, request_id, data[at:at + FCGI_CHUNK])
               for at in range(0, len(data), FCGI_CHUNK)]
    records.append(fcgi_record(record_type, request_id))
    return b"".join(records)


def fcgi_length(length):
    """A name-value length: one byte below 128, else four bytes big-endian with the top bit set."""
    if not 0 <= length <= FCGI_LENGTH_MAX:
        raise ValueError(f"name-value length {length} out of range")
    if length < 128:
        return bytes([length])
    return struct.pack(">I", length | 0x80000000)


def fcgi_name_value(name, value):
    name, value = _bytes(name), _bytes(value)
    return fcgi_length(len(name)) + fcgi_length(len(value)) + name + value


def _bytes(text):
    return text if isinstance(text, bytes) else text.encode("utf-8")


def fcgi_encode_request(params, stdin=b"", request_id=1, flags=0):
    """BEGIN_REQUEST (responder; flags FCGI_KEEP_CONN or 0), the PARAMS and STDIN streams."""
    begin = fcgi_record(FCGI_BEGIN_REQUEST, request_id,
                        FCGI_BEGIN_BODY.pack(FCGI_RESPONDER, flags))
    pairs = b"".join(fcgi_name_value(name, value) for name, value in params.items())
    return begin + fcgi_stream(FCGI_PARAMS, request_id, pairs) + fcgi_stream(FCGI_STDIN, request_id, stdin)


def _recv_exact(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise Unexpected(f"connection closed {len(data)} bytes into a {count}-byte read "
                             "(no FCGI_END_REQUEST)")
        data += chunk
    return bytes(data)


def fcgi_read_record(sock):
    """(type, requestId, content) of the next record; the padding is read and dropped."""
    version, record_type, request_id, length, padding = FCGI_HEADER.unpack(_recv_exact(sock, 8))
    if version != FCGI_VERSION_1:
        raise Unexpected(f"FastCGI record with version {version}")
    content = _recv_exact(sock, length)
    _recv_exact(sock, padding)
    return record_type, request_id, content


def fcgi_read_answer(sock, request_id=1):
    """Collect STDOUT and STDERR until END_REQUEST; returns FcgiAnswer."""
    stdout, stderr = bytearray(), bytearray()
    while True:
        record_type, got_id, content = fcgi_read_record(sock)
        if got_id != request_id:
            raise Unexpected(f"record type {record_type} for request {got_id}, not {request_id}")
        if record_type == FCGI_STDOUT:
            stdout += content
        elif record_type == FCGI_STDERR:
            stderr += content
        elif record_type == FCGI_END_REQUEST:
            app_status, protocol_status = FCGI_END_BODY.unpack(content[:FCGI_END_BODY.size])
            return FcgiAnswer(bytes(stdout), bytes(stderr), app_status, protocol_status)
        else:
            raise Unexpected(f"unexpected FastCGI record type {record_type}")


def parse_cgi_response(data):
    """`Status: 200 OK\\r\\nName: value\\r\\n\\r\\nbody` -> Response (no Status header: 200)."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
    if not separator:
        raise Unexpected(f"CGI response without a blank line after its headers: {show(data)}")
    headers = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if not colon:
            raise Unexpected(f"CGI header line without a colon: {line!r}")
        headers[name.strip().lower()] = value.strip()
    status = headers.get("status", "200").split()[0]
    if not status.isdigit():
        raise Unexpected(f"CGI Status header {headers['status']!r}")
    return Response(int(status), headers, body)


def fcgi_exchange(sock, params, stdin=b"", request_id=1, check=True):
    """Send one request on a connected socket and parse the CGI response it gets, checked
    against docs/openapi.yaml unless `check` is false (a canned peer's, not pycage's)."""
    try:
        sock.sendall(fcgi_encode_request(params, stdin, request_id))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the responder may answer (413) and close before reading all of stdin
    answer = fcgi_read_answer(sock, request_id)
    if answer.protocol_status != FCGI_REQUEST_COMPLETE:
        raise Unexpected(f"FCGI_END_REQUEST protocolStatus {answer.protocol_status}")
    response = parse_cgi_response(answer.stdout)
    if check:
        check_contract(params.get("REQUEST_METHOD", ""), params.get("DOCUMENT_URI")
                       or params.get("REQUEST_URI", ""), response)
    return response


def fcgi_keep_health(sock):
    """GET /v1/health with FCGI_KEEP_CONN on a connected socket, so that the responder keeps
    the connection for a next request; the problems, if the answer is not a 200."""
    sock.sendall(fcgi_encode_request(fcgi_params("GET", HEALTH), flags=FCGI_KEEP_CONN))
    answer = fcgi_read_answer(sock)
    check_contract("GET", HEALTH, parse_cgi_response(answer.stdout))
    if answer.stdout.startswith(b"Status: 200"):
        return []
    return [f"health with FCGI_KEEP_CONN: {show(answer.stdout)}"]


def fcgi_connect(address=None, timeout=40, source=None):
    """A connection to a responder: a unix socket path (default the service's), or a
    (host, port) over TCP, from the local address `source` if given."""
    address = address or PYCAGE_FCGI_SOCKET
    tcp = isinstance(address, tuple)
    sock = socket.socket(socket.AF_INET if tcp else socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if source is not None:
            sock.bind((source, 0))
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


def fcgi_request(params, stdin=b"", socket_path=None, timeout=40, source=None):
    """One request on a fresh connection to the responder; returns Response.

    socket_path: a unix socket path, or a (host, port) tuple for FastCGI over TCP."""
    sock = fcgi_connect(socket_path, timeout, source)
    try:
        return fcgi_exchange(sock, params, stdin)
    finally:
        sock.close()


def fcgi_params(method, path, content_type=None, content_length=None):
    """The CGI parameters nginx's stock fastcgi_params would send for this request.

    `content_length` is sent as given (a string may lie or be no number at all); None sends
    the empty value nginx sends for a request without a body.
    """
    return {
        "QUERY_STRING": "", "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type or "",
        "CONTENT_LENGTH": "" if content_length is None else str(content_length),
        "SCRIPT_NAME": path, "REQUEST_URI": path, "DOCUMENT_URI": path,
        "DOCUMENT_ROOT": "/usr/share/nginx/html", "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_SCHEME": "http", "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "nginx",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000", "REMOTE_USER": "",
        "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_NAME": "localhost",
        "REDIRECT_STATUS": "200", "HTTP_HOST": "localhost",
    }


# ---------------------------------------------------------------- the tripwire, bypassed
# The runner's restricted builtins and C audit hook are a tripwire, not the boundary. To
# test the boundary, a program first does what an attacker would: it removes the audit hook
# by zeroing _PyRuntime.audit_hook_head through ctypes.memset (foreign calls are not audited
# in 3.11). The address comes from the image's own libpython: id(int) is &PyLong_Type, and
# the offsets of PyLong_Type and _PyRuntime are read with nm from a copy of the image's
# library; the field's offset comes from CPython's internal headers on the host (the same
# 3.11.2 as the image).

PYCAGE_IMAGE = os.environ.get("PYCAGE_IMAGE", "pycage-sandbox:latest")
LIBPYTHON = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"
_bypass_cache = []


def _run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120, **kw)


def hook_bypass_prelude():
    """Python source that removes the runner's audit hook and binds `builtins`."""
    if _bypass_cache:
        return _bypass_cache[0]
    work = tempfile.mkdtemp(prefix="pycage-bypass-")
    try:
        container = _run(["/usr/bin/docker", "create", PYCAGE_IMAGE]).stdout.strip()
        try:
            _run(["/usr/bin/docker", "cp", f"{container}:{LIBPYTHON}", f"{work}/libpython.so"])
        finally:
            subprocess.run(["/usr/bin/docker", "rm", "-f", container], capture_output=True)
        symbols = {}
        for line in _run(["nm", "-D", f"{work}/libpython.so"]).stdout.splitlines():
            cols = line.split()
            if len(cols) == 3 and cols[2] in ("PyLong_Type", "_PyRuntime"):
                symbols[cols[2]] = int(cols[0], 16)
        with open(f"{work}/off.c", "w") as f:
            f.write("#define Py_BUILD_CORE 1\n#include <Python.h>\n"
                    "#include <internal/pycore_runtime.h>\n"
                    "#include <stdio.h>\n#include <stddef.h>\n"
                    "int main(void) { printf(\"%zu\", offsetof(_PyRuntimeState, audit_hook_head));"
                    " return 0; }\n")
        cflags = _run(["pkg-config", "--cflags", "python3-embed"]).stdout.split()
        _run(["gcc", *cflags, f"{work}/off.c", "-o", f"{work}/off"])
        field = int(_run([f"{work}/off"]).stdout)
        if len(symbols) != 2:
            raise Unexpected(f"symbols not found in the image's libpython: {symbols}")
        prelude = (
            "builtins = print.__self__\n"
            "builtins.__import__('ctypes').memset("
            f"id(int) - {symbols['PyLong_Type']:#x} + {symbols['_PyRuntime']:#x}"
            f" + {field}, 0, 8)\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _bypass_cache.append(prelude)
    return prelude
