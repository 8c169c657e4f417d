#!/usr/bin/python3
"""The test suite's own FastCGI client, checked byte for byte against the FastCGI 1.0 spec.

Needs no service: the vectors below were written by hand from the spec, not produced by
the encoder. Record header: version 1, type, requestId (u16 big-endian), contentLength (u16),
paddingLength (u8), reserved. Name-value lengths: one byte below 128, else four bytes
big-endian with the top bit set. An empty record ends the PARAMS and STDIN streams. The
answers are canned byte streams replayed over a socketpair, the way curl's tests replay a
server.
"""

import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycagetest as pt  # noqa: E402

#  name, value, encoding
NAME_VALUE_CASES = [
    ("CONTENT_LENGTH", "100", b"\x0e\x03CONTENT_LENGTH100"),
    ("A", "", b"\x01\x00A"),
    ("N", "v" * 127, b"\x01\x7fN" + b"v" * 127),
    ("N", "v" * 128, b"\x01\x80\x00\x00\x80N" + b"v" * 128),
    ("N", "v" * 70000, b"\x01\x80\x01\x11\x70N" + b"v" * 70000),
    ("K" * 200, "v", b"\x80\x00\x00\xc8\x01" + b"K" * 200 + b"v"),
]

#  record type, request id, content, encoding
RECORD_CASES = [
    (pt.FCGI_PARAMS, 1, b"", b"\x01\x04\x00\x01\x00\x00\x00\x00"),
    (pt.FCGI_STDIN, 1, b"hello", b"\x01\x05\x00\x01\x00\x05\x03\x00hello\x00\x00\x00"),
    (pt.FCGI_STDIN, 0x0102, b"12345678", b"\x01\x05\x01\x02\x00\x08\x00\x0012345678"),
    (pt.FCGI_BEGIN_REQUEST, 1, b"\x00\x01\x00\x00\x00\x00\x00\x00",
     b"\x01\x01\x00\x01\x00\x08\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"),
]

WHOLE_REQUEST = (
    b"\x01\x01\x00\x01\x00\x08\x00\x00" b"\x00\x01\x00\x00\x00\x00\x00\x00"  # BEGIN: responder
    b"\x01\x04\x00\x01\x00\x25\x03\x00"                                      # PARAMS, 37 + 3
    b"\x0e\x04REQUEST_METHODPOST" b"\x0e\x01CONTENT_LENGTH5" b"\x00\x00\x00"
    b"\x01\x04\x00\x01\x00\x00\x00\x00"                                      # end of PARAMS
    b"\x01\x05\x00\x01\x00\x05\x03\x00" b"hello\x00\x00\x00"                 # STDIN, 5 + 3
    b"\x01\x05\x00\x01\x00\x00\x00\x00"                                      # end of STDIN
)

# A responder's answer: headers and body split over STDOUT records with odd paddings, a
# STDERR record between them, the empty STDOUT record, then END_REQUEST (complete).
CANNED_ANSWER = (
    b"\x01\x06\x00\x01\x00\x17\x01\x00" + b"Status: 404 Not Found\r\n" + bytes(1)
    + b"\x01\x07\x00\x01\x00\x04\x00\x00" + b"warn"
    + b"\x01\x06\x00\x01\x00\x20\x05\x00" + b"Content-Type: application/json\r\n" + bytes(5)
    + b"\x01\x06\x00\x01\x00\x0f\x00\x00" + b'\r\n{"error":{}}\n'
    + b"\x01\x06\x00\x01\x00\x00\x00\x00"
    + b"\x01\x03\x00\x01\x00\x08\x00\x00" + bytes(8)
)
CANNED_NO_STATUS = (
    b"\x01\x06\x00\x01\x00\x20\x00\x00" + b"Content-Type: text/plain\r\n\r\nabcd"
    + b"\x01\x03\x00\x01\x00\x08\x00\x00" + bytes(8)
)
CANNED_UNKNOWN_ROLE = b"\x01\x03\x00\x01\x00\x08\x00\x00" b"\x00\x00\x00\x00\x03\x00\x00\x00"
CANNED_CUT_SHORT = b"\x01\x06\x00\x01\x00\x10\x00\x00" b"Status: 200"


def name_value_problems(name, value, expected):
    got = pt.fcgi_name_value(name, value)
    return [] if got == expected else [f"expected {pt.show(expected)}", f"     got {pt.show(got)}"]


def record_problems(record_type, request_id, content, expected):
    got = pt.fcgi_record(record_type, request_id, content)
    return [] if got == expected else [f"expected {pt.show(expected)}", f"     got {pt.show(got)}"]


