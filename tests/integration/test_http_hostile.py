#!/usr/bin/python3
"""Hostile HTTP and FastCGI peers that a table of complete requests cannot show.

Raw sockets, through nginx and straight to the responder's FastCGI socket: a header over
nginx's buffers, a request line over them, a body that stops coming (slow), a body cut short
by the client, headers sent one byte at a time past nginx's header timeout, and a FastCGI
peer that stalls mid-params, drips its request or takes its answer a little at a time.
Each must end with the documented answer or a closed
connection, in bounded time, and the service must keep answering while it lasts.
"""

import base64
import functools
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

URL = urllib.parse.urlsplit(pt.PYCAGE_URL)
HOST, PORT = URL.hostname, URL.port or 80
TLS_PORT = urllib.parse.urlsplit(pt.PYCAGE_HTTPS_URL).port or 443
NGINX_BODY_TIMEOUT_S = 10      # nginx/pycage.conf client_body_timeout
NGINX_HEADER_TIMEOUT_S = 10    # client_header_timeout
FCGI_PEER_TIMEOUT_S = 15       # src/front/main.c PEER_IO_TIMEOUT_S
FCGI_REQUEST_S = 30            # src/front/front.h PEER_REQUEST_S: all of one request
FCGI_ANSWER_S = 30             # PEER_ANSWER_S: all of one answer
FCGI_DRIP_S = 5                # a pause well inside FCGI_PEER_TIMEOUT_S


def raw_exchange(chunks, pause_s=0.0, half_close=False, wait_s=30):
    """Sends the chunks (pausing between them), reads until the peer closes or wait_s;
    returns (status or None, body bytes, seconds until the connection ended)."""
    status, _, body, elapsed = raw_exchange_headers(chunks, pause_s, half_close, wait_s)
    return status, body, elapsed


def raw_exchange_headers(chunks, pause_s=0.0, half_close=False, wait_s=30, port=PORT):
    """raw_exchange, with the answer's headers as well: (status or None, {lower-case
    name: value}, body bytes, seconds until the connection ended)."""
    started = time.monotonic()
    sock = socket.create_connection((HOST, port), timeout=wait_s)
    data = b""
    try:
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:
                break                      # the server already closed on us
            if pause_s:
                time.sleep(pause_s)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        while True:
            try:
                part = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not part:
                break
            data += part
    finally:
        sock.close()
    elapsed = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1]) if lines[0].startswith("HTTP/1.") else None
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunked(body)
    return status, headers, body, elapsed


def dechunked(data):
    """An HTTP/1.1 chunked body's bytes (Apache chunks the responder's answers; nginx,
    told Connection: close, sends them unframed).  A body cut short keeps what came."""
    body = b""
    while True:
        size_line, crlf, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            return body + size_line + crlf + data
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2:]


def json_error_problems(status, body, want_status, want_code):
    problems = []
    if status != want_status:
        problems.append(f"status {status}, expected {want_status}: {pt.show(body)}")
    doc = pt.parse_json(body) if body else None
    code = doc.get("error", {}).get("code") if isinstance(doc, dict) else None
    if code != want_code:
        problems.append(f"error code {code!r}, expected {want_code!r}")
    return problems


def alive_problems():
    status, answer = pt.execute("print('alive')")
    return pt.answer_problems(status, answer, pt.ok_with("alive\n"))


def case_huge_header():
    request = (b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
               b"\r\nConnection: close\r\n\r\n")
    status, body, _ = raw_exchange([request])
    return (json_error_problems(status, body, pt.front(nginx=431, apache=400), "header_too_large")
            + pt.front_body_problems(body, "header_too_large") + alive_problems())


def case_huge_request_line():
    request = b"GET /v1/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, body, _ = raw_exchange([request])
    return (json_error_problems(status, body, 414, "uri_too_long")
            + pt.front_body_problems(body, "uri_too_long") + alive_problems())


