"""Provider catalogs: every documented error of a provider, loaded from data and validated.

A catalog is a JSON document (see ``schemas/catalog.json``). The five built-in catalogs ship as
package data; more come from files the user names or from the ``pytest_visioncontract.catalogs``
entry-point group. Nothing here imports pytest, so the CLI and the plugin share it.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pytest_visioncontract.errors import VisionContractError

ENTRY_POINT_GROUP = "pytest_visioncontract.catalogs"
BUILTIN_PROVIDERS = (
    "alibaba_image_search",
    "azure_face",
    "azure_image_analysis",
    "bing_image_search",
    "huawei_ocr",
)
ANY_OPERATION = "any"

UNKNOWN_PROVIDER = "unknown provider {name!r}; known: {known}"
MALFORMED_CATALOG = "malformed catalog {origin}: {where}{problem}"
UNREADABLE_CATALOG = "cannot read catalog {origin}: {problem}"
DUPLICATE_PROVIDER = "provider {name!r} is defined twice: by {first} and by {second}"
TOO_DEEP = "nested too deeply to be a catalog"
MAX_CATALOG_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    """One request shape that identifies an operation."""

    method: str
    path: re.Pattern[str]
    action: str | None = None

    def matches(self, method: str, path: str, action: str | None) -> bool:
        if self.method != "*" and self.method != method.upper():
            return False
        if self.action is not None and self.action != action:
            return False
        return self.path.search(path) is not None


@dataclass(frozen=True)
class Operation:
    name: str
    summary: str
    routes: tuple[Route, ...]
    success_status: int = 200
    success_body: Any = field(default=None, hash=False, compare=False)

    def describe(self) -> str:
        shown = ", ".join(
            f"{r.method} {r.path.pattern}" + (f" Action={r.action}" if r.action else "")
            for r in self.routes
        )
        return f"{self.name} ({shown})"


@dataclass(frozen=True)
class Entry:
    """One documented error row."""

    provider: str
    id: str
    status: int
    code: str
    message: str
    operations: tuple[str, ...] | None  # None: applies to every operation
    category: str
    retryable: bool
    section: str
    row: int | None = None
    inner_code: str | None = None
    inner_message: str | None = None
    status_inferred: str | None = None
    message_documented: bool = True
    fill: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    parameter: str | None = None
    more_details: str | None = None
    flag: str | None = None

    @property
    def servable(self) -> bool:
        """Documented wire errors are served; unconfirmed and client-side ones are not."""
        return self.flag is None

    @property
    def filled_message(self) -> str:
        return _fill(self.message, self.fill)

    @property
    def filled_inner_message(self) -> str | None:
        return None if self.inner_message is None else _fill(self.inner_message, self.fill)

    @property
    def slug(self) -> str:
        """The readable tail of the entry id (what follows status and codes)."""
        prefix = f"{self.status}-{self.code}" + (f"-{self.inner_code}" if self.inner_code else "")
        _, found, tail = self.id.partition(prefix)
        return tail.lstrip("-") if found else self.id

    def applies_to(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations


def _fill(text: str, fill: Mapping[str, str]) -> str:
    for placeholder, value in fill.items():
        text = text.replace(placeholder, value)
    return text


@dataclass(frozen=True)
class Catalog:
    provider: str
    title: str
    wire_format: str
    api_version: str
    hosts: tuple[str, ...]
    operations: Mapping[str, Operation] = field(hash=False)
    entries: tuple[Entry, ...] = field(hash=False)
    origin: str = ""
    seed: str | None = None
    scrub: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __repr__(self) -> str:
        return f"<Catalog {self.provider}: {len(self.entries)} entries from {self.origin}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis' printer
        printer.text(repr(self))

    def entry(self, entry_id: str) -> Entry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise VisionContractError(f"{self.provider}: no entry {entry_id!r}")

    @property
    def servable_entries(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.servable)

    def host_matches(self, host: str) -> bool:
        host = host.lower()
        return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in self.hosts)

    def operation_for(self, method: str, url: str, headers: Mapping[str, str]) -> str | None:
        """The operation a request addresses, or None when no route of this catalog fits."""
        parts = urlsplit(url)
        if not self.host_matches(parts.hostname or ""):
            return None
        action = _action_of(parts.query, headers)
        for op in self.operations.values():
            if any(r.matches(method, parts.path or "/", action) for r in op.routes):
                return op.name
        return None


def _action_of(query: str, headers: Mapping[str, str]) -> str | None:
    actions = parse_qs(query).get("Action")
    if actions:
        return actions[0]
    for name, value in headers.items():
        if name.lower() == "x-acs-action":
            return value
    return None


# --------------------------------------------------------------------------- loading


@functools.cache
def _schema_validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(
        resources.files("pytest_visioncontract").joinpath("schemas/catalog.json").read_text()
    )
    return Draft202012Validator(schema)


def parse_catalog(document: Any, origin: str) -> Catalog:
    """Validate a catalog document and build the Catalog, or raise one clear line."""
    from jsonschema.exceptions import best_match

    try:
        error = best_match(_schema_validator().iter_errors(document))
    except RecursionError:
        raise VisionContractError(
            MALFORMED_CATALOG.format(origin=origin, where="", problem=TOO_DEEP)
        ) from None
    if error is not None:
        where = _where(document, list(error.absolute_path))
        raise VisionContractError(
            MALFORMED_CATALOG.format(origin=origin, where=where, problem=_short(error.message))
        )
    provider = document["provider"]
    operations = {
        name: Operation(
            name=name,
            summary=spec.get("summary", ""),
            routes=tuple(_route(origin, name, r) for r in spec["routes"]),
            success_status=spec.get("success", {}).get("status", 200),
            success_body=spec.get("success", {}).get("body"),
        )
        for name, spec in document["operations"].items()
    }
    entries = tuple(_entry(provider, raw) for raw in document["entries"])
    _check_entries(origin, entries, operations)
    scrub = document.get("scrub", {})
    for kind in ("patterns", "bodies", "hosts", "paths"):
        for index, rule in enumerate(scrub.get(kind, ())):
            _regex(origin, f"scrub.{kind}[{index}]: ", "", rule["pattern"])
    return Catalog(
        provider=provider,
        title=document["title"],
        wire_format=document["wire_format"],
        api_version=document.get("api_version", ""),
        hosts=tuple(document["hosts"]),
        operations=operations,
        entries=entries,
        origin=origin,
        seed=document.get("seed"),
        scrub=scrub,
    )


def _short(text: str, limit: int = 200) -> str:
    """A validator's message quotes the offending value: keep the line a line."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(document: Any, path: list[str | int]) -> str:
    if len(path) >= 2 and path[0] == "entries" and isinstance(path[1], int):
        raw = document["entries"][path[1]]
        ident = raw.get("id") if isinstance(raw, dict) else None
        rest = "".join(f".{p}" for p in path[2:])
        named = f" (id {ident!r})" if ident else ""
        return f"entries[{path[1]}]{named}{rest}: "
    return ("/".join(str(p) for p in path) + ": ") if path else ""