def long_stream_problems():
    """65538 bytes of STDIN: a full 65528-byte record, a 10-byte one padded by 6, the end."""
    data = bytes(range(256)) * 256 + b"ab"
    expected = (b"\x01\x05\x00\x01\xff\xf8\x00\x00" + data[:65528]
                + b"\x01\x05\x00\x01\x00\x0a\x06\x00" + data[65528:] + b"\x00" * 6
                + b"\x01\x05\x00\x01\x00\x00\x00\x00")
    got = pt.fcgi_stream(pt.FCGI_STDIN, 1, data)
    if got != expected:
        return [f"expected {len(expected)} bytes starting {pt.show(expected[:16])}",
                f"     got {len(got)} bytes starting {pt.show(got[:16])}"]
    return []


def replay(canned, params, stdin):
    """Run fcgi_exchange against a peer that reads the whole request then sends `canned`.

    Returns (bytes the client sent, the client's result or the exception it raised).
    """
    client, server = socket.socketpair()
    client.settimeout(5)
    server.settimeout(5)
    received = bytearray()
    request_size = len(pt.fcgi_encode_request(params, stdin))

    def serve():
        while len(received) < request_size:
            chunk = server.recv(65536)
            if not chunk:
                break
            received.extend(chunk)
        server.sendall(canned)
        server.close()

    peer = threading.Thread(target=serve, daemon=True)
    peer.start()
    try:
        # The canned answers are the test's own, not pycage's: not checked against
        # docs/openapi.yaml.
        result = pt.fcgi_exchange(client, params, stdin, check=False)
    except Exception as exc:
        result = exc
    finally:
        client.close()
    peer.join(5)
    return bytes(received), result


def whole_request_problems():
    sent, _ = replay(CANNED_ANSWER, {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "5"}, b"hello")
    if sent != WHOLE_REQUEST:
        return [f"expected {pt.show(WHOLE_REQUEST)}", f"     got {pt.show(sent)}"]
    return []


def canned_answer_problems(canned, expected):
    _, result = replay(canned, {"REQUEST_METHOD": "GET"}, b"")
    if result != expected:
        return [f"expected {pt.show(expected)}", f"     got {pt.show(result)}"]
    return []


def canned_failure_problems(canned, message_part):
    _, result = replay(canned, {"REQUEST_METHOD": "GET"}, b"")
    if not isinstance(result, pt.Unexpected) or message_part not in str(result):
        return [f"expected Unexpected mentioning {message_part!r}", f"     got {pt.show(result)}"]
    return []


#  description, canned answer, parsed Response
ANSWER_CASES = [
    ("STDOUT over three records with padding, STDERR between, END_REQUEST",
     CANNED_ANSWER,
     pt.Response(404, {"status": "404 Not Found", "content-type": "application/json"},
                 b'{"error":{}}\n')),
    ("an answer without a Status header is 200",
     CANNED_NO_STATUS,
     pt.Response(200, {"content-type": "text/plain"}, b"abcd")),
]

#  description, canned answer, what the error must mention
FAILURE_CASES = [
    ("END_REQUEST with protocolStatus FCGI_UNKNOWN_ROLE is an error", CANNED_UNKNOWN_ROLE,
     "protocolStatus 3"),
    ("a connection closed inside a record is an error", CANNED_CUT_SHORT,
     "connection closed"),
]


def main():
    tap = pt.Tap()
    tap.plan(len(NAME_VALUE_CASES) + len(RECORD_CASES) + len(ANSWER_CASES)
             + len(FAILURE_CASES) + 2)
    for name, value, expected in NAME_VALUE_CASES:
        tap.check(f"name-value pair: {len(name)}-byte name, {len(value)}-byte value",
                  name_value_problems, name, value, expected)
    for record_type, request_id, content, expected in RECORD_CASES:
        tap.check(f"record: type {record_type}, id {request_id}, {len(content)} bytes",
                  record_problems, record_type, request_id, content, expected)
    tap.check("a 65538-byte stream: records of at most 65528 bytes, then the empty one",
              long_stream_problems)
    tap.check("a whole request: BEGIN_REQUEST, PARAMS, empty PARAMS, STDIN, empty STDIN",
              whole_request_problems)
    for desc, canned, expected in ANSWER_CASES:
        tap.check(f"answer: {desc}", canned_answer_problems, canned, expected)
    for desc, canned, message_part in FAILURE_CASES:
        tap.check(f"answer: {desc}", canned_failure_problems, canned, message_part)
    tap.done()


if __name__ == "__main__":
    main()
