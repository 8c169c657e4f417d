#!/usr/bin/python3
"""Concurrent requests through nginx: each answered 200 with its own output, no cross-talk.

Twenty threads start together (a barrier), each sending a program and a stdin that name
that request alone; each answer must carry exactly that request's name back. Twenty stays
inside nginx's burst of 30, so no request should meet the rate limit.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

REQUESTS = 20
JOIN_WAIT_S = pt.DEFAULT_EXEC_TIMEOUT_S + pt.HTTP_SLACK_S + 10

# Even requests name themselves in the code, odd ones in stdin as well.
CASES = [
    {"name": f"concurrent request {i} gets its own output",
     "code": f"print({i})\n" if i % 2 == 0 else f"import sys\nprint({i}, sys.stdin.read())\n",
     "stdin": None if i % 2 == 0 else f"token-{i}",
     "expect": pt.ok_with(f"{i}\n" if i % 2 == 0 else f"{i} token-{i}\n")}
    for i in range(REQUESTS)
]


def run_together(cases):
    """Run every case in its own thread, all released at once; returns problems per case."""
    results = [["no answer before the test gave up waiting"] for _ in cases]
    barrier = threading.Barrier(len(cases))

    def worker(index):
        barrier.wait()
        try:
            status, answer = pt.execute(cases[index]["code"], cases[index]["stdin"], pace=False)
            results[index] = pt.answer_problems(status, answer, cases[index]["expect"])
        except Exception as exc:
            results[index] = [f"raised {type(exc).__name__}: {exc}"]

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(cases))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_WAIT_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return results


def main():
    tap = pt.start(len(CASES))
    for case, problems in zip(CASES, run_together(CASES)):
        tap.ok(not problems, case["name"], problems)
    tap.done()


if __name__ == "__main__":
    main()
