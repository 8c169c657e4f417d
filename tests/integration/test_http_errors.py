#!/usr/bin/python3
"""Requests the service must refuse, each with its status and JSON error code.

1. Through nginx: malformed JSON, invalid UTF-8, nesting, wrong shapes, keys and types,
   timeout out of range, sizes over the caps, media types, methods (Allow) and paths. Every
   error body must be JSON {"error": {"code", "message"}} with a non-empty message.
2. The same caps from just under: a code of exactly 256 KiB and a body of exactly 16 MiB run.
3. Straight to the responder's FastCGI socket, what nginx would never pass on: a
   CONTENT_LENGTH that lies, bodies over the cap. The responder must survive all of it.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402
from pycagetest import EXECUTE, HEALTH, JSON_TYPE as JSON  # noqa: E402

CODE_MAX = 256 * 1024          # bytes of code
BODY_MAX = 16 * 1024 * 1024    # bytes of request body (body_max_bytes, nginx's client_max_body_size)
STDIN_FILL = 1000              # the stdin of a body made to a size; spaces make up the rest
PRINT_1 = b'{"code":"print(1)"}'
READ_STDIN = b'{"code":"import sys\\nprint(len(sys.stdin.read()))","stdin":"'


def body_of_size(size):
    """A valid execute body of exactly `size` bytes printing len(stdin): a small stdin, then
    JSON whitespace (the body cap is 16 MiB, more than code, stdin and files can fill)."""
    head = READ_STDIN + b"x" * STDIN_FILL + b'"'
    return head + b" " * (size - len(head) - 1) + b"}"


def stdin_length_of(size):
    return STDIN_FILL


#  POST /v1/execute with Content-Type application/json, through nginx.
#  description                                   body                                   status  error code
BODY_CASES = [
    ("a truncated JSON document",                  b'{"code": "print(1)"',                  400, "invalid_json"),
    ("a comment before the object",                b'/* c */{"code":"1"}',                  400, "invalid_json"),
    ("trailing bytes after the object",            b'{"code":"print(1)"} x',                400, "invalid_json"),
    ("a NUL byte after the object",                b'{"code":"print(1)"}\x00',              400, "invalid_json"),
    ("a raw NUL inside a string",                  b'{"code":"a\x00b"}',                    400, "invalid_json"),
    ("a raw newline inside a string",              b'{"code":"1\n2"}',                      400, "invalid_json"),
    ("a lone high surrogate escape \\ud800",       b'{"code":"\\ud800"}',                   400, "invalid_json"),
    ("a lone low surrogate escape \\udc00",        b'{"code":"\\udc00x"}',                  400, "invalid_json"),
    ("single-quoted strings",                      b"{'code':'1'}",                         400, "invalid_json"),
    ("an empty body",                              b"",                                     400, "invalid_json"),
    ("the byte 0xff",                              b'{"code":"\xff"}',                      400, "invalid_utf8"),
    ("an overlong UTF-8 encoding of /",            b'{"code":"\xc0\xaf"}',                  400, "invalid_utf8"),
    ("a UTF-8-encoded surrogate",                  b'{"code":"\xed\xa0\x80"}',              400, "invalid_utf8"),
    ("a UTF-8 sequence cut by the closing quote",  b'{"code":"\xc3"}',                      400, "invalid_utf8"),
    ("300,000 nested [",                           lambda: b"[" * 300000,                   400, "nesting_too_deep"),
    ("33 nested arrays",                           b"[" * 33 + b"]" * 33,                   400, "nesting_too_deep"),
    ("32 arrays in an object: 33 levels",          b'{"code":' + b"[" * 32 + b"]" * 32 + b"}", 400, "nesting_too_deep"),
    ("32 nested arrays: deep enough, no object",   b"[" * 32 + b"]" * 32,                   400, "not_an_object"),
    ("a top-level array",                          b"[]",                                   400, "not_an_object"),
    ("a top-level string",                         b'"str"',                                400, "not_an_object"),
    ("a top-level number",                         b"1",                                    400, "not_an_object"),
    ("a top-level null",                           b"null",                                 400, "not_an_object"),
    ("a duplicate key",                            b'{"code":"print(1)","code":"x"}',       400, "duplicate_key"),
    ("an unknown key",                             b'{"code":"1","extra":1}',               400, "unknown_key"),
    ("no code",                                    b'{"stdin":"x"}',                        400, "missing_code"),
    ("an empty object",                            b"{}",                                   400, "missing_code"),
    ("code that is a number",                      b'{"code":1}',                           400, "wrong_type"),
    ("code that is null",                          b'{"code":null}',                        400, "wrong_type"),
    ("code that is an object",                     b'{"code":{}}',                          400, "wrong_type"),
    ("stdin that is a number",                     b'{"code":"1","stdin":5}',               400, "wrong_type"),
    ("timeout that is a string",                   b'{"code":"1","timeout":"5"}',           400, "wrong_type"),
    ("timeout that is a boolean",                  b'{"code":"1","timeout":true}',          400, "wrong_type"),
    ("timeout 0",                                  b'{"code":"1","timeout":0}',             400, "timeout_out_of_range"),
    ("timeout -1",                                 b'{"code":"1","timeout":-1}',            400, "timeout_out_of_range"),
    ("timeout 31",                                 b'{"code":"1","timeout":31}',            400, "timeout_out_of_range"),
    ("timeout 30.001",                             b'{"code":"1","timeout":30.001}',        400, "timeout_out_of_range"),
    ("code of 256 KiB + 1 byte",                   lambda: pt.execute_body("#" * (CODE_MAX + 1)), 413, "code_too_large"),
    ("a body of 16 MiB + 1 byte (nginx's cap)",     lambda: body_of_size(BODY_MAX + 1),      413, "body_too_large"),
]

#  Other media types and paths, through nginx.
#  description                             method  path           content type          body     status  error code
REQUEST_CASES = [
    ("Content-Type text/plain",              "POST", EXECUTE,        "text/plain",         PRINT_1, 415, "unsupported_media_type"),
    ("Content-Type application/jsonx",       "POST", EXECUTE,        "application/jsonx",  PRINT_1, 415, "unsupported_media_type"),
    ("no Content-Type",                      "POST", EXECUTE,        None,                 PRINT_1, 415, "unsupported_media_type"),
    ("GET of an unknown path",               "GET",  "/nope",        None,                 None,    404, "not_found"),
    ("POST to an unknown path",              "POST", "/v1/nope",     JSON,                 PRINT_1, 404, "not_found"),
    ("POST to a path extending /v1/execute", "POST", "/v1/executex", JSON,                 PRINT_1, 404, "not_found"),
    ("a body of 1 MiB + 1 byte to an unknown path", "POST", "/nope", JSON,
     lambda: body_of_size(BODY_MAX + 1), 413, "body_too_large"),
]

#  description         method  path     body     Allow header
METHOD_CASES = [
    ("GET /v1/execute",  "GET",  EXECUTE, None,    "POST"),
    ("PUT /v1/execute",  "PUT",  EXECUTE, PRINT_1, "POST"),
    ("POST /v1/health",  "POST", HEALTH,  PRINT_1, pt.Contains("GET")),
]

#  Just at the caps: accepted and run.   description, body, expected stdout
AT_LIMIT_CASES = [
    ("code of exactly 256 KiB runs",  lambda: pt.execute_body("#" * CODE_MAX), ""),
    ("a body of exactly 16 MiB runs",  lambda: body_of_size(BODY_MAX), f"{stdin_length_of(BODY_MAX)}\n"),
]

#  Straight to the FastCGI socket. CONTENT_LENGTH None: the body's true length.
#  description                          method  path     CONTENT_LENGTH  body                               status  error code
FCGI_CASES = [
    ("CONTENT_LENGTH 100, 10 bytes sent",  "POST", EXECUTE, "100", b'{"code":"1',                          400, "bad_content_length"),
    ("CONTENT_LENGTH 10, 100 bytes sent",  "POST", EXECUTE, "10",  b'{"code":"' + b"#" * 89 + b'"}',       400, "bad_content_length"),
    ("CONTENT_LENGTH that is no number",   "POST", EXECUTE, "abc", PRINT_1,                                400, "bad_content_length"),
    ("a body of 16 MiB + 1 byte",           "POST", EXECUTE, None,  lambda: body_of_size(BODY_MAX + 1),     413, "body_too_large"),
    ("stdin over 1 MiB",                   "POST", EXECUTE, None,  lambda: READ_STDIN + b"x" * (1024 * 1024 + 1) + b'"}',
                                                                   413, pt.OneOf("body_too_large", "stdin_too_large")),
    ("an unknown path",                    "GET",  "/nope", None,  b"",                                    404, "not_found"),
]


# Answered by the front itself (nginx or Apache), before the responder: the body must be
# byte for byte nginx/pycage.conf's for that code (pt.front_body_problems).
FRONT_MADE = {"a body of 1 MiB + 1 byte (nginx's cap)", "GET of an unknown path",
              "a body of 1 MiB + 1 byte to an unknown path"}


def materialize(body):
    """Large bodies are built when their case runs, not when the table is read."""
    return body() if callable(body) else body


def body_case_problems(body, status, code, front_made=False):
    return request_case_problems("POST", EXECUTE, JSON, body, status, code, front_made)


def request_case_problems(method, path, content_type, body, status, code, front_made=False):
    headers = {"Content-Type": content_type} if content_type else {}
    response = pt.request(method, path, materialize(body), headers)
    problems = pt.error_problems(response, status, code)
    return problems + (pt.front_body_problems(response.body, code) if front_made else [])


def method_case_problems(method, path, body, allow):
    headers = {"Content-Type": JSON} if body is not None else {}
    response = pt.request(method, path, body, headers)
    return pt.error_problems(response, 405, "method_not_allowed", allow=allow)


def at_limit_problems(body, stdout):
    response = pt.request("POST", EXECUTE, materialize(body), {"Content-Type": JSON},
                          timeout=pt.DEFAULT_EXEC_TIMEOUT_S + pt.HTTP_SLACK_S)
    return pt.answer_problems(response.status, pt.parse_json(response.body), pt.ok_with(stdout))


def fcgi_send(method, path, content_length, body):
    """One request on the responder's socket; CONTENT_LENGTH as given, or the true length."""
    pt.require_file(pt.PYCAGE_FCGI_SOCKET)
    body = materialize(body)
    length = len(body) if content_length is None else content_length
    params = pt.fcgi_params(method, path, JSON if body else None, length if body else None)
    return pt.fcgi_request(params, body)


