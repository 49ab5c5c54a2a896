"""Cassette files: synthesize one per documented error, and lint what is on disk.

Cassettes stay in vcrpy's own YAML format (vcrpy's serializer writes and reads them, so vcrpy
tools read ours), with a ``metadata`` block for provenance: where the interaction came from
(live, simulator, synthetic), provider, operation, API version, when, and the plugin version.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_visioncontract.catalog import ANY_OPERATION, Catalog, Entry, Registry
from pytest_visioncontract.scrubbing import Rules, find_leaks, leaks_in_bytes
from pytest_visioncontract.wire import WireResponse, envelope_problems, render

PROVENANCES = ("live", "simulator", "synthetic")
SIDE_FILE_SUFFIX = ".bin"
TEMPORARY_SUFFIX = ".vctmp"  # write_atomic's temporary files: .<name>.<pid>.<random>.vctmp
_TEMPORARY = re.compile(
    r"^\..+\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.vctmp$"
)  # request bodies kept beside cassettes, bodies/<sha256>.bin
PROVENANCE_FIELDS = ("provenance", "provider", "operation", "api_version", "recorded_at", "plugin")
EXAMPLE_HOSTS = {
    "azure_image_analysis": "myresource.cognitiveservices.azure.com",
    "azure_face": "myresource.cognitiveservices.azure.com",
    "bing_image_search": "api.bing.microsoft.com",
    "huawei_ocr": "ocr.cn-north-4.myhuaweicloud.com",
    "alibaba_image_search": "imagesearch.cn-shanghai.aliyuncs.com",
}


def _serializer() -> Any:
    from vcr.serializers import yamlserializer

    return yamlserializer


def example_request(catalog: Catalog, operation: str) -> dict[str, Any]:
    """A request that the catalog routes to ``operation`` (for cassettes written without one)."""
    name = operation if operation != ANY_OPERATION else next(iter(catalog.operations))
    route = catalog.operations[name].routes[0]
    path = _example_path(route.path.pattern)
    query = f"?Action={route.action}" if route.action else ""
    return {
        "method": "POST" if route.method == "*" else route.method,
        "uri": f"https://{EXAMPLE_HOSTS.get(catalog.provider, 'example.invalid')}{path}{query}",
        "body": None,
        "headers": {},
    }


def _example_path(pattern: str) -> str:
    """A concrete path for a route's regular expression (the catalogs' simple ones)."""
    path = pattern.strip("^$")
    path = re.sub(r"\(\/\.\*\)\?", "", path)  # optional sub-resource
    path = re.sub(r"\((\w+)\)\?", "", path)  # optional literal group
    path = re.sub(r"\(/bing\)\?", "", path)
    path = path.replace("v[0-9][^/]*", "v1.2").replace("[^/]+", "project-1")
    return path.replace("\\.", ".").replace("\\", "")


def provenance(
    kind: str, catalog: Catalog, operation: str, *, when: datetime | None = None
) -> dict[str, str]:
    from pytest_visioncontract import __version__

    stamp = (when or datetime.now(UTC)).replace(microsecond=0).isoformat()
    return {
        "provenance": kind,
        "provider": catalog.provider,
        "operation": operation,
        "api_version": catalog.api_version,
        "recorded_at": stamp,
        "plugin": f"pytest-visioncontract {__version__}",
    }


def synthesize(catalog: Catalog, entry: Entry, operation: str, *, when: datetime) -> str:
    """One documented error as a vcrpy cassette (provenance: synthetic)."""
    from vcr.request import Request
    from vcr.serialize import serialize

    raw = example_request(catalog, operation)
    request = Request(raw["method"], raw["uri"], raw["body"], raw["headers"])
    document = {
        "requests": [request],
        "responses": [render(catalog, entry).as_vcr()],
        "metadata": {**provenance("synthetic", catalog, operation, when=when), "entry": entry.id},
    }
    text: str = serialize(document, _serializer())
    return text


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write next to the target, then rename over it: an interrupted write leaves the old file.

    The temporary file is named ``.<name>.<pid>.<random>.vctmp``: one left by a killed process
    is recognised and removed by :func:`remove_stale_temporaries`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=TEMPORARY_SUFFIX, dir=path.parent
    )
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files :func:`write_atomic` left in ``folder`` from processes that
    no longer run (a killed recording); returns what was removed."""
    removed = []
    for candidate in folder.glob(f".*{TEMPORARY_SUFFIX}") if folder.is_dir() else ():
        found = _TEMPORARY.match(candidate.name)
        if found is None or _alive(int(found["pid"])):
            continue
        candidate.unlink(missing_ok=True)
        removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def synthesize_all(catalog: Catalog, out: Path, *, when: datetime) -> list[Path]:
    """One cassette per documented (served) error, named by entry id; returns the paths."""
    paths = []
    for entry in catalog.servable_entries:
        operation = entry.operations[0] if entry.operations else ANY_OPERATION
        path = out / catalog.provider / f"{entry.id}.yaml"
        write_atomic(path, synthesize(catalog, entry, operation, when=when))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- lint


