#!/usr/bin/python3
"""POST /mcp, the MCP endpoint (src/front/mcp.c), over HTTP through the front.

What the official SDK client (tests/mcp/, test_mcp_sdk.py) does not send: the 2026-07-28
revision's per-request metadata and header checks, server/discover, each JSON-RPC fault,
the HTTP checks (methods, Origin, Accept, Content-Type, the version header), tools/call's
arguments refused with exactly the REST 400's text, and the same execute path (metrics).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

MCP = "/mcp"
MODERN = "2026-07-28"
META = "io.modelcontextprotocol/protocolVersion"
VERSIONS = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]
HEADERS = {"Content-Type": "application/json",
           "Accept": "application/json, text/event-stream"}


def post(message, headers=None, raw=None, timeout=60):
    """One POST /mcp; returns (Response, JSON body or None)."""
    body = raw if raw is not None else json.dumps(message).encode()
    response = pt.request("POST", MCP, body, {**HEADERS, **(headers or {})}, timeout=timeout)
    doc = pt.parse_json(response.body) if response.body else None
    return response, doc


def modern(method, params=None, id_=1, headers=None):
    """A 2026-07-28 request: the version in _meta and in the header, Mcp-Method (and
    Mcp-Name for tools/call) as the transport requires."""
    params = dict(params or {})
    params["_meta"] = {META: MODERN, "io.modelcontextprotocol/clientInfo":
                       {"name": "test_mcp", "version": "1"},
                       "io.modelcontextprotocol/clientCapabilities": {}}
    h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if method == "tools/call":
        h["Mcp-Name"] = params.get("name", "")
    h.update(headers or {})
    return post({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}, h)


def legacy(method, params=None, id_=1, version="2025-11-25"):
    return post({"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}},
                {"MCP-Protocol-Version": version} if version else {})


def rpc_error_problems(response, doc, status, code, id_="absent", api_code=None):
    """A JSON-RPC error answer: HTTP status, jsonrpc, id (or none), error.code, data.code."""
    problems = []
    if response.status != status:
        problems.append(f"HTTP {response.status}, expected {status}: {pt.show(response.body)}")
    if not isinstance(doc, dict) or doc.get("jsonrpc") != "2.0" or "error" not in doc:
        return problems + [f"not a JSON-RPC error: {pt.show(response.body)}"]
    if id_ == "absent" and "id" in doc:
        problems.append(f"an id {doc['id']!r} where none was read")
    elif id_ != "absent" and not pt.same(doc.get("id"), id_):
        problems.append(f"id {doc.get('id')!r}, expected {id_!r}")
    if doc["error"].get("code") != code:
        problems.append(f"error.code {doc['error'].get('code')}, expected {code}")
    if not isinstance(doc["error"].get("message"), str) or not doc["error"]["message"]:
        problems.append("error.message is not a non-empty string")
    if api_code is not None and (doc["error"].get("data") or {}).get("code") != api_code:
        problems.append(f"error.data.code {(doc['error'].get('data') or {}).get('code')!r}, "
                        f"expected {api_code!r}")
    return problems


def case_get_delete():
    problems = []
    for method in ("GET", "DELETE"):
        response = pt.request(method, MCP, headers={"Accept": "text/event-stream"})
        problems += [f"{method}: {p}" for p in
                     pt.error_problems(response, 405, "method_not_allowed", allow="POST")]
    return problems


def case_notification():
    response, _ = post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    problems = []
    if response.status != 202 or response.body != b"":
        problems.append(f"{response.status} {pt.show(response.body)}, expected 202 and no body")
    if "content-type" in response.headers:
        problems.append(f"a Content-Type {response.headers['content-type']!r} with no body")
    return problems


def case_initialize():
    problems = []
    for asked, answered in (("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"),
                            ("2024-11-05", "2025-11-25"), ("1900-01-01", "2025-11-25")):
        response, doc = legacy("initialize", {"protocolVersion": asked, "capabilities": {},
                                              "clientInfo": {"name": "t", "version": "1"}},
                               version=None)
        result = (doc or {}).get("result", {})
        if response.status != 200 or result.get("protocolVersion") != answered:
            problems.append(f"asked {asked}: {response.status} {pt.show(response.body)}, "
                            f"expected protocolVersion {answered}")
        elif (result.get("serverInfo", {}).get("name") != "pycage"
              or "tools" not in result.get("capabilities", {})
              or "sandbox" not in result.get("instructions", "")):
            problems.append(f"asked {asked}: serverInfo, capabilities or instructions: "
                            f"{pt.show(result)}")
    return problems


def case_ping():
    response, doc = legacy("ping", id_="p-1")
    if response.status != 200 or doc != {"jsonrpc": "2.0", "id": "p-1", "result": {}}:
        return [f"{response.status} {pt.show(response.body)}"]
    return []


def case_unsupported_version_header():
    response, doc = legacy("tools/list", version="1999-01-01")
    problems = rpc_error_problems(response, doc, 400, -32022,
                                  api_code="unsupported_protocol_version")
    data = ((doc or {}).get("error") or {}).get("data") or {}
    if data.get("supported") != VERSIONS or data.get("requested") != "1999-01-01":
        problems.append(f"data {pt.show(data)}: expected supported {VERSIONS}")
    return problems


def case_discover():
    response, doc = modern("server/discover")
    result = (doc or {}).get("result", {})
    problems = []
    if response.status != 200:
        return [f"{response.status} {pt.show(response.body)}"]
    for key, want in (("resultType", "complete"), ("supportedVersions", VERSIONS),
                      ("ttlMs", pt.Between(1, 86400000)), ("cacheScope", "public")):
        if key not in result or not pt.same(result[key], want):
            problems.append(f"{key}: {pt.show(result.get(key))}, expected {pt.show(want)}")
    info = result.get("_meta", {}).get("io.modelcontextprotocol/serverInfo", {})
    if info.get("name") != "pycage" or "tools" not in result.get("capabilities", {}):
        problems.append(f"serverInfo or capabilities: {pt.show(result)}")
    return problems


def tool_definition():
    response = pt.request("GET", "/v1/tool")
    if response.status != 200:
        raise pt.Unexpected(f"GET /v1/tool: {response.status} {pt.show(response.body)}")
    return pt.parse_json(response.body)


def case_tools_list_is_v1_tool():
    """The one source: tools/list's tool and GET /v1/tool agree, name, text and schema."""
    definition = tool_definition()
    problems = []
    for call in (lambda: modern("tools/list"), lambda: legacy("tools/list")):
        response, doc = call()
        tools = (doc or {}).get("result", {}).get("tools")
        if response.status != 200 or not isinstance(tools, list) or len(tools) != 1:
            problems.append(f"{response.status} {pt.show(response.body)}")
            continue
        tool = tools[0]
        for key, want in (("name", definition.get("name")),
                          ("description", definition.get("description")),
                          ("inputSchema", definition.get("parameters"))):
            if tool.get(key) != want:
                problems.append(f"{key}: {pt.show(tool.get(key))} differs from GET /v1/tool's")
        if sorted((tool.get("outputSchema") or {}).get("required", [])) != sorted(pt.ANSWER_KEYS):
            problems.append(f"outputSchema.required {tool.get('outputSchema')}, expected the "
                            f"answer's keys {pt.ANSWER_KEYS}")
    if list(definition) != ["name", "description", "parameters"] or \
            definition.get("name") != "run_python":
        problems.append(f"GET /v1/tool keys {list(definition)}")
    return problems


