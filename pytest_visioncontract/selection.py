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
from pytest_visioncontract.wire import VARIANTS, Fault, WireResponse, render, success, variant

MARKER = "vision_errors"
SIGNATURE = (
    "vision_errors(provider, *, operations=None, categories=None, codes=None, exclude=None, "
    "handled=(), unconfirmed=False, source='catalog', faults=False, retry=None, "
    "max_examples=None)"
)
SOURCES = ("catalog", "hypothesis", "cassettes")
KEYWORDS = (
    "operations",
    "categories",
    "codes",
    "exclude",
    "handled",
    "unconfirmed",
    "source",
    "faults",
    "retry",
    "max_examples",
)

NEEDS_PROVIDER = f"{MARKER}: needs one provider id as its first argument; known: {{known}}"
TOO_MANY_POSITIONAL = (
    f"{MARKER}: takes one positional argument (the provider), got {{count}}; "
    "filters are keywords: " + ", ".join(KEYWORDS)
)
UNKNOWN_KEYWORD = f"{MARKER}: unknown argument {{name}}=; accepted: " + ", ".join(KEYWORDS)
NOT_STRINGS = f"{MARKER}: {{name}}= must be a string or a list of strings, got {{got}}"
EMPTY_FILTER = (
    f"{MARKER}: {{name}}= is empty, which would select nothing; name at least one, or leave "
    "it out to select them all"
)
UNKNOWN_OF_MANY = (
    f"{MARKER}: unknown {{what}} {{value!r}} for {{provider}}{{hint}}; {{provider}} documents "
    "{count} codes and entry ids: list them with `visioncontract catalog {provider}`"
)
SHOWN_AT_MOST = 20  # known values listed in an error line; more are counted instead
UNKNOWN_VALUE = f"{MARKER}: unknown {{what}} {{value!r}} for {{provider}}; known: {{known}}"
NOT_EXCEPTIONS = (
    f"{MARKER}: handled= must be an exception class or a tuple of them "
    "(e.g. handled=(MyVisionError,)), got {got}"
)
NOT_BOOL = f"{MARKER}: {{name}}= must be True or False, got {{got}}"
UNKNOWN_SOURCE = f"{MARKER}: unknown source {{got!r}}; accepted: " + ", ".join(SOURCES)
BAD_FAULTS = (
    f"{MARKER}: faults= must be True, False or a list of variants; known variants: "
    + ", ".join(VARIANTS)
    + "; got {got}"
)
BAD_RETRY = (
    f"{MARKER}: retry= must be True, a number of times N >= 1, a dict or a Retry(times=, "
    "attempts=, honor_retry_after=, cap=, retryable=, not_retryable=) with "
    "1 <= times < attempts <= cap; got {got}"
)
RETRY_NOT_STRINGS = (
    f"{MARKER}: retry's {{field}} must be a code, inner code, entry id or category, or a list "
    "of them; got {got}"
)
RETRY_UNKNOWN_ITEM = (
    f"{MARKER}: unknown code, entry id or category {{value!r}} in retry's {{field}} for "
    "{provider}; known categories: {categories}; known codes and entry ids: {known}"
)
RETRY_CONFLICT = (
    f"{MARKER}: retry= makes {{documented}} (entry {{entry}}) both retryable (by {{widen!r}}) "
    "and not retryable (by {narrow!r}); name each error on one side only"
)
BAD_MAX_EXAMPLES = f"{MARKER}: max_examples= must be a whole number from 1 to 10000, got {{got}}"
SOURCE_ONLY = f"{MARKER}: {{name}}= applies to source='{{source}}' only"
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


DEFAULT_TIMES = 1
DEFAULT_CAP = 20
SPARE_ATTEMPTS = 2  # attempts default to times + 2: the recovering request and one spare


