#!/usr/bin/python3
"""GET /v1/openapi.json serves docs/openapi.yaml, through nginx or Apache, and the suite's
check of every answer against it (pycagetest.openapi_problems) is live.

1. GET answers 200 application/json whose value is exactly docs/openapi.yaml's data (the
   document of this tree, compiled into the responder); HEAD answers 200 with no body.
2. The wrong method: POST gets the responder's 405, TRACE the front's (nginx's map, Apache's
   expression), both with Allow: GET, HEAD.
3. Every GET route the document lists and this responder serves answers what the document
   says (checked by the suite's hook like any answer); one the responder does not serve yet
   (a branch not merged) is reported as a skip, not passed.
4. The hook itself: a real answer passes openapi_problems, and the same answer with a key
   removed, a wrong type or an undocumented status does not, each named in the diagnostic.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

OPENAPI = "/v1/openapi.json"


def served_problems():
    response = pt.request("GET", OPENAPI)
    if response.status != 200:
        return [f"HTTP status: expected 200, got {response.status}: {pt.show(response.body)}"]
    problems = []
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip() != pt.JSON_TYPE:
        problems.append(f"Content-Type: expected {pt.JSON_TYPE}, got {content_type!r}")
    served = pt.parse_json(response.body)
    if served != pt.openapi_document():
        differing = sorted(key for key in set(served) | set(pt.openapi_document())
                           if served.get(key) != pt.openapi_document().get(key))
        problems.append(f"the served document is not docs/openapi.yaml's data: top-level "
                        f"keys that differ: {differing}")
    return problems


def head_problems():
    response = pt.request("HEAD", OPENAPI)
    problems = [] if response.status == 200 else [f"HEAD: status {response.status}"]
    if response.body:
        problems.append(f"HEAD: a body of {len(response.body)} bytes")
    return problems


def method_problems(method):
    response = pt.request(method, OPENAPI, b"{}" if method == "POST" else None,
                          {"Content-Type": pt.JSON_TYPE} if method == "POST" else {})
    return pt.error_problems(response, 405, "method_not_allowed", allow="GET, HEAD")


def get_route_problems(path):
    """A GET route of the document answers 200 (its body is checked by the suite's hook)."""
    response = pt.request("GET", path)
    if response.status == 404 and pt.parse_json(response.body).get("error", {}).get(
            "code") == "not_found":
        # The hook has just flagged this 404 (not a status of the route); the case
        # reports it as a skip with its reason instead, so the flag is dropped.
        pt.take_contract_problems()
        raise pt.Skip(f"{path} is in the document but this responder does not serve it yet")
    if response.status != 200:
        return [f"GET {path}: status {response.status}: {pt.show(response.body)}"]
    return []


def hook_problems():
    """openapi_problems passes a real answer and catches three ways to contradict it."""
    response = pt.request("GET", pt.HEALTH)
    problems = pt.openapi_problems("GET", pt.HEALTH, response)
    if problems:
        return ["a real health answer failed the check:", *problems]
    health = pt.parse_json(response.body)
    missing = dict(health)
    del missing["pool_ready"]
    wrong = dict(health, pool_size="2")
    mutants = [
        # (Health is the full answer or the brief one of a keyless request: jsonschema
        # names the anyOf when no branch comes closer.)
        ("no pool_ready", "GET", pt.HEALTH, 200, missing,
         "is not valid under any of the given schemas"),
        ("pool_size a string", "GET", pt.HEALTH, 200, wrong, "is not of type 'integer'"),
        ("the brief answer with one more key", "GET", pt.HEALTH, 200,
         {"status": "ok", "image": "x"}, "is not valid under any of the given schemas"),
        ("an undocumented status", "GET", pt.HEALTH, 418, health, "status 418 is not documented"),
        ("an error code of another status", "GET", "/nowhere", 404,
         {"error": {"code": "busy", "message": "m"}}, "is not one of ['not_found']"),
    ]
    for desc, method, path, status, body, expected in mutants:
        mutant = pt.Response(status, {"content-type": pt.JSON_TYPE}, json.dumps(body).encode())
        found = pt.openapi_problems(method, path, mutant)
        if not any(expected in line for line in found):
            problems.append(f"{desc}: expected a problem containing {expected!r}, got {found}")
    return problems


def main():
    document = pt.openapi_document()
    routes = sorted(path for path, item in document["paths"].items() if "get" in item)
    tap = pt.start(4 + len(routes) + 1)
    tap.check(f"{pt.FRONT}: GET {OPENAPI} is docs/openapi.yaml", served_problems)
    tap.check(f"{pt.FRONT}: HEAD {OPENAPI}: 200, no body", head_problems)
    tap.check(f"{pt.FRONT}: POST {OPENAPI}: the responder's 405, Allow: GET, HEAD",
              method_problems, "POST")
    tap.check(f"{pt.FRONT}: TRACE {OPENAPI}: the front's 405, Allow: GET, HEAD",
              method_problems, "TRACE")
    for path in routes:
        tap.check(f"{pt.FRONT}: GET {path} answers as the document says", get_route_problems,
                  path)
    tap.check("the suite's check passes a real answer and catches contradicting ones",
              hook_problems)
    tap.done()


if __name__ == "__main__":
    main()
