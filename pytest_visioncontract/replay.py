"""Serving responses to client code through vcrpy (the only module that imports vcr).

vcrpy patches every HTTP library it knows (requests, urllib3, httpx sync and async, aiohttp,
http.client, ...). Entering and leaving those patches costs more than a whole test, so the
:class:`Server` enters them once for a run of consecutive marked tests and swaps only the
:class:`Exchange` (what to answer, and the log of what was asked) between cases.
"""

from __future__ import annotations

import contextlib
import functools
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


@functools.cache
def _fault_classes() -> dict[str, type[BaseException]]:
    """Exceptions a network fault raises, recognisable by every HTTP library vcrpy serves.

    The transport errors httpx and aiohttp raise for the failure (where installed) are combined
    with the socket-level error that requests, urllib3 and http.client see and wrap.
    """
    reset: list[type[BaseException]] = []
    timeout: list[type[BaseException]] = []
    with contextlib.suppress(ImportError):
        import httpx

        reset.append(httpx.ReadError)
        timeout.append(httpx.ReadTimeout)
    with contextlib.suppress(ImportError):
        import aiohttp

        reset.append(aiohttp.ClientOSError)
        timeout.append(aiohttp.ServerTimeoutError)

    def init(self: BaseException, *args: Any) -> None:
        BaseException.__init__(self, *args)  # OSError.__new__ already set errno and strerror

    return {
        "connection_reset": type(
            "ConnectionResetFault", (*reset, ConnectionResetError), {"__init__": init}
        ),
        "read_timeout": type("ReadTimeoutFault", (*timeout, TimeoutError), {"__init__": init}),
    }


def fault_exception(kind: str) -> BaseException:
    message = {
        "connection_reset": "Connection reset by peer (served by pytest-visioncontract)",
        "read_timeout": "The read operation timed out (served by pytest-visioncontract)",
    }[kind]
    errno = 104 if kind == "connection_reset" else 110
    return _fault_classes()[kind](errno, message)


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
            raise fault_exception(requested.fault.kind) from None
        return answer.as_vcr()


@contextlib.contextmanager
def _quick_resets() -> Iterator[None]:
    """Make vcrpy's per-connection un-patching cheap while the patches are on.

    Every connection vcrpy's stubs open briefly restores the real classes
    (``vcr.patch.force_reset``), and the list of what to restore is rebuilt each time by
    importing every library vcrpy supports; the ones not installed fail to import, which walks
    ``sys.path`` again and again and costs more than the rest of a test case. The list cannot
    change while the patches are on, so compute it once and hand out fresh patchers from it.
    Without the private function (another vcrpy version), nothing changes but the speed.
    """
    build = getattr(vcr.patch, "reset_patchers", None)
    if build is None:
        yield
        return
    triples = [(p.getter(), p.attribute, p.new) for p in build()]

    def reset_patchers() -> Iterator[Any]:
        for target, attribute, original in triples:
            yield mock.patch.object(target, attribute, original)

    vcr.patch.reset_patchers = reset_patchers
    try:
        yield
    finally:
        vcr.patch.reset_patchers = build


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

    The first activation of vcrpy's patches imports its stubs for every HTTP library; the
    first fault builds its exception classes. Inside a user's ``@given`` test that cost lands
    on the first example and can exceed Hypothesis' deadline, so importing ``serve`` or
    building a strategy (at collection) calls this once per process.
    """
    server = Server()
    server.activate()
    server.deactivate()
    _fault_classes()


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
