#!/usr/bin/python3
"""The hostile corpus: every program in tests/hostile/cases/ is sent to pycage as is, and its
header says what the answer must be (tests/hostile/README.md has the language).

For each case, two TAP lines:
  1. the answer: HTTP 200 in the documented shape, every `expect:` clause holds (and one
     `either:` line, if the case has any), the planted canaries appear nowhere in it;
  2. the service afterwards: print("alive") answers ok within 5 s, and within 5 s no container
     of this responder's instance is left but idle pool ones (see LeftoverWatch).

Statically, for every case (also offline with --selftest): the header parses, and each of its
`escaped:` answers -- what the answer would look like had the attack worked -- fails the
expectation, so no case can pass whatever happens.

Usage: test_hostile.py [--selftest | --unhooked] [SUBSTRING ...]   (substrings select cases)
  --selftest   offline: only the static checks.
  --unhooked   every case is sent after pycagetest.hook_bypass_prelude(), which removes the
               runner's audit hook as an attacker would: the runner's layer is a tripwire, so
               this pass shows what the container alone holds. Without it the case file is
               sent exactly as it is.
Environment: as tests/integration/pycagetest.py (PYCAGE_URL, PYCAGE_REQUIRE_SERVICE, ...);
PYCAGE_CONF (default /etc/pycage/pycage.conf) names the responder's configuration, whose
`instance` labels the containers that matter; PYCAGE_HOSTILE_LOG names a file that gets every
case's answer as a line of JSON (to see how each attack was stopped, not only that it was).

Shares nginx's rate-limit bucket and the engine with the integration tests: run it on its own.
"""

import base64
import glob
import json
import os
import re
import secrets
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import pycagetest as pt  # noqa: E402

CASES_DIR = os.path.join(HERE, "cases")
CASE_NAME = re.compile(r"(\d{3})-[a-z0-9]+(?:-[a-z0-9]+)*\.py")
CODE_MAX_BYTES = 262144        # README: code is at most 256 KiB of UTF-8

DEFAULT_TIMEOUT_S = pt.DEFAULT_EXEC_TIMEOUT_S
WALL_SLACK_S = 15              # default bound on an answer: the run's timeout plus this
ALIVE_CODE = 'print("alive")\n'
ALIVE_WITHIN_S = 5
LEFTOVER_WAIT_S = 5
POLL_S = 0.25
RETRIES = 6                    # a 429 or a 503 busy is someone else's load, not the case's
RETRY_WAIT_S = 1.0

ANSWER_LOG = os.environ.get("PYCAGE_HOSTILE_LOG")   # if set: every case's answer, one JSON a line
CANARY_FILE = "/etc/pycage/canary"
CANARY_ENV = "PYCAGE_CANARY"
MEMORY_CHUNK_BYTES = 16 << 20
MEMORY_REGION_MAX_BYTES = 1 << 30


# ---------------------------------------------------------------- the case language

class CaseError(Exception):
    """A header that does not parse: the case fails with this reason."""


TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[|;]|[^\s|;"]+')
STATUSES = sorted(pt.ANSWER_STATUSES)
STREAMS = ("stdout", "stderr")
# The files an answer returns, as one text: per file "== NAME SIZE\n" then its bytes
# (UTF-8, undecodable bytes as \xNN); a stream subject like the two above.
FILES = "files"
FLAGS = ("stdout_truncated", "stderr_truncated", "files_truncated")
NUMBERS = ("exit_code", "duration_ms")
STREAM_VERBS = ("equals", "has", "has-any", "lacks", "matches", "lacks-match",
                "max-bytes", "min-bytes", "max-chars", "min-chars")


def tokens(text):
    """A header value as tokens: JSON strings are decoded, `|` and `;` stay operators."""
    out, at = [], 0
    for match in TOKEN.finditer(text):
        if text[at:match.start()].strip():
            raise CaseError(f"cannot read {text[at:match.start()]!r} in {text!r}")
        at = match.end()
        word = match.group()
        if word.startswith('"'):
            try:
                out.append(("str", json.loads(word)))
            except ValueError as exc:
                raise CaseError(f"bad string {word}: {exc}") from None
        elif word in "|;":
            out.append(("op", word))
        else:
            out.append(("str", word))
    if text[at:].strip():
        raise CaseError(f"cannot read {text[at:]!r} in {text!r}")
    return out


def split_on(items, op):
    """[[...], [...]] split at the operator `op`; empty parts are kept (and rejected later)."""
    parts = [[]]
    for kind, value in items:
        if kind == "op" and value == op:
            parts.append([])
        else:
            parts[-1].append((kind, value))
    return parts


def alternatives(items, what):
    """`a | b | c` -> ["a", "b", "c"]; every alternative is exactly one token."""
    values = []
    for part in split_on(items, "|"):
        if len(part) != 1 or part[0][0] != "str":
            raise CaseError(f"{what}: want one value between '|', got {[v for _, v in part]}")
        values.append(part[0][1])
    return values


def integer_set(words, what):
    """["1", "137", "128..159"] -> a predicate and its description."""
    ranges = []
    for word in words:
        match = re.fullmatch(r"(-?\d+)(?:\.\.(-?\d+))?", word)
        if not match:
            raise CaseError(f"{what}: {word!r} is not an integer or a range a..b")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        ranges.append((low, high))
    return (lambda got: type(got) is int and any(lo <= got <= hi for lo, hi in ranges)), "|".join(words)


class Clause:
    """One `subject verb value|value` test against an answer (and its wall time)."""

    def __init__(self, items):
        words = [value for _, value in items]
        if len(items) < 2 or any(kind != "str" for kind, _ in items[:2]):
            raise CaseError(f"a clause is `subject verb values`, got {words}")
        self.subject, self.verb = items[0][1], items[1][1]
        self.text = " ".join(value if kind == "op" or re.fullmatch(r'[^\s|;"\\]+', value)
                             else json.dumps(value, ensure_ascii=False) for kind, value in items)
        rest = items[2:]
        if self.subject == "answered":
            self._answered(rest)
            return
        if self.subject not in ("status",) + NUMBERS + STREAMS + FLAGS + (FILES,):
            raise CaseError(f"unknown subject {self.subject!r} in `{self.text}`")
        values = alternatives(rest, self.text)
        if self.subject == "status":
            self._membership(values, lambda v: v in STATUSES, f"statuses are {STATUSES}")
        elif self.subject in NUMBERS:
            self._numbers(values)
        elif self.subject in FLAGS:
            if self.verb != "is" or values not in (["true"], ["false"]):
                raise CaseError(f"`{self.text}`: want `{self.subject} is true|false`")
            flag = values == ["true"]
            self.test = lambda got: got is flag
        else:
            self._stream(values)

    def _answered(self, rest):
        words = [value for _, value in rest]
        if self.verb != "within" or not 1 <= len(words) <= 2 or words[1:] not in ([], ["s"]):
            raise CaseError(f"`{self.text}`: want `answered within N s`")
        try:
            self.within_s = float(words[0])
        except ValueError:
            raise CaseError(f"`{self.text}`: {words[0]!r} is not a number") from None
        self.test = None

    def _membership(self, values, valid, why):
        if self.verb not in ("is", "in", "not-in") or (self.verb == "is" and len(values) != 1):
            raise CaseError(f"`{self.text}`: the verb is `is V`, `in A|B` or `not-in A|B`")
        bad = [v for v in values if not valid(v)]
        if bad:
            raise CaseError(f"`{self.text}`: {bad} ({why})")
        wanted = set(values)
        self.test = (lambda got: got not in wanted) if self.verb == "not-in" else (lambda got: got in wanted)

    def _numbers(self, values):
        if self.verb not in ("is", "in", "not-in") or (self.verb == "is" and len(values) != 1):
            raise CaseError(f"`{self.text}`: the verb is `is N`, `in A|B|a..b` or `not-in ...`")
        member, _ = integer_set(values, self.text)
        self.test = (lambda got: type(got) is int and not member(got)) if self.verb == "not-in" else member

    def _stream(self, values):
        verb = self.verb
        if verb not in STREAM_VERBS:
            raise CaseError(f"`{self.text}`: stream verbs are {', '.join(STREAM_VERBS)}")
        if verb not in ("has", "has-any", "lacks") and len(values) != 1:
            raise CaseError(f"`{self.text}`: `{verb}` takes one value")
        if verb in ("matches", "lacks-match"):
            try:
                pattern = re.compile(values[0], re.MULTILINE)
            except re.error as exc:
                raise CaseError(f"`{self.text}`: {exc}") from None
        if verb == "equals":
            self.test = lambda got: got == values[0]
        elif verb == "has":
            self.test = lambda got: all(v in got for v in values)
        elif verb == "has-any":
            self.test = lambda got: any(v in got for v in values)
        elif verb == "lacks":
            self.test = lambda got: not any(v in got for v in values)
        elif verb == "matches":
            self.test = lambda got: pattern.search(got) is not None
        elif verb == "lacks-match":
            self.test = lambda got: pattern.search(got) is None
        else:
            if not values[0].isdigit():
                raise CaseError(f"`{self.text}`: {values[0]!r} is not a count")
            limit = int(values[0])
            if verb.endswith("-bytes"):
                size = lambda got: len(got.encode("utf-8", "surrogatepass"))  # noqa: E731
            else:
                size = len
            self.test = (lambda got: size(got) <= limit) if verb.startswith("max-") else (lambda got: size(got) >= limit)

    def problem(self, answer, wall_s):
        """None if the clause holds, else what was seen."""
        if self.subject == "answered":
            if wall_s <= self.within_s:
                return None
            return f"`{self.text}`: answered after {wall_s:.2f} s"
        got = files_text(answer) if self.subject == FILES else answer.get(self.subject)
        if self.subject in STREAMS + (FILES,) and not isinstance(got, str):
            return f"`{self.text}`: {self.subject} is {pt.show(got)}"
        try:
            held = self.test(got)
        except Exception as exc:  # a wrong type in the answer is a failed clause
            held = False
            got = f"{pt.show(got)} ({type(exc).__name__}: {exc})"
        if held:
            return None
        seen = pt.show(got) if self.subject not in STREAMS + (FILES,) else _describe_stream(got)
        return f"`{self.text}`: {self.subject} was {seen}"


def files_text(answer):
    """The answer's files as one text (see FILES); None if the answer has no files list."""
    files = answer.get("files")
    if not isinstance(files, list):
        return None
    parts = []
    for entry in files:
        if not isinstance(entry, dict):
            return None
        content = entry.get("content", "")
        if entry.get("encoding") == "base64":
            try:
                content = base64.b64decode(content).decode("utf-8", "backslashreplace")
            except ValueError:
                content = f"<bad base64 {content[:40]!r}>"
        parts.append(f"== {entry.get('name')} {entry.get('size')}\n{content}")
    return "".join(parts)


def _describe_stream(text):
    size = len(text.encode("utf-8", "surrogatepass"))
    return f"{pt.show(text, 400)} ({size} bytes of UTF-8, {len(text)} characters)"


def clauses(text):
    """A `;`-separated list of clauses."""
    parts = split_on(tokens(text), ";")
    if any(not part for part in parts):
        raise CaseError(f"empty clause in {text!r}")
    return [Clause(part) for part in parts]


ESCAPED_DEFAULTS = {"stdout": "", "stderr": "", "exit_code": 0, "status": "ok",
                    "stdout_truncated": False, "stderr_truncated": False, "duration_ms": 50,
                    "files": [], "files_truncated": False}


def escaped_answer(text):
    """`field value ; field value` -> (a synthetic answer, its wall seconds). Unset fields are
    those of a quick clean run; `wall N` sets the wall time."""
    answer, wall_s = dict(ESCAPED_DEFAULTS), 0.5
    for part in split_on(tokens(text), ";"):
        words = [value for _, value in part]
        if len(words) != 2:
            raise CaseError(f"escaped: want `field value`, got {words}")
        field, value = words
        if field in STREAMS:
            answer[field] = value
        elif field == FILES:
            # `files "NAME\ncontent"`: one returned file, utf-8
            name, _, content = value.partition("\n")
            answer[field] = answer[field] + [{"name": name, "content": content,
                                              "encoding": "utf-8",
                                              "size": len(content.encode("utf-8"))}]
        elif field == "status":
            if value not in STATUSES:
                raise CaseError(f"escaped: status {value!r} is not one of {STATUSES}")
            answer[field] = value
        elif field in NUMBERS:
            if not re.fullmatch(r"-?\d+", value):
                raise CaseError(f"escaped: {field} {value!r} is not an integer")
            answer[field] = int(value)
        elif field in FLAGS:
            if value not in ("true", "false"):
                raise CaseError(f"escaped: {field} is true or false")
            answer[field] = value == "true"
        elif field == "wall":
            try:
                wall_s = float(value)
            except ValueError:
                raise CaseError(f"escaped: wall {value!r} is not a number") from None
        else:
            raise CaseError(f"escaped: unknown field {field!r}")
    return answer, wall_s


class Case:
    KEYS = ("attack", "expect", "either", "escaped", "timeout", "compiles")

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-3]
        with open(path, "rb") as f:
            raw = f.read()
        self.code = raw.decode("utf-8")     # a case that is not UTF-8 is a broken case
        self.attack = ""
        self.expect, self.either, self.escaped = [], [], []
        self.timeout = None
        self.compiles = True
        self._parse_header()

    def _parse_header(self):
        fields = []
        for line in self.code.splitlines():
            if not line.startswith("#"):
                break
            match = re.match(r"#\s?([a-z]+):\s*(.*)$", line)
            if match:
                fields.append([match.group(1), match.group(2).strip()])
            elif re.match(r"#\s{3,}\S", line) and fields:
                fields[-1][1] += " " + line[1:].strip()      # a continuation line
            elif line.strip() != "#":
                raise CaseError(f"header line is neither `# key: value` nor a continuation: {line!r}")
        for key, value in fields:
            if key not in self.KEYS:
                raise CaseError(f"unknown header key {key!r} (known: {', '.join(self.KEYS)})")
            if key == "attack":
                self.attack = value
            elif key == "expect":
                self.expect += clauses(value)
            elif key == "either":
                self.either.append(clauses(value))
            elif key == "escaped":
                self.escaped.append((value, escaped_answer(value)))
            elif key == "timeout":
                try:
                    self.timeout = float(value) if "." in value else int(value)
                except ValueError:
                    raise CaseError(f"timeout {value!r} is not a number") from None
            elif key == "compiles":
                if value not in ("yes", "no"):
                    raise CaseError("compiles: yes or no")
                self.compiles = value == "yes"
        if not self.attack:
            raise CaseError("no `# attack:` line")
        if not self.expect and not self.either:
            raise CaseError("no `# expect:` or `# either:` line")
        if not self.escaped:
            raise CaseError("no `# escaped:` line: a case must show an answer it rejects")
        self.default_within_s = (self.timeout or DEFAULT_TIMEOUT_S) + WALL_SLACK_S

    def problems(self, answer, wall_s):
        """What about a 200 answer breaks the expectation (empty: it holds)."""
        problems = [p for c in self.expect if (p := c.problem(answer, wall_s))]
        if not any(c.subject == "answered" for c in self.expect) and wall_s > self.default_within_s:
            problems.append(f"answered after {wall_s:.1f} s, expected within {self.default_within_s:g} s "
                            f"(the run's timeout + {WALL_SLACK_S} s)")
        if self.either:
            failed = [[p for c in line if (p := c.problem(answer, wall_s))] for line in self.either]
            if all(failed):
                problems.append("no `either:` line holds:")
                for number, line_problems in enumerate(failed, 1):
                    problems += [f"  either #{number}: {p}" for p in line_problems]
        return problems

    def static_problems(self):
        problems = []
        if not CASE_NAME.fullmatch(os.path.basename(self.path)):
            problems.append(f"file name {os.path.basename(self.path)!r} is not NNN-short-name.py")
        if len(self.code.encode("utf-8")) > CODE_MAX_BYTES:
            problems.append(f"the code is over {CODE_MAX_BYTES} bytes: the service would refuse it")
        if self.compiles:
            try:
                compile(self.code, self.path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                problems.append(f"does not compile ({type(exc).__name__}: {exc}); "
                                "say `# compiles: no` if that is the point")
        for text, (answer, wall_s) in self.escaped:
            if not self.problems(answer, wall_s):
                problems.append(f"the expectation accepts its own escaped answer `{text}`: "
                                "this case cannot fail")
        return problems


def load_cases(selectors):
    cases = []
    for path in sorted(glob.glob(os.path.join(CASES_DIR, "*.py"))):
        name = os.path.basename(path)[:-3]
        if selectors and not any(s in name for s in selectors):
            continue
        try:
            cases.append((name, Case(path), None))
        except (CaseError, UnicodeDecodeError, OSError) as exc:
            cases.append((name, None, f"{type(exc).__name__}: {exc}"))
    return cases


# ---------------------------------------------------------------- canaries

def canaries():
    """The planted secrets: /etc/pycage/canary (made here, root-only, if absent) and the
    responder's PYCAGE_CANARY. Returns (values, notes)."""
    values, notes = [], []
    if not os.path.exists(CANARY_FILE):
        try:
            fd = os.open(CANARY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"pycage-canary-{secrets.token_hex(24)}\n")
        except OSError as exc:
            notes.append(f"could not create {CANARY_FILE}: {exc}")
    try:
        with open(CANARY_FILE) as f:
            value = f.read().strip()
        if value:
            values.append(value)
    except OSError as exc:
        notes.append(f"could not read {CANARY_FILE}: {exc}")
    try:
        with open(pt.PYCAGE_PIDFILE) as f:
            pid = int(f.read().split()[0])
        with open(f"/proc/{pid}/environ", "rb") as f:
            for entry in f.read().split(b"\0"):
                name, _, value = entry.partition(b"=")
                if name == CANARY_ENV.encode() and value:
                    values.append(value.decode("utf-8", "replace"))
    except (OSError, ValueError, IndexError) as exc:
        notes.append(f"could not read the responder's environment: {exc}")
    return values, notes


def canary_forms(value):
    raw = value.encode()
    return {"raw": value, "hex": raw.hex(), "base64": base64.b64encode(raw).decode()}


def canary_problems(answer, values, what):
    """The canary, raw, hex or base64, in no stream of the answer."""
    problems = []
    if not isinstance(answer, dict):
        return problems
    for value in values:
        for stream in STREAMS + (FILES,):
            text = files_text(answer) if stream == FILES else answer.get(stream)
            for form, needle in canary_forms(value).items():
                if isinstance(text, str) and needle in text:
                    problems.append(f"{what}: a planted canary ({form}) is in {stream}")
    return problems


def redacted(lines, values):
    """Diagnostics with every form of the canaries replaced: a leak fails the case, and the
    test's own log must not then spread the secret further."""
    out = []
    for line in lines:
        line = str(line)
        for value in values:
            for form, needle in canary_forms(value).items():
                line = line.replace(needle, f"<canary {form}>")
        out.append(line)
    return out


# ---------------------------------------------------------------- talking to the service

def send(code, stdin, timeout, retry_busy=True):
    """POST /v1/execute; a 429 (and, when retry_busy, a 503 busy) is retried, since another
    client on this address or engine may have caused it. Returns (Response, wall s, notes)."""
    notes = []
    for attempt in range(1, RETRIES + 1):
        started = time.monotonic()
        response = pt.execute_raw(code, stdin, timeout)
        wall_s = time.monotonic() - started
        retry = response.status == 429 or (retry_busy and response.status == 503 and b'"busy"' in response.body)
        if not retry or attempt == RETRIES:
            return response, wall_s, notes
        notes.append(f"attempt {attempt}: HTTP {response.status} {pt.show(response.body, 200)}; retried")
        time.sleep(RETRY_WAIT_S * attempt)
    raise AssertionError("unreachable")


def parsed(response):
    try:
        return pt.parse_json(response.body)
    except pt.Unexpected as exc:
        return str(exc)


def log_answer(case, http_status, wall_s, answer, secrets_to_hide):
    if ANSWER_LOG:
        line = json.dumps({"case": case.name, "http_status": http_status,
                           "wall_s": round(wall_s, 3), "answer": answer})
        with open(ANSWER_LOG, "a") as log:
            log.write(redacted([line], secrets_to_hide)[0] + "\n")


def health_note():
    try:
        response = pt.request("GET", pt.HEALTH, timeout=5)
        return f"GET /v1/health: {response.status} {pt.show(response.body, 300)}"
    except Exception as exc:  # only a diagnostic
        return f"GET /v1/health: {type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- containers on the host

def instance_containers(instance):
    filters = urllib.parse.quote(json.dumps(
        {"label": [f"{pt.MANAGED_LABEL}=1", f"{pt.INSTANCE_LABEL}={instance}"]}))
    return {c["Id"]: c for c in pt.docker_get(f"/v1.41/containers/json?all=1&filters={filters}")}


def container_pids(container_id):
    """[(pid, ppid, command)] in the host's PID namespace, or None if it is not running."""
    try:
        top = pt.docker_get(f"/v1.41/containers/{container_id}/top")
    except pt.Unexpected:
        return None
    titles = top.get("Titles") or []
    try:
        pid_at, ppid_at, cmd_at = titles.index("PID"), titles.index("PPID"), titles.index("CMD")
    except ValueError:
        return None
    return [(int(p[pid_at]), int(p[ppid_at]), p[cmd_at]) for p in top.get("Processes") or []]


def container_state(container_id):
    """The engine's State of a container, or None once it is gone (404)."""
    try:
        return pt.docker_get(f"/v1.41/containers/{container_id}/json").get("State") or {}
    except pt.Unexpected as exc:
        if "HTTP 404" in str(exc):
            return None
        raise


def _readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def classify(container):
    """What a labelled container is doing:
    "idle"     a pool container: docker-init and a runner blocked in read(2) on fd 0, which is
               still the container's stdin pipe (the runner swaps fd 0 for /dev/null once it
               has read a request, so no program can be in this state);
    "starting" a runner that has not read a request yet (starting up, preloading);
    "busy"     anything else that runs: a program, or what it left behind;
    "stopped"  not running (a pool container never is), "Removal In Progress" included;
    "gone"     removed meanwhile;
    "opaque"   running under gVisor, whose processes the host cannot inspect: idle pool
               containers are then told apart only by their number (LeftoverWatch)."""
    if container.get("State") != "running":
        return "stopped"
    if pt.container_runtime(container["Id"]) == "runsc":
        return "opaque"
    procs = container_pids(container["Id"])
    if procs is None:                   # no longer running, or gone: ask the engine which
        state = container_state(container["Id"])
        if state is None:
            return "gone"
        return "busy" if state.get("Running") else "stopped"
    pids = {pid for pid, _, _ in procs}
    inits = [p for p in procs if p[1] not in pids]
    if len(inits) != 1 or len(procs) > 2:
        return "busy"
    init_pid = inits[0][0]
    if len(procs) == 1:
        return "starting"
    runner_pid = next(pid for pid, _, _ in procs if pid != init_pid)
    stdin_pipe = _readlink(f"/proc/{init_pid}/fd/0")
    if stdin_pipe is None or not stdin_pipe.startswith("pipe:") or \
            _readlink(f"/proc/{runner_pid}/fd/0") != stdin_pipe:
        return "busy"
    try:
        with open(f"/proc/{runner_pid}/syscall") as f:
            syscall = f.read().split()
    except OSError:
        return "busy"
    return "idle" if syscall[:2] == ["0", "0x0"] else "starting"


def memory_holds(pids, needles):
    """(which of `needles` (bytes) appear in the writable memory of any of `pids`, whether the
    memory of at least one of them could be read at all)."""
    found, readable = set(), False
    overlap = max(len(n) for n in needles) - 1
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as f:
                regions = []
                for line in f:
                    fields = line.split()
                    if fields[1].startswith("rw"):
                        low, high = (int(x, 16) for x in fields[0].split("-"))
                        if high - low <= MEMORY_REGION_MAX_BYTES:
                            regions.append((low, high))
            with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
                readable = True
                for low, high in regions:
                    at = low
                    while at < high:
                        size = min(MEMORY_CHUNK_BYTES, high - at)
                        try:
                            mem.seek(at)
                            data = mem.read(size)
                        except (OSError, OverflowError):
                            break
                        found.update(n for n in needles if n in data)
                        if at + size >= high:
                            break
                        at += size - overlap
        except OSError:
            continue
    return found, readable


def describe(container, kind):
    return (f"{container['Id'][:12]} created {time.strftime('%H:%M:%S', time.localtime(container.get('Created', 0)))} "
            f"state={container.get('State')} ({container.get('Status')}) -> {kind}")


class LeftoverWatch:
    """Which labelled containers of our instance may hold a case's run.

    Before the case: a snapshot. Containers that were already busy or stopped then belong to
    someone else (others test on the same service). After the answers: every other container
    created before the last answer must, within LEFTOVER_WAIT_S, be gone or an idle pool
    container. One that is still busy then is attributed by the per-run token each request
    sent as stdin (the runner keeps stdin in memory): ours is a failure, another client's is
    a note. A stopped one is always a failure: pycage removes every container after its run."""

    def __init__(self, instance):
        self.instance = instance
        self.before = {cid: classify(c) for cid, c in instance_containers(instance).items()}

    def problems(self, tokens_by_name, last_answer_at, notes):
        deadline = time.monotonic() + LEFTOVER_WAIT_S
        pooled = pt.service_pool_size()
        while True:
            suspects, opaque = [], []
            for cid, container in instance_containers(self.instance).items():
                if self.before.get(cid) in ("busy", "stopped"):
                    continue
                if container.get("Created", 0) > last_answer_at + 1:   # a refill after the answers
                    continue
                kind = classify(container)
                if kind == "opaque":
                    opaque.append(container)
                elif kind not in ("idle", "starting", "gone"):
                    suspects.append((container, kind))
            # Under gVisor: no more running containers than the pool holds.
            too_many = opaque[pooled:] if len(opaque) > pooled else []
            if (not suspects and not too_many) or time.monotonic() >= deadline:
                break
            time.sleep(POLL_S)
        problems = [f"{len(opaque)} running containers under gVisor {LEFTOVER_WAIT_S} s after "
                    f"the answers, more than the pool's {pooled}: {describe(c, 'opaque')}"
                    for c in too_many[:1]]
        for container, kind in suspects:
            if kind == "stopped":
                state = container_state(container["Id"])
                if state is None:
                    continue                # removed just now
                problems.append(f"a stopped container is still there {LEFTOVER_WAIT_S} s after the "
                                f"answers: {describe(container, kind)}; exit {state.get('ExitCode')}, "
                                f"finished {state.get('FinishedAt')}")
                continue
            procs = container_pids(container["Id"]) or []
            needles = {name: token.encode() for name, token in tokens_by_name.items()}
            held, readable = memory_holds([pid for pid, _, _ in procs], list(needles.values()))
            whose = [name for name, needle in needles.items() if needle in held]
            if not readable:
                problems.append(f"a container still runs {LEFTOVER_WAIT_S} s after the answers and its "
                                f"memory cannot be read to tell whose it is (run as root): "
                                f"{describe(container, kind)}")
            elif whose:
                problems.append(f"the container of the {' and '.join(whose)} still runs "
                                f"{LEFTOVER_WAIT_S} s after the answers: {describe(container, kind)}")
                problems += [f"    pid {pid} ppid {ppid}: {cmd}" for pid, ppid, cmd in procs]
            else:
                notes.append(f"ignored {describe(container, kind)}: not this case's (another client's run)")
        return problems


# ---------------------------------------------------------------- one case

def run_token(name, what):
    return f"pycage-hostile {name} {what} {secrets.token_hex(16)}\n"


class Runner:
    def __init__(self, prelude=""):
        self.instance = pt.service_instance()
        self.canaries, self.canary_notes = canaries()
        self.prelude = prelude

    def case_problems(self, case, state):
        """Line 1: send the case, judge the answer. Leaves in `state` what line 2 needs."""
        return redacted(self._case_problems(case, state), self.canaries)

    def after_problems(self, case, state):
        """Line 2: the service answers print("alive") at once; no container is left."""
        return redacted(self._after_problems(case, state), self.canaries)

    def _case_problems(self, case, state):
        problems = case.static_problems()
        state["watch"] = LeftoverWatch(self.instance) if os.path.exists(pt.DOCKER_SOCKET) else None
        state["tokens"] = {"case's run": run_token(case.name, "case")}
        try:
            response, wall_s, notes = send(self.prelude + case.code, state["tokens"]["case's run"],
                                           case.timeout)
        finally:
            state["answered_at"] = time.time()     # line 2 runs even if the request failed
        answer = parsed(response)
        log_answer(case, response.status, wall_s, answer, self.canaries)
        if response.status != 200:
            return problems + notes + [f"HTTP {response.status}: {pt.show(answer, 600)}"]
        problems += pt.shape_problems(answer)
        if isinstance(answer, dict):
            problems += case.problems(answer, wall_s)
        problems += canary_problems(answer, self.canaries, "the answer")
        if problems:
            problems += notes + [f"answer after {wall_s:.2f} s: {pt.show(answer, 1500)}"]
        return problems

    def _after_problems(self, case, state):
        problems, notes = [], []
        alive_token = run_token(case.name, "alive")
        response, wall_s, retry_notes = send(ALIVE_CODE, alive_token, 5, retry_busy=False)
        state["tokens"]["alive probe's run"] = alive_token
        answered_at = time.time()
        answer = parsed(response)
        alive = pt.answer_problems(response.status, answer, pt.ok_with("alive\n"))
        if wall_s > ALIVE_WITHIN_S:
            alive.append(f"print(\"alive\") answered after {wall_s:.1f} s, expected within {ALIVE_WITHIN_S} s")
        if alive:
            problems += [f"print(\"alive\"): {p}" for p in alive] + retry_notes + [health_note()]
        problems += canary_problems(answer, self.canaries, "print(\"alive\")")
        if state.get("watch") is None:
            if pt.REQUIRE_SERVICE:
                problems.append(f"{pt.DOCKER_SOCKET} does not exist: no leftover check")
            else:
                notes.append(f"{pt.DOCKER_SOCKET} does not exist: leftover check skipped")
        else:
            problems += state["watch"].problems(state["tokens"], max(answered_at, state["answered_at"]), notes)
        for note in redacted(notes, self.canaries):
            print(f"# note: {case.name}: {note}")
        return problems


def selftest(cases):
    tap = pt.Tap()
    tap.plan(len(cases))
    for name, case, error in cases:
        tap.ok(error is None and not case.static_problems(), f"{name}: header parses, escaped answers fail",
               [error] if error else case.static_problems())
    tap.done()


def main():
    args = sys.argv[1:]
    offline, unhooked = "--selftest" in args, "--unhooked" in args
    cases = load_cases([a for a in args if a not in ("--selftest", "--unhooked")])
    if offline:
        selftest(cases)
    tap = pt.start(2 * len(cases))
    prelude = ""
    if unhooked:
        try:
            prelude = pt.hook_bypass_prelude()
        except Exception as exc:     # no docker CLI, nm or gcc here: the pass cannot be made
            print(f"Bail out! --unhooked: no hook bypass: {type(exc).__name__}: {exc}", flush=True)
            sys.exit(1)
    runner = Runner(prelude)
    for note in runner.canary_notes:
        print(f"# note: {note}")
    print(f"# {len(cases)} cases; instance {runner.instance!r}; {len(runner.canaries)} canary value(s); "
          f"{'the audit hook removed first' if unhooked else 'sent as they are'}", flush=True)
    started = time.monotonic()
    for name, case, error in cases:
        if error is not None:
            tap.ok(False, f"{name}: header parses", [error])
            tap.skip(f"{name}: the service afterwards", "the case did not run")
            continue
        state = {}
        tap.check(f"{name}: {case.attack}", runner.case_problems, case, state)
        if "answered_at" not in state:
            tap.skip(f"{name}: the service afterwards", "the case was not sent")
            continue
        tap.check(f"{name}: afterwards print(\"alive\") answers at once and no container is left",
                  runner.after_problems, case, state)
    print(f"# {len(cases)} cases in {time.monotonic() - started:.1f} s", flush=True)
    tap.done()


if __name__ == "__main__":
    main()