def _route(origin: str, op: str, raw: Mapping[str, str]) -> Route:
    pattern = _regex(origin, f"operations.{op}: ", "path ", raw["path"], re.IGNORECASE)
    return Route(method=raw["method"], path=pattern, action=raw.get("action"))


def _regex(origin: str, where: str, what: str, text: str, flags: int = 0) -> re.Pattern[str]:
    """A catalog's regular expression, or one line naming where it is and why it is not one."""
    try:
        return re.compile(text, flags)
    except re.error as exc:
        problem = f"{what}{text!r} is not a regular expression ({exc})"
        raise VisionContractError(
            MALFORMED_CATALOG.format(origin=origin, where=where, problem=problem)
        ) from None


def _entry(provider: str, raw: Mapping[str, Any]) -> Entry:
    ops = raw["operations"]
    return Entry(
        provider=provider,
        id=raw["id"],
        status=raw["status"],
        code=raw["code"],
        message=raw["message"],
        operations=None if ops == "*" else tuple(ops),
        category=raw["category"],
        retryable=raw["retryable"],
        section=raw["source"]["section"],
        row=raw["source"].get("row"),
        inner_code=raw.get("inner_code"),
        inner_message=raw.get("inner_message"),
        status_inferred=raw.get("status_inferred"),
        message_documented=raw.get("message_documented", True),
        fill=dict(raw.get("fill", {})),
        parameter=raw.get("parameter"),
        more_details=raw.get("more_details"),
        flag=raw.get("flag"),
    )


def _check_entries(
    origin: str, entries: Sequence[Entry], operations: Mapping[str, Operation]
) -> None:
    seen: dict[str, int] = {}
    for index, e in enumerate(entries):
        where = f"entries[{index}] (id {e.id!r}): "

        def fail(problem: str, where: str = where) -> VisionContractError:
            return VisionContractError(
                MALFORMED_CATALOG.format(origin=origin, where=where, problem=problem)
            )

        key = e.id.lower()
        if key in seen:
            raise fail(f"id repeats entries[{seen[key]}] (ids must differ beyond letter case)")
        seen[key] = index
        for op in e.operations or ():
            if op not in operations:
                known = ", ".join(operations)
                raise fail(f"unknown operation {op!r}; the catalog defines: {known}")
        for placeholder in e.fill:
            if placeholder not in e.message and placeholder not in (e.inner_message or ""):
                raise fail(f"fill names {placeholder!r}, which the message does not contain")
    for op in [*operations, ANY_OPERATION]:
        labels: dict[str, str] = {}
        for e in entries:
            if op != ANY_OPERATION and not e.applies_to(op):
                continue
            if op == ANY_OPERATION and e.operations is not None:
                continue
            label = case_label(e, op).lower()
            if label in labels:
                raise VisionContractError(
                    MALFORMED_CATALOG.format(
                        origin=origin,
                        where=f"entry {e.id!r}: ",
                        problem=f"its test id {case_label(e, op)!r} repeats that of "
                        f"{labels[label]!r}; give one of them a distinct id",
                    )
                )
            labels[label] = e.id


