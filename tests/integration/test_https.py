#!/usr/bin/python3
"""The service over HTTPS (nginx on PYCAGE_HTTPS_URL, self-signed: not verified) and plain HTTP.

GET /v1/health answers {"status": "ok", ...} on both; an execute works over HTTPS.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

#  description                      base URL
HEALTH_CASES = [
    ("GET /v1/health over HTTP",    pt.PYCAGE_URL),
    ("GET /v1/health over HTTPS",   pt.PYCAGE_HTTPS_URL),
]


def health_problems(url):
    response = pt.request("GET", pt.HEALTH, url=url, timeout=10)
    if response.status != 200:
        return [f"HTTP status: expected 200, got {response.status}", pt.show(response.body)]
    health = pt.parse_json(response.body)
    if not isinstance(health, dict):
        return [f"expected a JSON object, got {pt.show(health)}"]
    return pt.field_problems(health, {"status": "ok"})


def https_execute_problems():
    status, answer = pt.execute('print("over tls")\n', url=pt.PYCAGE_HTTPS_URL)
    return pt.answer_problems(status, answer, pt.ok_with("over tls\n"))


def main():
    tap = pt.start(len(HEALTH_CASES) + 1)
    for desc, url in HEALTH_CASES:
        tap.check(desc, health_problems, url)
    tap.check("POST /v1/execute over HTTPS runs a program", https_execute_problems)
    tap.done()


if __name__ == "__main__":
    main()