@dataclass(frozen=True, init=False, repr=False)
class Retry:
    """The retry contract: serve a retryable error ``times`` times, then the success response.

    The case passes only if the client recovered within ``attempts`` requests (by default
    ``times + 2``) and (with ``honor_retry_after``) waited at least the served Retry-After before
    each retry. The plugin refuses requests past ``cap`` (by default 20, or ``attempts`` if
    larger), so a client that retries forever fails instead of hanging.

    The contract applies to the errors the catalog marks retryable. ``retryable`` and
    ``not_retryable`` adjust that judgement: each item is a code, inner code, entry id or
    category, as in the marker's ``codes=`` and ``categories=``.

    The values are checked when the marker is parsed (against the provider's catalog), so a
    mistake is a one-line collection error rather than a traceback at import.
    """

    times: int
    attempts: int
    honor_retry_after: bool
    cap: int
    retryable: tuple[str, ...]
    not_retryable: tuple[str, ...]

    def __init__(
        self,
        times: int = DEFAULT_TIMES,
        attempts: int | None = None,
        honor_retry_after: bool = True,
        cap: int | None = None,
        *,
        retryable: str | Iterable[str] = (),
        not_retryable: str | Iterable[str] = (),
    ) -> None:
        if attempts is None and _whole(times):
            attempts = times + SPARE_ATTEMPTS
        if cap is None:
            cap = max(DEFAULT_CAP, attempts) if isinstance(attempts, int) else DEFAULT_CAP
        fields = {
            "times": times,
            "attempts": attempts,
            "honor_retry_after": honor_retry_after,
            "cap": cap,
            "retryable": _items(retryable),
            "not_retryable": _items(not_retryable),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        shown = [
            f"times={self.times!r}",
            f"attempts={self.attempts!r}",
            f"honor_retry_after={self.honor_retry_after!r}",
            f"cap={self.cap!r}",
        ]
        for name in ("retryable", "not_retryable"):
            if getattr(self, name):
                shown.append(f"{name}={getattr(self, name)!r}")
        return f"Retry({', '.join(shown)})"

    def judges_retryable(self, entry: Entry) -> bool:
        """The entry's retryability under this contract: the catalog's, as the user adjusted it."""
        names = _names(entry)
        if names & set(self.not_retryable):
            return False
        if names & set(self.retryable):
            return True
        return entry.retryable


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _items(value: object) -> Any:
    """Strings as a tuple; anything else as given, for the check to name."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        return tuple(value)
    return value


def _names(entry: Entry) -> set[str]:
    """What an item of ``retryable``/``not_retryable`` may name an entry by."""
    names = {entry.code, entry.id, entry.category}
    if entry.inner_code:
        names.add(entry.inner_code)
    return names


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
    faults: tuple[str, ...] = ()
    retry: Retry | None = None
    max_examples: int | None = None

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
    variant: str | None = None  # served as a malformed or fault variant (faults=)
    drawn: WireResponse | Fault | None = None  # served instead, by source="hypothesis"
    label_override: str | None = None  # source="cassettes": names the recording
    drift: str | None = None  # source="cassettes": how the recording departs from the catalog

    @property
    def label(self) -> str:
        if self.label_override:
            return self.label_override
        label = case_label(self.entry, self.operation)
        return f"{label}-as-{self.variant}" if self.variant else label

    @property
    def retryable(self) -> bool:
        """The catalog's ``retryable``, as the marker's ``retry=`` adjusts it."""
        retry = self.selection.retry
        return retry.judges_retryable(self.entry) if retry else self.entry.retryable

    @property
    def retry(self) -> Retry | None:
        """The retry contract, when the marker asks for it and the error is retryable."""
        retry = self.selection.retry
        plain = self.variant is None and self.drawn is None
        return retry if retry and self.retryable and plain else None

    def script(self) -> Sequence[WireResponse | Fault]:
        """What the requests of this case are answered with, in order (the last repeats)."""
        if self.drawn is not None:
            return [self.drawn]
        if self.variant is not None:
            return [variant(self.response, self.variant)]
        if self.retry is not None:
            return [self.response] * self.retry.times + [success(self.catalog, self.operation)]
        return [self.response]

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


@dataclass(frozen=True)
class PropertyCase:
    """``source="hypothesis"``: one test item that runs as a Hypothesis property."""

    selection: Selection
    catalog: Catalog

    @property
    def label(self) -> str:
        return f"{self.catalog.provider}-hypothesis"


def _strings(name: str, value: object, empty: bool = False) -> tuple[str, ...] | None:
    """A filter's values; an empty filter is an error unless ``empty`` (exclude=[] is fine)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = tuple(value)
        if all(isinstance(v, str) and v for v in items):
            if not items and not empty:
                raise VisionContractError(EMPTY_FILTER.format(name=name))
            return items
    raise VisionContractError(NOT_STRINGS.format(name=name, got=_show(value)))


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known(values: Iterable[str]) -> str:
    return ", ".join(sorted(set(values), key=str.lower))


def _check_known(what: str, provider: str, given: Iterable[str], known: Iterable[str]) -> None:
    import difflib

    known_set = set(known)
    for value in given:
        if value in known_set:
            continue
        if len(known_set) <= SHOWN_AT_MOST:
            raise VisionContractError(
                UNKNOWN_VALUE.format(
                    what=what, value=value, provider=provider, known=_known(known_set)
                )
            )
        close = difflib.get_close_matches(value, sorted(known_set), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise VisionContractError(
            UNKNOWN_OF_MANY.format(
                what=what, value=value, provider=provider, hint=hint, count=len(known_set)
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


def _faults(value: object) -> tuple[str, ...]:
    if value is True:
        return VARIANTS
    if value is False or value is None:
        return ()
    try:
        names = _strings("faults", value) or ()
    except VisionContractError:
        raise VisionContractError(BAD_FAULTS.format(got=_show(value))) from None
    if not names or any(n not in VARIANTS for n in names):
        raise VisionContractError(BAD_FAULTS.format(got=_show(value)))
    return names


def _retry(value: object, catalog: Catalog) -> Retry | None:
    if value is None or value is False:
        return None
    if value is True:
        retry = Retry()
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        retry = Retry(times=value)  # retry=N: serve the error N times
    elif isinstance(value, Retry):
        retry = value
    elif isinstance(value, Mapping):
        try:
            retry = Retry(**value)
        except TypeError:
            raise VisionContractError(BAD_RETRY.format(got=_show(dict(value)))) from None
    else:
        raise VisionContractError(BAD_RETRY.format(got=_show(value)))
    _check_retry(retry, catalog)
    return retry


def _check_retry(retry: Retry, catalog: Catalog) -> None:
    counts = (retry.times, retry.attempts, retry.cap)
    if not all(_whole(v) for v in counts) or not 1 <= retry.times < retry.attempts <= retry.cap:
        raise VisionContractError(BAD_RETRY.format(got=_show(retry)))
    if not isinstance(retry.honor_retry_after, bool):
        raise VisionContractError(BAD_RETRY.format(got=_show(retry)))
    categories = known_categories()
    names = set(categories)
    for entry in catalog.entries:
        names |= _names(entry)
    for field in ("retryable", "not_retryable"):
        items = getattr(retry, field)
        if not isinstance(items, tuple) or not all(isinstance(i, str) for i in items):
            raise VisionContractError(RETRY_NOT_STRINGS.format(field=field, got=_show(items)))
        for item in items:
            if item not in names:
                raise VisionContractError(
                    RETRY_UNKNOWN_ITEM.format(
                        value=item,
                        field=field,
                        provider=catalog.provider,
                        categories=_known(categories),
                        known=_known(names - set(categories)),
                    )
                )
    for entry in catalog.entries:
        names_of = _names(entry)
        widen = [i for i in retry.retryable if i in names_of]
        narrow = [i for i in retry.not_retryable if i in names_of]
        if widen and narrow:
            raise VisionContractError(
                RETRY_CONFLICT.format(
                    documented=f"{entry.status} {entry.code}"
                    + (f"/{entry.inner_code}" if entry.inner_code else ""),
                    entry=entry.id,
                    widen=widen[0],
                    narrow=narrow[0],
                )
            )


def _max_examples(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10000:
        raise VisionContractError(BAD_MAX_EXAMPLES.format(got=_show(value)))
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
    exclude = _strings("exclude", kwargs.get("exclude"), empty=True) or ()
    _check_known("operation", provider, operations or (), catalog.operations)
    _check_known("category", provider, categories or (), known_categories())
    code_names = {e.code for e in catalog.entries} | {
        e.inner_code for e in catalog.entries if e.inner_code
    }
    entry_ids = {e.id for e in catalog.entries}
    _check_known("code", provider, codes or (), code_names | entry_ids)
    _check_known("code or entry id", provider, exclude, code_names | entry_ids)
    source = kwargs.get("source", "catalog")
    if source not in SOURCES:
        raise VisionContractError(UNKNOWN_SOURCE.format(got=source))
    faults = _faults(kwargs.get("faults", False))
    max_examples = _max_examples(kwargs.get("max_examples"))
    if faults and source != "catalog":
        raise VisionContractError(SOURCE_ONLY.format(name="faults", source="catalog"))
    if max_examples is not None and source != "hypothesis":
        raise VisionContractError(SOURCE_ONLY.format(name="max_examples", source="hypothesis"))
    return Selection(
        provider=provider,
        operations=operations,
        categories=categories,
        codes=codes,
        exclude=exclude,
        handled=_handled(kwargs.get("handled", ())),
        unconfirmed=_flag("unconfirmed", kwargs.get("unconfirmed", False)),
        source=source,
        faults=faults,
        retry=_retry(kwargs.get("retry"), catalog),
        max_examples=max_examples,
    )


def _wanted(selection: Selection, entry: Entry) -> bool:
    if entry.flag == "client_side":
        return False  # raised by SDKs before any request: nothing to serve
    if entry.flag == "unconfirmed" and not selection.unconfirmed:
        return False
    if selection.categories is not None and entry.category not in selection.categories:
        return False
    only = selection.operations
    if only is not None and entry.operations is not None and not set(only) & set(entry.operations):
        return False
    names = {entry.code, entry.inner_code, entry.id}
    if selection.codes is not None and not names & set(selection.codes):
        return False
    return not names & set(selection.exclude)


def wanted_entries(selection: Selection, catalog: Catalog) -> list[Entry]:
    return [e for e in catalog.entries if _wanted(selection, e)]


def expand(selection: Selection, registry: Registry) -> Sequence[Case | PropertyCase]:
    """Every (documented error, operation) pair the marker selects, in catalog order.

    An error documented for all operations is one case served on whatever operation the
    client calls, unless ``operations=`` names some: then it is one case per named operation.
    A catalog with a single operation names it in the ids instead of ``any``.
    """
    catalog = registry.get(selection.provider)
    if selection.source == "hypothesis":
        if not wanted_entries(selection, catalog):
            raise VisionContractError(
                NOTHING_SELECTED.format(provider=selection.provider, filters=selection.describe())
            )
        return [PropertyCase(selection, catalog)]
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
        for op in ops:
            cases.append(Case(selection, catalog, entry, op, response))
            cases += [Case(selection, catalog, entry, op, response, v) for v in selection.faults]
    if not cases:
        raise VisionContractError(
            NOTHING_SELECTED.format(provider=selection.provider, filters=selection.describe())
        )
    return cases


class VisionError:
    """What the ``vision_error`` fixture gives a test: the case, what was served, what happened.

    ``response`` is the documented response; ``served`` is what the requests are answered with
    in order (the documented response, a malformed variant or fault, or for the retry contract
    the error repeated and then the success response). ``requests`` and ``waits`` fill in as
    the client runs.
    """

    def __init__(self, case: Case, exchange: Any) -> None:
        self.case = case
        self._exchange = exchange

    provider = property(lambda self: self.case.entry.provider)
    operation = property(lambda self: self.case.operation)
    status = property(lambda self: self.case.entry.status)
    code = property(lambda self: self.case.entry.code)
    inner_code = property(lambda self: self.case.entry.inner_code)
    message = property(lambda self: self.case.entry.filled_message)
    inner_message = property(lambda self: self.case.entry.filled_inner_message)
    category = property(lambda self: self.case.entry.category)
    retryable = property(lambda self: self.case.retryable)  # as retry= adjusts it
    entry = property(lambda self: self.case.entry)
    response = property(lambda self: self.case.response)
    variant = property(lambda self: self.case.variant)
    retry = property(lambda self: self.case.retry)

    @property
    def served(self) -> Sequence[WireResponse | Fault]:
        return self.case.script()

    @property
    def requests(self) -> list[Any]:
        """Every request the test made, from every flow (task or thread), in order
        (RecordedRequest: method, url, headers, body_length, operation)."""
        return list(self._exchange.requests)

    @property
    def waits(self) -> list[float]:
        """Seconds the flows that made requests slept (virtually), in order; zero-second
        yields and the sleeps of flows that made no request (a heartbeat) are not waits."""
        return list(self._exchange.waits)

    @property
    def id(self) -> str:
        return self.case.label

    def __repr__(self) -> str:
        return f"<VisionError {self.case.label}>"