def case_label(entry: Entry, operation: str) -> str:
    """The readable, stable test id of an entry served on an operation."""
    parts = [entry.provider, operation, str(entry.status), entry.code]
    if entry.inner_code:
        parts.append(entry.inner_code)
    if entry.slug:
        parts.append(entry.slug)
    return "-".join(parts)


def _read_document(path: Path | Any, origin: str) -> Any:
    try:
        size = path.stat().st_size if hasattr(path, "stat") else 0
        if size > MAX_CATALOG_BYTES:
            raise VisionContractError(
                MALFORMED_CATALOG.format(
                    origin=origin,
                    where="",
                    problem=f"{size:,} bytes; a catalog is at most {MAX_CATALOG_BYTES:,} bytes",
                )
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VisionContractError(UNREADABLE_CATALOG.format(origin=origin, problem=exc)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise VisionContractError(
            MALFORMED_CATALOG.format(
                origin=origin, where="", problem=f"not JSON: {exc.msg} at line {exc.lineno}"
            )
        ) from None
    except RecursionError:
        raise VisionContractError(
            MALFORMED_CATALOG.format(origin=origin, where="", problem=TOO_DEEP)
        ) from None


def load_catalog_file(path: str | Path) -> Catalog:
    p = Path(path)
    return parse_catalog(_read_document(p, str(p)), str(p))


@functools.cache
def builtin_catalog(provider: str) -> Catalog:
    res = resources.files("pytest_visioncontract").joinpath(f"catalogs/{provider}.json")
    return parse_catalog(_read_document(res, f"{provider}.json (built in)"), f"{provider}.json")


def _from_entry_point(name: str, loaded: object) -> Catalog:
    origin = f"entry point {name!r} in group {ENTRY_POINT_GROUP}"
    obj = loaded() if callable(loaded) else loaded
    if isinstance(obj, Mapping):
        return parse_catalog(obj, origin)
    if isinstance(obj, (str, Path)) or hasattr(obj, "read_text"):
        p = Path(obj) if isinstance(obj, str) else obj
        return parse_catalog(_read_document(p, f"{origin} ({obj})"), f"{origin} ({obj})")
    raise VisionContractError(
        f"{origin} gave {type(obj).__name__}; expected a catalog mapping, a path, "
        "or a callable returning one"
    )


@dataclass(frozen=True, eq=False)  # hashed by identity: load_registry caches it
class Registry:
    """The catalogs in force: built in, from entry points, and from the user's files."""

    catalogs: Mapping[str, Catalog]

    def get(self, provider: object) -> Catalog:
        if isinstance(provider, str) and provider in self.catalogs:
            return self.catalogs[provider]
        raise VisionContractError(
            UNKNOWN_PROVIDER.format(name=provider, known=", ".join(sorted(self.catalogs)))
        )

    def all(self) -> list[Catalog]:
        return [self.catalogs[name] for name in sorted(self.catalogs)]

    @property
    def names(self) -> list[str]:
        return sorted(self.catalogs)


def _entry_point_catalogs() -> list[tuple[str, Callable[[], Catalog]]]:
    found: list[tuple[str, Callable[[], Catalog]]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):

        def load(ep: Any = ep) -> Catalog:
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken third-party package: say which, not a traceback
                raise VisionContractError(
                    f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP} failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            return _from_entry_point(ep.name, loaded)

        found.append((f"entry point {ep.name!r}", load))
    return found


@functools.cache
def load_registry(extra_files: tuple[str, ...] = ()) -> Registry:
    """Built-in catalogs, then entry-point catalogs, then the user's files (cached)."""
    catalogs: dict[str, Catalog] = {}
    sources: list[tuple[str, Callable[[], Catalog]]] = [
        (f"built-in {name}.json", functools.partial(builtin_catalog, name))
        for name in BUILTIN_PROVIDERS
    ]
    sources += _entry_point_catalogs()
    sources += [(f"file {p}", functools.partial(load_catalog_file, p)) for p in extra_files]
    for label, load in sources:
        catalog = load()
        if catalog.provider in catalogs:
            raise VisionContractError(
                DUPLICATE_PROVIDER.format(
                    name=catalog.provider, first=catalogs[catalog.provider].origin, second=label
                )
            )
        catalogs[catalog.provider] = catalog
    return Registry(catalogs)
