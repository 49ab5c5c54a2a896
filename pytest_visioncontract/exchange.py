"""One case's traffic, whatever serves it: what to answer, what was asked, and virtual time.

Nothing here knows vcrpy (``replay`` serves an :class:`Exchange` through it), so the verdict and
the report read an exchange without loading the HTTP machinery.

Traffic is kept per **flow**: the asyncio task that made a request or slept, else the thread.
Each flow is answered from the start of the script (error ``k`` times, then success), and its
requests and waits are judged on their own, so concurrent calls (``asyncio.gather``, threads)
each get the script a single call gets, and a background task's sleeps are nobody's wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_visioncontract.wire import Fault, WireResponse


@dataclass(frozen=True)
class RecordedRequest:
    """A request the client made, as the plugin saw it."""

    method: str
    url: str
    headers: Mapping[str, str]
    body_length: int
    operation: str | None

    def describe(self) -> str:
        return f"{self.method} {self.url}"


class UnexpectedRequest(Exception):
    """Raised inside the client for a request the case does not serve (it never leaves)."""


class FaultRequested(Exception):
    """The script's answer to this request is a network fault: the serving layer raises the
    exception the calling HTTP library would raise for it."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.kind)
        self.fault = fault


class RequestCapReached(Exception):
    """Raised inside a client that keeps sending requests past the case's cap."""


CAP_MESSAGE = (
    "pytest-visioncontract: request {count} refused: the client kept retrying past the cap of "
    "{cap} requests"
)


class Flow:
    """One line of work inside a case: an asyncio task, or else a thread.

    ``events`` is its timeline: ``("request", i)`` for its request ``i`` (counted from 0 within
    the flow) and ``("sleep", seconds)`` for a virtual wait longer than zero.
    """

    def __init__(self, owner: object, number: int) -> None:
        self._owner = weakref.ref(owner)  # a finished task or thread is not kept alive
        self.number = number  # 1, 2, ... in order of first activity
        self.name = _describe(owner)
        self.requests: list[RecordedRequest] = []
        self.events: list[tuple[str, float]] = []
        self.capped = False

    def owned_by(self, owner: object) -> bool:
        return self._owner() is owner

    @property
    def waits(self) -> list[float]:
        return [value for kind, value in self.events if kind == "sleep"]

    def __repr__(self) -> str:
        return f"<Flow {self.number} {self.name}: {len(self.requests)} request(s)>"


