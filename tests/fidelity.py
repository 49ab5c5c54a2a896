"""What a client observes: through the plugin, and from a real server sending the same bytes.

The harness of ``tests/test_fidelity.py`` (and ``tests/interop/test_fidelity_azure_core.py``):

- :class:`RealServer`, a loopback HTTP server (127.0.0.1, port 0, one thread per connection)
  that answers every request with one :class:`~pytest_visioncontract.wire.WireResponse` or one
  real :class:`~pytest_visioncontract.wire.Fault` (the async interop tests' truth too, through
  ``tests/interop/loopback.py``):

  - a response is written as exactly its bytes: the status line, the response's own headers and
    nothing else, the body, then the connection is closed (HTTP/1.1 lets a close end a response
    that declares no length). No ``Content-Length``, ``Date`` or ``Server`` is added, because
    the plugin exposes none: both sides then deliver the same bytes, and any difference a
    client shows comes from how it is served, not from what. With ``content_length=True`` (the
    async interop tests) a ``Content-Length`` of the body is added after the response's headers, as a
    real provider and the plugin's simulator send it;
  - ``connection_reset`` reads the whole request, then closes with ``SO_LINGER`` (1, 0), so the
    kernel sends a TCP RST instead of a FIN;
  - ``read_timeout`` reads the whole request and never answers: the client gives up on its own
    (short) timeout. The connection is held until the client hangs up or the server stops
    (:data:`STALL_LIMIT` at most).

- :func:`observe_call` and :func:`outcome`, which turn what a client did into plain data:
  the exact class of an exception (module and qualified name) and which of the fixed
  :data:`CLAUSES` (``except`` clauses a careful client writes) catch it, or the value.

Two observations of the same client are compared with ``==``; URLs never enter them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

# httpx >= 0.28 imports httpcore lazily and maps its exceptions through a table built once; a
# pytester in-process run that imports httpcore first drops it afterwards, and the next import
# makes classes the table does not know (real httpx then leaks httpcore.ReadError). Import it
# before any test runs. (tests/conftest.py would be the better place.)
import httpcore  # noqa: F401

from pytest_visioncontract.catalog import builtin_catalog
from pytest_visioncontract.wire import VARIANTS, Fault, WireResponse, render, success, variant

STALL_LIMIT = 30.0  # seconds a stalled (read_timeout) connection is held at most
TIMEOUT = 0.2  # the clients' own read timeout, in seconds: what a stalled server runs into

# The served side: a provider host the plugin answers (the real side uses 127.0.0.1).
PLUGIN_BASE = "https://myres.cognitiveservices.azure.com"
PATH = "/face/v1.2/detect?returnFaceId=false"
PLUGIN_HOST = "myres.cognitiveservices.azure.com"
SENT_HEADERS = {"Content-Type": "application/json", "Ocp-Apim-Subscription-Key": "k"}

# ``except`` clauses whose verdict on an exception is part of what a client observes: each
# library's documented exception types and the builtins clients catch. Libraries that are not
# installed (azure-core outside the interop extra) are left out.
CLAUSE_NAMES = (
    "builtins.Exception",
    "builtins.OSError",
    "builtins.ConnectionError",
    "builtins.ConnectionResetError",
    "builtins.TimeoutError",
    "builtins.ValueError",
    "builtins.UnicodeDecodeError",
    "asyncio.TimeoutError",
    "json.JSONDecodeError",
    "http.client.HTTPException",
    "http.client.IncompleteRead",
    "http.client.RemoteDisconnected",
    "requests.RequestException",
    "requests.ConnectionError",
    "requests.Timeout",
    "requests.ReadTimeout",
    "requests.HTTPError",
    "requests.JSONDecodeError",
    "requests.exceptions.ChunkedEncodingError",
    "urllib3.exceptions.HTTPError",
    "urllib3.exceptions.ProtocolError",
    "urllib3.exceptions.ReadTimeoutError",
    "urllib3.exceptions.TimeoutError",
    "urllib3.exceptions.MaxRetryError",
    "urllib3.exceptions.NewConnectionError",
    "httpx.HTTPError",
    "httpx.HTTPStatusError",
    "httpx.RequestError",
    "httpx.TransportError",
    "httpx.TimeoutException",
    "httpx.ReadTimeout",
    "httpx.NetworkError",
    "httpx.ReadError",
    "httpx.RemoteProtocolError",
    "httpx.DecodingError",
    "aiohttp.ClientError",
    "aiohttp.ClientConnectionError",
    "aiohttp.ClientOSError",
    "aiohttp.ServerConnectionError",
    "aiohttp.ServerTimeoutError",
    "aiohttp.ServerDisconnectedError",
    "aiohttp.ClientPayloadError",
    "aiohttp.ClientResponseError",
    "aiohttp.ContentTypeError",
    "azure.core.exceptions.AzureError",
    "azure.core.exceptions.ServiceRequestError",
    "azure.core.exceptions.ServiceResponseError",
    "azure.core.exceptions.ServiceResponseTimeoutError",
    "azure.core.exceptions.HttpResponseError",
    "azure.core.exceptions.DecodeError",
    "azure.core.exceptions.IncompleteReadError",
)


def _resolve(name: str) -> type[BaseException] | None:
    module, _, attribute = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


CLAUSES: dict[str, type[BaseException]] = {
    name: cls for name in CLAUSE_NAMES if (cls := _resolve(name)) is not None
}


def qualified(cls: type[BaseException]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def raised(exc: BaseException) -> dict[str, Any]:
    """An exception as a client meets it: its exact class and the clauses that catch it."""
    return {
        "raises": qualified(type(exc)),
        "caught_by": sorted(name for name, cls in CLAUSES.items() if isinstance(exc, cls)),
    }


def outcome(call: Callable[[], Any]) -> Any:
    """The value ``call`` returns, or what it raises (see :func:`raised`)."""
    try:
        return call()
    except Exception as exc:
        return raised(exc)


async def async_outcome(call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await call()
    except Exception as exc:
        return raised(exc)


def header_list(items: Any) -> list[tuple[str, str]]:
    """Headers as a client reads them, names folded to lower case (HTTP names ignore case)."""
    return [(str(name).lower(), str(value)) for name, value in items]


# --------------------------------------------------------------------------- responses


def documented() -> WireResponse:
    """Azure Face's documented 429, with its Retry-After."""
    catalog = builtin_catalog("azure_face")
    entry = next(e for e in catalog.entries if e.status == 429)
    return render(catalog, entry)