def fcgi_case_problems(method, path, content_length, body, status, code):
    return pt.error_problems(fcgi_send(method, path, content_length, body), status, code)


def fcgi_ok_problems():
    """The control case: a well-formed request on the socket runs, so refusals mean something."""
    response = fcgi_send("POST", EXECUTE, None, PRINT_1)
    return pt.answer_problems(response.status, pt.parse_json(response.body), pt.ok_with("1\n"))


def fcgi_health_problems():
    response = fcgi_send("GET", HEALTH, None, b"")
    if response.status != 200:
        return [f"HTTP status: expected 200, got {response.status}", pt.show(response.body)]
    return []


def still_runs_problems():
    return pt.run_case({"code": "print(1)\n", "expect": pt.ok_with("1\n")})


def same_not_found_problems():
    """The front answers a path outside /v1/ and /mcp itself, the responder one inside /v1/:
    a caller must read the same list of routes from both."""
    messages = []
    for path in ("/nope", "/v1/nope"):
        response = pt.request("GET", path)
        problems = pt.error_problems(response, 404, "not_found")
        if problems:
            return [f"{path}: {p}" for p in problems]
        messages.append(pt.parse_json(response.body)["error"]["message"])
    return [] if messages[0] == messages[1] else [
        f"the front's 404 says {messages[0]!r}, the responder's {messages[1]!r}"]