def case_description_is_true():
    """The description's versions are GET /v1/runtime's, its limits the configuration's."""
    runtime = pt.parse_json(pt.request("GET", "/v1/runtime").body)
    text = tool_definition()["description"]
    problems = []
    wanted = [f"Python {runtime['python']}"] + [f"{name} {version}" for name, version in
                                                 runtime["libraries"].items()]
    limits = runtime["limits"]
    wanted += [f"{int(limits['timeout_default_s'])} s by default",
               f"at most {int(limits['timeout_max_s'])} s",
               f"{limits['memory_bytes'] // (1024 * 1024)} MiB of memory",
               "No network", "open() does not exist", "no state"]
    for phrase in wanted:
        if phrase not in text:
            problems.append(f"{phrase!r} is not in the description: {pt.show(text)}")
    return problems


def call_problems(doc, stdout, is_error):
    result = (doc or {}).get("result", {})
    answer = result.get("structuredContent")
    problems = pt.answer_problems(200, answer, {"stdout": stdout}) if isinstance(answer, dict) \
        else [f"no structuredContent: {pt.show(doc)}"]
    if result.get("isError") is not is_error:
        problems.append(f"isError {result.get('isError')!r}, expected {is_error}")
    text = (result.get("content") or [{}])[0]
    if text.get("type") != "text" or stdout not in text.get("text", ""):
        problems.append(f"the first content block is not the text holding stdout: {pt.show(text)}")
    return problems


