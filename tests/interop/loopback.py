"""A real HTTP server on 127.0.0.1 that answers every request with one response or one fault.

The truth the async interop tests compare the plugin with: what an SDK raises when a real
server sends the bytes ``pytest_visioncontract.wire`` builds (``render`` + ``variant``), and
when the network really fails. :func:`serving` is ``tests/fidelity.py``'s ``RealServer``
(standard library only; port 0, a free port; one thread per connection) with
``content_length=True``:

- a :class:`~pytest_visioncontract.wire.WireResponse` is written as an HTTP/1.1 response with its
  status line, its headers and a ``Content-Length`` of its body (what the plugin's simulator
  sends), then the connection is closed;
- ``Fault("connection_reset")`` reads the whole request, then closes with ``SO_LINGER`` (1, 0):
  the kernel sends a TCP RST instead of a FIN;
- ``Fault("read_timeout")`` reads the whole request and never answers; the client must give up
  on its own (short) read timeout. The connection is closed when the client hangs up or the
  server stops.

``server.base`` is ``http://127.0.0.1:<port>``, ``server.requests`` the request lines seen.
"""

from __future__ import annotations

from typing import NamedTuple

from fidelity import RealServer

from pytest_visioncontract.catalog import builtin_catalog
from pytest_visioncontract.wire import VARIANTS, Fault, WireResponse, render, variant

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


def azure_seen(error: BaseException, status: int, code: str) -> Seen:
    """What escaped an azure-core SDK: status and code as ``HttpResponseError`` carries them
    (``.status_code``, ``.error.code``), the wrapped ``inner_exception`` if it is another."""
    inner = getattr(error, "inner_exception", None)
    odata = getattr(error, "error", None)
    return Seen(
        type(error),
        None if inner is None or inner is error else type(inner),
        getattr(error, "status_code", None) == status,
        getattr(odata, "code", None) == code,
    )


def kind_id(kind: str | None) -> str:
    return kind or "documented"


def serving(answer: WireResponse | Fault) -> RealServer:
    """The loopback server answering ``answer``, with a ``Content-Length`` on every response
    (as a real provider sends it); use it as a context manager."""
    return RealServer(answer, content_length=True)


def documented(provider: str, entry_id: str) -> WireResponse:
    """The documented response of one catalog entry, as the plugin renders it."""
    catalog = builtin_catalog(provider)
    (entry,) = [e for e in catalog.entries if e.id == entry_id]
    return render(catalog, entry)


def served(provider: str, entry_id: str, kind: str | None) -> WireResponse | Fault:
    """What the plugin serves for ``entry_id`` as variant ``kind`` (None: the documented body)."""
    response = documented(provider, entry_id)
    return response if kind is None else variant(response, kind)
