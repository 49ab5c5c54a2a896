"""Serving responses to client code through vcrpy (the only module that imports vcr).

vcrpy patches every HTTP library it knows (requests, urllib3, httpx sync and async, aiohttp,
http.client, ...). Entering and leaving those patches costs more than a whole test, so the
:class:`Server` enters them once for a run of consecutive marked tests and swaps only the
:class:`Exchange` (what to answer, and the log of what was asked) between cases.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from unittest import mock

import vcr.patch
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode

from pytest_visioncontract.exchange import (
    Exchange,
    FaultRequested,
    RecordedRequest,
    RequestCapReached,
    UnexpectedRequest,
    virtual_sleep,
)

OUTSIDE_CASE = (
    "pytest-visioncontract: {request} was made while vcrpy's patches were active but outside "
    "a vision_errors case (in a fixture?); nothing is served there and nothing reaches "
    "the network"
)


__all__ = [
    "Exchange",
    "RecordedRequest",
    "RequestCapReached",
    "Server",
    "UnexpectedRequest",
    "serve",
    "virtual_sleep",
    "warm_up",
]


FAULT_MESSAGES = {
    "connection_reset": "Connection reset by peer (served by pytest-visioncontract)",
    "read_timeout": "timed out (served by pytest-visioncontract)",
}
_FAULT_TAG = "_visioncontract_fault"  # set on the socket-level error a served fault raises
LIBRARIES = ("socket", "httpx", "aiohttp")


def fault_exception(kind: str, library: str = "socket", **context: Any) -> BaseException:
    """The exception ``library`` raises when the network fails as ``kind`` says.

    ``socket`` is what a socket call raises (``ConnectionResetError``, ``TimeoutError``): the
    http.client level, where urllib3 and requests wrap it exactly as they wrap a real socket's
    error. ``httpx`` takes the request (``request=``) and gives ``httpx.ReadError`` /
    ``httpx.ReadTimeout``; ``aiohttp`` takes the effective ``aiohttp.ClientTimeout``
    (``timeout=``) and gives ``aiohttp.ClientOSError`` for a reset and, for a stall, what
    aiohttp raises when the first of its timers runs out: ``sock_read`` (aiohttp's
    ``SocketTimeoutError``, ``ServerTimeoutError`` before 3.10) or ``total``
    (``asyncio.TimeoutError``; also when no timer is set at all, where a real client would
    wait forever). docs/robustness.md has the table; tests/test_fidelity.py proves it.
    """
    message = FAULT_MESSAGES[kind]
    if library == "httpx":
        import httpx

        httpx_error = httpx.ReadError if kind == "connection_reset" else httpx.ReadTimeout
        return httpx_error(message, request=context.get("request"))
    if library == "aiohttp":
        import aiohttp

        if kind == "connection_reset":
            return aiohttp.ClientOSError(errno.ECONNRESET, message)
        if _aiohttp_read_timer(context.get("timeout")) == "sock_read":
            sock_read = getattr(aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError)
            return sock_read(f"Timeout on reading data from socket ({message})")
        return TimeoutError()  # what asyncio's timeout raises: no message
    if library != "socket":
        raise ValueError(f"unknown library {library!r}; known: {', '.join(LIBRARIES)}")
    error: OSError = (
        ConnectionResetError(errno.ECONNRESET, message)
        if kind == "connection_reset"
        else TimeoutError(message)
    )
    setattr(error, _FAULT_TAG, kind)
    return error


def _aiohttp_read_timer(timeout: Any) -> str:
    """Which of aiohttp's timers a stalled response runs out first: ``sock_read`` or ``total``."""
    sock_read = getattr(timeout, "sock_read", None)
    total = getattr(timeout, "total", None)
    if sock_read is not None and (total is None or sock_read < total):
        return "sock_read"
    return "total"


def _served_fault(exc: BaseException) -> str | None:
    kind = getattr(exc, _FAULT_TAG, None)
    return kind if isinstance(kind, str) else None