def case_modern_call():
    response, doc = modern("tools/call", {"name": "run_python",
                                          "arguments": {"code": "print(6 * 7)\n6 * 7\n"}})
    problems = call_problems(doc, "42\n", False)
    result = (doc or {}).get("result", {})
    if result.get("resultType") != "complete":
        problems.append(f"resultType {result.get('resultType')!r}")
    if result.get("structuredContent", {}).get("result") != "42":
        problems.append(f"result {pt.show(result.get('structuredContent'))}")
    return problems


def case_legacy_call_error():
    response, doc = legacy("tools/call", {"name": "run_python", "arguments":
                                          {"code": "import os\n"}}, id_="x")
    problems = call_problems(doc, "", True)
    exception = (doc or {}).get("result", {}).get("structuredContent", {}).get("exception") or {}
    if exception.get("type") != "ImportError" or doc.get("id") != "x":
        problems.append(f"exception {pt.show(exception)}, id {pt.show(doc.get('id'))}")
    if "resultType" in (doc or {}).get("result", {}):
        problems.append("a 2026-07-28 key in a 2025-11-25 answer")
    return problems


def case_header_mismatch():
    """2026-07-28's Server Validation: each header that disagrees with the body, or is
    missing, is 400 with -32020; the code never runs."""
    problems = []
    args = {"name": "run_python", "arguments": {"code": "print(1)"}}
    for what, headers in (("Mcp-Method", {"Mcp-Method": "tools/list"}),
                          ("no Mcp-Method", {"Mcp-Method": ""}),
                          ("Mcp-Name", {"Mcp-Name": "other"}),
                          ("no Mcp-Name", {"Mcp-Name": ""}),
                          ("MCP-Protocol-Version", {"MCP-Protocol-Version": "2025-11-25"}),
                          ("no MCP-Protocol-Version", {"MCP-Protocol-Version": ""})):
        response, doc = modern("tools/call", args, id_=7, headers=headers)
        problems += [f"{what}: {p}" for p in
                     rpc_error_problems(response, doc, 400, -32020, 7, "header_mismatch")]
    # The sentinel form of Mcp-Name (Value Encoding) is decoded before comparing.
    response, doc = modern("tools/call", args, headers={"Mcp-Name": "=?base64?cnVuX3B5dGhvbg==?="})
    problems += [f"base64 Mcp-Name: {p}" for p in call_problems(doc, "1\n", False)]
    return problems


def case_unknown_method():
    response, doc = modern("resources/list", id_=3)
    problems = rpc_error_problems(response, doc, 404, -32601, 3)
    response, doc = legacy("resources/list", id_=4)
    problems += rpc_error_problems(response, doc, 200, -32601, 4)
    # 2026-07-28 removed initialize.
    response, doc = modern("initialize", id_=5)
    return problems + rpc_error_problems(response, doc, 404, -32601, 5)


