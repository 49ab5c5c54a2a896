"""The verdict on one case: handled, unhandled, or not exercised (see docs/concepts.md)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from types import TracebackType

from pytest_visioncontract.exchange import Exchange, Flow, RecordedRequest
from pytest_visioncontract.selection import Case

HANDLED = "handled"
UNHANDLED = "unhandled"
NOT_EXERCISED = "not_exercised"
OUTCOMES = (HANDLED, UNHANDLED, NOT_EXERCISED)

NOT_EXERCISED_MESSAGE = (
    "vision_errors: not exercised: the test made no request to {provider}, so {documented} "
    "was never served.\n"
    "  Call the client code under test inside the test (requests, httpx, aiohttp, urllib3 and "
    "http.client are served)."
)
BLOCKED_LINE = (
    "\n  The plugin blocked {what}: the client went around vcrpy's patches (a connection class "
    "bound before the test, such as `from http.client import HTTPSConnection`?). Look the class "
    "up when the request is made (`http.client.HTTPSConnection(...)`)."
)
UNEXPECTED_MESSAGE = (
    "vision_errors: unexpected request {request}\n"
    "  This case serves {expected}.\n"
    "  Restrict the marker to what the test calls, e.g. operations=[{suggestion}]."
)
UNHANDLED_MESSAGE = (
    "vision_errors: unhandled documented error of {title} ({provider})\n"
    "  documented: {documented}, operation {operation}\n"
    "  served:\n{served}\n"
    "  escaped:    {exception}{where}\n"
    "  {why} Turn this response into one of your own error types and list it in handled=, "
    "or degrade gracefully."
)
NOT_DECLARED = "The exception escaped the test and the marker declares no handled= types."
NOT_LISTED = "The exception escaped the test and is not one of handled=({accepted})."


RETRY_MESSAGE = (
    "vision_errors: retry contract broken for {documented} ({provider}, operation {operation})\n"
    "  served:     the error {times} time(s), then the success response; budget {attempts} "
    "requests{honor}\n"
    "{flow}"
    "  happened:   {timeline}\n"
    "  {problem}"
)
CAPPED_MESSAGE = (
    "vision_errors: the client kept sending requests for {documented} ({provider}): the plugin "
    "refused request {count} (cap {cap}){of_flow}.\n"
    "  Bound the retries (a maximum number of attempts) so a persistent error ends them."
)
# Shown when more than one flow (asyncio task, else thread) made requests: which one is judged.
FLOW_LINE = (
    "  flow:       {name}, flow {number} of {count} that made requests (concurrent tasks or "
    "threads are each served the script and judged on their own requests and waits)\n"
)


@dataclass(frozen=True)
class Verdict:
    outcome: str
    message: str | None = None  # for a failing verdict: what a person reads
    exception: str | None = None  # the escaped exception, one line


def documented(case: Case) -> str:
    e = case.entry
    code = e.code + (f"/{e.inner_code}" if e.inner_code else "")
    message = e.filled_inner_message if e.inner_code and e.inner_message else e.filled_message
    served_as = f" served as {case.variant}" if case.variant else ""
    return f'{e.status} {code} "{message}"{served_as}'


def unexpected_request(case: Case, request: RecordedRequest) -> str:
    suggestion = repr(request.operation) if request.operation else "..."
    return UNEXPECTED_MESSAGE.format(
        request=request.describe()
        + (f" (operation {request.operation})" if request.operation else " (no known operation)"),
        expected=case.expected(),
        suggestion=suggestion,
    )


def exception_line(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    line = text[-1] if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def _where(tb: TracebackType | None) -> str:
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return ""
    code = last.tb_frame.f_code
    return f"\n              raised at {code.co_filename}:{last.tb_lineno} in {code.co_name}"


def timeline(exchange: Exchange, flow: Flow | None = None) -> str:
    """What the client did, in order: requests (with what they got) and waits.

    For one flow: its own requests, numbered from 1, and its own waits. Without one: the flow
    that made the first request (the whole story when only one flow made requests).
    """
    if flow is None:
        flows = exchange.requesting_flows
        if not flows:
            return "no request"
        flow = flows[0]
    parts = []
    for kind, value in flow.events:
        if kind == "request":
            index = int(value)
            answer = exchange.script[min(index, len(exchange.script) - 1)]
            status = getattr(answer, "status", None) or getattr(answer, "kind", "?")
            parts.append(f"request {index + 1} -> {status}")
        else:
            parts.append(f"sleep {value:g}s")
    return ", ".join(parts) or "no request"


def _flow_line(exchange: Exchange, flow: Flow) -> str:
    flows = exchange.requesting_flows
    if len(flows) < 2:
        return ""
    number = next(i for i, f in enumerate(flows, 1) if f is flow)
    return FLOW_LINE.format(name=flow.name, number=number, count=len(flows))


def _flow_problem(case: Case, flow: Flow) -> str | None:
    """What is wrong with one flow that returned normally, or None."""
    retry = case.retry
    assert retry is not None  # callers check; not a user mistake
    count = len(flow.requests)
    retry_after = case.response.retry_after
    if count <= retry.times:
        return (
            f"The client returned after {count} request(s) without retrying to the success "
            f"response (request {retry.times + 1})."
        )
    if count > retry.attempts:
        return f"The client recovered only after {count} requests; the budget is {retry.attempts}."
    if retry.honor_retry_after and retry_after is not None:
        for attempt, waited in enumerate(_waits_between_requests(flow)[: retry.times], 1):
            if waited < retry_after:
                return (
                    f"The client waited {waited:g}s before retry {attempt}; the response asked "
                    f"for Retry-After {retry_after:g}s."
                )
    return None


def _judge_retry(case: Case, exchange: Exchange, exc: BaseException | None) -> Verdict:
    """Each flow that made requests is held to the contract on its own requests and waits."""
    retry = case.retry
    assert retry is not None  # callers check; not a user mistake
    flows = exchange.requesting_flows
    retry_after = case.response.retry_after
    culprit: Flow | None = None
    problem = None
    if exc is not None:
        # The flow that never reached the success response, else the one that asked last.
        last = next(f for f, kind, _ in reversed(exchange.timeline) if kind == "request")
        culprit = next((f for f in flows if len(f.requests) <= retry.times), last)
        problem = (
            f"The client did not recover: {exception_line(exc)} escaped after "
            f"{len(culprit.requests)} request(s); request {retry.times + 1} would have succeeded."
        )
    else:
        for flow in flows:
            problem = _flow_problem(case, flow)
            if problem is not None:
                culprit = flow
                break
    if problem is None or culprit is None:
        return Verdict(HANDLED, exception=None)
    honour = retry.honor_retry_after and retry_after is not None
    message = RETRY_MESSAGE.format(
        documented=documented(case),
        provider=case.catalog.provider,
        operation=case.operation,
        times=retry.times,
        attempts=retry.attempts,
        honor=f", Retry-After {retry_after:g}s to honour" if honour else "",
        flow=_flow_line(exchange, culprit),
        timeline=timeline(exchange, culprit),
        problem=problem,
    )
    return Verdict(UNHANDLED, message, exception_line(exc) if exc else "did not recover")


def _waits_between_requests(flow: Flow) -> list[float]:
    """Total virtual sleep of the flow between its request i and request i + 1, for each i."""
    waits: list[float] = []
    current: float | None = None
    for kind, value in flow.events:
        if kind == "request":
            if current is not None:
                waits.append(current)
            current = 0.0
        elif current is not None:
            current += value
    return waits


def judge(case: Case, exchange: Exchange, exc: BaseException | None) -> Verdict:
    """Apply the verdict rules to what happened during the test call."""
    if exchange.unmatched:
        return Verdict(NOT_EXERCISED, unexpected_request(case, exchange.unmatched[0]))
    if not exchange.requests:
        message = NOT_EXERCISED_MESSAGE.format(
            provider=case.catalog.provider, documented=documented(case)
        )
        if exchange.blocked:
            message += BLOCKED_LINE.format(what=exchange.blocked[0])
        return Verdict(NOT_EXERCISED, message)
    if exchange.capped:
        capped = next(f for f in exchange.flows if f.capped)
        several = len(exchange.requesting_flows) > 1
        message = CAPPED_MESSAGE.format(
            documented=documented(case),
            provider=case.catalog.provider,
            count=len(capped.requests) + 1,
            cap=exchange.cap,
            of_flow=f" to {capped.name}" if several else "",
        )
        return Verdict(UNHANDLED, message, "kept retrying")
    if case.retry is not None:
        return _judge_retry(case, exchange, exc)
    if exc is None:
        return Verdict(HANDLED)
    if case.selection.handled and isinstance(exc, case.selection.handled):
        return Verdict(HANDLED, exception=exception_line(exc))
    answer = exchange.answers[-1]  # what the last request was answered with
    served = "\n".join("              " + line for line in answer.describe().splitlines())
    why = (
        NOT_LISTED.format(accepted=", ".join(t.__name__ for t in case.selection.handled))
        if case.selection.handled
        else NOT_DECLARED
    )
    message = UNHANDLED_MESSAGE.format(
        title=case.catalog.title,
        provider=case.catalog.provider,
        documented=documented(case),
        operation=case.operation,
        served=served,
        exception=exception_line(exc),
        where=_where(exc.__traceback__),
        why=why,
    )
    return Verdict(UNHANDLED, message, exception_line(exc))
