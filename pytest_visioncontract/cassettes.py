"""Cassette files: synthesize one per documented error, and lint what is on disk.

Cassettes stay in vcrpy's own YAML format (vcrpy's serializer writes and reads them, so vcrpy
tools read ours), with a ``metadata`` block for provenance: where the interaction came from
(live, simulator, synthetic), provider, operation, API version, when, and the plugin version.
"""

from __future__ import annotations

import contextlib
import functools
import gc
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
    reader = Batches(path)
    interactions = [interaction for _, checked in reader for interaction in checked]
    return interactions, reader.metadata


def read_document(path: Path) -> tuple[list[Interaction], dict[str, Any], dict[str, Any]]:
    """Interactions, metadata and the parsed document: what :func:`read_whole` gives, read a
    batch at a time (:class:`Batches`)."""
    reader = Batches(path)
    items: list[Any] = []
    interactions: list[Interaction] = []
    for raw, checked in reader:
        items += raw
        interactions += checked
    return interactions, reader.metadata, {"interactions": items, **reader.document}


def read_whole(path: Path) -> tuple[list[Interaction], dict[str, Any], dict[str, Any]]:
    """The whole file parsed at once by vcrpy's own loader: the reference :class:`Batches`
    gives the same as, and falls back on for a file it cannot cut."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read it: {exc}") from None
    try:
        with _collector_paused():
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


def _yaml_problem(exc: Exception, line: int = 0) -> str:
    """A YAML error as one line, with the line and column where it was found (``line``: the
    file's line where the text parsed began, counted from 0)."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        context = getattr(exc, "context", None)
        where = f"line {mark.line + 1 + line}, column {mark.column + 1}"
        return f"{context + ': ' if context else ''}{problem} at {where}"
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# --------------------------------------------------------------------------- reading in batches
#
# pyyaml writes a vcrpy cassette in block style: "interactions:" on the first line, then each
# interaction as a "- " item at column 0, then the other top-level keys (metadata, version).
# Such a file is read a batch of items at a time: its text is cut where an item begins, each
# batch is parsed alone, so memory holds one batch's text and objects at a time however large
# the file. A file laid out otherwise (a comment or anything else at column 0 inside the list,
# flow style, other line breaks, keys before the list), or a batch whose parse the cut could
# have changed, is read whole by read_whole: the result and every message are the same.

BATCH_CHARS = 1 << 20  # YAML text parsed at once (at least one whole interaction)
_BLOCK_CHARS = 1 << 20  # text read from the file at once
_FIRST_LINE = "interactions:\n"
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")  # line breaks to YAML 1.1, not to str.count
_ITEM = re.compile(r"-[ \n]")  # a line that begins an item
_IN_LIST = re.compile(r"[ \n]|-[ \n]")  # a line that begins or continues an item
_LIST_END = re.compile(r"\n(?=[^ \n-]|-(?![ \n]))")  # a line at column 0 that does neither
_TOP_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*:(?: |$)")
_DEEPEST = 64  # nesting the fast loader leaves to vcrpy's (which may run out of recursion)


class _Whole(Exception):
    """The batched reader cannot vouch for what it would give here: read the file whole."""


class Batches:
    """A cassette's interactions in order, a batch at a time: each step gives the raw items
    (vcrpy's dicts) and the same checked, as :class:`Interaction`. ``document`` (the top-level
    keys but ``interactions``) and ``metadata`` are known once every batch has been taken.

    What is given, and the one ValueError raised, are what :func:`read_whole` gives and
    raises: interactions numbered in the whole file, YAML errors with lines and columns in
    the whole file, and an interaction of the wrong shape reported only once the rest of the
    file has parsed (a YAML error anywhere comes first). A consumer that stops at an error
    drops what it made of the batches before.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document: dict[str, Any] = {}
        self.whole = False  # read whole: the file is not laid out as pyyaml writes cassettes

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.document.get("metadata") or {}
        return metadata if isinstance(metadata, dict) else {}

    def __iter__(self) -> Iterator[tuple[list[Any], list[Interaction]]]:
        given = 0
        try:
            for items, interactions in self._batches():
                yield items, interactions
                given += len(items)
            return
        except _Whole:
            pass
        # Only a batch's parse falls back once batches have been given (the layout and the
        # keys after the list were checked first). The batches given so far were parsed
        # alone and began and ended where items begin (a cut anywhere else leaves a batch
        # unfinished: an error on its last line, which is not trusted), so they are the
        # whole file's first items, or the whole file raises; the rest follows.
        self.whole = True
        interactions, _, data = read_whole(self.path)
        self.document = {k: v for k, v in data.items() if k != "interactions"}
        if given < len(interactions):
            yield data["interactions"][given:], interactions[given:]

    def _batches(self) -> Iterator[tuple[list[Any], list[Interaction]]]:
        wrong: ValueError | None = None  # the first interaction of the wrong shape
        index = 0
        try:
            stream = self.path.open(encoding="utf-8")
        except OSError:
            raise _Whole from None
        with stream:
            # the keys after the list first: nothing is given before the whole file is known
            # to be laid out as it should (a second ``interactions`` key, say, is what the
            # whole file gives, and the batches before it are not)
            for text, _line, is_list in _pieces(stream):
                if not is_list:
                    self.document = _top_keys(text)
            try:
                stream.seek(0)
            except OSError:
                raise _Whole from None
            for text, line, is_list in _pieces(stream):
                if not is_list:
                    continue
                items = _parse_batch(text, line)
                if wrong is not None:
                    continue  # parsed all the same: a YAML error further on comes first
                checked = []
                for item in items:
                    index += 1
                    try:
                        checked.append(_interaction(index, item))
                    except ValueError as exc:
                        wrong = exc
                        break
                if wrong is None:
                    yield items, checked
        if wrong is not None:
            raise wrong


def _pieces(stream: Any) -> Iterator[tuple[str, int, bool]]:
    """The file's text in pieces: (text, its first line counted from 0, True for a batch of
    the ``interactions`` list, False for the keys after it, the last piece). _Whole when the
    file is not laid out as pyyaml writes vcrpy's cassettes, or cannot be read or decoded
    (read_whole says why, in its words)."""
    try:
        if stream.readline() != _FIRST_LINE:
            raise _Whole
        line = 1  # the file's line where ``pending`` begins
        pending: list[str] = []  # the list's text not given yet, from where an item begins
        size = 0  # its length
        last = 0  # where in it the last item begins (0: only the first)
        carry: list[str] = []  # the last line read, not finished yet
        while True:
            block = stream.read(_BLOCK_CHARS)
            if any(b in block for b in _OTHER_BREAKS):
                raise _Whole
            cut = block.rfind("\n") + 1
            if block and not cut:
                carry.append(block)  # a long line
                continue
            text = "".join(carry) + block[:cut] if block else "".join(carry)
            carry = [block[cut:]] if block else []
            if text:
                if not size and not pending and not _ITEM.match(text):
                    raise _Whole  # the list's first line must begin an item
                if not _IN_LIST.match(text):
                    end: int | None = 0
                else:
                    found = _LIST_END.search(text)
                    end = found.start() + 1 if found else None
                if end is not None:  # the list ends here: the rest is the keys after it
                    pending.append(text[:end])
                    rest = text[end:] + "".join(carry) + stream.read()
                    if any(b in rest for b in _OTHER_BREAKS):
                        raise _Whole
                    listed, pending, text = "".join(pending), [], ""  # one copy held
                    lines = listed.count("\n")
                    if listed:
                        yield listed, line, True
                    yield rest, line + lines, False
                    return
                if text[0] == "-" and size:
                    last = size
                begins = text.rfind("\n-")
                if begins >= 0:
                    last = size + begins + 1
                pending.append(text)
                size += len(text)
            if not block:
                break
            if size >= BATCH_CHARS and last:
                joined = "".join(pending)
                batch, pending = joined[:last], [joined[last:]]
                del joined  # one copy held while the batch is parsed
                yield batch, line, True
                line += batch.count("\n")
                size, last = size - len(batch), 0
        listed, pending = "".join(pending), []
        if not listed:
            raise _Whole  # no item at all
        yield listed, line, True
        yield "", line + listed.count("\n"), False
    except (OSError, UnicodeDecodeError):
        raise _Whole from None


def _top_keys(text: str) -> dict[str, Any]:
    """The top-level keys after the interactions list (parsed alone, as they would be in the
    whole file: simple keys at column 0, none of them ``interactions``)."""
    starts = [row for row in text.split("\n") if row and not row.startswith(" ")]
    if not all(_TOP_KEY.match(row) for row in starts):
        raise _Whole
    try:
        with _collector_paused():
            keys = _serializer().deserialize(text) if text.strip() else {}
    except Exception:
        raise _Whole from None
    if keys is None:
        keys = {}
    if not isinstance(keys, dict) or "interactions" in keys:
        raise _Whole
    return keys


def _parse_batch(text: str, line: int) -> list[Any]:
    """A batch of the list's items, parsed; a YAML error the whole file would give the same
    way is ValueError with the whole file's line, anything else _Whole."""
    try:
        with _collector_paused():
            items = _fast_load(text)
    except Exception as exc:
        if _trusted(exc, text):
            raise ValueError(f"not a YAML cassette: {_yaml_problem(exc, line)}") from None
        raise _Whole from None
    if not isinstance(items, list):
        raise _Whole
    return items