# (description, raw body, HTTP status, JSON-RPC code, id expected in the answer)
ENVELOPE_CASES = [
    ("not JSON", b'{"jsonrpc": "2.0", "id": 1, "method": ', 400, -32700, "absent"),
    ("a NUL byte", b'{"jsonrpc":"2.0","id":1,"method":"ping"}\x00', 400, -32700, "absent"),
    ("invalid UTF-8", b'{"jsonrpc":"2.0","id":1,"method":"p\xffing"}', 400, -32700, "absent"),
    ("a lone surrogate", b'{"jsonrpc":"2.0","id":1,"method":"\\ud800"}', 400, -32700, "absent"),
    ("a batch", b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', 400, -32600, "absent"),
    ("a bare string", b'"ping"', 400, -32600, "absent"),
    ("jsonrpc 1.0", b'{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600, 1),
    ("no jsonrpc", b'{"id":1,"method":"ping"}', 400, -32600, 1),
    ("no method", b'{"jsonrpc":"2.0","id":1}', 400, -32600, 1),
    ("a null id", b'{"jsonrpc":"2.0","id":null,"method":"ping"}', 400, -32600, "absent"),
    ("a fractional id", b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', 400, -32600, "absent"),
    ("a response sent to the server", b'{"jsonrpc":"2.0","id":1,"result":{}}', 400, -32600, 1),
    ("a duplicate method", b'{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}',
     400, -32600, 1),
    ("a duplicate params.name", b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
     b'{"name":"run_python","name":"x","arguments":{"code":"1"}}}', 400, -32600, 1),
    ("nesting 33 deep", b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":' +
     b"[" * 31 + b"]" * 31 + b"}}", 400, -32600, 1),
    ("params an array", b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[]}',
     200, -32602, 1),
    ("a notification with params an array (no answer can carry an id)",
     b'{"jsonrpc":"2.0","method":"notifications/x","params":[]}', 400, -32602, "absent"),
    ("arguments a string", b'{"jsonrpc":"2.0","id":"s","method":"tools/call","params":'
     b'{"name":"run_python","arguments":"print(1)"}}', 200, -32602, "s"),
    ("an unknown tool", b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
     b'{"name":"shell","arguments":{"code":"1"}}}', 200, -32602, 1),
]


def case_envelope(raw, status, code, id_):
    response, doc = post(None, {"MCP-Protocol-Version": "2025-11-25"}, raw=raw)
    return rpc_error_problems(response, doc, status, code, id_)


# Execute bodies /v1/execute refuses: tools/call with the same as arguments gets -32602,
# the REST answer's message and its code as data.code.
BAD_ARGUMENTS = [
    {}, {"code": 1}, {"code": "x", "timeout": 0}, {"code": "x", "timeout": 31},
    {"code": "x", "shell": True}, {"code": "x", "files": [{"name": "../etc", "content": ""}]},
    {"code": "x", "files": [{"name": "a", "content": "%%%", "encoding": "base64"}]},
    {"code": "x", "files": [{"name": "a", "content": ""}, {"name": "a", "content": ""}]},
    {"code": "x", "files": [{"name": "a", "content": "", "encoding": "latin-1"}]},
    {"code": "x", "files": [{"name": "a"}]}, {"code": "x", "files": "a.csv"},
    {"code": "x" * 262145},
]


def case_same_reason_as_rest():
    problems = []
    for arguments in BAD_ARGUMENTS:
        rest = pt.request("POST", pt.EXECUTE, json.dumps(arguments).encode(),
                          {"Content-Type": "application/json"})
        rest_error = pt.parse_json(rest.body).get("error", {})
        response, doc = legacy("tools/call", {"name": "run_python", "arguments": arguments})
        label = pt.show(json.dumps(arguments), 80)
        problems += [f"{label}: {p}" for p in
                     rpc_error_problems(response, doc, 200, -32602, 1, rest_error.get("code"))]
        got = ((doc or {}).get("error") or {}).get("message")
        if rest.status not in (400, 413) or got != rest_error.get("message"):
            problems.append(f"{label}: message {got!r}, REST {rest.status} "
                            f"{rest_error.get('message')!r}")
    return problems


def case_http_checks():
    problems = []
    response, doc = legacy("ping")
    for what, headers, status, api_code in (
            ("a foreign Origin", {"Origin": "http://evil.example"}, 403, "origin_not_allowed"),
            ("Accept without JSON", {"Accept": "text/event-stream"}, 406, "not_acceptable"),
            ("Accept JSON with q=0", {"Accept": "application/json;q=0, text/html"}, 406,
             "not_acceptable"),
            ("Content-Type text/plain", {"Content-Type": "text/plain"}, 415,
             "unsupported_media_type")):
        response, doc = post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers)
        problems += [f"{what}: {p}" for p in
                     rpc_error_problems(response, doc, status, -32600, "absent", api_code)]
    for what, headers in (("no Accept", {"Accept": ""}), ("Accept */*", {"Accept": "*/*"}),
                          ("no Origin, as a non-browser client", {})):
        response, doc = post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers)
        if response.status != 200 or (doc or {}).get("result") != {}:
            problems.append(f"{what}: {response.status} {pt.show(response.body)}")
    return problems