@dataclass(frozen=True)
class Finding:
    path: Path
    where: str  # "interaction 3", or "" for the whole file
    kind: str  # secret, schema, drift, provenance, parse
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.path}:{where} {self.kind}: {self.message}"


@dataclass(frozen=True)
class Interaction:
    request: Mapping[str, Any]
    response: Mapping[str, Any]


def read(path: Path) -> tuple[list[Interaction], dict[str, Any]]:
    """A cassette's interactions and metadata; ValueError (one line) when it cannot be read."""
    interactions, metadata, _ = read_document(path)
    return interactions, metadata


def read_document(path: Path) -> tuple[list[Interaction], dict[str, Any], dict[str, Any]]:
    """Interactions, metadata and the parsed document (to hand to vcrpy without parsing again)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read it: {exc}") from None
    try:
        data = _serializer().deserialize(text)
    except RecursionError:
        raise ValueError("not a YAML cassette: nested too deeply") from None
    except Exception as exc:  # yaml errors come in many classes
        raise ValueError(f"not a YAML cassette: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise ValueError("not a vcrpy cassette: no 'interactions' list")
    interactions = [_interaction(index, item) for index, item in enumerate(data["interactions"], 1)]
    metadata = data.get("metadata") or {}
    return interactions, metadata if isinstance(metadata, dict) else {}, data


def _yaml_problem(exc: Exception) -> str:
    """A YAML error as one line, with the line and column where it was found."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        context = getattr(exc, "context", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return f"{context + ': ' if context else ''}{problem} at {where}"
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _interaction(index: int, item: Any) -> Interaction:
    """One interaction, its shape checked: what vcrpy and the plugin read must be there."""

    def wrong(where: str, what: str) -> ValueError:
        return ValueError(f"interaction {index}: {where} {what}")

    if not isinstance(item, dict) or "request" not in item or "response" not in item:
        return _raise(wrong("is", "not a request/response pair"))
    request, response = item["request"], item["response"]
    if not isinstance(request, dict):
        return _raise(wrong("request is", f"{_kind(request)}; expected a mapping"))
    if not isinstance(response, dict):
        return _raise(wrong("response is", f"{_kind(response)}; expected a mapping"))
    for key in ("method", "uri"):
        if not isinstance(request.get(key), str):
            return _raise(wrong(f"request.{key} is", f"{_kind(request.get(key))}; expected text"))
    for side, message in (("request", request), ("response", response)):
        headers = message.get("headers", {})
        if headers is None:
            continue
        if not isinstance(headers, dict):
            return _raise(
                wrong(
                    f"{side}.headers is", f"{_kind(headers)}; expected a mapping of names to values"
                )
            )
        for name, values in headers.items():
            if not all(
                isinstance(v, str | int) for v in (values if isinstance(values, list) else [values])
            ):
                return _raise(
                    wrong(f"{side}.headers[{name!r}] is", f"{_kind(values)}; expected text")
                )
    status = response.get("status")
    if not isinstance(status, dict) or type(status.get("code")) is not int:
        code = status.get("code") if isinstance(status, dict) else status
        return _raise(wrong("response.status.code is", f"{_kind(code)}; expected a whole number"))
    body = response.get("body")
    if body is not None and not (
        isinstance(body, dict) and isinstance(body.get("string"), str | bytes | None)
    ):
        inner = body.get("string") if isinstance(body, dict) else body
        return _raise(wrong("response.body.string is", f"{_kind(inner)}; expected text or bytes"))
    return Interaction(request, response)


def _raise(error: ValueError) -> Interaction:
    raise error


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