def _trusted(exc: BaseException, text: str) -> bool:
    """Whether the whole file gives this same error, with the same message and place.

    Inside an item the scanner and the parser do the same on a batch as on the whole file
    (the same indentation, 0, at column 0). They differ at the list's own level (an error
    whose context is the batch's root, at its first line and column, or has no context) and
    at the batch's end, where the whole file goes on (an error on the batch's last line,
    such as a quoted scalar or flow collection left open by a cut). Errors of the composer
    and the constructor are not trusted either: an alias may name an anchor in an earlier
    batch, and the whole file constructs only once it has all parsed.
    """
    import yaml

    if not isinstance(exc, yaml.scanner.ScannerError | yaml.parser.ParserError):
        return False
    context, problem = exc.context_mark, exc.problem_mark
    if exc.context is None or context is None or problem is None:
        return False
    if (context.line, context.column) == (0, 0):
        return False
    last = text.count("\n", 0, len(text) - 1)  # the batch's last line
    return problem.line < last


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: a parse makes many objects and no garbage,
    and the collector's passes over them cost more than the parse itself."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SPECIAL_KEYS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


class _Fallback(Exception):
    """Something the fast loader leaves to vcrpy's own loader."""


class _Pairs(list[Any]):
    """A mapping being built: its keys and values in turn."""