def metrics():
    response = pt.request("GET", "/v1/metrics")
    return pt.parse_metrics(response.body)


def case_same_execute_path():
    """tools/call counts as an execution in the executor's metrics, as /v1/execute does, and
    the front counts /mcp's requests under route="mcp"."""
    before = metrics()
    response, doc = legacy("tools/call", {"name": "run_python", "arguments": {"code": "1"}})
    after = metrics()
    problems = [] if response.status == 200 else [f"{response.status} {pt.show(response.body)}"]
    series = 'pycage_executions_total{status="ok"}'
    if after.get(series, 0) < before.get(series, 0) + 1:
        problems.append(f"{series}: {before.get(series)} -> {after.get(series)}")
    series = 'pycage_requests_total{route="mcp",code="200"}'
    if after.get(series, 0) < before.get(series, 0) + 1:
        problems.append(f"{series}: {before.get(series)} -> {after.get(series)}")
    return problems


CASES = [
    ("GET and DELETE /mcp: 405 with Allow: POST", case_get_delete),
    ("a notification: 202, no body", case_notification),
    ("initialize negotiates 2025-06-18 and 2025-11-25, else offers 2025-11-25",
     case_initialize),
    ("ping: an empty result with the string id", case_ping),
    ("an unsupported MCP-Protocol-Version header: 400, -32022 with the supported list",
     case_unsupported_version_header),
    ("2026-07-28 server/discover: versions, capabilities, serverInfo, cacheable",
     case_discover),
    ("tools/list (2026-07-28 and 2025-11-25) is GET /v1/tool's definition",
     case_tools_list_is_v1_tool),
    ("the description's versions and limits are the runtime's", case_description_is_true),
    ("2026-07-28 tools/call: structuredContent, text, resultType, the result",
     case_modern_call),
    ("2025-11-25 tools/call of a refused import: isError and the exception",
     case_legacy_call_error),
    ("2026-07-28 headers that disagree with the body or are missing: 400 -32020",
     case_header_mismatch),
    ("an unknown method: -32601 (404 for 2026-07-28, 200 before)", case_unknown_method),
] + [(f"{desc}: {status} {code}", lambda r=raw, s=status, c=code, i=id_: case_envelope(r, s, c, i))
     for desc, raw, status, code, id_ in ENVELOPE_CASES] + [
    ("tools/call with a bad execute body: -32602 with the REST 400's message and code",
     case_same_reason_as_rest),
    ("Origin, Accept and Content-Type are checked per the transport", case_http_checks),
    ("tools/call goes through the execute path (metrics)", case_same_execute_path),
]


if __name__ == "__main__":
    pt.run_cases(CASES)