class _ServingCassette(Cassette):  # type: ignore[misc]
    """A cassette that answers every request from the current exchange and records nothing."""

    server: Server

    def _load(self) -> None:
        pass

    def _save(self, force: bool = False) -> None:
        pass

    @property
    def write_protected(self) -> bool:
        return True

    def can_play_response_for(self, request: Any) -> bool:
        return True

    def append(self, request: Any, response: Any) -> None:
        pass

    def play_response(self, request: Any) -> dict[str, Any]:
        exchange = self.server.exchange
        headers = {str(k): str(v) for k, v in dict(request.headers).items()}
        if exchange is None:
            raise UnexpectedRequest(OUTSIDE_CASE.format(request=f"{request.method} {request.uri}"))
        try:
            answer = exchange.handle(request.method, request.uri, headers, request.body)
        except FaultRequested as requested:
            raise fault_exception(requested.fault.kind) from None  # the socket level
        return answer.as_vcr()


@contextlib.contextmanager
def _quick_resets() -> Iterator[None]:
    """Make vcrpy's per-connection un-patching cheap and safe for threads while the patches are on.

    Every connection vcrpy's stubs open briefly restores the real classes
    (``vcr.patch.force_reset``), and the list of what to restore is rebuilt each time by
    importing every library vcrpy supports; the ones not installed fail to import, which walks
    ``sys.path`` again and again and costs more than the rest of a test case. The list cannot
    change while the patches are on, so compute it once and hand out fresh patchers from it.
    Without the private function (another vcrpy version), threads are as safe as vcrpy makes
    them and only the speed changes.
    """
    build = getattr(vcr.patch, "reset_patchers", None)
    if build is None:
        yield
        return
    # Only http.client's own names: its HTTPSConnection.__init__ calls super() through the
    # module's name, so it must see the real class. Un-patching anything else (urllib3's pool
    # classes, httpx's transports) would open a window in which a request another thread makes
    # at that moment gets the real class and goes around the cassette; while the plugin serves,
    # nothing ever connects for real, so nothing else needs restoring.
    triples = [
        (target, p.attribute, p.new)
        for p in build()
        if getattr(target := p.getter(), "__name__", "") == "http.client"
    ]

    def reset_patchers() -> Iterator[Any]:
        for target, attribute, original in triples:
            yield mock.patch.object(target, attribute, original)

    vcr.patch.reset_patchers = reset_patchers
    try:
        yield
    finally:
        vcr.patch.reset_patchers = build


# --------------------------------------------------------------------------- fidelity
#
# Where vcrpy's stubs differ from the library they stand in for, the plugin corrects them while
# its patches are on, so a client observes what a real server's bytes would show it
# (tests/test_fidelity.py compares both sides cell by cell). These rely on vcrpy internals,
# each named in PRIVATE_VCR_API and checked by tests/test_fidelity.py::test_vcrpy_internals_*.

PRIVATE_VCR_API = (
    "vcr.patch.reset_patchers() (the patchers force_reset re-applies: speed, thread safety)",
    "vcr.stubs.VCRHTTPResponse.getheaders and .recorded_response['headers'] (header order)",
    "vcr.stubs.aiohttp_stubs.build_response(vcr_request, vcr_response, history) and "
    "MockClientResponse (aiohttp's body methods)",
    "vcrpy replaces httpx.HTTPTransport.handle_request, "
    "httpx.AsyncHTTPTransport.handle_async_request and aiohttp.ClientSession._request "
    "(the plugin wraps them to raise each library's own fault exceptions)",
)


def _ordered_getheaders(self: Any) -> list[tuple[str, str]]:
    """``HTTPResponse.getheaders()`` in the order the response sent them (vcrpy's walks a set)."""
    import vcr.stubs

    return list(vcr.stubs.parse_headers(self.recorded_response["headers"]).items())