@functools.cache
def _loader_class() -> Any:
    """vcrpy's YAML loader class, when its constructors for text, lists and mappings are
    pyyaml's safe ones (what the fast loader does in their place); else None."""
    import yaml

    loader = getattr(_serializer(), "_CassetteLoader", None)
    if loader is None or not issubclass(loader, yaml.constructor.SafeConstructor):
        return None
    standard = yaml.constructor.SafeConstructor
    own = loader.yaml_constructors
    if (own.get(_STR), own.get(_SEQ), own.get(_MAP)) != (
        standard.construct_yaml_str,
        standard.construct_yaml_seq,
        standard.construct_yaml_map,
    ):
        return None
    return loader


def _fast_load(text: str) -> Any:
    """What vcrpy's loader makes of ``text`` (one document), built straight from the parser's
    events rather than from a tree of nodes: 2-3 x faster. Plain text, lists and mappings are
    built here, scalars of other tags (``!!binary``, numbers, null, ...) by the loader's own
    constructors; anything else (anchors and aliases, tags on collections, merge keys, keys
    that cannot be hashed, deep nesting, a second document, any error but the parser's) goes
    to the loader itself, which also raises what it raises."""
    loader_class = _loader_class()
    if loader_class is None:
        return _serializer().deserialize(text)
    loader = loader_class(text)
    try:
        return _build(loader)
    except _Fallback:
        pass
    finally:
        loader.dispose()
    return _serializer().deserialize(text)


