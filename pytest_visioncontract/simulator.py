"""A loopback HTTP server that speaks every catalog's paths (``visioncontract serve``).

It answers each provider operation with the catalog's success body, and any documented error on
demand: a request header ``X-Vision-Error: <provider>:<code or entry id>`` answers that request
with the error, and ``POST /_vision/queue`` with ``{"provider", "code" or "entry", "times"}``
queues it for the next requests to that provider. Used to record cassettes end to end, and by
clients written in other languages. Standard library only.

It survives abuse: every request it cannot serve gets one JSON answer ``{"simulator": "<what
was wrong and what is accepted>"}`` with a 4xx status (505 for an HTTP version other than 1.x),
never a dropped connection or a traceback. Request heads and bodies are capped (bodies to provider
paths are read and discarded, never held), a request must arrive within ``timeout`` seconds of
its first byte, a connection idle that long is closed, and at most ``max_connections`` are served
at once (the others wait in the listen queue).
"""

from __future__ import annotations

import email.parser
import io
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from pytest_visioncontract.catalog import Catalog, Entry, Registry
from pytest_visioncontract.errors import VisionContractError
from pytest_visioncontract.wire import WireResponse, reason_phrase, render, success

ERROR_HEADER = "X-Vision-Error"
QUEUE_PATH = "/_vision/queue"

TIMEOUT = 10.0  # seconds: idle connections are closed, a request must arrive within this
MAX_CONNECTIONS = 64  # connections served at once; more wait in the listen queue
LISTEN_BACKLOG = 1024
BODY_CAP = 32 * 1024 * 1024  # bytes of a request body to a provider path (read and discarded)
QUEUE_BODY_CAP = 64 * 1024  # bytes of a POST /_vision/queue document
REQUEST_LINE_CAP = 16 * 1024  # bytes of the request line
HEAD_CAP = 64 * 1024  # bytes of all header lines together
MAX_HEADERS = 100  # header fields
MAX_TIMES = 1000  # responses one queue request adds, and a provider's queue holds
LINGER = 2.0  # seconds spent discarding unread input after a refusal, so the answer is read
CHUNK = 64 * 1024

SERVED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
QUEUE_SHAPE = (
    '{"provider": "<provider>", "code" or "entry": "<code or entry id>", '
    f'"times": 1 to {MAX_TIMES}}}'
)
REQUEST_LINE = re.compile(
    r"(?P<method>[!#$%&'*+.^_`|~0-9A-Za-z-]+) (?P<target>\S+) (?P<version>\S+)"
)
HEADER_LINE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+:")

logger = logging.getLogger(__name__)


