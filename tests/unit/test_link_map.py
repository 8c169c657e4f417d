#!/usr/bin/python3
"""The link map follows the trust boundary (src/front/README, src/executor/README).

pycage-fcgi, the unprivileged front that reads request bytes, must hold no code of the
executor's: no container body, no uid range, no Engine API client, no job or pool, and no
libcurl. pycage-executor, root beside the Docker socket, must hold no HTTP or request-JSON
code: no FastCGI, no json_in, no answers. Read from the built programs with nm and the
dynamic section, so a wrong-side call that slipped past the include paths still fails here.

Environment: PYCAGE_FCGI_BIN, PYCAGE_EXECUTOR_BIN (Makefile.am sets both to the build's).
"""
import os
import re
import subprocess
import sys

FRONT_FORBIDDEN = re.compile(r"^(create_body|uid_|docker_|job_(run|finish|init|free)$|pool_|janitor_|selfcheck_|"
                             r"stream_demux_|executor_|curl_)")
EXECUTOR_FORBIDDEN = re.compile(r"^(json_in_|answer_|request_|peer_|channel_|FCGX_|FCGI_)")


def symbols(path):
    """Defined and undefined symbol names of a program, static and dynamic."""
    names = set()
    for args in (["nm", "--defined-only", path], ["nm", "-D", path]):
        out = subprocess.run(args, capture_output=True, text=True)
        for line in out.stdout.splitlines():
            parts = line.split()
            if parts:
                names.add(parts[-1].split("@")[0])
    return names


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    return re.findall(r"Shared library: \[([^\]]+)\]", out.stdout)


def main():
    front = os.environ.get("PYCAGE_FCGI_BIN", "")
    executor = os.environ.get("PYCAGE_EXECUTOR_BIN", "")
    print("1..6")
    n = 0
    for label, path, forbidden, must_have in (
            ("pycage-fcgi", front, FRONT_FORBIDDEN, "request_handle"),
            ("pycage-executor", executor, EXECUTOR_FORBIDDEN, "job_run")):
        names = symbols(path) if os.path.exists(path) else set()
        n += 1
        print(("ok" if must_have in names else "not ok") +
              f" {n} - {label} ({path}) is read: it defines {must_have}")
        bad = sorted(s for s in names if forbidden.search(s))
        n += 1
        print(("ok" if not bad else "not ok") + f" {n} - {label} holds none of the other "
              f"side's symbols" + (f": {', '.join(bad[:12])}" if bad else ""))
        libs = needed(path) if os.path.exists(path) else ["(missing)"]
        curl = [lib for lib in libs if "curl" in lib]
        n += 1
        if label == "pycage-fcgi":
            print(("ok" if not curl else "not ok") + f" {n} - pycage-fcgi does not link "
                  f"libcurl (needs {', '.join(libs)})")
        else:
            print(("ok" if curl and not any("fcgi" in lib for lib in libs) else "not ok") +
                  f" {n} - pycage-executor links libcurl and not libfcgi "
                  f"(needs {', '.join(libs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