def _httpx_patches() -> Iterator[Any]:
    try:
        import httpx
    except ImportError:
        return
    sync_stub = httpx.HTTPTransport.handle_request
    async_stub = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: Any, request: Any) -> Any:
        try:
            return sync_stub(self, request)
        except OSError as exc:
            kind = _served_fault(exc)
            if kind is None:
                raise
            raise fault_exception(kind, "httpx", request=request) from exc

    async def handle_async_request(self: Any, request: Any) -> Any:
        try:
            return await async_stub(self, request)
        except OSError as exc:
            kind = _served_fault(exc)
            if kind is None:
                raise
            raise fault_exception(kind, "httpx", request=request) from exc

    yield mock.patch.object(httpx.HTTPTransport, "handle_request", handle_request)
    yield mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)


def _aiohttp_timeout(session: Any, kwargs: Mapping[str, Any]) -> Any:
    """The ``ClientTimeout`` a request runs under, resolved as ``ClientSession._request`` does."""
    import aiohttp

    if "timeout" in kwargs:
        timeout = kwargs["timeout"]
        if isinstance(timeout, aiohttp.ClientTimeout):
            return timeout
        if timeout is None or isinstance(timeout, int | float):
            return aiohttp.ClientTimeout(total=timeout)
    return session.timeout  # absent, or aiohttp's own sentinel


def _aiohttp_patches() -> Iterator[Any]:
    try:
        import aiohttp
        from vcr.stubs import aiohttp_stubs
    except ImportError:
        return
    request_stub = aiohttp.ClientSession._request
    build_stub = aiohttp_stubs.build_response

    idempotent: frozenset[str] = getattr(aiohttp.client, "IDEMPOTENT_METHODS", frozenset())

    async def _request(self: Any, method: str, str_or_url: Any, **kwargs: Any) -> Any:
        # aiohttp >= 3.11 sends an idempotent request once more when its connection breaks
        # (RFC 9112 §9.3.1.1); the retry is answered by the script's next response, as a
        # real server would answer it.
        retries = int(method.upper() in idempotent and bool(getattr(self, "_retry_connection", 0)))
        while True:
            try:
                return await request_stub(self, method, str_or_url, **kwargs)
            except OSError as exc:
                kind = _served_fault(exc)
                if kind is None:
                    raise
                if kind == "connection_reset" and retries:
                    retries -= 1
                    continue
                timeout = _aiohttp_timeout(self, kwargs)
                raise fault_exception(kind, "aiohttp", timeout=timeout) from exc

    def build_response(vcr_request: Any, vcr_response: Any, history: Any) -> Any:
        """vcrpy's response, in the state of a real one whose whole body has arrived.

        aiohttp's own ``read``/``text``/``json``/``release`` then run on it: the body is read
        from the response's stream, the charset comes from Content-Type, ``json()`` checks the
        content type, and a released response's body is gone, as aiohttp (per version) does.
        """
        response = build_stub(vcr_request, vcr_response, history)
        response._body = None
        response._released = False
        if response._traces is None:
            response._traces = []
        return response

    yield mock.patch.object(aiohttp.ClientSession, "_request", _request)
    yield mock.patch.object(aiohttp_stubs, "build_response", build_response)
    for name in ("read", "text", "json", "release"):
        real = aiohttp.ClientResponse.__dict__[name]
        yield mock.patch.object(aiohttp_stubs.MockClientResponse, name, real)


@contextlib.contextmanager
def _as_the_libraries_do() -> Iterator[None]:
    """Correct vcrpy's stubs where a client would see them differ from a real server."""
    import vcr.stubs

    with contextlib.ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(vcr.stubs.VCRHTTPResponse, "getheaders", _ordered_getheaders)
        )
        for patcher in (*_httpx_patches(), *_aiohttp_patches()):
            stack.enter_context(patcher)
        yield


NETWORK_BLOCKED = (
    "pytest-visioncontract: {what} was blocked: it went around vcrpy's patches (a "
    "connection class bound before the test, such as `from http.client import "
    "HTTPSConnection`?); nothing leaves this machine during a vision_errors case"
)


def _off_machine(host: object) -> bool:
    """Whether ``host`` (a name or an address) is somewhere other than this machine."""
    if not isinstance(host, str | bytes):
        return False
    name = host.decode() if isinstance(host, bytes) else host
    if name.lower() in ("localhost", "localhost.localdomain", ""):
        return False
    try:
        return not ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return True  # a name to resolve: resolving it already asks the network


