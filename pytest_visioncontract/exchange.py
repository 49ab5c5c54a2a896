"""One case's traffic, whatever serves it: what to answer, what was asked, and virtual time.

Nothing here knows vcrpy (``replay`` serves an :class:`Exchange` through it), so the verdict and
the report read an exchange without loading the HTTP machinery.

Traffic is kept per **flow**: one line of work, an asyncio task or else a thread. Each flow is
answered from the start of the script (error ``k`` times, then success), and its requests and
waits are judged on their own, so concurrent calls (``asyncio.gather``, threads) each get the
script a single call gets, and a background task's sleeps are nobody's wait.

A task a flow delegates to belongs to that flow: ``asyncio.wait_for`` (a task of its own on
Python 3.11), ``asyncio.shield`` or ``await asyncio.create_task(...)`` around one attempt or one
wait. The plugin notes which task created which while a case runs, and a task joins its
creator's flow when the creator did nothing itself since creating it and no other live child of
the creator has joined a flow (that is what tells one call's helper from concurrent calls).
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

    def add_request(self, request: RecordedRequest, by: object) -> int:
        """Note request ``i`` (0-based within the flow); the first names the flow after ``by``."""
        if not self.requests:
            self.name = _describe(by)
        self.events.append(("request", len(self.requests)))
        self.requests.append(request)
        return len(self.requests) - 1

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
    blocked: list[str] = field(default_factory=list)  # network access refused (went around vcrpy)
    capped: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _by_owner: dict[int, Flow] = field(default_factory=dict, repr=False)
    # Which task created which (noted while virtual_sleep is on), when, and each owner's last
    # own event: what decides whether a task joins its creator's flow.
    _parents: weakref.WeakKeyDictionary[Any, Any] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _children: weakref.WeakKeyDictionary[Any, weakref.WeakSet[Any]] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _created: weakref.WeakKeyDictionary[Any, int] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _last_event: weakref.WeakKeyDictionary[Any, int] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _joined: weakref.WeakKeyDictionary[Any, Flow] = field(  # tasks in a flow they do not own
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _finished: weakref.WeakKeyDictionary[Any, int] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _clock: int = 0

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
            self.blocked.clear()
            self.flows.clear()
            self.timeline.clear()
            self.answers.clear()
            self._by_owner.clear()
            self._last_event.clear()
            self._joined.clear()
            self.capped = False

    def note_task(self, task: Any, parent: Any) -> None:
        """``parent`` (a task, or None) created ``task`` just now."""
        with self._lock:
            self._created[task] = self._clock
            task.add_done_callback(self._note_finished)
            if parent is not None:
                self._parents[task] = parent
                self._children.setdefault(parent, weakref.WeakSet()).add(task)

    def _note_finished(self, task: Any) -> None:
        with self._lock:
            self._finished[task] = self._clock

    def _assigned(self, owner: object) -> Flow | None:
        flow = self._by_owner.get(id(owner))
        return flow if flow is not None and flow.owned_by(owner) else self._joined.get(owner)

    def _delegated(self, owner: object) -> Any:
        """The creator ``owner`` works for as part of the creator's flow, or None.

        The creator did nothing itself since it made ``owner`` (it is waiting for it), and no
        other child of the creator whose flow made requests ran at the same time as ``owner``
        (concurrent calls are flows of their own; a heartbeat next to a call is nobody's).
        """
        parent = self._parents.get(owner)
        if parent is None:
            return None
        created = self._created.get(owner, 0)
        if self._last_event.get(parent, -1) > created:
            return None
        for sibling in self._children.get(parent, ()):
            flow = None if sibling is owner else self._assigned(sibling)
            if flow is None or not flow.requests:  # a heartbeat's flow makes no requests
                continue
            finished = self._finished.get(sibling)
            if finished is None or finished > created:  # the two lived at the same time
                return None
        return parent

    def _new_flow(self, owner: object) -> Flow:
        flow = Flow(owner, len(self.flows) + 1)
        self.flows.append(flow)
        self._by_owner[id(owner)] = flow
        return flow

    def _request_flow(self, owner: object) -> Flow:
        """The flow a request of ``owner`` belongs to; a task keeps the flow it joins."""
        flow = self._assigned(owner)
        if flow is None:
            parent = self._delegated(owner)
            if parent is None:
                flow = self._new_flow(owner)
            else:
                flow = self._joined[owner] = self._request_flow(parent)
        return flow

    def _sleep_flow(self, owner: object) -> Flow:
        """The flow a wait of ``owner`` counts for (a helper's wait is its creator's)."""
        flow = self._assigned(owner)
        if flow is not None:
            return flow
        parent = self._delegated(owner)
        return self._new_flow(owner) if parent is None else self._sleep_flow(parent)

    def _tick(self, owner: object) -> None:
        self._clock += 1
        self._last_event[owner] = self._clock

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: Any) -> WireResponse:
        operation = self.route(method, url, headers)
        recorded = RecordedRequest(method, url, dict(headers), _length(body), operation)
        if not self.accepts(operation):
            self.unmatched.append(recorded)
            raise UnexpectedRequest(self.unmatched_message(recorded))
        with self._lock:
            owner = current_flow_owner()
            flow = self._request_flow(owner)
            self._tick(owner)
            index = len(flow.requests)
            if self.cap is not None and index >= self.cap:
                flow.capped = self.capped = True
                raise RequestCapReached(CAP_MESSAGE.format(count=index + 1, cap=self.cap))
            answer = self.script[min(index, len(self.script) - 1)]
            flow.add_request(recorded, owner)
            self.timeline.append((flow, "request", index))
            self.requests.append(recorded)
            self.answers.append(answer)
        if isinstance(answer, Fault):
            raise FaultRequested(answer)
        return answer

    def record_sleep(self, seconds: float) -> None:
        """A virtual wait of the calling flow (zero-second yields are not waits: not recorded)."""
        with self._lock:
            owner = current_flow_owner()
            flow = self._sleep_flow(owner)
            self._tick(owner)
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
        with _anyio_virtual(virtual), _noting_tasks(exchange):
            yield
    finally:
        active = False
        time.sleep = real_sleep
        asyncio.sleep = real_async_sleep


@contextlib.contextmanager
def _noting_tasks(exchange: Exchange) -> Iterator[None]:
    """Tell ``exchange`` which task creates which while the block runs.

    Every way asyncio makes a task (``create_task``, ``ensure_future``, ``gather``,
    ``wait_for``, ``shield``, task groups, anyio's task groups) goes through the event loop's
    ``create_task``; loops that are not asyncio's own (uvloop) are left alone, and their tasks
    are flows of their own.
    """
    loop_class = asyncio.BaseEventLoop
    real = loop_class.__dict__["create_task"]

    def create_task(self: asyncio.AbstractEventLoop, coro: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            parent = asyncio.current_task(self)
        except RuntimeError:  # this loop is not running in this thread
            parent = None
        task = real(self, coro, *args, **kwargs)
        exchange.note_task(task, parent)
        return task

    loop_class.create_task = create_task  # type: ignore[method-assign]
    try:
        yield
    finally:
        loop_class.create_task = real  # type: ignore[method-assign]


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
