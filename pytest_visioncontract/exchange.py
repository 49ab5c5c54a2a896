"""One case's traffic, whatever serves it: what to answer, what was asked, and virtual time.

Nothing here knows vcrpy (``replay`` serves an :class:`Exchange` through it), so the verdict and
the report read an exchange without loading the HTTP machinery.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
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


@dataclass
class Exchange:
    """One case's traffic: how to route a request, what to answer, and what happened.

    Request ``i`` is answered with ``script[i]``, the last entry repeating; a :class:`Fault`
    raises inside the client instead. ``events`` is the timeline of requests and (virtual)
    sleeps, in order.
    """

    route: Callable[[str, str, Mapping[str, str]], str | None]  # request -> operation or None
    accepts: Callable[[str | None], bool]
    script: Sequence[WireResponse | Fault]
    unmatched_message: Callable[[RecordedRequest], str]
    cap: int | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    unmatched: list[RecordedRequest] = field(default_factory=list)
    events: list[tuple[str, float]] = field(default_factory=list)
    capped: bool = False

    @property
    def waits(self) -> list[float]:
        return [value for kind, value in self.events if kind == "sleep"]

    def reset(self, script: Sequence[WireResponse | Fault]) -> None:
        """Start over with another script (one Hypothesis example after another)."""
        self.script = script
        self.requests.clear()
        self.unmatched.clear()
        self.events.clear()
        self.capped = False

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: Any) -> WireResponse:
        operation = self.route(method, url, headers)
        recorded = RecordedRequest(method, url, dict(headers), _length(body), operation)
        if not self.accepts(operation):
            self.unmatched.append(recorded)
            raise UnexpectedRequest(self.unmatched_message(recorded))
        if self.cap is not None and len(self.requests) >= self.cap:
            self.capped = True
            raise RequestCapReached(CAP_MESSAGE.format(count=len(self.requests) + 1, cap=self.cap))
        self.events.append(("request", len(self.requests)))
        self.requests.append(recorded)
        answer = self.script[min(len(self.requests), len(self.script)) - 1]
        if isinstance(answer, Fault):
            raise FaultRequested(answer)
        return answer

    def record_sleep(self, seconds: float) -> None:
        self.events.append(("sleep", float(seconds)))


@contextlib.contextmanager
def virtual_sleep(exchange: Exchange) -> Iterator[None]:
    """Record ``time.sleep`` and ``asyncio.sleep`` calls instead of waiting.

    Patched on the modules, so code that calls ``time.sleep(...)`` or ``asyncio.sleep(...)``
    (urllib3, azure-core, tenacity, most hand-written loops) is captured; a name imported
    before the test (``from time import sleep``) is not.
    """
    real_sleep = time.sleep
    real_async_sleep = asyncio.sleep

    def sleep(seconds: Any) -> None:
        exchange.record_sleep(seconds)

    async def async_sleep(delay: Any, result: Any = None) -> Any:
        exchange.record_sleep(delay)
        await real_async_sleep(0)
        return result

    time.sleep = sleep
    asyncio.sleep = async_sleep
    try:
        yield
    finally:
        time.sleep = real_sleep
        asyncio.sleep = real_async_sleep


def _length(body: Any) -> int:
    if body is None:
        return 0
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    try:
        return len(body)
    except TypeError:
        return 0
