"""The verdict on one case: handled, unhandled, or not exercised (see docs/concepts.md)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from types import TracebackType

from pytest_visioncontract.replay import Exchange, RecordedRequest
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


@dataclass(frozen=True)
class Verdict:
    outcome: str
    message: str | None = None  # for a failing verdict: what a person reads
    exception: str | None = None  # the escaped exception, one line


def documented(case: Case) -> str:
    e = case.entry
    code = e.code + (f"/{e.inner_code}" if e.inner_code else "")
    message = e.filled_inner_message if e.inner_code and e.inner_message else e.filled_message
    return f'{e.status} {code} "{message}"'


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


def judge(case: Case, exchange: Exchange, exc: BaseException | None) -> Verdict:
    """Apply the verdict rules to what happened during the test call."""
    if exchange.unmatched:
        return Verdict(NOT_EXERCISED, unexpected_request(case, exchange.unmatched[0]))
    if not exchange.requests:
        message = NOT_EXERCISED_MESSAGE.format(
            provider=case.catalog.provider, documented=documented(case)
        )
        return Verdict(NOT_EXERCISED, message)
    if exc is None:
        return Verdict(HANDLED)
    if case.selection.handled and isinstance(exc, case.selection.handled):
        return Verdict(HANDLED, exception=exception_line(exc))
    served = "\n".join("              " + line for line in case.response.describe().splitlines())
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
