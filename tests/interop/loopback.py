"""A real HTTP server on 127.0.0.1 that answers every request with one response or one fault.

The truth the async interop tests compare the plugin with: what an SDK raises when a real
server sends the bytes ``pytest_visioncontract.wire`` builds (``render`` + ``variant``), and
when the network really fails:

- a :class:`~pytest_visioncontract.wire.WireResponse` is written as an HTTP/1.1 response with its
  status line, its headers and a ``Content-Length`` of its body (what the plugin's simulator
  sends), then the connection is closed;
- ``Fault("connection_reset")`` reads the whole request, then closes with ``SO_LINGER`` (1, 0):
  the kernel sends a TCP RST instead of a FIN;
- ``Fault("read_timeout")`` reads the whole request and never answers; the client must give up
  on its own (short) read timeout. The connection is closed when the server stops.

Standard library only; port 0 (a free port); one thread per connection.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from typing import NamedTuple

from pytest_visioncontract.catalog import builtin_catalog
from pytest_visioncontract.wire import VARIANTS, Fault, WireResponse, render, variant

STALL_LIMIT = 30.0  # seconds a read_timeout connection is held at most
KINDS: tuple[str | None, ...] = (None, *VARIANTS)  # None: the documented body
SHORT_TIMEOUT = 0.5  # seconds: the SDKs' read timeout against a stalled loopback response


class Seen(NamedTuple):
    """What escaped the SDK, compared between the loopback server and the plugin."""

    exception: type[BaseException]  # the exact type
    inner: type[BaseException] | None  # what it wraps (``inner_exception``), if anything
    status: bool  # carries the served status
    code: bool  # carries the served code

    def __str__(self) -> str:
        inner = f" (inner {self.inner.__qualname__})" if self.inner else ""
        return f"{self.exception.__qualname__}{inner}, status {self.status}, code {self.code}"


def kind_id(kind: str | None) -> str:
    return kind or "documented"


class Loopback:
    """The server; ``url`` is ``http://127.0.0.1:<port>``, ``requests`` the request lines seen."""

    def __init__(self, answer: WireResponse | Fault) -> None:
        self.answer = answer
        self.requests: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._accepting.start()

    def stop(self) -> None:
        self._stop.set()
        self._accepting.join(5)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with contextlib.ExitStack() as stack:
            stack.callback(connection.close)
            connection.settimeout(5)
            if not self._read_request(connection):
                return
            answer = self.answer
            if isinstance(answer, WireResponse):
                with contextlib.suppress(OSError):  # the client may have given up already
                    connection.sendall(encode(answer))
                    connection.shutdown(socket.SHUT_WR)
            elif answer.kind == "connection_reset":
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:  # read_timeout: hold the connection, say nothing
                self._stop.wait(STALL_LIMIT)

    def _read_request(self, connection: socket.socket) -> bool:
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return False
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            self.requests.append(lines[0])
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    return False
                body += chunk
        except OSError:
            return False
        return True


def encode(response: WireResponse) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {response.reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    lines.append(f"Content-Length: {len(response.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


@contextlib.contextmanager
def serving(answer: WireResponse | Fault) -> Iterator[Loopback]:
    server = Loopback(answer)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def documented(provider: str, entry_id: str) -> WireResponse:
    """The documented response of one catalog entry, as the plugin renders it."""
    catalog = builtin_catalog(provider)
    (entry,) = [e for e in catalog.entries if e.id == entry_id]
    return render(catalog, entry)


def served(provider: str, entry_id: str, kind: str | None) -> WireResponse | Fault:
    """What the plugin serves for ``entry_id`` as variant ``kind`` (None: the documented body)."""
    response = documented(provider, entry_id)
    return response if kind is None else variant(response, kind)
