#!/usr/bin/python3
"""What `make install` puts in place for running pycage as a service, checked here.

- `make install DESTDIR=...` (the build of PYCAGE_BUILDDIR) installs the programs, the
  runner, the default configuration and seccomp profile, the nginx and Apache sites, the
  systemd unit and the logrotate configuration;
- `systemd-analyze verify` finds nothing to say about the unit (this machine has no systemd
  as PID 1: verify reads unit files all the same), and `systemd-analyze security --offline`
  rates its exposure 4.5 or better;
- the unit's hardening does not break pycage: the built responder, started as the unit
  would start it with what can be reproduced without systemd (NoNewPrivileges=yes and the
  unit's CapabilityBoundingSet through setpriv; ProtectSystem=strict as every mount
  read-only in a mount namespace of its own, but for its run directory), answers a run and
  its health, its janitor kills a host process under a uid of its range, and it exits 0 on
  SIGTERM;
- logrotate with the shipped configuration rotates a log whose writer keeps it open with
  O_APPEND (as scripts/supervise.sh does): the old lines go to the rotated file, the next
  ones to the start of the emptied log.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILDDIR = os.environ.get("PYCAGE_BUILDDIR", os.path.join(TOP, "build"))
FCGI_BIN = os.environ.get("PYCAGE_FCGI_BIN", "/usr/local/sbin/pycage-fcgi")
EXECUTOR_BIN = os.environ.get("PYCAGE_EXECUTOR_BIN",
                              "/usr/local/libexec/pycage/pycage-executor")
IMAGE = os.environ.get("PYCAGE_IMAGE", "pycage-sandbox:latest")
INSTANCE = f"unit-{os.getpid()}"
UID_BASE = 480000          # off the service's, test_faults.py's and test_supervise.py's
EXPOSURE_MAX = 45          # systemd-analyze's --threshold: 4.5 on its 0-10 scale


def install_dirs():
    """{sbindir: ..., pkglibexecdir: ..., ...} from the build's Makefile."""
    out = subprocess.run(["make", "-s", "-C", BUILDDIR, "--no-print-directory",
                          "print-install-dirs"], capture_output=True, text=True)
    return dict(word.split("=", 1) for word in out.stdout.split() if "=" in word)


class Install:
    """One `make install DESTDIR=...` shared by the cases."""

    def __init__(self):
        self.destdir = tempfile.mkdtemp(prefix="pycage-destdir-")
        self.result = subprocess.run(["make", "-s", "-C", BUILDDIR, "install",
                                      f"DESTDIR={self.destdir}"],
                                     capture_output=True, text=True, timeout=300)
        self.dirs = install_dirs()

    def path(self, dirname, *parts):
        return os.path.join(self.destdir + self.dirs[dirname], *parts)

    def unit(self):
        return self.path("systemdsystemunitdir", "pycage.service")

    def cleanup(self):
        shutil.rmtree(self.destdir, ignore_errors=True)


def installed_problems(install):
    if install.result.returncode != 0:
        return [f"make install: {install.result.returncode} {install.result.stderr[-1500:]}"]
    if len(install.dirs) != 5:
        return [f"make print-install-dirs: {install.dirs}"]
    want = [
        install.path("sbindir", "pycage-fcgi"),
        install.path("pkglibexecdir", "pycage-executor"),
        install.path("pkglibexecdir", "pycage-runner"),
        install.path("sysconfdir", "pycage", "pycage.conf"),
        install.path("sysconfdir", "pycage", "seccomp.json"),
        install.path("sysconfdir", "logrotate.d", "pycage"),
        install.path("pkgdatadir", "nginx", "pycage.conf"),
        install.path("pkgdatadir", "nginx", "nginx.conf"),
        install.path("pkgdatadir", "apache", "pycage.conf"),
        install.path("pkgdatadir", "apache", "apache2.conf"),
        install.path("pkgdatadir", "apache", "errors", "not_found.json"),
        install.unit(),
    ]
    problems = [f"{path[len(install.destdir):]} not installed" for path in want
                if not os.path.isfile(path)]
    with open(install.unit()) as f:
        unit = f.read()
    if "@" in re.sub(r"#.*", "", unit):
        problems.append(f"a placeholder is left in the unit: {pt.show(unit)}")
    return problems