# Requests the front (nginx or Apache) refuses itself, before any location: each answer must
# still be the API's JSON error, not the web server's HTML page, byte for byte the body
# nginx/pycage.conf gives for that code.  Apache answers 400 where nginx has 501 and 431
# (its core has no other status for those; apache/pycage.conf gives nginx's body).
#   description, port, request, status, error code, Allow header (None: not checked,
#   "": there must be none)
NGINX_OWN_CASES = [
    ("TRACE /v1/execute", PORT,
     b"TRACE /v1/execute HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     405, "method_not_allowed", "POST"),
    ("TRACE /v1/health", PORT,
     b"TRACE /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     405, "method_not_allowed", "GET, HEAD"),
    ("TRACE /mcp", PORT,
     b"TRACE /mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     405, "method_not_allowed", "POST"),
    ("TRACE of a path that does not exist", PORT,
     b"TRACE /v1/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     405, "method_not_allowed", ""),
    ("Transfer-Encoding: gzip", PORT,
     b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
     b"Connection: close\r\n\r\n", pt.front(nginx=501, apache=400), "not_implemented", None),
    ("HTTP/2.0 in an HTTP/1 request line", PORT,
     b"GET /v1/health HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n",
     505, "http_version_not_supported", None),
    ("plain HTTP to the HTTPS port", TLS_PORT,
     b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     400, "plain_http_on_tls_port", None),
]


def nginx_own_problems(port, request, status, code, allow):
    got, headers, body, _ = raw_exchange_headers([request], wait_s=10, port=port)
    problems = json_error_problems(got, body, status, code) + pt.front_body_problems(body, code)
    if headers.get("content-type") != pt.JSON_TYPE:
        problems.append(f"Content-Type {headers.get('content-type')!r}, expected {pt.JSON_TYPE}")
    if allow is not None and headers.get("allow", "") != allow:
        problems.append(f"Allow {headers.get('allow')!r}, expected {allow!r}")
    return problems


def case_log_injection():
    """A path holding a newline, a forged log line after it and an ANSI escape (nginx
    decodes %0a and %1b into $document_uri, which the responder logs with its 404): the
    responder's log gets one line, with the control bytes as \\xNN."""
    token = f"FORGED-{os.getpid()}-{time.monotonic_ns()}"
    log_path = pt.RESPONDER_LOG
    with open(log_path, "rb") as log:
        log.seek(0, os.SEEK_END)
        start = log.tell()
    path = f"/v1/x%0a2099-01-01T00:00:00.000Z%20main%20error:%20{token}%1b[31m"
    response = pt.request("GET", path)
    problems = pt.error_problems(response, 404, "not_found")
    deadline = time.monotonic() + 5
    while True:
        with open(log_path, "rb") as log:
            log.seek(start)
            written = log.read()
        if token.encode() in written or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    lines = [line for line in written.split(b"\n") if token.encode() in line]
    if len(lines) != 1:
        problems.append(f"{len(lines)} log lines hold the token, expected 1: {pt.show(written)}")
    elif b"/v1/x\\x0a2099-01-01" not in lines[0] or b"\\x1b[31m" not in lines[0]:
        problems.append(f"the control bytes are not escaped: {pt.show(lines[0])}")
    if any(line.startswith(b"2099-") for line in written.split(b"\n")) or b"\x1b" in written:
        problems.append(f"a forged line or a raw escape reached the log: {pt.show(written)}")
    return problems


def chunked(body, size):
    """body in HTTP/1.1 chunks of `size` bytes, then the last chunk."""
    out = b""
    for at in range(0, len(body), size):
        piece = body[at:at + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


CHUNKED_HEAD = (b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")


def case_chunked_body():
    """A body sent in chunks (no Content-Length: what streaming clients send) runs."""
    body = json.dumps({"code": "import sys\nprint(len(sys.stdin.read()))",
                       "stdin": "z" * 100000}).encode()
    status, answer, _ = raw_exchange([CHUNKED_HEAD + chunked(body, 4096)])
    doc = pt.parse_json(answer) if answer else None
    return pt.answer_problems(status, doc, pt.ok_with("100000\n"))


def case_chunked_body_too_large(path="/v1/execute"):
    """Chunks adding up to over 16 MiB: 413 body_too_large, as with a Content-Length."""
    body = json.dumps({"code": "print(1)"}).encode()[:-1] + b" " * (16 * 1024 * 1024) + b"}"
    head = CHUNKED_HEAD.replace(b"/v1/execute", path.encode())
    status, answer, _ = raw_exchange([head + chunked(body, 65536)])
    return json_error_problems(status, answer, 413, "body_too_large") + alive_problems()


# /mcp under the same caps as /v1/execute (nginx/pycage.conf and apache/pycage.conf: the
# body cap and the rate limits are server-wide): a JSON-RPC envelope around an execute body.
MCP_HEAD = (b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\n")


def mcp_call(arguments_json):
    return (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run_python",'
            b'"arguments":' + arguments_json + b"}}")


def case_mcp_declared_too_large():
    """A Content-Length over 16 MiB to /mcp: 413 without the body being sent."""
    head = MCP_HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (16 * 1024 * 1024 + 1)
    status, answer, _ = raw_exchange([head], half_close=True)
    return json_error_problems(status, answer, 413, "body_too_large") + alive_problems()


def case_mcp_files_at_cap():
    """8 MiB of files as base64 (a body of about 11 MiB) is taken by /mcp as by /v1/execute:
    the program reads every row of it by name."""
    rows = (8 * 1024 * 1024 - 2) // 2
    content = base64.b64encode(b"a\n" + b"7\n" * rows).decode()
    arguments = json.dumps({"code": "import pandas as pd\ndf = pd.read_csv('big.csv')\n"
                            "print(len(df), df.a.sum())",
                            "files": [{"name": "big.csv", "content": content,
                                       "encoding": "base64"}]}).encode()
    body = mcp_call(arguments)
    head = MCP_HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    status, answer, _ = raw_exchange([head, body], wait_s=60)
    doc = pt.parse_json(answer) if answer else {}
    got = (doc.get("result") or {}).get("structuredContent") or {}
    if status != 200 or got.get("stdout") != f"{rows} {7 * rows}\n":
        return [f"{status}: {pt.show(answer)}"]
    return []


def case_mcp_truncated_body():
    body = mcp_call(b'{"code": "print(1)"}')
    head = MCP_HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (len(body) + 50)
    status, answer, elapsed = raw_exchange([head, body], half_close=True)
    problems = []
    if status not in (None, 400):
        problems.append(f"answered {status} to a body cut short: {pt.show(answer)}")
    if elapsed > 5:
        problems.append(f"took {elapsed:.1f} s to end")
    return problems + alive_problems()


def case_mcp_deep_arguments():
    """300,000 levels of nesting inside tools/call's arguments (the depth that crashed
    yajl_tree_free once): -32600 at the cap, and the responder lives."""
    body = mcp_call(b'{"code":"1","x":' + b"[" * 300000 + b"]" * 300000 + b"}")
    head = MCP_HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    status, answer, _ = raw_exchange([head, body])
    doc = pt.parse_json(answer) if answer else {}
    problems = []
    if status != 400 or (doc.get("error") or {}).get("code") != -32600:
        problems.append(f"{status}: {pt.show(answer)}")
    return problems + alive_problems()


def post_head(length):
    return (f"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()


def case_slow_body():
    """10 of 100 announced bytes, then nothing: nginx gives up after client_body_timeout,
    and the responder never sees the request."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        r=raw_exchange([post_head(100), b'{"code": "'], wait_s=NGINX_BODY_TIMEOUT_S + 10)))
    thread.start()
    time.sleep(1)
    problems = alive_problems()            # served meanwhile
    thread.join()
    status, body, elapsed = result["r"]
    if elapsed > NGINX_BODY_TIMEOUT_S + 5:
        problems.append(f"the stalled connection lasted {elapsed:.1f} s")
    if status not in (None, 408):
        problems.append(f"answered {status} to a body that never came: {pt.show(body)}")
    return problems


def case_truncated_body():
    status, body, elapsed = raw_exchange([post_head(100), b'{"code": "'], half_close=True)
    problems = []
    if status not in (None, 400):
        problems.append(f"answered {status} to a body cut short: {pt.show(body)}")
    if elapsed > 5:
        problems.append(f"took {elapsed:.1f} s to end")
    return problems + alive_problems()


def case_slowloris_headers():
    """One header byte a second: nginx closes after client_header_timeout."""
    head = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 30
    _, _, elapsed = raw_exchange([bytes([c]) for c in head], pause_s=1.0,
                                 wait_s=NGINX_HEADER_TIMEOUT_S + 10)
    problems = []
    if elapsed > NGINX_HEADER_TIMEOUT_S + 5:
        problems.append(f"the connection lasted {elapsed:.1f} s")
    return problems + alive_problems()


def case_fcgi_stalled_params():
    """A FastCGI peer that sends half its params and stops: the responder drops it after
    its peer timeout, and other requests are served meanwhile."""
    pt.responder_only()
    pt.require_file(pt.PYCAGE_FCGI_SOCKET)
    full = pt.fcgi_encode_request(pt.fcgi_params("GET", pt.HEALTH))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(FCGI_PEER_TIMEOUT_S + 15)
    sock.connect(pt.PYCAGE_FCGI_SOCKET)
    started = time.monotonic()
    sock.sendall(full[:40])                 # BEGIN_REQUEST and part of a PARAMS record
    problems = alive_problems()
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    elapsed = time.monotonic() - started
    sock.close()
    if elapsed > FCGI_PEER_TIMEOUT_S + 10:
        problems.append(f"the stalled FastCGI peer held on for {elapsed:.1f} s")
    return problems + alive_problems()


def _held_until_closed(sock, wait_s):
    """Reads and drops whatever comes until the peer closes; seconds it took, or None if it
    was still open after wait_s."""
    started = time.monotonic()
    sock.settimeout(1)
    while time.monotonic() - started < wait_s:
        try:
            if not sock.recv(65536):
                return time.monotonic() - started
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - started
    return None


def case_fcgi_drip_request():
    """A FastCGI peer that sends its params one byte every few seconds, each byte well inside
    the per-read timeout: the responder cuts it once the request has taken PEER_REQUEST_S,
    counts it in pycage_fcgi_peer_timeouts_total, and serves others meanwhile."""
    pt.responder_only()
    pt.require_file(pt.PYCAGE_FCGI_SOCKET)
    before = pt.metric_value("pycage_fcgi_peer_timeouts_total")
    full = pt.fcgi_encode_request(pt.fcgi_params("GET", pt.HEALTH))
    sock = pt.fcgi_connect()
    started = time.monotonic()
    stop = threading.Event()

    def drip():
        for byte in full[:-1]:              # never the whole request
            if stop.is_set():
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return                      # cut
            stop.wait(FCGI_DRIP_S)

    dripper = threading.Thread(target=drip)
    dripper.start()
    problems = alive_problems()
    ended = _held_until_closed(sock, FCGI_REQUEST_S + 20)
    if ended is not None:
        ended = time.monotonic() - started     # the deadline runs from the accept
    stop.set()
    dripper.join()
    sock.close()
    if ended is None:
        problems.append(f"a peer dripping its params was still connected after "
                        f"{time.monotonic() - started:.0f} s")
    elif ended < FCGI_REQUEST_S - 2:
        problems.append(f"cut after {ended:.1f} s, before its {FCGI_REQUEST_S} s were up")
    after = pt.metric_value("pycage_fcgi_peer_timeouts_total")
    if before is None or after is None or after != before + 1:
        problems.append(f"pycage_fcgi_peer_timeouts_total went from {before} to {after}, "
                        "expected one more")
    return problems + alive_problems()


def case_fcgi_slow_reader():
    """On a kept connection, a first request answered at once, then one whose 1 MB answer the
    peer takes 4 KB every few seconds: the responder cuts it once the answer has taken
    PEER_ANSWER_S (the run itself is not counted), and serves others meanwhile.  What the
    socket already holds still arrives after the cut, so the peer then reads as fast as it
    can: the connection must end before the whole answer did."""
    pt.responder_only()
    pt.require_file(pt.PYCAGE_FCGI_SOCKET)
    answer_bytes = 1000000
    sock = pt.fcgi_connect()
    problems = []
    got, eof = 0, False
    try:
        problems += pt.fcgi_keep_health(sock)
        cuts_before = pt.metric_value("pycage_fcgi_peer_timeouts_total")
        body = pt.execute_body(f"print('x' * {answer_bytes})")
        sock.sendall(pt.fcgi_encode_request(
            pt.fcgi_params("POST", pt.EXECUTE, pt.JSON_TYPE, len(body)), body,
            flags=pt.FCGI_KEEP_CONN))
        sock.settimeout(60)
        got = len(sock.recv(4096))           # the run is over, the answer is coming
        started = time.monotonic()
        problems += alive_problems()
        early_checked = False
        while not eof and time.monotonic() - started < FCGI_ANSWER_S + 5:
            time.sleep(FCGI_DRIP_S / 2)
            if not early_checked and time.monotonic() - started > FCGI_ANSWER_S - 5:
                early_checked = True
                if pt.metric_value("pycage_fcgi_peer_timeouts_total") != cuts_before:
                    problems.append(f"cut before its {FCGI_ANSWER_S} s were up")
            part = sock.recv(4096)
            got += len(part)
            eof = not part
        sock.settimeout(5)
        while not eof:
            try:
                part = sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                part = b""
            got += len(part)
            eof = not part
    finally:
        sock.close()
    if not eof or got >= answer_bytes:
        problems.append(f"a peer taking its answer slowly was not cut: {got} bytes arrived "
                        f"and the connection {'ended' if eof else 'stayed open'}")
    cuts_after = pt.metric_value("pycage_fcgi_peer_timeouts_total")
    if cuts_before is None or cuts_after != cuts_before + 1:
        problems.append(f"pycage_fcgi_peer_timeouts_total went from {cuts_before} to "
                        f"{cuts_after}, expected one more")
    return problems + alive_problems()


NGINX_SEND_TIMEOUT_S = 10      # nginx/pycage.conf send_timeout
NGINX_PIDFILE = os.environ.get("PYCAGE_NGINX_PIDFILE", "/run/pycage/nginx.pid")
NGINX_FASTCGI_TEMP = "/var/lib/nginx/fastcgi/"      # Debian's --http-fastcgi-temp-path
BIG_ANSWER_CODE = ('import sys\nsys.stdout.write("\\x01" * 1048576)\n'
                   'sys.stderr.write("\\x01" * 1048576)\n')   # about 12 MiB of \u0001


def nginx_spooled_bytes():
    """Bytes of FastCGI answers nginx's workers hold spooled in temporary files (unlinked
    at once, so only their open descriptors show them)."""
    with open(NGINX_PIDFILE) as f:
        master = f.read().strip()
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[1] != master:
                    continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith(NGINX_FASTCGI_TEMP):
                    total += os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            continue
    return total


def case_nginx_slow_reader():
    """A client that asks for a 12 MiB answer and reads none of it: nginx takes the whole
    answer from the responder at once (spooled, so no worker waits for the reader), drops
    the client send_timeout after it stopped taking anything, and lets go of the spool."""
    if pt.FRONT == "apache":
        return apache_slow_reader_problems()
    if not os.path.exists(NGINX_PIDFILE):
        raise pt.Skip(f"no nginx pid file at {NGINX_PIDFILE}: another front serves")
    body = json.dumps({"code": BIG_ANSWER_CODE}).encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    problems = []
    try:
        sock.connect((HOST, PORT))
        sock.sendall(post_head(len(body)) + body)
        started, spooled = time.monotonic(), 0
        while time.monotonic() - started < 20 and spooled < 8 << 20:
            time.sleep(0.2)
            spooled = nginx_spooled_bytes()
        spooled_at = time.monotonic() - started
        if spooled < 8 << 20:
            return [f"nginx spooled only {spooled} bytes of the answer in {spooled_at:.0f} s"]
        if alive_problems():
            problems.append("the service did not answer while the reader sat still")
        time.sleep(NGINX_SEND_TIMEOUT_S + 4)
        got, ended = 0, None
        try:
            while True:
                part = sock.recv(1 << 20)
                if not part:
                    ended = "closed"
                    break
                got += len(part)
        except ConnectionResetError:
            ended = "reset"
        except socket.timeout:
            ended = None
        if ended is None or got > 8 << 20:
            problems.append(f"the reader was not dropped {NGINX_SEND_TIMEOUT_S + 4} s after "
                            f"it stopped reading ({got} bytes still came)")
        time.sleep(1)
        left = nginx_spooled_bytes()
        if left:
            problems.append(f"nginx still holds {left} spooled bytes after the drop")
    finally:
        sock.close()
    return problems


APACHE_TIMEOUT_S = 10          # apache/pycage.conf Timeout, as nginx's send_timeout


def apache_slow_reader_problems():
    """Through Apache, which streams the answer (mod_proxy_fcgi has no spool): a client that
    takes nothing of a 12 MiB answer is dropped Timeout after Apache could write no more,
    and the service answers others meanwhile."""
    body = json.dumps({"code": BIG_ANSWER_CODE}).encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    problems = []
    try:
        sock.connect((HOST, PORT))
        sock.sendall(post_head(len(body)) + body)
        problems += ["the service did not answer while the reader sat still"
                     ] if alive_problems() else []
        # The run (a few seconds at most), then Timeout, then slack.
        time.sleep(5 + APACHE_TIMEOUT_S + 4)
        got, ended = 0, None
        try:
            while True:
                part = sock.recv(1 << 20)
                if not part:
                    ended = "closed"
                    break
                got += len(part)
        except ConnectionResetError:
            ended = "reset"
        except socket.timeout:
            ended = None
        if ended is None or got > 8 << 20:
            problems.append(f"the reader was not dropped {5 + APACHE_TIMEOUT_S + 4} s after "
                            f"it sent its request ({got} bytes came, connection "
                            f"{ended or 'still open'})")
    finally:
        sock.close()
    return problems + alive_problems()


def _execution_count():
    """All executions the service has run, whatever their verdict."""
    response = pt.request("GET", "/v1/metrics")
    return sum(v for k, v in pt.parse_metrics(response.body).items()
               if k.startswith("pycage_executions_total{"))


def case_fcgi_slow_request_then_run():
    """A request that takes most of PEER_REQUEST_S to arrive (two pauses inside the read
    timeout), then a run of several seconds: the run is not counted against the peer, so
    the answer arrives although the whole exchange took longer than PEER_REQUEST_S."""
    pt.responder_only()
    pt.require_file(pt.PYCAGE_FCGI_SOCKET)
    pause_s = FCGI_PEER_TIMEOUT_S - 3
    run_s = FCGI_REQUEST_S - 2 * pause_s + 5
    body = pt.execute_body(f"import time\ntime.sleep({run_s})\nprint('late')", timeout=run_s + 10)
    full = pt.fcgi_encode_request(pt.fcgi_params("POST", pt.EXECUTE, pt.JSON_TYPE, len(body)),
                                  body)
    sock = pt.fcgi_connect(timeout=FCGI_ANSWER_S + run_s + 20)
    started = time.monotonic()
    try:
        third = len(full) // 3
        for at, part in enumerate((full[:third], full[third:2 * third], full[2 * third:])):
            if at:
                time.sleep(pause_s)
            sock.sendall(part)
        answer = pt.parse_cgi_response(pt.fcgi_read_answer(sock).stdout)
    except (OSError, pt.Unexpected) as e:
        return [f"no answer after {time.monotonic() - started:.1f} s: {e}"]
    finally:
        sock.close()
    elapsed = time.monotonic() - started
    problems = []
    if answer.status != 200 or b'"stdout":"late\\n"' not in answer.body:
        problems.append(f"answer {answer.status}: {pt.show(answer.body)}")
    if elapsed < FCGI_REQUEST_S:
        problems.append(f"the exchange took only {elapsed:.1f} s: it proves nothing")
    return problems


def case_fcgi_body_without_end():
    """A peer that sends its whole body, as long as CONTENT_LENGTH says, but never the empty
    record that ends the stream, and waits: it is cut after PEER_REQUEST_S and the code is
    not run for a peer that is gone (400 body_incomplete, counted, never executed)."""
    pt.responder_only()
    pt.require_file(pt.PYCAGE_FCGI_SOCKET)
    body = pt.execute_body("print('must not run')")
    full = pt.fcgi_encode_request(pt.fcgi_params("POST", pt.EXECUTE, pt.JSON_TYPE, len(body)),
                                  body)
    end_of_stdin = pt.fcgi_record(pt.FCGI_STDIN, 1)
    if not full.endswith(end_of_stdin):
        raise pt.Unexpected("the encoded request does not end with the empty STDIN record")
    series = 'pycage_requests_total{route="execute",code="400"}'
    refused_before = pt.metric_value(series) or 0
    runs_before = _execution_count()
    sock = pt.fcgi_connect()
    try:
        sock.sendall(full[:-len(end_of_stdin)])
        ended = _held_until_closed(sock, FCGI_REQUEST_S + 20)
    finally:
        sock.close()
    problems = []
    if ended is None:
        problems.append("the peer was still connected after "
                        f"{FCGI_REQUEST_S + 20} s")
    time.sleep(1)
    runs_after = _execution_count()
    refused_after = pt.metric_value(series) or 0
    if runs_after != runs_before:
        problems.append(f"the code ran for a peer that was gone ({runs_before} -> "
                        f"{runs_after} executions)")
    if refused_after != refused_before + 1:
        problems.append(f"{series} went from {refused_before} to {refused_after}, "
                        "expected one more")
    return problems


CASES = [(f"{pt.FRONT}'s own refusal, {desc}: {status} {code} in JSON",
          functools.partial(nginx_own_problems, port, request, status, code, allow))
         for desc, port, request, status, code, allow in NGINX_OWN_CASES] + [
    ("a path with a newline and an escape cannot forge or colour a log line",
     case_log_injection),
    ("a body in chunks, without Content-Length, runs", case_chunked_body),
    ("chunks adding up to over 16 MiB: 413 body_too_large in JSON", case_chunked_body_too_large),
    ("/mcp: chunks adding up to over 16 MiB: 413 body_too_large in JSON",
     functools.partial(case_chunked_body_too_large, "/mcp")),
    ("/mcp: a declared body over 16 MiB: 413 without reading it", case_mcp_declared_too_large),
    ("/mcp: 8 MiB of files in base64 arrive whole, as through /v1/execute",
     case_mcp_files_at_cap),
    ("/mcp: a body cut short by the client ends at once", case_mcp_truncated_body),
    ("/mcp: 300,000 levels of nesting in the arguments: -32600, the responder lives",
     case_mcp_deep_arguments),
    (f"a 20 KB header: {pt.front(nginx=431, apache=400)} header_too_large in JSON",
     case_huge_header),
    ("a 20 KB request line: 414 uri_too_long in JSON", case_huge_request_line),
    ("a body that stops coming is dropped after client_body_timeout", case_slow_body),
    ("a body cut short by the client ends at once", case_truncated_body),
    ("headers at one byte a second are dropped after client_header_timeout",
     case_slowloris_headers),
    ("a FastCGI peer stalled mid-params is dropped; others are served meanwhile",
     case_fcgi_stalled_params),
    ("a FastCGI peer dripping its request is cut after PEER_REQUEST_S; others are served",
     case_fcgi_drip_request),
    ("a FastCGI peer taking its answer slowly is cut after PEER_ANSWER_S; others are served",
     case_fcgi_slow_reader),
    ("a request slow to arrive, then a long run: the run is not counted against the peer",
     case_fcgi_slow_request_then_run),
    ("a body without its stream's end record: cut, and the code never runs",
     case_fcgi_body_without_end),
    (pt.front(nginx="a client reading none of a 12 MiB answer: spooled at once, dropped "
              "after send_timeout, the spool let go",
              apache="a client reading none of a 12 MiB answer: dropped after Timeout"),
     case_nginx_slow_reader),
]


if __name__ == "__main__":
    pt.run_cases(CASES)