def _body_text(response: Mapping[str, Any]) -> bytes:
    body = response.get("body") or {}
    value = body.get("string", b"") if isinstance(body, dict) else body
    return value.encode("utf-8") if isinstance(value, str) else bytes(value or b"")


def _error_code(catalog: Catalog, document: Any) -> tuple[str | None, str | None]:
    if not isinstance(document, dict):
        return None, None
    fmt = catalog.wire_format
    if fmt == "azure" and isinstance(document.get("error"), dict):
        inner = document["error"].get("innererror") or {}
        return document["error"].get("code"), inner.get("code") if isinstance(inner, dict) else None
    if fmt == "huawei":
        return document.get("error_code"), None
    if fmt == "alibaba":
        return document.get("Code"), None
    if fmt == "bing" and document.get("errors"):
        first = document["errors"][0]
        return first.get("code"), first.get("subCode")
    return None, None


def lint_file(
    path: Path,
    registry: Registry,
    secrets: Sequence[tuple[str, str]] = (),
    rules: Rules | None = None,
) -> list[Finding]:
    """Everything wrong with one cassette: parse, provenance, secrets, schema, drift. A side
    file (``bodies/<sha256>.bin``) is checked for secrets."""
    import json

    from pytest_visioncontract.recording import route

    rules = rules if rules is not None else Rules.build(registry.all())
    if path.suffix == SIDE_FILE_SUFFIX:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return [Finding(path, "", "parse", f"cannot read it: {exc}")]
        return [
            Finding(path, "", "secret", leak.description)
            for leak in leaks_in_bytes(raw, "request body", rules, secrets)
        ]
    try:
        interactions, metadata = read(path)
    except ValueError as exc:
        return [Finding(path, "", "parse", str(exc))]
    findings: list[Finding] = []
    missing = [f for f in PROVENANCE_FIELDS if not metadata.get(f)]
    if missing:
        findings.append(Finding(path, "", "provenance", f"metadata lacks {', '.join(missing)}"))
    elif metadata["provenance"] not in PROVENANCES:
        findings.append(
            Finding(
                path,
                "",
                "provenance",
                f"provenance {metadata['provenance']!r} is not one of {', '.join(PROVENANCES)}",
            )
        )
    pairs = [(i.request, i.response) for i in interactions]
    findings += [
        Finding(path, f"interaction {leak.interaction}", "secret", leak.description)
        for leak in find_leaks(pairs, rules, secrets)
    ]
    for index, interaction in enumerate(interactions, 1):
        where = f"interaction {index}"
        found = route(
            registry,
            str(interaction.request.get("method", "GET")),
            str(interaction.request.get("uri", "")),
        )
        status = (interaction.response.get("status") or {}).get("code", 0)
        if found is None or not isinstance(status, int) or status < 400:
            continue
        catalog, _operation = found
        body = _body_text(interaction.response)
        problems = envelope_problems(catalog.wire_format, body)
        if problems:
            findings.append(
                Finding(path, where, "schema", f"{catalog.provider} error body: {problems[0]}")
            )
            continue
        code, inner = _error_code(catalog, json.loads(body))
        known = {(e.status, e.code, e.inner_code) for e in catalog.entries}
        if (status, code, inner) not in known and (status, code, None) not in known:
            findings.append(
                Finding(path, where, "drift", undocumented(catalog, status, code, inner, path))
            )
    return findings


def undocumented(
    catalog: Catalog, status: int, code: str | None, inner: str | None, path: Path
) -> str:
    """The drift message for a recorded error the catalog lacks, with an entry to add."""
    import json

    suggestion = {
        "status": status,
        "code": code,
        **({"inner_code": inner} if inner else {}),
        "message": "...",
        "operations": "*",
        "category": "...",
        "retryable": False,
        "source": {"section": f"recorded in {path.name}"},
    }
    error = f"{status} {code}" + (f"/{inner}" if inner else "")
    return (
        f"undocumented {catalog.provider} error {error}; "
        f"suggested catalog entry: {json.dumps(suggestion)}"
    )


def cassette_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", SIDE_FILE_SUFFIX)
            )
        else:
            yield path


# --------------------------------------------------------------------------- source="cassettes"

NO_CASSETTES = (
    "vision_errors: source='cassettes' found no recorded {provider} error in {folder}; record "
    "some with --vision-record, or synthesize them: "
    "visioncontract synthesize {provider} --out {folder}"
)


