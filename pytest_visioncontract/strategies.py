"""Hypothesis strategies over error responses (the only module that imports hypothesis).

``error_responses`` draws documented errors with everything the documentation leaves open
varied (message text, optional fields, unknown extra fields, header-name case, request ids,
Retry-After as seconds or an HTTP date), always valid against the provider's envelope schema.
``malformed_responses`` draws what gateways and proxies send instead; ``faults`` draws network
failures. Everything drawn shrinks toward the documented response.

    from hypothesis import given
    from pytest_visioncontract import serve
    from pytest_visioncontract.strategies import error_responses

    @given(error_responses("azure_face", operations=["detect"]))
    def test_detect(drawn):
        with serve(drawn):
            ...  # call the client
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from pytest_visioncontract.catalog import ANY_OPERATION, Catalog, Entry, Registry, load_registry
from pytest_visioncontract.errors import VisionContractError
from pytest_visioncontract.selection import Selection, parse_marker, wanted_entries
from pytest_visioncontract.wire import (
    FAULT_KINDS,
    MALFORMED_KINDS,
    WIRE_FORMATS,
    Fault,
    WireResponse,
    malformed,
    reason_phrase,
)

__all__ = ["DrawnError", "error_responses", "faults", "malformed_responses"]

EXTRA_FIELDS = ("traceId", "details", "x-debug", "timestamp", "documentation_url")

# Built once: a strategy built inside a draw is validated again on every example.
_BOOLEANS = st.booleans()
_MESSAGES = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
_EXTRA_NAMES = st.sampled_from(EXTRA_FIELDS)
_EXTRA_VALUES = st.one_of(st.integers(), st.text(max_size=20), st.none())
_RETRY_AFTER = st.integers(0, 30)
_HEADER_STYLES = st.sampled_from(["as-is", "lower", "upper", "title"])
_MALFORMED = st.sampled_from(MALFORMED_KINDS)
_PROXY_STATUS = st.sampled_from([None, 502, 503, 504])
_CUTS = st.floats(0.05, 0.95)
_FAULTS = st.sampled_from(FAULT_KINDS).map(Fault)


@dataclass(frozen=True)
class DrawnError:
    """One drawn response: the documented error it varies, the operation, what is served."""

    catalog: Catalog
    entry: Entry
    operation: str
    response: WireResponse | Fault
    variation: str  # what was varied, for a person

    def __repr__(self) -> str:
        served = self.response.describe(limit=400).replace("\n", "\n    ")
        return (
            f"DrawnError({self.entry.provider} {self.entry.id} on {self.operation}, "
            f"{self.variation}):\n    {served}"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis' printer
        printer.text(repr(self))


def _selection(
    provider: str,
    operations: Sequence[str] | None,
    codes: Sequence[str] | None,
    categories: Sequence[str] | None,
    registry: Registry | None,
) -> tuple[Selection, Catalog]:
    registry = registry or load_registry()
    kwargs: dict[str, Any] = {"operations": operations, "codes": codes, "categories": categories}
    selection = parse_marker((provider,), {k: v for k, v in kwargs.items() if v}, registry)
    catalog = registry.get(selection.provider)
    if not wanted_entries(selection, catalog):
        raise VisionContractError(
            f"no documented error of {provider} matches {selection.describe()}"
        )
    _warm_up()
    return selection, catalog


def _warm_up() -> None:
    """Strategies are built at collection: serving's one-time cost is paid there, not by the
    first example of a ``@given`` test (where it could exceed Hypothesis' deadline)."""
    from pytest_visioncontract.replay import warm_up

    warm_up()


def _operations(selection: Selection, catalog: Catalog, entry: Entry) -> list[str]:
    if entry.operations is None:
        return list(selection.operations or [ANY_OPERATION])
    return [
        o for o in entry.operations if selection.operations is None or o in selection.operations
    ]


def _header_case(name: str, style: str) -> str:
    return {"as-is": name, "lower": name.lower(), "upper": name.upper(), "title": name.title()}[
        style
    ]


@st.composite
def _varied(
    draw: st.DrawFn, catalog: Catalog, choices: st.SearchStrategy[tuple[Entry, str]]
) -> DrawnError:
    entry, operation = draw(choices)
    changes: list[str] = []
    varied = entry
    if draw(_BOOLEANS):
        message = draw(_MESSAGES)
        varied = dataclasses.replace(varied, message=message, fill={})
        changes.append("message")
    if varied.inner_code is not None and draw(_BOOLEANS):
        varied = dataclasses.replace(varied, inner_code=None, inner_message=None)
        changes.append("no inner error")
    if (varied.parameter or varied.more_details) and draw(_BOOLEANS):
        varied = dataclasses.replace(varied, parameter=None, more_details=None)
        changes.append("no optional details")
    request_id = str(draw(st.uuids()))
    throttled = entry.category == "throttled"
    retry_after = draw(_RETRY_AFTER) if throttled else None
    headers, document = WIRE_FORMATS[catalog.wire_format](catalog, varied, request_id, retry_after)
    if draw(_BOOLEANS):
        name = draw(_EXTRA_NAMES)
        document[name] = draw(_EXTRA_VALUES)
        changes.append(f"extra field {name}")
    if throttled and catalog.wire_format != "alibaba" and draw(_BOOLEANS):
        when = email.utils.formatdate(time.time() + (retry_after or 0), usegmt=True)
        headers = [(k, when if k == "Retry-After" else v) for k, v in headers]
        changes.append("Retry-After as HTTP date")
    style = draw(_HEADER_STYLES)
    if style != "as-is":
        headers = [(_header_case(k, style), v) for k, v in headers]
        changes.append(f"header names {style}")
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    response = WireResponse(
        entry.status,
        reason_phrase(entry.status),
        tuple(headers),
        body,
        None if retry_after is None else float(retry_after),
    )
    return DrawnError(catalog, entry, operation, response, ", ".join(changes) or "as documented")


def error_responses(
    provider: str,
    *,
    operations: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    registry: Registry | None = None,
) -> st.SearchStrategy[DrawnError]:
    """Documented errors of ``provider`` with schema-valid variation of what is left open."""
    selection, catalog = _selection(provider, operations, codes, categories, registry)
    return _documented_variations(selection, catalog)


def _documented_variations(selection: Selection, catalog: Catalog) -> st.SearchStrategy[DrawnError]:
    choices = [
        (entry, operation)
        for entry in wanted_entries(selection, catalog)
        for operation in _operations(selection, catalog, entry)
    ]
    return _varied(catalog, st.sampled_from(choices))


@st.composite
def _broken(draw: st.DrawFn, documented_errors: st.SearchStrategy[DrawnError]) -> DrawnError:
    documented = draw(documented_errors)
    kind = draw(_MALFORMED)
    assert isinstance(documented.response, WireResponse)
    status = draw(_PROXY_STATUS) if kind == "html" else None
    cut = draw(_CUTS) if kind == "truncated" else 0.5
    response = malformed(documented.response, kind, cut=cut, status=status)
    label = kind + (f" {status} from a proxy" if status else "")
    return dataclasses.replace(documented, response=response, variation=label)


def malformed_responses(
    provider: str,
    *,
    operations: Sequence[str] | None = None,
    registry: Registry | None = None,
) -> st.SearchStrategy[DrawnError]:
    """Broken responses: HTML gateway pages, empty or truncated bodies, wrong or missing
    content type, bodies that are not UTF-8, and 502/503/504 pages from a proxy."""
    selection, catalog = _selection(provider, operations, None, None, registry)
    return _broken(_documented_variations(selection, catalog))


def faults() -> st.SearchStrategy[Fault]:
    """Network failures: a connection reset, a read timeout."""
    _warm_up()
    return _FAULTS


@st.composite
def _faulted(draw: st.DrawFn, documented_errors: st.SearchStrategy[DrawnError]) -> DrawnError:
    documented = draw(documented_errors)
    fault = draw(_FAULTS)
    return dataclasses.replace(documented, response=fault, variation=fault.kind)


def any_response(selection: Selection, catalog: Catalog) -> st.SearchStrategy[DrawnError]:
    """What ``source="hypothesis"`` draws from: documented first (it shrinks there), then
    malformed responses and faults."""
    documented = _documented_variations(selection, catalog)
    return st.one_of(documented, _broken(documented), _faulted(documented))


# --------------------------------------------------------------------------- source="hypothesis"

FAILURE = "{message}\n\nHypothesis' minimal failing response (seed {seed}):\n{notes}"


class _CaseFailed(Exception):
    """Raised inside the property when an example's verdict is not handled (it then shrinks)."""


def run_property(
    item: Any,
    property_case: Any,
    exchange: Any,
    view: Any,
    *,
    call: Callable[[], object],
    seed: int,
    max_examples: int,
    pass_through: tuple[type[BaseException], ...],
    is_user_assertion: Any,
) -> tuple[str | None, list[dict[str, Any]]]:
    """Run a marked test as a Hypothesis property over drawn responses.

    ``call`` runs the test once, synchronously, with its arguments (for an async test: its
    coroutine to completion, where the async plugin runs coroutine tests). Every example is
    served through the same exchange and judged by the same verdict rules as a catalog case; a
    non-handled verdict fails the example, Hypothesis shrinks it, and the minimal response comes
    back in the failure text. Returns (failure text or None, records).
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    from pytest_visioncontract.report import record
    from pytest_visioncontract.selection import Case
    from pytest_visioncontract.verdict import HANDLED, judge

    records: dict[str, dict[str, Any]] = {}
    severity = {"handled": 0, "not_exercised": 1, "unhandled": 2}

    @with_seed(seed)
    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(drawn=any_response(property_case.selection, property_case.catalog))
    def example(drawn: DrawnError) -> None:
        case = Case(
            property_case.selection,
            drawn.catalog,
            drawn.entry,
            drawn.operation,
            drawn.response if isinstance(drawn.response, WireResponse) else _documented(drawn),
            drawn=drawn.response,
        )
        exchange.reset(case.script())
        exchange.accepts = case.accepts
        view.case = case
        try:
            call()
        except pass_through:
            raise
        except BaseException as exc:
            if is_user_assertion(item, exc):
                raise
            verdict = judge(case, exchange, exc)
        else:
            verdict = judge(case, exchange, None)
        old = records.get(case.entry.id)
        if old is None or severity[verdict.outcome] > severity[old["verdict"]]:
            records[case.entry.id] = record(case, verdict, item.nodeid)
        if verdict.outcome != HANDLED:
            raise _CaseFailed(verdict.message or verdict.outcome)

    try:
        example()
    except _CaseFailed as failed:
        notes = "\n".join(getattr(failed, "__notes__", []))
        return FAILURE.format(message=failed, seed=seed, notes=notes), list(records.values())
    return None, list(records.values())


def _documented(drawn: DrawnError) -> WireResponse:
    from pytest_visioncontract.wire import render

    return render(drawn.catalog, drawn.entry)
