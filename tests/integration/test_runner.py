#!/usr/bin/python3
"""pycage-runner's command line and its ready record, straight on the engine.

The sandbox image's entrypoint is run with `docker run -i` (no network, the service's
uid), the request written on its stdin as the responder writes it (docs/RUNNER.md):
`--ready` writes `\\x1epycage-ready\\n` once the preload is imported and before stdin is
read, nothing else writes it, and a bad command line or a refused preload stops the
runner with 125 or 126 and no record. The pool's use of the record is in test_faults.py.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

DOCKER = "/usr/bin/docker"
READY = b"\x1epycage-ready\n"


def runner_argv(*args):
    return [DOCKER, "run", "--rm", "-i", "--network", "none", "--user", "65534:65534",
            pt.PYCAGE_IMAGE, *args]


def request(code):
    code = code.encode()
    return b"pycage1 %d 0 -\n" % len(code) + code


def run(args, stdin):
    return subprocess.run(runner_argv(*args), input=stdin, capture_output=True, timeout=60)


def outcome_problems(result, exit_code, stdout, stderr_part=None):
    problems = []
    if result.returncode != exit_code:
        problems.append(f"exit {result.returncode}, expected {exit_code}: "
                        f"{result.stderr[-300:]!r}")
    if result.stdout != stdout:
        problems.append(f"stdout {result.stdout[:200]!r}, expected {stdout!r}")
    if stderr_part is not None and stderr_part not in result.stderr:
        problems.append(f"stderr {result.stderr[-300:]!r} lacks {stderr_part!r}")
    return problems


def case_ready_then_output():
    """--ready --preload=numpy: the record, then the program's own output."""
    return outcome_problems(
        run(["--ready", "--preload=numpy"], request("import sys\nprint('numpy' in sys.modules)")),
        0, READY + b"True\n")


def case_no_record_without_ready():
    """Without --ready (a cold run): only the program's output."""
    return (outcome_problems(run([], request("print(2)")), 0, b"2\n") +
            outcome_problems(run(["--preload=numpy"], request("print(3)")), 0, b"3\n"))


def case_ready_before_stdin():
    """The record comes before the request exists: read it with stdin still empty."""
    proc = subprocess.Popen(runner_argv("--ready"), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    problems = []
    try:
        first = b""
        while len(first) < len(READY):
            chunk = os.read(proc.stdout.fileno(), len(READY) - len(first))
            if not chunk:
                break
            first += chunk
        if first != READY:
            problems.append(f"first bytes {first!r} before any request, expected {READY!r}")
        out, err = proc.communicate(request("print('after')"), timeout=60)
        if out != b"after\n" or proc.returncode != 0:
            problems.append(f"then: exit {proc.returncode}, stdout {out!r}, stderr {err!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return problems


def case_bad_argv():
    """An option twice, or an unknown one: 125 with the usage line, no record."""
    problems = []
    for args in (["--ready", "--ready"], ["--bogus"], ["--ready", "--preload=a", "--preload=b"],
                 ["--ready=1"]):
        problems += [f"{args}: {p}" for p in outcome_problems(
            run(args, b""), 125, b"", b"usage: pycage-runner")]
    return problems


def case_refused_preload():
    """--ready --preload=sqlite3 (the audit hook refuses it): 126, the reason, no record."""
    return outcome_problems(run(["--ready", "--preload=sqlite3"], b""), 126, b"",
                            b"cannot preload module 'sqlite3'")


CASES = [
    ("--ready: the ready record, then the program's output", case_ready_then_output),
    ("no --ready: no record, with or without a preload", case_no_record_without_ready),
    ("the ready record is written before stdin is read", case_ready_before_stdin),
    ("a bad command line: 125, usage, no record", case_bad_argv),
    ("a preload the hook refuses: 126 and the reason, no record", case_refused_preload),
]


if __name__ == "__main__":
    pt.run_cases(CASES)