def main():
    tap = pt.start(len(BODY_CASES) + len(REQUEST_CASES) + len(METHOD_CASES) + len(AT_LIMIT_CASES)
                   + len(FCGI_CASES) + 5)
    via = pt.FRONT
    for desc, *case in BODY_CASES:
        tap.check(f"{via}: {desc} -> {case[-2]} {case[-1]}", body_case_problems, *case,
                  desc in FRONT_MADE)
    for desc, *case in REQUEST_CASES:
        tap.check(f"{via}: {desc} -> {case[-2]} {case[-1]}", request_case_problems, *case,
                  desc in FRONT_MADE)
    for desc, *case in METHOD_CASES:
        tap.check(f"{via}: {desc} -> 405 with Allow", method_case_problems, *case)
    for desc, *case in AT_LIMIT_CASES:
        tap.check(f"{via}: {desc}", at_limit_problems, *case)
    tap.check(f"{via}: its own 404 names the same routes as the responder's",
              same_not_found_problems)
    tap.check(f"{via}: print(1) still runs after the refusals", still_runs_problems)
    tap.check("fastcgi: a well-formed request runs print(1)", fcgi_ok_problems)
    for desc, *case in FCGI_CASES:
        tap.check(f"fastcgi: {desc} -> {case[-2]} {case[-1]}", fcgi_case_problems, *case)
    tap.check("fastcgi: the responder still answers GET /v1/health", fcgi_health_problems)
    tap.check(f"{via}: print(1) still runs after the FastCGI cases", still_runs_problems)
    tap.done()


if __name__ == "__main__":
    main()
