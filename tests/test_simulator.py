"""The loopback simulator survives abuse (issue 13, item 6).

Every malformed request gets one JSON answer with a 4xx status (505 for HTTP/2) and one message
saying what was wrong and what is accepted, then the connection ends cleanly: never a reset, a
500 or a traceback. Idle and slow connections time out; threads and memory stay bounded under many
concurrent clients. Real sockets throughout: raw ones for malformed HTTP, requests and http.client
for the rest. Each server runs with a 0.3 s timeout, and the fixture checks that nothing reached
stderr or the log above DEBUG.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.simulator import BODY_CAP, MAX_CONNECTIONS, QUEUE_BODY_CAP, running

REGISTRY = load_registry()
PROVIDERS = ", ".join(REGISTRY.names)
TIMEOUT = 0.3
DETECT = "/face/v1.2/detect"
OCR = "/v2/p1/ocr/general-text"
SHAPE = '{"provider": "<provider>", "code" or "entry": "<code or entry id>", "times": 1 to 1000}'
METHODS = "GET, POST, PUT, PATCH, DELETE"
POST = f"POST {DETECT} HTTP/1.1\r\nHost: x\r\n".encode()
QUEUE = b"POST /_vision/queue HTTP/1.1\r\nHost: x\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"
CLOSE = {"connection": "close"}


@pytest.fixture
def base(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    with running(REGISTRY, timeout=TIMEOUT) as url:
        yield url
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert err == ""
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def exchange(base: str, data: bytes, *, shut: bool = True) -> bytes:
    """Send ``data`` (then end our side if ``shut``) and read until the server closes; a reset
    raises ConnectionResetError and fails the test."""
    with socket.create_connection(address(base), timeout=5) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def answer(received: bytes) -> tuple[int, dict[str, str], str]:
    """The one JSON answer received: status, headers (lower-cased names), the message."""
    head, _, rest = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict((k.lower(), v) for k, v in (line.split(": ", 1) for line in lines))
    assert len(rest) == int(headers["content-length"]), "one answer, then the end"
    assert headers["content-type"] == "application/json"
    document = json.loads(rest)
    assert list(document) == ["simulator"]
    return int(status_line.split()[1]), headers, document["simulator"]


NOT_HTTP = "is not HTTP: send METHOD /path HTTP/1.1"
HTTP_2 = "HTTP version 2.0 is not served: send HTTP/1.1 or HTTP/1.0"
BYTE_COUNT = "is not a byte count: send a decimal integer from 0 to 33554432"
OVER_32 = f"is over the cap of 33554432 bytes (32 MiB) for POST {DETECT}: send at most 33554432"
OVER_64 = "over the cap of 65536 bytes (64 KiB) for POST /_vision/queue: send at most 65536"
NOT_SERVED = "is not served: send Content-Length, or Transfer-Encoding: chunked"

MALFORMED = [
    ("not-http", b"hello\r\n\r\n", 400, {}, f"request line 'hello' {NOT_HTTP}"),
    ("http-0.9", b"GET /\r\n", 400, {}, f"request line 'GET /' {NOT_HTTP}"),
    ("http-2", b"GET / HTTP/2.0\r\n\r\n", 505, {}, HTTP_2),
    ("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, {}, HTTP_2),
    (
        "target",
        b"GET nope HTTP/1.1\r\n\r\n",
        400,
        {},
        "request target 'nope' is not a path: send /path or http://host/path",
    ),
    (
        "bad-url",
        b"GET http://[::1/ HTTP/1.1\r\n\r\n",
        400,
        {},
        "request target 'http://[::1/' is not a URL",
    ),
    (
        "long-line",
        b"GET /" + b"a" * 16384 + b" HTTP/1.1\r\n\r\n",
        414,
        {},
        "request line over 16384 bytes (16 KiB): send at most 16384",
    ),
    (
        "no-colon",
        POST + b"nonsense\r\n\r\n",
        400,
        {},
        "header line 'nonsense' is not 'Name: value'",
    ),
    (
        "folding",
        POST + b"A: b\r\n c\r\n\r\n",
        400,
        {},
        "header line ' c' continues the previous one (obsolete line folding): "
        "send each header on one line",
    ),
    (
        "many-headers",
        POST + b"A: b\r\n" * 101 + b"\r\n",
        431,
        {},
        "more than 100 header fields: send at most 100",
    ),
    (
        "big-header",
        POST + b"A: " + b"b" * 70_000 + b"\r\n\r\n",
        431,
        {},
        "request headers over 65536 bytes (64 KiB): send at most 65536",
    ),
    (
        "head-cut",
        POST + b"Content-Length: 0\r\n",
        400,
        {},
        "the connection ended inside the request headers",
    ),
    (
        "length-abc",
        POST + b"Content-Length: abc\r\n\r\n",
        400,
        {},
        f"Content-Length 'abc' {BYTE_COUNT}",
    ),
    (
        "length-negative",
        POST + b"Content-Length: -1\r\n\r\n",
        400,
        {},
        f"Content-Length '-1' {BYTE_COUNT}",
    ),
    (
        "length-float",
        POST + b"Content-Length: 1e3\r\n\r\n",
        400,
        {},
        f"Content-Length '1e3' {BYTE_COUNT}",
    ),
    (
        "length-twice",
        POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
        400,
        {},
        "Content-Length given twice (1, 2): send it once",
    ),
    (
        "length-huge",
        POST + b"Content-Length: " + b"9" * 40 + b"\r\n\r\n",
        413,
        {},
        f"Content-Length '{'9' * 40}' {OVER_32}",
    ),
    (
        "length-over-cap",
        POST + b"Content-Length: 33554433\r\n\r\n",
        413,
        {},
        f"Content-Length '33554433' {OVER_32}",
    ),
    (
        "queue-over-cap",
        QUEUE + b"Content-Length: 65537\r\n\r\n{",
        413,
        {},
        f"Content-Length '65537' is {OVER_64}",
    ),
    (
        "body-cut",
        POST + b"Content-Length: 5\r\n\r\nab",
        400,
        {},
        "the connection ended after 2 of the 5 body bytes Content-Length promised",
    ),
    (
        "coding-gzip",
        POST + b"Transfer-Encoding: gzip\r\n\r\n",
        400,
        {},
        f"Transfer-Encoding 'gzip' {NOT_SERVED}",
    ),
    (
        "coding-and-length",
        POST + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        400,
        {},
        "both Transfer-Encoding and Content-Length given: send one of them",
    ),
    ("chunk-size", CHUNKED + b"zz\r\n", 400, {}, "chunk size 'zz' is not a hexadecimal byte count"),
    (
        "chunk-overlong",
        CHUNKED + b"3\r\nabcdef\r\n0\r\n\r\n",
        400,
        {},
        "a chunk's data does not end where its size line says: send CRLF",
    ),
    (
        "chunk-cut",
        CHUNKED + b"5\r\nab",
        400,
        {},
        "the connection ended after 2 of the 5 chunk bytes its size line promised",
    ),
    (
        "chunks-over-cap",
        QUEUE + b"Transfer-Encoding: chunked\r\n\r\n10001\r\n",
        413,
        {},
        f"chunked body {OVER_64}",
    ),
    # answered without closing: the request was whole
    (
        "method",
        b"FOO / HTTP/1.1\r\n\r\n",
        405,
        {"allow": METHODS},
        f"method 'FOO' is not served: send one of {METHODS}",
    ),
    (
        "options",
        b"OPTIONS * HTTP/1.1\r\n\r\n",
        405,
        {"allow": METHODS},
        f"method 'OPTIONS' is not served: send one of {METHODS}",
    ),
    (
        "queue-get",
        b"GET /_vision/queue HTTP/1.1\r\n\r\n",
        405,
        {"allow": "POST"},
        f"GET /_vision/queue is not served: POST {SHAPE}",
    ),
    (
        "wrong-method",
        f"GET {DETECT} HTTP/1.1\r\n\r\n".encode(),
        405,
        {"allow": "POST"},
        f"GET {DETECT} is not served: {DETECT} answers POST",
    ),
    (
        "unknown-path",
        b"GET /nope?x=1 HTTP/1.1\r\n\r\n",
        404,
        {},
        f"no catalog route for GET /nope: the simulator serves the operations of {PROVIDERS} "
        "(visioncontract catalog lists them) and POST /_vision/queue",
    ),
]


@pytest.mark.parametrize(
    ("request_bytes", "status", "headers", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_a_malformed_request_gets_one_json_answer_then_a_clean_close(
    base: str, request_bytes: bytes, status: int, headers: dict[str, str], message: str
) -> None:
    got_status, got_headers, got_message = answer(exchange(base, request_bytes))
    assert (got_status, got_message) == (status, message)
    expected = {**headers, **(CLOSE if status not in (404, 405) else {})}
    assert {k: got_headers.get(k) for k in expected} == expected
    assert got_headers.get("connection") == expected.get("connection")


@pytest.mark.parametrize(
    ("request_bytes", "stage"),
    [
        pytest.param(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "request line", id="tls-hello"
        ),
        pytest.param(b"POST /face", "request line", id="request-line"),
        pytest.param(POST + b"Content-Length: 5\r\n", "headers", id="headers"),
        pytest.param(POST + b"Content-Length: 5\r\n\r\nab", "body (2 of 5 bytes came)", id="body"),
        pytest.param(CHUNKED + b"5\r\nhello\r\n", "chunked body (5 bytes came)", id="chunked"),
        pytest.param(CHUNKED + b"5\r\nhe", "chunk (2 of 5 bytes came)", id="chunk"),
    ],
)
def test_a_request_that_stops_short_is_answered_408_after_the_timeout(
    base: str, request_bytes: bytes, stage: str
) -> None:
    start = time.monotonic()
    status, headers, message = answer(exchange(base, request_bytes, shut=False))
    elapsed = time.monotonic() - start
    assert (status, message) == (
        408,
        f"timed out after 0.3 s waiting for the {stage}: send the whole request at once",
    )
    assert headers["connection"] == "close"
    assert TIMEOUT - 0.05 < elapsed < TIMEOUT + 1.5


def test_an_idle_connection_is_closed_after_the_timeout_without_a_word(base: str) -> None:
    start = time.monotonic()
    assert exchange(base, b"", shut=False) == b""
    assert TIMEOUT - 0.05 < time.monotonic() - start < TIMEOUT + 1.5
    with requests.Session() as session:  # a kept-alive connection, idle after its request
        assert session.post(base + DETECT).status_code == 200
        time.sleep(TIMEOUT + 0.3)
        assert session.post(base + DETECT).status_code == 200  # the pool reconnects


def test_stopping_the_simulator_ends_its_kept_alive_connections_and_threads() -> None:
    before = threading.active_count()
    with running(REGISTRY, timeout=30) as base:
        connection = http.client.HTTPConnection(*address(base), timeout=5)
        connection.request("POST", DETECT)
        assert connection.getresponse().read().startswith(b'[{"faceId"')
    assert connection.sock is not None  # kept alive
    start = time.monotonic()
    assert connection.sock.recv(1) == b""  # ended at the stop, not at the 30 s idle timeout
    assert time.monotonic() - start < 1
    connection.close()
    while threading.active_count() > before and time.monotonic() - start < 1:
        time.sleep(0.01)
    assert threading.active_count() <= before  # the server's thread and the connection's ended


def test_a_trickle_of_bytes_does_not_extend_the_deadline(base: str) -> None:
    """One byte every 50 ms keeps each read under the timeout; the request's deadline still
    falls 0.3 s after its first byte."""
    start = time.monotonic()
    with socket.create_connection(address(base), timeout=5) as sock:
        sock.sendall(POST)
        for byte in b"X-Slow: " + b"a" * 200:
            if select.select([sock], [], [], 0.05)[0]:
                break
            sock.sendall(bytes([byte]))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    elapsed = time.monotonic() - start
    assert answer(received)[::2] == (
        408,
        "timed out after 0.3 s waiting for the headers: send the whole request at once",
    )
    assert elapsed < TIMEOUT + 1.0  # the whole trickle would take over 10 s


def test_many_idle_clients_keep_the_threads_bounded_and_a_request_is_still_served(
    base: str,
) -> None:
    before = threading.active_count()
    peak = before
    sampling = True

    def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, threading.active_count())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        idle = [socket.create_connection(address(base), timeout=10) for _ in range(200)]
        start = time.monotonic()
        served = requests.post(base + DETECT, timeout=10)  # waits its turn behind the 200
        waited = time.monotonic() - start
        assert all(sock.recv(1) == b"" for sock in idle)  # each closed, at its turn, unanswered
        for sock in idle:
            sock.close()
    finally:
        sampling = False
        sampler.join()
    assert served.status_code == 200
    assert served.json()[0]["faceRectangle"]["width"] == 162
    assert waited < 200 / MAX_CONNECTIONS * TIMEOUT + 3
    assert before + MAX_CONNECTIONS // 2 < peak <= before + 1 + MAX_CONNECTIONS + 2


def test_a_body_up_to_the_cap_is_read_and_discarded_not_held(base: str) -> None:
    image = b"\xff\xd8" * (BODY_CAP // 2)
    connection = http.client.HTTPConnection(*address(base), timeout=10)
    tracemalloc.start()
    try:
        connection.request("POST", DETECT, body=image)
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())[0]["faceId"][:8]) == (
            200,
            "c5c24a82",
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        connection.close()
    assert peak < 2 * 1024 * 1024  # the body is 32 MiB
    too_big = requests.post(base + DETECT, data=image + b"!", timeout=10)  # sent whole: lingers
    assert (too_big.status_code, too_big.json()) == (
        413,
        {
            "simulator": f"Content-Length '{BODY_CAP + 1}' is over the cap of 33554432 bytes "
            f"(32 MiB) for POST {DETECT}: send at most 33554432"
        },
    )


def test_an_early_refusal_is_read_while_the_client_is_still_sending(base: str) -> None:
    """Refused at its headers, a request whose body is on its way: the simulator reads and drops
    what keeps coming for a while, so that its answer is not lost to a connection reset."""
    connection = http.client.HTTPConnection(*address(base), timeout=5)
    connection.request("POST", DETECT, body=bytes(40_000_000))  # sends it all, then reads
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (
        413,
        {"simulator": f"Content-Length '40000000' {OVER_32}"},
    )
    connection.close()


def test_chunked_bodies_are_served_within_the_same_caps(base: str) -> None:
    def chunks(count: int, size: int) -> Iterator[bytes]:
        yield from (b"x" * size for _ in range(count))

    assert requests.post(base + DETECT, data=chunks(4, 1000)).status_code == 200
    document = json.dumps({"provider": "huawei_ocr", "code": "APIG.0308"}).encode()
    queued = requests.post(base + "/_vision/queue", data=iter([document[:9], document[9:]]))
    assert queued.json() == {"simulator": "queued 429-APIG.0308"}
    assert requests.post(base + OCR, json={}).status_code == 429
    refused = requests.post(base + "/_vision/queue", data=chunks(2, QUEUE_BODY_CAP // 2 + 1))
    assert (refused.status_code, refused.json()["simulator"]) == (
        413,
        "chunked body over the cap of 65536 bytes (64 KiB) for POST /_vision/queue: "
        "send at most 65536",
    )


def test_expect_100_continue_is_answered_only_when_the_body_is_acceptable(base: str) -> None:
    expect = b"Expect: 100-continue\r\n"
    refused = exchange(base, POST + expect + b"Content-Length: 40000000\r\n\r\n")
    assert answer(refused)[0] == 413  # at once, no "100 Continue" first
    with socket.create_connection(address(base), timeout=5) as sock:
        sock.sendall(POST + expect + b"Content-Length: 2\r\nConnection: close\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"ok")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")


def queue(session: requests.Session, base: str, body: object) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = session.post(base + "/_vision/queue", data=data)
    return response.status_code, response.json()["simulator"]


def test_the_queue_api_refuses_each_bad_document_with_what_it_accepts(base: str) -> None:
    ocr = REGISTRY.get("huawei_ocr")
    codes = ", ".join(sorted({e.code for e in ocr.servable_entries}))
    times = "is not an integer from 1 to 1000"
    apig = {"provider": "huawei_ocr", "code": "APIG.0308"}
    refusals: list[tuple[object, str]] = [
        (b"", f"the queue body is not JSON (empty): send {SHAPE}"),
        (
            b"{",
            "the queue body is not JSON (Expecting property name enclosed in double quotes: "
            f"line 1 column 2 (char 1)): send {SHAPE}",
        ),
        (b"\xff\xfe{", f"the queue body is not JSON (not UTF-8): send {SHAPE}"),
        (b"[" * 60_000, f"the queue body is not JSON (nested too deeply): send {SHAPE}"),
        ([1], f"the queue body is a JSON array, not an object: send {SHAPE}"),
        ("x", f"the queue body is a JSON string, not an object: send {SHAPE}"),
        ({**apig, "tims": 2}, f"the queue body has unknown keys 'tims': send {SHAPE}"),
        ({"code": "APIG.0308"}, f"the queue body names no provider; known: {PROVIDERS}"),
        ({"provider": "nope", "code": "X"}, f"unknown provider 'nope'; known: {PROVIDERS}"),
        ({"provider": ["x"], "code": "X"}, f"unknown provider ['x']; known: {PROVIDERS}"),
        (
            {"provider": "huawei_ocr"},
            f"the queue body names no code or entry; huawei_ocr codes: {codes}",
        ),
        ({**apig, "code": {}}, f"the queue body names no code or entry; huawei_ocr codes: {codes}"),
        ({**apig, "code": "NOPE"}, f"huawei_ocr documents no error 'NOPE'; codes: {codes}"),
        ({**apig, "times": 0}, f"times 0 {times}"),
        ({**apig, "times": -3}, f"times -3 {times}"),
        ({**apig, "times": "2"}, f'times "2" {times}'),
        ({**apig, "times": 1.5}, f"times 1.5 {times}"),
        ({**apig, "times": True}, f"times true {times}"),
        ({**apig, "times": 10**100}, f"times {str(10**100)[:40]} {times}"),
    ]
    with requests.Session() as session:
        for body, message in refusals:
            assert queue(session, base, body) == (400, message), body
        full = {"provider": "huawei_ocr", "code": "APIG.0308", "times": 1000}
        assert queue(session, base, full) == (200, "queued 429-APIG.0308")
        assert queue(session, base, {**full, "times": 1}) == (
            400,
            "the huawei_ocr queue holds 1000 responses and takes at most 1000: queue fewer, "
            "or let the queued ones be served first",
        )
        assert session.post(base + OCR, json={}).status_code == 429  # the queue still works


def test_a_malformed_x_vision_error_is_refused_and_nothing_is_served(base: str) -> None:
    face = REGISTRY.get("azure_face")
    codes = ", ".join(sorted({e.code for e in face.servable_entries}))
    refusals = {
        "InvalidImage": "X-Vision-Error 'InvalidImage' is not <provider>:<code or entry id>, "
        "e.g. azure_face:InvalidImage",
        "azure_face:": "X-Vision-Error 'azure_face:' is not <provider>:<code or entry id>, "
        "e.g. azure_face:InvalidImage",
        "nope:InvalidImage": f"X-Vision-Error 'nope:InvalidImage': unknown provider 'nope'; "
        f"known: {PROVIDERS}",
        "azure_face:NOPE": f"X-Vision-Error 'azure_face:NOPE': azure_face documents no error "
        f"'NOPE'; codes: {codes}",
    }
    for value, message in refusals.items():
        r = requests.post(base + DETECT, headers={"X-Vision-Error": value})
        assert (r.status_code, r.json()) == (400, {"simulator": message})
    connection = http.client.HTTPConnection(*address(base), timeout=5)
    connection.putrequest("POST", DETECT)
    connection.putheader("X-Vision-Error", "azure_face:InvalidImage")
    connection.putheader("X-Vision-Error", "azure_face:InvalidImage")
    connection.endheaders()
    twice = connection.getresponse()
    assert (twice.status, json.loads(twice.read())) == (
        400,
        {"simulator": "X-Vision-Error given 2 times: send it once"},
    )
    connection.request("HEAD", DETECT)  # same connection: the refusal kept it usable
    head = connection.getresponse()
    assert (head.status, head.getheader("Allow"), head.read()) == (405, METHODS, b"")
    connection.request("POST", DETECT, headers={"X-Vision-Error": ":InvalidImage"})
    served = connection.getresponse()
    assert (served.status, json.loads(served.read())["error"]["code"]) == (400, "InvalidImage")
    connection.close()


def test_visioncontract_serve_stays_quiet_under_abuse_and_writes_nothing(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_visioncontract.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert re.fullmatch(r"visioncontract simulator on http://127\.0\.0\.1:\d+\n", line)
        base = line.split(" on ")[1].strip()
        for _, request_bytes, status, _, message in MALFORMED:
            assert answer(exchange(base, request_bytes))[::2] == (status, message)
        with socket.create_connection(address(base), timeout=5) as sock:  # reset mid-body
            sock.sendall(POST + b"Content-Length: 100\r\n\r\nab")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert requests.post(base + DETECT, timeout=10).status_code == 200
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert err == ""
    assert list(tmp_path.iterdir()) == []