def _wire(response: Mapping[str, Any]) -> WireResponse:
    from pytest_visioncontract.wire import reason_phrase

    status = response.get("status") or {}
    code = int(status.get("code", 0))
    headers: list[tuple[str, str]] = []
    for name, values in (response.get("headers") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    return WireResponse(
        code,
        str(status.get("message") or reason_phrase(code)),
        tuple(headers),
        _body_text(response),
    )


@dataclass(frozen=True)
class Recorded:
    """One recorded error interaction, routed and parsed."""

    path: Path
    index: int
    provider: str
    operation: str
    response: WireResponse
    code: str | None
    inner: str | None
    problems: tuple[str, ...]


def recorded_errors(folder: Path, registry: Registry) -> list[Recorded]:
    """Every recorded error interaction below ``folder``, routed to its provider and operation.

    Read and parsed once per state of the folder, however many marked tests ask: a case's cost
    does not grow with the size of the cassettes around it. A malformed file: ValueError.
    """
    if not folder.is_dir():
        return []
    files = tuple(cassette_files([folder]))
    state = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _parse_all(state, registry)


@functools.lru_cache(maxsize=16)
def _parse_all(state: tuple[tuple[str, int, int], ...], registry: Registry) -> list[Recorded]:
    import json

    from pytest_visioncontract.recording import route

    found: list[Recorded] = []
    for name, _mtime, _size in state:
        path = Path(name)
        try:
            interactions, _ = read(path)
        except ValueError as exc:
            raise ValueError(f"malformed cassette {path}: {exc}") from None
        for index, interaction in enumerate(interactions, 1):
            request = interaction.request
            routed = route(registry, str(request.get("method", "GET")), str(request.get("uri", "")))
            response = _wire(interaction.response)
            if routed is None or response.status < 400:
                continue
            catalog, operation = routed
            problems = tuple(envelope_problems(catalog.wire_format, response.body))
            code, inner = (
                (None, None) if problems else _error_code(catalog, json.loads(response.body))
            )
            found.append(
                Recorded(path, index, catalog.provider, operation, response, code, inner, problems)
            )
    return found


def recorded_cases(selection: Any, registry: Registry, folder: Path) -> list[Any]:
    """One case per recorded error interaction of the selection's provider.

    A recorded error the catalog documents is served as that entry (so it counts toward the
    coverage report); one it does not document, or whose body breaks the envelope schema, is
    served too, flagged as contract drift with a suggested catalog entry.
    """
    import dataclasses

    from pytest_visioncontract.selection import Case, _wanted

    catalog = registry.get(selection.provider)
    cases = []
    for recorded in recorded_errors(folder, registry):
        if recorded.provider != catalog.provider:
            continue
        path, index, operation = recorded.path, recorded.index, recorded.operation
        response, code, inner = recorded.response, recorded.code, recorded.inner
        problems = recorded.problems
        if selection.operations is not None and operation not in selection.operations:
            continue
        entry = next(
            (
                e
                for e in catalog.entries
                if (e.status, e.code, e.inner_code) == (response.status, code, inner)
            ),
            None,
        ) or next(
            (e for e in catalog.entries if (e.status, e.code) == (response.status, code)), None
        )
        drift = None
        if problems:
            drift = f"recorded body breaks the {catalog.wire_format} envelope: {problems[0]}"
        if entry is None:
            drift = drift or undocumented(catalog, response.status, code, inner, path)
            entry = dataclasses.replace(
                catalog.entries[0],
                id=f"undocumented-{response.status}-{code or 'unknown'}",
                status=response.status,
                code=str(code or "unknown"),
                inner_code=inner,
                inner_message=None,
                message=f"recorded in {path.name}",
                operations=None,
                category="server" if response.status >= 500 else "invalid_request",
                retryable=response.status >= 500 or response.status == 429,
                section=f"recorded in {path}",
                row=index,
                fill={},
                flag="undocumented",
            )
        elif not _wanted(selection, entry):
            continue
        label = (
            f"{catalog.provider}-{operation}-{response.status}-{entry.code}"
            + (f"-{entry.inner_code}" if entry.inner_code else "")
            + f"-{path.stem}-{index}"
        )
        cases.append(
            Case(selection, catalog, entry, operation, response, label_override=label, drift=drift)
        )
    if not cases:
        raise ValueError(NO_CASSETTES.format(provider=catalog.provider, folder=folder))
    return cases
