#!/usr/bin/python3
"""No container that pycage made outlives its request (run this file last).

Every container pycage creates carries the label org.pycage.managed; each is removed within
about 2 s of its answer. The only labelled containers allowed to remain are the idle,
pre-started ones of the responder's pool, and only as many as the pool holds: the pool
refills to its size whatever else exists, so a leaked container shows up as one too many.
The pool size comes from PYCAGE_POOL_SIZE, else from a "pool_size" in GET /v1/health, else
it is 0 (no container at all may remain). Within 10 s the labelled containers must be at
most that many, all running; a failure lists them.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

WAIT_S = 10
POLL_S = 0.5


def pool_size():
    """How many idle labelled containers the responder may keep."""
    if os.environ.get("PYCAGE_POOL_SIZE"):
        return int(os.environ["PYCAGE_POOL_SIZE"])
    return pt.service_pool_size()


def describe(container):
    names = ",".join(container.get("Names") or [])
    return (f"{container.get('Id', '?')[:12]} {names} state={container.get('State')} "
            f"status={container.get('Status')!r} image={container.get('Image')}")


def leftovers(containers, allowed_running):
    """The containers that cannot be idle pool members: any that is not running, and
    running ones beyond the pool's size."""
    stopped = [c for c in containers if c.get("State") != "running"]
    running = [c for c in containers if c.get("State") == "running"]
    return stopped if len(running) <= allowed_running else stopped + running


def instance_label():
    """The service's own containers: org.pycage.instance=<instance> from its configuration
    (other responders on the same engine, e.g. the benchmark's, are not ours to judge)."""
    return f"org.pycage.instance={pt.service_instance()}"


def leftovers_problems():
    pt.require_file(pt.DOCKER_SOCKET)
    allowed = pool_size()
    label = instance_label()
    deadline = time.monotonic() + WAIT_S
    while True:
        containers = pt.docker_containers(label)
        if not leftovers(containers, allowed):
            return []
        if time.monotonic() >= deadline:
            return [f"{len(containers)} container(s) labelled {label} after {WAIT_S} s; "
                    f"allowed: at most {allowed} idle pool container(s), all running:"] + [
                describe(c) for c in containers]
        time.sleep(POLL_S)


def main():
    tap = pt.start(1)
    tap.check(f"no {pt.MANAGED_LABEL} container is left after {WAIT_S} s but the idle pool",
              leftovers_problems)
    tap.done()


if __name__ == "__main__":
    main()
