"""The ``vision_errors`` marker: parse its arguments and expand them into cases.

Pure functions: they take the marker's positional and keyword arguments and the catalogs, and
return frozen values or raise :class:`VisionContractError` with what was wrong and what is
accepted. The pytest layer decides how to show that error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pytest_visioncontract.catalog import (
    ANY_OPERATION,
    Catalog,
    Entry,
    Registry,
    case_label,
)
from pytest_visioncontract.errors import VisionContractError
from pytest_visioncontract.wire import WireResponse, render

MARKER = "vision_errors"
SIGNATURE = (
    "vision_errors(provider, *, operations=None, categories=None, codes=None, exclude=None, "
    "handled=(), unconfirmed=False, source='catalog')"
)
SOURCES = ("catalog",)
KEYWORDS = (
    "operations",
    "categories",
    "codes",
    "exclude",
    "handled",
    "unconfirmed",
    "source",
)

NEEDS_PROVIDER = f"{MARKER}: needs one provider id as its first argument; known: {{known}}"
TOO_MANY_POSITIONAL = (
    f"{MARKER}: takes one positional argument (the provider), got {{count}}; "
    "filters are keywords: " + ", ".join(KEYWORDS)
)
UNKNOWN_KEYWORD = f"{MARKER}: unknown argument {{name}}=; accepted: " + ", ".join(KEYWORDS)
NOT_STRINGS = f"{MARKER}: {{name}}= must be a string or a list of strings, got {{got}}"
UNKNOWN_VALUE = f"{MARKER}: unknown {{what}} {{value!r}} for {{provider}}; known: {{known}}"
NOT_EXCEPTIONS = (
    f"{MARKER}: handled= must be an exception class or a tuple of them "
    "(e.g. handled=(MyVisionError,)), got {got}"
)
NOT_BOOL = f"{MARKER}: {{name}}= must be True or False, got {{got}}"
UNKNOWN_SOURCE = f"{MARKER}: unknown source {{got!r}}; accepted: " + ", ".join(SOURCES)
NOTHING_SELECTED = (
    f"{MARKER}: no documented error of {{provider}} matches the filters ({{filters}}); "
    "loosen operations=/categories=/codes=/exclude="
)


@functools.cache
def known_categories() -> tuple[str, ...]:
    """The categories the catalog schema allows (the schema is the one source of truth)."""
    schema = json.loads(
        resources.files("pytest_visioncontract").joinpath("schemas/catalog.json").read_text()
    )
    enum: list[str] = schema["properties"]["entries"]["items"]["properties"]["category"]["enum"]
    return tuple(enum)


@dataclass(frozen=True)
class Selection:
    """What a marker asks for, validated."""

    provider: str
    operations: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    codes: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    handled: tuple[type[BaseException], ...] = ()
    unconfirmed: bool = False
    source: str = "catalog"

    def describe(self) -> str:
        parts = [
            f"{name}={list(value)}"
            for name in ("operations", "categories", "codes", "exclude")
            if (value := getattr(self, name))
        ]
        return ", ".join(parts) or "no filters"


@dataclass(frozen=True)
class Case:
    """One documented error served on one operation: a parametrization of a marked test."""

    selection: Selection
    catalog: Catalog
    entry: Entry
    operation: str  # an operation name, or ANY_OPERATION for errors common to all operations
    response: WireResponse

    @property
    def label(self) -> str:
        return case_label(self.entry, self.operation)

    def accepts(self, operation: str | None) -> bool:
        """Whether a request addressed to ``operation`` is one this case serves."""
        if operation is None:
            return False
        return self.operation in (ANY_OPERATION, operation)

    def expected(self) -> str:
        if self.operation == ANY_OPERATION:
            ops = ", ".join(self.catalog.operations)
            return f"any {self.catalog.provider} operation: {ops}"
        op = self.catalog.operations[self.operation]
        return f"{self.catalog.provider} operation {op.describe()}"


def _strings(name: str, value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = tuple(value)
        if all(isinstance(v, str) for v in items):
            return items
    raise VisionContractError(NOT_STRINGS.format(name=name, got=_show(value)))


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known(values: Iterable[str]) -> str:
    return ", ".join(sorted(set(values), key=str.lower))


def _check_known(what: str, provider: str, given: Iterable[str], known: Iterable[str]) -> None:
    known_set = set(known)
    for value in given:
        if value not in known_set:
            raise VisionContractError(
                UNKNOWN_VALUE.format(
                    what=what, value=value, provider=provider, known=_known(known_set)
                )
            )


def _handled(value: object) -> tuple[type[BaseException], ...]:
    items = value if isinstance(value, tuple) else (value,)
    if value is None:
        return ()
    for item in items:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise VisionContractError(NOT_EXCEPTIONS.format(got=_show(value)))
    return tuple(items)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise VisionContractError(NOT_BOOL.format(name=name, got=_show(value)))
    return value


def parse_marker(args: Sequence[Any], kwargs: Mapping[str, Any], registry: Registry) -> Selection:
    """Validate a marker's arguments against the catalogs."""
    if not args or not isinstance(args[0], str):
        raise VisionContractError(NEEDS_PROVIDER.format(known=", ".join(registry.names)))
    if len(args) > 1:
        raise VisionContractError(TOO_MANY_POSITIONAL.format(count=len(args)))
    for name in kwargs:
        if name not in KEYWORDS:
            raise VisionContractError(UNKNOWN_KEYWORD.format(name=name))
    try:
        catalog = registry.get(args[0])
    except VisionContractError as exc:
        raise VisionContractError(f"{MARKER}: {exc}") from None
    provider = catalog.provider
    operations = _strings("operations", kwargs.get("operations"))
    categories = _strings("categories", kwargs.get("categories"))
    codes = _strings("codes", kwargs.get("codes"))
    exclude = _strings("exclude", kwargs.get("exclude")) or ()
    _check_known("operation", provider, operations or (), catalog.operations)
    _check_known("category", provider, categories or (), known_categories())
    code_names = {e.code for e in catalog.entries} | {
        e.inner_code for e in catalog.entries if e.inner_code
    }
    _check_known("code", provider, codes or (), code_names)
    entry_ids = {e.id for e in catalog.entries}
    _check_known("code or entry id", provider, exclude, code_names | entry_ids)
    source = kwargs.get("source", "catalog")
    if source not in SOURCES:
        raise VisionContractError(UNKNOWN_SOURCE.format(got=source))
    return Selection(
        provider=provider,
        operations=operations,
        categories=categories,
        codes=codes,
        exclude=exclude,
        handled=_handled(kwargs.get("handled", ())),
        unconfirmed=_flag("unconfirmed", kwargs.get("unconfirmed", False)),
        source=source,
    )


