#!/usr/bin/python3
"""GET /v1/metrics: the Prometheus text answer, and counters that move with the work done.

One execution between two scrapes must move the request, verdict, phase and container
series; the pool gauges must agree with /v1/health; a warm pool serves the run (a pool hit,
not a cold start).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

METRICS = "/v1/metrics"
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+|\+Inf)$')


def scrape():
    response = pt.request("GET", METRICS)
    if response.status != 200:
        raise pt.Unexpected(f"GET {METRICS}: {response.status} {pt.show(response.body)}")
    samples, bad = {}, []
    for line in response.body.decode().splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return response, samples, bad


def case_format():
    response, samples, bad = scrape()
    problems = [f"not a sample line: {line!r}" for line in bad[:5]]
    ctype = response.headers.get("content-type", "")
    if not ctype.startswith("text/plain; version=0.0.4"):
        problems.append(f"Content-Type {ctype!r}")
    for name in ("pycage_executions_total{status=\"ok\"}", "pycage_pool_ready",
                 "pycage_pool_size", "pycage_containers_created_total",
                 "pycage_containers_removed_total", "pycage_docker_errors_total",
                 "pycage_janitor_removed_total", "pycage_cold_starts_total",
                 "pycage_pool_hits_total",
                 "pycage_execution_phase_seconds_count{phase=\"run\"}"):
        if name not in samples:
            problems.append(f"missing {name}")
    return problems


def wait_pool_ready(wait_s=30):
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        _, samples, _ = scrape()
        if samples.get("pycage_pool_size", 0) == 0 or samples.get("pycage_pool_ready", 0) > 0:
            return samples
        time.sleep(0.5)
    return samples


def case_counters_move():
    before = wait_pool_ready()
    status, answer = pt.execute("print(1)")
    problems = pt.answer_problems(status, answer, pt.ok_with("1\n"))
    time.sleep(1)      # the container is removed after the answer
    _, after, _ = scrape()

    def grew(name, by=1):
        if after.get(name, 0) - before.get(name, 0) < by:
            problems.append(f"{name}: {before.get(name)} -> {after.get(name)}")

    grew('pycage_executions_total{status="ok"}')
    grew('pycage_requests_total{route="execute",code="200"}')
    grew('pycage_execution_phase_seconds_count{phase="run"}')
    grew("pycage_containers_removed_total")
    if before.get("pycage_pool_ready", 0) > 0:
        grew("pycage_pool_hits_total")
    return problems


def case_pool_gauges_match_health():
    response = pt.request("GET", pt.HEALTH)
    health = pt.parse_json(response.body)
    _, samples, _ = scrape()
    if samples.get("pycage_pool_size") != health.get("pool_size"):
        return [f"pool_size: metrics {samples.get('pycage_pool_size')}, "
                f"health {health.get('pool_size')}"]
    return []


def case_wrong_method():
    response = pt.request("POST", METRICS, b"{}", {"Content-Type": "application/json"})
    problems = []
    if response.status != 405 or "GET" not in response.headers.get("allow", ""):
        problems.append(f"POST {METRICS}: {response.status} Allow={response.headers.get('allow')}")
    return problems


CASES = [
    ("GET /v1/metrics answers the Prometheus text format with every series", case_format),
    ("one execution moves the request, verdict, phase, container and pool series",
     case_counters_move),
    ("pool_size agrees with /v1/health", case_pool_gauges_match_health),
    ("POST /v1/metrics is 405 with Allow: GET", case_wrong_method),
]


if __name__ == "__main__":
    pt.run_cases(CASES)