def verifiable_unit(install):
    """The installed unit with its program paths moved into DESTDIR (verify wants them to
    exist), in a directory of its own; the dependency on docker.service is looked up on
    this machine (Debian's docker.io ships it)."""
    with open(install.unit()) as f:
        unit = f.read()
    sbindir = install.dirs["sbindir"]
    unit = unit.replace(f"{sbindir}/", f"{install.destdir}{sbindir}/")
    work = tempfile.mkdtemp(prefix="pycage-unit-", dir=install.destdir)
    path = os.path.join(work, "pycage.service")
    with open(path, "w") as f:
        f.write(unit)
    return path


def verify_problems(install):
    if shutil.which("systemd-analyze") is None:
        raise pt.Unexpected("systemd-analyze is not installed (Debian package systemd)")
    result = subprocess.run(["systemd-analyze", "verify", verifiable_unit(install)],
                            capture_output=True, text=True, timeout=60)
    said = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or said:
        return [f"systemd-analyze verify: status {result.returncode}", said]
    return []


def security_problems(install):
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                             f"--threshold={EXPOSURE_MAX}", verifiable_unit(install)],
                            capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    print(f"# systemd-analyze security: {level.group(0) if level else 'no level'}", flush=True)
    if result.returncode != 0 or not level:
        return [f"exposure over {EXPOSURE_MAX / 10} (status {result.returncode})",
                result.stdout[-1500:], result.stderr[-500:]]
    return []


def unit_settings(path):
    settings = {}
    with open(path) as f:
        for line in f:
            key, eq, value = line.strip().partition("=")
            if eq and not key.startswith("#"):
                settings[key] = value
    return settings


JANITOR_S = 2


def ghost_killed_problems(log):
    """The janitor, under the same restrictions, kills a host process running under a uid of
    the range that no container holds (what a container the engine lost leaves; the
    executor's uid.c): signalling another uid needs CAP_KILL in the bounding set."""
    uid = UID_BASE + 3
    ghost = subprocess.Popen(["setpriv", f"--reuid={uid}", "--regid=65534", "--clear-groups",
                              "sleep", "300"], start_new_session=True)
    try:
        while f"Uid:\t{uid}\t" not in open(f"/proc/{ghost.pid}/status").read():
            time.sleep(0.01)
        try:
            ghost.wait(JANITOR_S + 10)
            return []
        except subprocess.TimeoutExpired:
            log.seek(0)
            return [f"a process under uid {uid} still runs {JANITOR_S + 10} s later: "
                    f"{log.read()[-1000:]}"]
    finally:
        if ghost.poll() is None:
            ghost.kill()
        ghost.wait()