def _wanted(selection: Selection, entry: Entry) -> bool:
    if entry.flag == "client_side":
        return False  # raised by SDKs before any request: nothing to serve
    if entry.flag == "unconfirmed" and not selection.unconfirmed:
        return False
    if selection.categories is not None and entry.category not in selection.categories:
        return False
    names = {entry.code, entry.inner_code, entry.id}
    if selection.codes is not None and not names & set(selection.codes):
        return False
    return not names & set(selection.exclude)


def expand(selection: Selection, registry: Registry) -> list[Case]:
    """Every (documented error, operation) pair the marker selects, in catalog order.

    An error documented for all operations is one case served on whatever operation the
    client calls, unless ``operations=`` names some: then it is one case per named operation.
    A catalog with a single operation names it in the ids instead of ``any``.
    """
    catalog = registry.get(selection.provider)
    only_op = next(iter(catalog.operations)) if len(catalog.operations) == 1 else None
    cases: list[Case] = []
    for entry in catalog.entries:
        if not _wanted(selection, entry):
            continue
        if entry.operations is None:
            ops = list(selection.operations or [only_op or ANY_OPERATION])
        else:
            ops = [
                op
                for op in entry.operations
                if selection.operations is None or op in selection.operations
            ]
        response = render(catalog, entry)
        cases += [Case(selection, catalog, entry, op, response) for op in ops]
    if not cases:
        raise VisionContractError(
            NOTHING_SELECTED.format(provider=selection.provider, filters=selection.describe())
        )
    return cases


class VisionError:
    """What the ``vision_error`` fixture gives a test: the case, the response, the requests."""

    def __init__(self, case: Case, requests: Sequence[Any]) -> None:
        self.case = case
        self.requests = requests  # the RecordedRequests the client has made so far
        e = case.entry
        self.provider = e.provider
        self.operation = case.operation
        self.status = e.status
        self.code = e.code
        self.inner_code = e.inner_code
        self.message = e.filled_message
        self.inner_message = e.filled_inner_message
        self.category = e.category
        self.retryable = e.retryable
        self.entry = e
        self.response = case.response

    @property
    def id(self) -> str:
        return self.case.label

    def __repr__(self) -> str:
        return f"<VisionError {self.case.label}>"
