#!/usr/bin/python3
"""The front's rate limit answers 429 as JSON: nginx's limit_req (10 r/s per client address,
burst 30), or Apache's mod_qos (40 requests per 3 to 4 s window, apache/pycage.conf).

120 requests to an unknown path from 48 threads, as fast as they go: some must be refused
with 429 and error code rate_limited, the others must be the path's own 404. Without
`nodelay`, nginx holds up to `burst` excess requests back instead of refusing them, so a
refusal needs more requests in flight at once than the burst: hence 48 threads, not 16. After 4 s the
bucket has drained and a normal request runs again. Then the per-address limit on requests in
progress: 32 POSTs whose bodies have not arrived, opened slower than the rate limit, and a
33rd request is refused with the same 429.
The same flood of POST /mcp notifications meets the same limit (the fronts' limits are
server-wide, so /mcp has exactly /v1/execute's).
Run this file after the others: it empties the bucket they share.
"""

import concurrent.futures
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

FLOOD_REQUESTS = 120
FLOOD_THREADS = 48             # > burst 30 + 1 in flight, or no 429 without nodelay
FLOOD_PATH = "/v1/nope"
REFILL_S = 4


MCP_NOTIFICATION = b'{"jsonrpc": "2.0", "method": "notifications/initialized"}'


def flood(mcp=False):
    """Fire FLOOD_REQUESTS unpaced GETs (or POST /mcp notifications); returns the list of
    Responses (or exceptions)."""
    def one(_):
        try:
            if mcp:
                return pt.request("POST", "/mcp", MCP_NOTIFICATION,
                                  {"Content-Type": "application/json"}, timeout=15, pace=False)
            return pt.request("GET", FLOOD_PATH, timeout=15, pace=False)
        except Exception as exc:
            return exc
    with concurrent.futures.ThreadPoolExecutor(FLOOD_THREADS) as pool:
        return list(pool.map(one, range(FLOOD_REQUESTS)))


def summary(responses):
    counts = {}
    for response in responses:
        key = response.status if isinstance(response, pt.Response) else type(response).__name__
        counts[key] = counts.get(key, 0) + 1
    return f"answers by status: {counts}"


def some_limited_problems(responses):
    limited = [r for r in responses if isinstance(r, pt.Response) and r.status == 429]
    return [] if limited else ["no 429 among the answers", summary(responses)]


def limited_bodies_problems(responses):
    """Every 429 is a JSON error rate_limited, byte for byte nginx's, with Retry-After: 1;
    every other answer is the unknown path's 404."""
    problems = []
    for response in responses:
        if not isinstance(response, pt.Response):
            problems.append(f"request failed: {type(response).__name__}: {response}")
        elif response.status == 429:
            problems += pt.error_problems(response, 429, "rate_limited")
            problems += pt.front_body_problems(response.body, "rate_limited")
            if response.headers.get("retry-after") != "1":
                problems.append(f"Retry-After {response.headers.get('retry-after')!r}, expected '1'")
        else:
            problems += pt.error_problems(response, 404, "not_found")
    return problems[:12] + ([summary(responses)] if problems else [])


def mcp_limited_problems():
    """/mcp is under the same limit as the API (the front's limits are server-wide): a flood
    of notifications meets 429 rate_limited, byte for byte nginx's; the rest are 202."""
    time.sleep(REFILL_S)
    responses = flood(mcp=True)
    problems = some_limited_problems(responses)
    for response in responses:
        if not isinstance(response, pt.Response):
            problems.append(f"request failed: {type(response).__name__}: {response}")
        elif response.status == 429:
            problems += pt.error_problems(response, 429, "rate_limited")
            problems += pt.front_body_problems(response.body, "rate_limited")
        elif response.status != 202 or response.body:
            problems.append(f"{response.status} {pt.show(response.body)}, expected 202 or 429")
    return problems[:12] + ([summary(responses)] if problems else [])


def recovered_problems():
    time.sleep(REFILL_S)
    return pt.run_case({"code": "print(1)\n", "expect": pt.ok_with("1\n")})


CONN_LIMIT = 32               # nginx's limit_conn; Apache's QS_ClientEventRequestLimit
CONN_PACE_S = 0.125           # 8 a second: under both fronts' request rates


def held_request():
    """A connection whose POST has its headers sent and its body still to come: a request in
    progress for the front, which has not passed it on yet."""
    url = urllib.parse.urlsplit(pt.PYCAGE_URL)
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=15)
    sock.sendall(b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    return sock


def connection_limit_problems():
    """CONN_LIMIT requests in progress from this address (opened slower than the request
    rate limit), then one more: 429 rate_limited at once, JSON, byte for byte nginx's."""
    time.sleep(REFILL_S)
    held = []
    try:
        for _ in range(CONN_LIMIT):
            held.append(held_request())
            time.sleep(CONN_PACE_S)
        response = pt.request("GET", pt.HEALTH, timeout=10, pace=False)
        problems = pt.error_problems(response, 429, "rate_limited")
        problems += pt.front_body_problems(response.body, "rate_limited")
    finally:
        for sock in held:
            sock.close()
    return problems


def main():
    tap = pt.start(5)
    responses = flood()
    tap.check(f"{FLOOD_REQUESTS} requests from {FLOOD_THREADS} threads meet a 429",
              some_limited_problems, responses)
    tap.check("each 429 is JSON rate_limited, each other answer the path's 404",
              limited_bodies_problems, responses)
    tap.check(f"{FLOOD_REQUESTS} POST /mcp notifications meet the same 429; the rest 202",
              mcp_limited_problems)
    tap.check(f"after {REFILL_S} s a normal request runs again", recovered_problems)
    tap.check(f"{CONN_LIMIT} requests in progress from one address, then one more: 429 in JSON",
              connection_limit_problems)
    tap.done()


if __name__ == "__main__":
    main()
