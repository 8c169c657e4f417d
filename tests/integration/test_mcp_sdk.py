#!/usr/bin/python3
"""/mcp driven by the official MCP clients, not only our own: the TypeScript SDK's Client over
its StreamableHTTPClientTransport (tests/mcp/client.mjs) and the MCP Inspector's CLI mode.

Both come from npm at the versions tests/mcp/package-lock.json pins (`npm ci`, into
build/tests/mcp-node/, reused while the lockfile is unchanged); node and npm are the
machine's (scripts/common.sh installs Debian's when there are none).  client.mjs prints TAP;
each of its points is one point here.
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mcp")
WORK = os.path.join(os.getcwd(), "tests", "mcp-node")
FILES = ["package.json", "package-lock.json", "client.mjs"]
CLIENT_POINTS = 27              # client.mjs's plan
INSPECTOR_NODE_MIN = 20         # the oldest node the Inspector's CLI was seen to run on
NPM_CI_S = 300
RUN_S = 240


def npm_ci():
    """Installs the pinned packages unless the lockfile installed last is the same."""
    os.makedirs(WORK, exist_ok=True)
    for name in FILES:
        shutil.copyfile(os.path.join(SOURCE, name), os.path.join(WORK, name))
    stamp = os.path.join(WORK, "node_modules", ".pycage-lock")
    with open(os.path.join(WORK, "package-lock.json"), "rb") as f:
        lock = f.read()
    try:
        with open(stamp, "rb") as f:
            if f.read() == lock:
                return []
    except OSError:
        pass
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                          cwd=WORK, capture_output=True, text=True, timeout=NPM_CI_S)
    if done.returncode != 0:
        return [f"npm ci: exit {done.returncode}", done.stdout[-2000:], done.stderr[-2000:]]
    with open(stamp, "wb") as f:
        f.write(lock)
    return []


def relay_client(tap):
    """Runs client.mjs and makes each of its TAP points one of ours."""
    done = subprocess.run(["node", "client.mjs"], cwd=WORK, capture_output=True, text=True,
                          timeout=RUN_S, env={**os.environ, "PYCAGE_URL": pt.PYCAGE_URL})
    lines = done.stdout.splitlines()
    points = 0
    for i, line in enumerate(lines):
        if line.startswith(("ok ", "not ok ")):
            points += 1
            good = line.startswith("ok ")
            desc = line.split(" - ", 1)[1] if " - " in line else line
            diag = []
            for more in lines[i + 1:]:
                if not more.startswith("#"):
                    break
                diag.append(more[1:].strip())
            tap.ok(good, f"SDK client: {desc}", diag + ([done.stderr[-1500:]] if not good else []))
    for _ in range(points, CLIENT_POINTS):
        tap.ok(False, "SDK client: a point that never ran",
               [f"exit {done.returncode}", done.stdout[-1500:], done.stderr[-1500:]])


def node_major():
    done = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30)
    return int(done.stdout.strip().lstrip("v").split(".")[0])


def inspector(*args):
    """The Inspector's CLI against /mcp; (exit status, parsed JSON or None, output)."""
    done = subprocess.run([os.path.join(WORK, "node_modules", ".bin", "mcp-inspector"), "--cli",
                           pt.PYCAGE_URL + "/mcp", "--transport", "http", *args], cwd=WORK,
                          capture_output=True, text=True, timeout=RUN_S)
    try:
        doc = json.loads(done.stdout)
    except ValueError:
        doc = None
    return done.returncode, doc, done.stdout[-1500:] + done.stderr[-1500:]


def case_inspector_list():
    status, doc, out = inspector("--method", "tools/list")
    tools = (doc or {}).get("tools") or [{}]
    if status != 0 or tools[0].get("name") != "run_python" or "outputSchema" not in tools[0]:
        return [f"exit {status}: {out}"]
    return []


def case_inspector_call():
    status, doc, out = inspector("--method", "tools/call", "--tool-name", "run_python",
                                 "--tool-arg", "code=print(6 * 7)")
    answer = (doc or {}).get("structuredContent") or {}
    if status != 0 or answer.get("stdout") != "42\n" or doc.get("isError") is not False:
        return [f"exit {status}: {out}"]
    return []


def main():
    tap = pt.start(1 + CLIENT_POINTS + 2)
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        tap.ok(False, "node and npm are installed", [f"missing: {missing} (scripts/common.sh "
                                                     "installs Debian's nodejs and npm)"])
        tap.done()
    problems = npm_ci()
    if not tap.ok(not problems, "npm ci: the pinned SDK and Inspector install", problems):
        tap.done()
    relay_client(tap)
    major = node_major()
    for desc, case in (("Inspector CLI: tools/list shows run_python with its outputSchema",
                        case_inspector_list),
                       ("Inspector CLI: tools/call run_python prints 42", case_inspector_call)):
        if major < INSPECTOR_NODE_MIN:
            tap.skip(desc, f"node {major}: the Inspector 2.12.0 declares node >= 22.19 and was "
                     f"seen to run on {INSPECTOR_NODE_MIN}, not older")
        else:
            tap.check(desc, case)
    tap.done()


if __name__ == "__main__":
    main()