def hardened_problems(install):
    """The built responder under the unit's NoNewPrivileges, CapabilityBoundingSet and a
    read-only file system but for its run directory (ProtectSystem=strict)."""
    settings = unit_settings(install.unit())
    if settings.get("NoNewPrivileges") != "yes" or "CapabilityBoundingSet" not in settings:
        return [f"the unit lacks NoNewPrivileges=yes or CapabilityBoundingSet: {settings}"]
    caps = [c.lower().replace("cap_", "+") for c in settings["CapabilityBoundingSet"].split()]
    if settings.get("ProtectSystem") != "strict":
        return [f"ProtectSystem={settings.get('ProtectSystem')}, expected strict"]
    run = tempfile.mkdtemp(prefix="pycage-hardened-")
    os.chmod(run, 0o755)
    socket_path = os.path.join(run, "pycage.sock")
    config = os.path.join(run, "pycage.conf")
    chroot = os.path.join(run, "empty")      # RuntimeDirectory= makes /run/pycage-empty
    os.mkdir(chroot, 0o555)
    with open(config, "w") as f:
        f.writelines(f"{k} = {v}\n" for k, v in {
            "listen": socket_path, "socket_mode": "0600", "socket_group": "",
            "pidfile": os.path.join(run, "pid"), "instance": INSTANCE, "image": IMAGE,
            "pool_size": "0", "workers": "2", "executor_path": EXECUTOR_BIN,
            "uid_base": str(UID_BASE), "front_chroot": chroot,
            "janitor_interval_s": str(JANITOR_S)}.items())
    # Every mount read-only in a namespace of this process's own, the run directory
    # excepted (bound onto itself first, so that it is a mount of its own to leave rw).
    script = (
        f'mount --bind "{run}" "{run}" && '
        "for m in $(awk '{print $2}' /proc/self/mounts | sort -u); do "
        f'case $m in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"{run}") continue ;; esac; '
        'mount -o remount,bind,ro "$m" 2>/dev/null || true; done; '
        f'touch /pycage-rw-probe 2>/dev/null && echo "/ is writable" >&2 && exit 99; '
        f'exec setpriv --no-new-privs --bounding-set=-all,{",".join(caps)} '
        f'"{FCGI_BIN}" -c "{config}"')
    log = open(os.path.join(run, "log"), "w+")
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                             script], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    problems = []
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(socket_path):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                return [f"the hardened responder did not start ({proc.poll()}): "
                        f"{log.read()[-1500:]}"]
            time.sleep(0.1)
        params = pt.fcgi_params("GET", pt.HEALTH)
        health = pt.fcgi_request(params, socket_path=socket_path, timeout=60)
        if health.status != 200:
            problems.append(f"health: {health.status} {pt.show(health.body)}")
        body = pt.execute_body("print(1)")
        run_answer = pt.fcgi_request(pt.fcgi_params("POST", pt.EXECUTE, pt.JSON_TYPE,
                                                    len(body)), body, socket_path=socket_path)
        if run_answer.status != 200 or b'"stdout":"1\\n"' not in run_answer.body:
            problems.append(f"print(1): {run_answer.status} {pt.show(run_answer.body)}")
        problems += ghost_killed_problems(log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.returncode != 0:
            log.seek(0)
            problems.append(f"exited {proc.returncode} on SIGTERM: {log.read()[-1500:]}")
        log.close()
        shutil.rmtree(run, ignore_errors=True)
    return problems


def logrotate_problems(install):
    if shutil.which("logrotate") is None:
        raise pt.Unexpected("logrotate is not installed")
    work = tempfile.mkdtemp(prefix="pycage-logrotate-")
    try:
        with open(install.path("sysconfdir", "logrotate.d", "pycage")) as f:
            config = f.read()
        if "/var/log/pycage/*.log" not in config:
            return [f"the configuration does not name /var/log/pycage/*.log: {config}"]
        config = config.replace("/var/log/pycage/", f"{work}/")
        conf_path = os.path.join(work, "logrotate.conf")
        with open(conf_path, "w") as f:
            f.write(config)
        log_path = os.path.join(work, "pycage-fcgi.log")
        writer = open(log_path, "a")
        try:
            writer.write("before rotation\n" * 100)
            writer.flush()
            result = subprocess.run(["logrotate", "--force", "--state",
                                     os.path.join(work, "state"), conf_path],
                                    capture_output=True, text=True, timeout=60)
            writer.write("after rotation\n")
            writer.flush()
        finally:
            writer.close()
        problems = [] if result.returncode == 0 else [
            f"logrotate: {result.returncode} {result.stderr}"]
        with open(log_path, "rb") as f:
            now = f.read()
        if now != b"after rotation\n":
            problems.append(f"the log after rotation holds {pt.show(now[:200])}")
        rotated = glob.glob(os.path.join(work, "pycage-fcgi.log.1*"))
        if len(rotated) != 1:
            problems.append(f"rotated files: {os.listdir(work)}")
        else:
            with open(rotated[0], "rb") as f:
                if f.read() != b"before rotation\n" * 100:
                    problems.append("the rotated file does not hold the earlier lines")
        return problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    tap = pt.start(5)
    install = Install()
    try:
        tap.check("make install DESTDIR=... installs programs, runner, configuration, sites, "
                  "unit and logrotate configuration", installed_problems, install)
        tap.check("systemd-analyze verify: nothing to say about pycage.service",
                  verify_problems, install)
        tap.check(f"systemd-analyze security --offline: exposure {EXPOSURE_MAX / 10} or better",
                  security_problems, install)
        tap.check("the responder under the unit's NoNewPrivileges, CapabilityBoundingSet and a "
                  "read-only file system answers, kills a ghost under its uids, exits 0 on "
                  "SIGTERM",
                  hardened_problems, install)
        tap.check("logrotate's configuration rotates a log held open with O_APPEND",
                  logrotate_problems, install)
    finally:
        install.cleanup()
    tap.done()


if __name__ == "__main__":
    main()