@contextlib.contextmanager
def _no_network(server: Server) -> Iterator[None]:
    """Refuse connections and name look-ups that would leave the machine.

    Everything vcrpy serves is answered without a socket; what still reaches one bypassed its
    patches. Loopback stays open (a test's own local server). The current exchange notes what
    was refused, for the verdict.
    """

    def note(what: str) -> str:
        if server.exchange is not None:
            server.exchange.blocked.append(what)
        return NETWORK_BLOCKED.format(what=what)

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def refuse(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and _off_machine(address[0]):
            what = f"a connection to {address[0]}:{address[1]}"
            raise ConnectionRefusedError(errno.ECONNREFUSED, note(what))

    def connect(self: socket.socket, address: Any) -> None:
        refuse(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if _off_machine(host):
            raise socket.gaierror(socket.EAI_NONAME, note(f"looking up {host!r}"))
        return real_getaddrinfo(host, *args, **kwargs)

    with (
        mock.patch.object(socket.socket, "connect", connect),
        mock.patch.object(socket.socket, "connect_ex", connect_ex),
        mock.patch.object(socket, "getaddrinfo", getaddrinfo),
    ):
        yield


class Server:
    """vcrpy's patches, entered once, answering from whichever exchange is current."""

    def __init__(self) -> None:
        self.exchange: Exchange | None = None
        self._stack: contextlib.ExitStack | None = None

    @property
    def active(self) -> bool:
        return self._stack is not None

    def activate(self) -> None:
        if self._stack is not None:
            return
        server = self

        class Bound(_ServingCassette):
            pass

        Bound.server = server
        stack = contextlib.ExitStack()
        stack.enter_context(Bound.use(path="<pytest-visioncontract>", record_mode=RecordMode.NONE))
        stack.enter_context(_quick_resets())
        stack.enter_context(_as_the_libraries_do())
        stack.enter_context(_no_network(self))
        self._stack = stack

    def deactivate(self) -> None:
        self.exchange = None
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()

    @contextlib.contextmanager
    def serving(self, exchange: Exchange) -> Iterator[Exchange]:
        """Serve one exchange (activating the patches if they are not on yet)."""
        self.activate()
        self.exchange = exchange
        try:
            yield exchange
        finally:
            self.exchange = None


@functools.cache
def warm_up() -> None:
    """Pay the one-time costs of serving now rather than inside the first served example.

    The first activation of vcrpy's patches imports its stubs for every HTTP library (and the
    corrections the plugin makes to them). Inside a user's ``@given`` test that cost lands on
    the first example and can exceed Hypothesis' deadline, so importing ``serve`` or building a
    strategy (at collection) calls this once per process.
    """
    server = Server()
    server.activate()
    server.deactivate()


@contextlib.contextmanager
def serve(drawn: Any, *, cap: int = 50) -> Iterator[Exchange]:
    """Serve one response (a WireResponse, a Fault, or a drawn error) to every request inside.

    For a user's own ``@given`` tests. A drawn error answers only its provider's requests;
    anything else raises :class:`UnexpectedRequest` in the client, and nothing reaches the
    network. Sleeps inside are virtual (``exchange.waits``).
    """
    response = getattr(drawn, "response", drawn)
    catalog = getattr(drawn, "catalog", None)
    if catalog is not None:
        route: Callable[[str, str, Mapping[str, str]], str | None] = catalog.operation_for
    else:
        route = lambda method, url, headers: "any"  # noqa: E731

    exchange = Exchange(
        route=route,
        accepts=lambda operation: operation is not None,
        script=[response],
        unmatched_message=lambda r: (
            f"pytest-visioncontract: {r.describe()} is not a request "
            f"to {getattr(catalog, 'provider', 'the served provider')}"
        ),
        cap=cap,
    )
    server = Server()
    try:
        with server.serving(exchange), virtual_sleep(exchange):
            yield exchange
    finally:
        server.deactivate()