def current_flow_owner() -> object:
    """The asyncio task running this code, else the current thread."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running event loop in this thread
        task = None
    return task if task is not None else threading.current_thread()


def _describe(owner: object) -> str:
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        running = getattr(coro, "__qualname__", None)
        return f"asyncio task {owner.get_name()!r}" + (f" running {running}()" if running else "")
    return f"thread {getattr(owner, 'name', owner)!r}"


@dataclass
class Exchange:
    """One case's traffic: how to route a request, what to answer, and what happened.

    Each flow's request ``i`` is answered with ``script[i]``, the last entry repeating; a
    :class:`Fault` raises inside the client instead. ``cap`` bounds the requests of each flow.
    ``requests`` holds every request in order, whichever flow made it; ``flows`` what each flow
    did; ``timeline`` the requests and virtual sleeps of all flows in order.
    """

    route: Callable[[str, str, Mapping[str, str]], str | None]  # request -> operation or None
    accepts: Callable[[str | None], bool]
    script: Sequence[WireResponse | Fault]
    unmatched_message: Callable[[RecordedRequest], str]
    cap: int | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    unmatched: list[RecordedRequest] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    timeline: list[tuple[Flow, str, float]] = field(default_factory=list)
    answers: list[WireResponse | Fault] = field(default_factory=list)  # one per request
    capped: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _by_owner: dict[int, Flow] = field(default_factory=dict, repr=False)

    @property
    def requesting_flows(self) -> list[Flow]:
        """The flows that made at least one request, in order of their first request."""
        first: dict[int, int] = {}
        for position, (flow, kind, _) in enumerate(self.timeline):
            if kind == "request":
                first.setdefault(id(flow), position)
        return sorted((f for f in self.flows if id(f) in first), key=lambda f: first[id(f)])

    @property
    def waits(self) -> list[float]:
        """Virtual waits longer than zero of the flows that made requests, in order.

        A flow that made no request (a heartbeat, a progress bar) is not the client: its sleeps
        are left out.
        """
        return [value for flow, kind, value in self.timeline if kind == "sleep" and flow.requests]

    def reset(self, script: Sequence[WireResponse | Fault]) -> None:
        """Start over with another script (one Hypothesis example after another)."""
        with self._lock:
            self.script = script
            self.requests.clear()
            self.unmatched.clear()
            self.flows.clear()
            self.timeline.clear()
            self.answers.clear()
            self._by_owner.clear()
            self.capped = False

    def _flow(self) -> Flow:
        """The flow of the calling code (call with the lock held)."""
        owner = current_flow_owner()
        flow = self._by_owner.get(id(owner))
        if flow is None or not flow.owned_by(owner):  # new, or an id reused after a flow ended
            flow = Flow(owner, len(self.flows) + 1)
            self.flows.append(flow)
            self._by_owner[id(owner)] = flow
        return flow

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: Any) -> WireResponse:
        operation = self.route(method, url, headers)
        recorded = RecordedRequest(method, url, dict(headers), _length(body), operation)
        if not self.accepts(operation):
            self.unmatched.append(recorded)
            raise UnexpectedRequest(self.unmatched_message(recorded))
        with self._lock:
            flow = self._flow()
            index = len(flow.requests)
            if self.cap is not None and index >= self.cap:
                flow.capped = self.capped = True
                raise RequestCapReached(CAP_MESSAGE.format(count=index + 1, cap=self.cap))
            answer = self.script[min(index, len(self.script) - 1)]
            flow.events.append(("request", index))
            flow.requests.append(recorded)
            self.timeline.append((flow, "request", index))
            self.requests.append(recorded)
            self.answers.append(answer)
        if isinstance(answer, Fault):
            raise FaultRequested(answer)
        return answer

    def record_sleep(self, seconds: float) -> None:
        """A virtual wait of the calling flow (zero-second yields are not waits: not recorded)."""
        with self._lock:
            flow = self._flow()
            flow.events.append(("sleep", float(seconds)))
            self.timeline.append((flow, "sleep", float(seconds)))


def is_wait(seconds: Any) -> bool:
    """Whether a sleep of ``seconds`` is a wait to make virtual.

    Zero (or negative) is a yield to other threads or tasks, not a wait; infinity is "until
    cancelled"; anything not a number is left to the real function to reject. Those run for
    real.
    """
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return False
    return 0 < value < math.inf


@contextlib.contextmanager
def virtual_sleep(exchange: Exchange) -> Iterator[None]:
    """Record ``time.sleep``, ``asyncio.sleep`` and ``anyio.sleep`` calls instead of waiting.

    ``time.sleep`` and ``asyncio.sleep`` are patched on their modules, so code that calls
    ``time.sleep(...)`` or ``asyncio.sleep(...)`` (urllib3, azure-core, tenacity, most
    hand-written loops) is captured; a name imported before the test (``from time import
    sleep``) is not. ``anyio.sleep`` is captured in anyio's asyncio backend, which every form of
    it calls (``anyio.sleep``, ``from anyio import sleep``, ``sleep_until``).

    A wait is recorded for the calling flow and then runs as a zero-second yield: ``time.sleep``
    releases the GIL, the async sleeps give the event loop one turn. Zero-second sleeps are
    such yields already and are not recorded. Once the block ends, the replacements behave as
    the real functions even where a reference to them was kept.
    """
    active = True
    real_sleep = time.sleep
    real_async_sleep = asyncio.sleep

    def virtual(seconds: Any) -> Any:
        """Record a wait and return what to really sleep instead: 0 for a wait, else as given."""
        if active and is_wait(seconds):
            exchange.record_sleep(seconds)
            return 0
        return seconds

    def sleep(seconds: Any) -> None:
        real_sleep(virtual(seconds))

    async def async_sleep(delay: Any, result: Any = None) -> Any:
        return await real_async_sleep(virtual(delay), result)

    time.sleep = sleep
    asyncio.sleep = async_sleep
    try:
        with _anyio_virtual(virtual):
            yield
    finally:
        active = False
        time.sleep = real_sleep
        asyncio.sleep = real_async_sleep


@contextlib.contextmanager
def _anyio_virtual(virtual: Callable[[Any], Any]) -> Iterator[None]:
    """Route anyio's asyncio-backend sleep through ``virtual`` while the block runs.

    ``anyio.sleep`` (however imported) calls ``get_async_backend().sleep(delay)``, a classmethod
    of the backend class that awaits ``asyncio.sleep`` as bound when anyio imported the backend;
    that classmethod is replaced (anyio 4.3 to 4.16). A backend first imported inside the block
    binds the patched ``asyncio.sleep`` instead, which is virtual in the block and real after.
    """
    module = sys.modules.get("anyio._backends._asyncio")
    backend = getattr(module, "backend_class", None)
    real = getattr(backend, "__dict__", {}).get("sleep")
    if backend is None or not isinstance(real, classmethod):
        yield
        return
    real_function = real.__func__

    async def sleep(cls: Any, delay: float) -> None:
        await real_function(cls, virtual(delay))

    backend.sleep = classmethod(sleep)
    try:
        yield
    finally:
        backend.sleep = real


def _length(body: Any) -> int:
    if body is None:
        return 0
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    try:
        return len(body)
    except TypeError:
        return 0