class Refusal(Exception):
    """A request the simulator does not serve: the status and the one-line reason it answers."""

    def __init__(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers

    def response(self) -> WireResponse:
        return _plain(self.status, self.message, self.headers)


def _size(count: int) -> str:
    """A byte count with its binary unit: '33554432 bytes (32 MiB)'."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count} bytes ({count // scale} {unit})"
    return f"{count} bytes"


def _shown(text: str | bytes, limit: int = 60) -> str:
    """A piece of a request, quoted and cut short, for a message."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    text = text.rstrip("\r\n")
    return repr(text if len(text) <= limit else text[:limit] + "...")


class Simulator:
    """The routing and the queue, independent of the HTTP server around them."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.queues: dict[str, deque[Entry]] = {}
        self.lock = threading.Lock()

    def find(self, provider: str, wanted: str) -> tuple[Catalog, Entry]:
        catalog = self.registry.get(provider)
        for entry in catalog.servable_entries:
            if wanted in (entry.id, entry.code, entry.inner_code):
                return catalog, entry
        known = sorted({e.code for e in catalog.servable_entries})
        raise KeyError(f"{provider} documents no error {wanted!r}; codes: {', '.join(known)}")

    def route(
        self, method: str, target: str, headers: Mapping[str, str]
    ) -> tuple[Catalog, str] | None:
        """The provider and operation a request addresses, by path (any host: this is loopback)."""
        path = urlsplit(target)
        for catalog in self.registry.all():
            local = Catalog(**{**catalog.__dict__, "hosts": ("*",)})
            operation = local.operation_for(
                method, f"http://loopback{path.path}?{path.query}", headers
            )
            if operation is not None:
                return catalog, operation
        return None

    def queue(self, document: Any) -> str:
        """Queue the error a queue document names; Refusal (400) says what is wrong with it."""
        if not isinstance(document, dict):
            kind = {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
                type(document), "number"
            )
            raise Refusal(
                400, f"the queue body is a JSON {kind}, not an object: send {QUEUE_SHAPE}"
            )
        unknown = sorted(set(document) - {"provider", "code", "entry", "times"})
        if unknown:
            names = ", ".join(repr(k) for k in unknown)
            raise Refusal(400, f"the queue body has unknown keys {names}: send {QUEUE_SHAPE}")
        if "provider" not in document:
            known = ", ".join(self.registry.names)
            raise Refusal(400, f"the queue body names no provider; known: {known}")
        try:
            catalog = self.registry.get(document["provider"])
        except VisionContractError as exc:
            raise Refusal(400, str(exc)) from None
        wanted = document.get("entry", document.get("code"))
        if isinstance(wanted, int) and not isinstance(wanted, bool):
            wanted = str(wanted)
        if not isinstance(wanted, str) or not wanted:
            known = ", ".join(sorted({e.code for e in catalog.servable_entries}))
            raise Refusal(
                400, f"the queue body names no code or entry; {catalog.provider} codes: {known}"
            )
        times = document.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_TIMES:
            raise Refusal(
                400, f"times {json.dumps(times)[:40]} is not an integer from 1 to {MAX_TIMES}"
            )
        try:
            catalog, entry = self.find(catalog.provider, wanted)
        except KeyError as exc:
            raise Refusal(400, str(exc.args[0])) from None
        with self.lock:
            pending = self.queues.setdefault(catalog.provider, deque())
            if len(pending) + times > MAX_TIMES:
                raise Refusal(
                    400,
                    f"the {catalog.provider} queue holds {len(pending)} responses and takes at "
                    f"most {MAX_TIMES}: queue fewer, or let the queued ones be served first",
                )
            pending.extend([entry] * times)
        return entry.id

    def respond(self, method: str, target: str, headers: Mapping[str, str]) -> WireResponse:
        found = self.route(method, target, headers)
        path = urlsplit(target).path or target
        if found is None:
            allowed = [m for m in SERVED_METHODS if self.route(m, target, headers) is not None]
            if allowed:
                return _plain(
                    405,
                    f"{method} {path} is not served: {path} answers {', '.join(allowed)}",
                    (("Allow", ", ".join(allowed)),),
                )
            providers = ", ".join(self.registry.names)
            return _plain(
                404,
                f"no catalog route for {method} {path}: the simulator serves the operations of "
                f"{providers} (visioncontract catalog lists them) and POST {QUEUE_PATH}",
            )
        catalog, operation = found
        asked = headers.get(ERROR_HEADER.lower())
        if asked:
            provider, colon, wanted = asked.partition(":")
            if not colon or not wanted.strip():
                return _plain(
                    400,
                    f"{ERROR_HEADER} {_shown(asked)} is not <provider>:<code or entry id>, "
                    "e.g. azure_face:InvalidImage",
                )
            try:
                catalog, entry = self.find(provider.strip() or catalog.provider, wanted.strip())
            except (KeyError, VisionContractError) as exc:
                return _plain(400, f"{ERROR_HEADER} {_shown(asked)}: {exc.args[0]}")
            return render(catalog, entry)
        with self.lock:
            pending = self.queues.get(catalog.provider)
            queued = pending.popleft() if pending else None
        if queued is not None:
            return render(catalog, queued)
        return success(catalog, operation)


def _plain(status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> WireResponse:
    body = json.dumps({"simulator": text}).encode()
    return WireResponse(
        status, reason_phrase(status), (("Content-Type", "application/json"), *headers), body
    )


class _Reader(io.RawIOBase):
    """The socket's input, read against a deadline: a trickle of bytes cannot hold a thread."""

    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self.connection = connection
        self.deadline = time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        self.connection.settimeout(left)
        return self.connection.recv_into(buffer)


class _Writer(io.BufferedIOBase):
    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self.connection = connection

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.connection.sendall(data)
        return len(data)


def _handler(simulator: Simulator, timeout: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        reader: _Reader
        input: io.BufferedReader
        stage = "request line"

        def setup(self) -> None:
            self.connection = self.request
            # the head and the body go out in two writes: without this the second waits for
            # the client's delayed ACK (40 ms a request on a kept-alive connection)
            with suppress(OSError):  # a connection already reset fails at its first read
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.reader = _Reader(self.connection)
            self.input = io.BufferedReader(self.reader, CHUNK)
            self.rfile = self.input
            self.wfile = _Writer(self.connection)

        def handle_one_request(self) -> None:
            self.close_connection = True
            self.request_version = "HTTP/1.1"  # what the answers speak, even to a bad request
            self.command, self.requestline = "", ""
            self.reader.deadline = time.monotonic() + timeout
            try:
                if not self.input.peek(1):
                    return  # the client closed the connection
            except OSError:  # idle for `timeout` seconds, or reset: close without a word
                return
            self.reader.deadline = time.monotonic() + timeout
            self.stage = "request line"
            try:
                self._serve()
            except Refusal as refusal:
                self._refuse(refusal)
            except TimeoutError:
                self._refuse(
                    Refusal(
                        408,
                        f"timed out after {timeout:g} s waiting for the {self.stage}: send the "
                        "whole request at once",
                    )
                )
            except OSError:
                return  # the client went away
            except Exception:
                logger.exception("simulator: unexpected error serving %r", self.requestline)
                self._refuse(Refusal(500, "unexpected error in the simulator (logged)"))

        def _serve(self) -> None:
            method, target = self._read_head()
            length, chunked = self._framing()
            keep = method == "POST" and urlsplit(target).path == QUEUE_PATH
            cap = QUEUE_BODY_CAP if keep else BODY_CAP
            if length > cap:
                value = self.headers.get("Content-Length", "").strip()
                raise Refusal(
                    413,
                    f"Content-Length {_shown(value)} is over the cap of {_size(cap)} for "
                    f"{method} {urlsplit(target).path}: send at most {cap}",
                )
            if self.headers.get("Expect", "").lower() == "100-continue":
                self.send_response_only(100)
                self.end_headers()
            body = self._read_chunked(cap, keep) if chunked else self._read_body(length, keep)
            self.stage = "request line"
            self._send(self._answer(method, target, body))

        def _line(self, cap: int, what: str, status: int = 400, whole: int = 0) -> bytes:
            """One line of at most ``cap`` bytes; over it, ``status`` naming the ``whole`` cap."""
            line = self.input.readline(cap + 1)
            if len(line) > cap:
                whole = whole or cap
                raise Refusal(status, f"{what} over {_size(whole)}: send at most {whole}")
            if not line.endswith(b"\n"):
                raise Refusal(400, f"the connection ended inside the {what}")
            return line

        def _read_head(self) -> tuple[str, str]:
            line = self._line(REQUEST_LINE_CAP, "request line", 414)
            for _ in range(8):  # empty lines before a request are to be ignored (RFC 9112 2.2)
                if line.strip(b"\r\n"):
                    break
                line = self._line(REQUEST_LINE_CAP, "request line", 414)
            text = line.decode("latin-1").rstrip("\r\n")
            self.requestline = text
            match = REQUEST_LINE.fullmatch(text)
            if match is None or not re.fullmatch(r"HTTP/\d+(\.\d+)?", match["version"]):
                raise Refusal(
                    400, f"request line {_shown(text)} is not HTTP: send METHOD /path HTTP/1.1"
                )
            if match["version"] not in ("HTTP/1.0", "HTTP/1.1"):
                version = match["version"].removeprefix("HTTP/")
                raise Refusal(
                    505, f"HTTP version {version} is not served: send HTTP/1.1 or HTTP/1.0"
                )
            method, target = match["method"], match["target"]
            asterisk = target == "*" and method == "OPTIONS"
            if not (target.startswith("/") or asterisk or re.match(r"https?://", target)):
                raise Refusal(
                    400,
                    f"request target {_shown(target)} is not a path: send /path or "
                    "http://host/path",
                )
            try:
                urlsplit(target)
            except ValueError:
                raise Refusal(400, f"request target {_shown(target)} is not a URL") from None
            self.command, self.path = method, target
            self.stage = "headers"
            lines: list[bytes] = []
            size = 0
            while True:
                header = self._line(HEAD_CAP - size, "request headers", 431, HEAD_CAP)
                size += len(header)
                if header in (b"\r\n", b"\n"):
                    break
                if len(lines) == MAX_HEADERS:
                    raise Refusal(
                        431, f"more than {MAX_HEADERS} header fields: send at most {MAX_HEADERS}"
                    )
                if header[:1] in (b" ", b"\t"):
                    raise Refusal(
                        400,
                        f"header line {_shown(header)} continues the previous one (obsolete "
                        "line folding): send each header on one line",
                    )
                if not HEADER_LINE.match(header.decode("latin-1")):
                    raise Refusal(400, f"header line {_shown(header)} is not 'Name: value'")
                lines.append(header)
            parser = email.parser.Parser(_class=HTTPMessage)
            self.headers = parser.parsestr(b"".join(lines).decode("latin-1") + "\r\n")
            connection = self.headers.get("Connection", "").lower()
            if match["version"] == "HTTP/1.1":
                self.close_connection = connection == "close"
            else:
                self.close_connection = connection != "keep-alive"
            return method, target

        def _framing(self) -> tuple[int, bool]:
            """The body's length (Content-Length) or chunked transfer coding."""
            codings = self.headers.get_all("Transfer-Encoding") or []
            lengths = self.headers.get_all("Content-Length") or []
            if codings and lengths:
                raise Refusal(
                    400, "both Transfer-Encoding and Content-Length given: send one of them"
                )
            if codings:
                given = ", ".join(codings)
                if [c.strip().lower() for c in given.split(",")] != ["chunked"]:
                    raise Refusal(
                        400,
                        f"Transfer-Encoding {_shown(given)} is not served: send Content-Length, "
                        "or Transfer-Encoding: chunked",
                    )
                return 0, True
            if not lengths:
                return 0, False
            if len(set(v.strip() for v in lengths)) > 1:
                shown = ", ".join(lengths)
                raise Refusal(400, f"Content-Length given twice ({shown}): send it once")
            value = lengths[0].strip()
            if not re.fullmatch(r"[0-9]+", value):
                raise Refusal(
                    400,
                    f"Content-Length {_shown(value)} is not a byte count: send a decimal "
                    f"integer from 0 to {BODY_CAP}",
                )
            return int(value) if len(value) <= 18 else 10**18, False

        def _read_body(self, length: int, keep: bool, what: str = "body") -> bytes:
            """``length`` bytes of body (kept only if ``keep``; otherwise read and discarded)."""
            kept: list[bytes] = []
            got = 0
            while got < length:
                self.stage = f"{what} ({got} of {length} bytes came)"
                chunk = self.input.read1(min(CHUNK, length - got))
                if not chunk:
                    promised = "Content-Length" if what == "body" else "its size line"
                    raise Refusal(
                        400,
                        f"the connection ended after {got} of the {length} {what} bytes "
                        f"{promised} promised",
                    )
                got += len(chunk)
                if keep:
                    kept.append(chunk)
            return b"".join(kept)

        def _read_chunked(self, cap: int, keep: bool) -> bytes:
            kept: list[bytes] = []
            total = 0
            while True:
                self.stage = f"chunked body ({total} bytes came)"
                line = self._line(1024, "chunk size line")
                digits = line.split(b";")[0].strip()
                if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", digits):
                    raise Refusal(
                        400, f"chunk size {_shown(digits)} is not a hexadecimal byte count"
                    )
                size = int(digits, 16)
                if size == 0:
                    break
                total += size
                if total > cap:
                    raise Refusal(
                        413,
                        f"chunked body over the cap of {_size(cap)} for {self.command} "
                        f"{urlsplit(self.path).path}: send at most {cap}",
                    )
                kept.append(self._read_body(size, keep, "chunk"))
                self.stage = f"chunked body ({total} bytes came)"
                if self.input.read(2) != b"\r\n":
                    raise Refusal(
                        400, "a chunk's data does not end where its size line says: send CRLF"
                    )
            used = 0
            while True:  # trailer fields, ignored
                line = self._line(HEAD_CAP - used, "request trailers", 431, HEAD_CAP)
                used += len(line)
                if line in (b"\r\n", b"\n"):
                    return b"".join(kept)

        def _answer(self, method: str, target: str, body: bytes) -> WireResponse:
            served = ", ".join(SERVED_METHODS)
            if method not in SERVED_METHODS:
                return _plain(
                    405,
                    f"method {_shown(method)} is not served: send one of {served}",
                    (("Allow", served),),
                )
            if urlsplit(target).path == QUEUE_PATH:
                if method != "POST":
                    return _plain(
                        405,
                        f"{method} {QUEUE_PATH} is not served: POST {QUEUE_SHAPE}",
                        (("Allow", "POST"),),
                    )
                try:
                    document = json.loads(body)
                except (ValueError, RecursionError) as exc:
                    if not body:
                        reason = "empty"
                    elif isinstance(exc, json.JSONDecodeError):
                        reason = str(exc)
                    elif isinstance(exc, UnicodeDecodeError):
                        reason = "not UTF-8"
                    else:
                        reason = "nested too deeply"
                    return _plain(400, f"the queue body is not JSON ({reason}): send {QUEUE_SHAPE}")
                try:
                    return _plain(200, f"queued {simulator.queue(document)}")
                except Refusal as refusal:
                    return refusal.response()
            errors = self.headers.get_all(ERROR_HEADER) or []
            if len(errors) > 1:
                return _plain(400, f"{ERROR_HEADER} given {len(errors)} times: send it once")
            headers = {k.lower(): v for k, v in self.headers.items()}
            return simulator.respond(method, target, headers)

        def _send(self, response: WireResponse) -> None:
            self.reader.connection.settimeout(timeout)
            self.send_response(response.status, response.reason)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def _refuse(self, refusal: Refusal) -> None:
            """Answer, then discard what the client still sends for a while before closing:
            closing with unread input would reset the connection and lose the answer."""
            self.close_connection = True
            try:
                self._send(
                    Refusal(
                        refusal.status, refusal.message, (*refusal.headers, ("Connection", "close"))
                    ).response()
                )
                self.connection.shutdown(socket.SHUT_WR)
                self.reader.deadline = time.monotonic() + min(timeout, LINGER)
                while self.input.read1(CHUNK):
                    pass
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

    return Handler


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once; quiet on stderr."""

    daemon_threads = True
    block_on_close = False  # stopping does not wait for clients' idle connections
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self, address: tuple[str, int], simulator: Simulator, timeout: float, max_connections: int
    ) -> None:
        self.slots = threading.BoundedSemaphore(max_connections)
        self.closing = threading.Event()
        self.open: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(address, _handler(simulator, timeout))

    def process_request(self, request: Any, client_address: Any) -> None:
        while not self.slots.acquire(timeout=0.05):  # full: the rest wait in the listen queue
            if self.closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.open_lock:
                self.open.discard(request)
            self.slots.release()

    def close_connections(self) -> None:
        """End the connections still open (kept-alive ones too): a stopped simulator answers
        nothing more, and their threads end now rather than at their idle timeout."""
        with self.open_lock:
            for connection in self.open:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("simulator: unexpected error with %s", client_address)

    def shutdown(self) -> None:
        self.closing.set()
        super().shutdown()


@contextmanager
def running(
    registry: Registry,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    timeout: float = TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> Iterator[str]:
    """Run the simulator in a thread; yields its base URL (port 0 picks a free port)."""
    server = _Server((host, port), Simulator(registry), timeout, max_connections)
    thread = threading.Thread(  # polls often, so that leaving the block is quick
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        server.close_connections()


def serve_forever(
    registry: Registry,
    host: str,
    port: int,
    *,
    timeout: float = TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> None:
    server = _Server((host, port), Simulator(registry), timeout, max_connections)
    print(f"visioncontract simulator on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