def succeeded() -> WireResponse:
    return success(builtin_catalog("azure_face"), "detect")


def with_header(response: WireResponse, name: str, value: str) -> WireResponse:
    headers = (*response.headers, (name, value))
    return WireResponse(response.status, response.reason, headers, response.body)


# What the plugin serves: a documented error, a success body, each variant of the error, and
# (as in a cassette recorded from a live service) a response that declares its length.
SHAPES: tuple[str, ...] = ("documented", "success", *VARIANTS, "content_length")


def shape(name: str) -> WireResponse | Fault:
    if name == "documented":
        return documented()
    if name == "success":
        return succeeded()
    if name == "content_length":
        return with_header(documented(), "Content-Length", str(len(documented().body)))
    # Known differences (tests/test_fidelity.py pins them; docs/robustness.md lists them):
    if name == "repeated_header":  # one header name twice, another between them
        base = documented()
        headers = (("Set-Cookie", "a=1"), *base.headers, ("Set-Cookie", "b=2"))
        return WireResponse(base.status, base.reason, headers, base.body)
    if name == "short_of_content_length":  # the connection closes before the declared length
        return with_header(documented(), "Content-Length", str(len(documented().body) + 10))
    return variant(documented(), name)


# --------------------------------------------------------------------------- the real server


def encode(response: WireResponse, *, content_length: bool = False) -> bytes:
    """The bytes of a response: status line, its headers (and no others, but a ``Content-Length``
    of the body with ``content_length``), body."""
    head = [f"HTTP/1.1 {response.status} {response.reason}".rstrip()]
    head += [f"{name}: {value}" for name, value in response.headers]
    if content_length:
        head.append(f"Content-Length: {len(response.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body


class RealServer:
    """A loopback server answering every request with ``answer``; ``base`` is its URL
    (``http://127.0.0.1:<port>``), ``requests`` the request lines of the requests it read whole.
    ``content_length``: add a ``Content-Length`` to every response (see :func:`encode`)."""

    def __init__(self, answer: WireResponse | Fault, *, content_length: bool = False) -> None:
        self.answer = answer
        self.content_length = content_length
        self.requests: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self.port: int = self._listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RealServer:
        self._accepting.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress
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
        with connection:
            connection.settimeout(5)
            request_line = _read_request(connection)
            if request_line is None:
                return
            self.requests.append(request_line)
            answer = self.answer
            if isinstance(answer, WireResponse):
                with contextlib.suppress(OSError):  # the client may have given up already
                    connection.sendall(encode(answer, content_length=self.content_length))
                    connection.shutdown(socket.SHUT_WR)
            elif answer.kind == "connection_reset":
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:  # read_timeout: say nothing until the client hangs up (or the server stops)
                connection.settimeout(0.02)
                deadline = time.monotonic() + STALL_LIMIT
                while not self._stop.is_set() and time.monotonic() < deadline:
                    try:
                        if not connection.recv(65536):
                            return
                    except TimeoutError:
                        continue
                    except OSError:
                        return


def _read_request(connection: socket.socket) -> str | None:
    """Reads one whole request (head and ``Content-Length`` body); its request line, or None
    if the client closed or failed first."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            body += chunk
    except OSError:
        return None
    return lines[0]


# --------------------------------------------------------------------------- both sides

Client = Callable[[str], dict[str, Any]]  # base URL (scheme://host[:port]) -> observation


def through_plugin(client: Client, answer: WireResponse | Fault) -> dict[str, Any]:
    from pytest_visioncontract import serve

    with serve(answer) as exchange:
        observed = client(PLUGIN_BASE)
    return {**observed, "requests made": len(exchange.requests)}


def from_real_server(client: Client, answer: WireResponse | Fault) -> dict[str, Any]:
    with RealServer(answer) as server:
        observed = client(server.base)
    return {**observed, "requests made": len(server.requests)}


def run(coroutine: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        return await coroutine

    return asyncio.run(main())


def body_json() -> bytes:
    return json.dumps({"url": "https://example.com/face.jpg"}).encode()