def _build(loader: Any) -> Any:
    import types

    from yaml.events import (
        AliasEvent,
        DocumentStartEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from yaml.resolver import BaseResolver

    if loader.yaml_path_resolvers or type(loader).resolve is not BaseResolver.resolve:
        raise _Fallback
    # pyyaml's resolver: a scalar that may not be implicit (quoted) is text; a plain one's
    # tag depends on its text alone (without path resolvers)
    resolve = loader.resolve
    text_tag = loader.DEFAULT_SCALAR_TAG
    constructors = loader.yaml_constructors
    plain: dict[str, tuple[str, str]] = {}  # short plain scalars: their tag, and one copy
    stack: list[list[Any]] = [[]]  # the open lists and _Pairs, in a list for the result
    add = stack[-1].append
    documents = 0
    while True:
        event = loader.get_event()
        kind = event.__class__
        if kind is ScalarEvent:
            if event.anchor is not None:
                raise _Fallback
            value: Any = event.value
            tag = event.tag
            if tag is None or tag == "!":
                if not event.implicit[0]:
                    tag = text_tag
                elif len(value) > 64:
                    tag = resolve(ScalarNode, value, event.implicit)
                else:  # header names and values, keys: the same few, kept once
                    known = plain.get(value)
                    if known is None:
                        known = plain[value] = (resolve(ScalarNode, value, event.implicit), value)
                    tag, value = known
            if tag != _STR:
                constructor = constructors.get(tag)
                if constructor is None or tag in _SPECIAL_KEYS:
                    raise _Fallback
                node = ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
                try:
                    value = constructor(loader, node)
                except Exception:
                    raise _Fallback from None
                if isinstance(value, types.GeneratorType):
                    raise _Fallback
            add(value)
        elif kind is MappingEndEvent:
            pairs = iter(stack.pop())
            try:
                built = dict(zip(pairs, pairs, strict=False))
            except TypeError:  # a key that cannot be hashed: the loader says so
                raise _Fallback from None
            add = stack[-1].append
            add(built)
        elif kind is SequenceEndEvent:
            done = stack.pop()
            add = stack[-1].append
            add(done)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            mapping = kind is MappingStartEvent
            if event.anchor is not None or len(stack) > _DEEPEST:
                raise _Fallback
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(MappingNode if mapping else SequenceNode, None, event.implicit)
            if tag != (_MAP if mapping else _SEQ):
                raise _Fallback
            stack.append(_Pairs() if mapping else [])
            add = stack[-1].append
        elif kind is StreamEndEvent:
            return stack[0][0] if stack[0] else None
        elif kind is AliasEvent:
            raise _Fallback
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Fallback  # the loader says: expected a single document


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
    reader = Batches(path)
    router = _Router(registry)
    envelopes = _Envelopes()
    leaks: list[Finding] = []
    checks: list[Finding] = []
    # raised once the whole file has been read, as when it was read before anything was
    # checked: a problem reading it anywhere is what is reported then
    leak_failure: Exception | None = None
    check_failure: Exception | None = None
    first = 1  # the number of the batch's first interaction
    try:
        for _, interactions in reader:
            if leak_failure is None:
                try:
                    pairs = [(i.request, i.response) for i in interactions]
                    leaks += [
                        Finding(
                            path,
                            f"interaction {(leak.interaction or 0) + first - 1}",
                            "secret",
                            leak.description,
                        )
                        for leak in find_leaks(pairs, rules, secrets)
                    ]
                except Exception as exc:
                    leak_failure = exc
            if check_failure is None:
                try:
                    for index, interaction in enumerate(interactions, first):
                        found = _check(path, index, interaction, router, envelopes)
                        if found is not None:
                            checks.append(found)
                except Exception as exc:
                    check_failure = exc
            first += len(interactions)
    except ValueError as exc:
        return [Finding(path, "", "parse", str(exc))]
    if leak_failure is not None:
        raise leak_failure
    if check_failure is not None:
        raise check_failure
    findings: list[Finding] = []
    metadata = reader.metadata
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
    return findings + leaks + checks


def _check(
    path: Path, index: int, interaction: Interaction, router: _Router, envelopes: _Envelopes
) -> Finding | None:
    """What is wrong with one recorded error: a body that breaks its provider's envelope
    schema, or an error its catalog does not document."""
    where = f"interaction {index}"
    found = router(
        str(interaction.request.get("method", "GET")), str(interaction.request.get("uri", ""))
    )
    status = (interaction.response.get("status") or {}).get("code", 0)
    if found is None or not isinstance(status, int) or status < 400:
        return None
    catalog, _operation = found
    body = _body_text(interaction.response)
    problems, code, inner = envelopes(catalog, body)
    if problems:
        return Finding(path, where, "schema", f"{catalog.provider} error body: {problems[0]}")
    known = envelopes.known(catalog)
    if (status, code, inner) not in known and (status, code, None) not in known:
        return Finding(path, where, "drift", undocumented(catalog, status, code, inner, path))
    return None


class _Router:
    """``recording.route``, remembered for every request it answers the same: the same
    method, the same URI up to the query (host and path), and the same actions the query
    names (its first ``Action``, which the catalogs read, and its last, which the path-only
    fallback reads)."""

    LIMIT = 4096

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.known: dict[tuple[str, str, str | None, str | None], tuple[Catalog, str] | None] = {}

    def __call__(self, method: str, uri: str) -> tuple[Catalog, str] | None:
        from urllib.parse import parse_qs, parse_qsl, urlsplit

        from pytest_visioncontract.recording import route

        base, _, query = uri.partition("?")
        first = last = None
        if "Action" in query or "%" in query:  # it may name an action: read it as route does
            try:
                query = urlsplit(uri).query
            except ValueError:
                return route(self.registry, method, uri)  # which says what is wrong
            actions = parse_qs(query).get("Action")
            first = actions[0] if actions else None
            last = dict(parse_qsl(query)).get("Action")
        key = (method, base, first, last)
        if key in self.known:
            return self.known[key]
        found = route(self.registry, method, uri)
        if len(self.known) >= self.LIMIT:
            self.known.clear()
        self.known[key] = found
        return found


class _Envelopes:
    """A recorded error body's envelope problems, or its codes when it has none
    (``envelope_problems`` and ``_error_code``), remembered for small bodies seen again."""

    LIMIT = 4096
    LARGEST = 4096  # bytes of body remembered

    def __init__(self) -> None:
        self.seen: dict[tuple[str, bytes], tuple[tuple[str, ...], str | None, str | None]] = {}
        self.entries: dict[str, set[tuple[int, str | None, str | None]]] = {}

    def __call__(
        self, catalog: Catalog, body: bytes
    ) -> tuple[tuple[str, ...], str | None, str | None]:
        import json

        key = (catalog.wire_format, body)
        if key in self.seen:
            return self.seen[key]
        problems = tuple(envelope_problems(catalog.wire_format, body))
        if problems:
            found: tuple[tuple[str, ...], str | None, str | None] = (problems, None, None)
        else:
            found = ((), *_error_code(catalog, json.loads(body)))
        if len(body) <= self.LARGEST:
            if len(self.seen) >= self.LIMIT:
                self.seen.clear()
            self.seen[key] = found
        return found

    def known(self, catalog: Catalog) -> set[tuple[int, str | None, str | None]]:
        """The (status, code, inner code) its catalog documents."""
        if catalog.provider not in self.entries:
            self.entries[catalog.provider] = {
                (e.status, e.code, e.inner_code) for e in catalog.entries
            }
        return self.entries[catalog.provider]


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
    found: list[Recorded] = []
    router = _Router(registry)
    envelopes = _Envelopes()
    for name, _mtime, _size in state:
        path = Path(name)
        # each file read a batch at a time, only its errors kept; a problem with what was
        # read is raised once the whole file has been read, as when it was read first
        failure: Exception | None = None
        index = 0
        try:
            for _, interactions in Batches(path):
                for interaction in interactions:
                    index += 1
                    if failure is None:
                        try:
                            recorded = _recorded(path, index, interaction, router, envelopes)
                        except Exception as exc:
                            failure = exc
                        else:
                            if recorded is not None:
                                found.append(recorded)
        except ValueError as exc:
            raise ValueError(f"malformed cassette {path}: {exc}") from None
        if failure is not None:
            raise failure
    return found


def _recorded(
    path: Path, index: int, interaction: Interaction, router: _Router, envelopes: _Envelopes
) -> Recorded | None:
    """One interaction as a recorded error, routed and parsed; None if it is no error of a
    known provider."""
    request = interaction.request
    routed = router(str(request.get("method", "GET")), str(request.get("uri", "")))
    response = _wire(interaction.response)
    if routed is None or response.status < 400:
        return None
    catalog, operation = routed
    problems, code, inner = envelopes(catalog, response.body)
    return Recorded(path, index, catalog.provider, operation, response, code, inner, problems)


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
