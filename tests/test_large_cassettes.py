"""Cassettes read a batch of interactions at a time give what the whole file parsed at once
gives: the same interactions, metadata, findings, recorded errors and replayed requests, and
the same errors with the same messages, numbered and placed in the whole file.

The files are small; the batches are made smaller still (down to one interaction, read 7
characters at a time) so that every cut and every line count is exercised. Speed and memory are
measured in benchmarks/large_cassette.py, not here.
"""

from __future__ import annotations

import gc
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from vcr.request import Request
from vcr.serialize import deserialize, serialize
from vcr.serializers import yamlserializer

from pytest_visioncontract import cassettes
from pytest_visioncontract.cassettes import (
    Batches,
    example_request,
    lint_file,
    provenance,
    read,
    read_document,
    read_whole,
)
from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.errors import VisionContractError
from pytest_visioncontract.recording import SafePersister
from pytest_visioncontract.wire import render

KEY = "0123456789abcdef0123456789abcdef"
IMAGE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 3  # not UTF-8: vcrpy writes it as !!binary


def interaction(provider: str, number: int, *, body: Any = None) -> tuple[Request, dict[str, Any]]:
    """A recorded error of the provider: its ``number``-th documented one."""
    catalog = load_registry().get(provider)
    entry = catalog.servable_entries[number]
    operation = entry.operations[0] if entry.operations else "any"
    raw = example_request(catalog, operation)
    headers = {"Content-Type": ["application/json"], "User-Agent": ["python-requests/2.32.3"]}
    request = Request(raw["method"], raw["uri"] + f"#{number}", body, headers)
    return request, render(catalog, entry, request_id=f"req-{number}").as_vcr()


def write(path: Path, pairs: list[tuple[Request, dict[str, Any]]], **metadata: Any) -> Path:
    document: dict[str, Any] = {
        "requests": [p[0] for p in pairs],
        "responses": [p[1] for p in pairs],
    }
    if metadata:
        document["metadata"] = metadata
    path.write_text(serialize(document, yamlserializer))
    return path


BASE = [interaction("huawei_ocr", n) for n in range(6)]
BASE_TEXT = serialize(
    {"requests": [p[0] for p in BASE], "responses": [p[1] for p in BASE]}, yamlserializer
)


def various(path: Path) -> Path:
    """Interactions of every kind vcrpy writes: !!binary bodies both ways, text with line
    breaks, quotes and non-ASCII characters, empty and missing bodies, numbers, lists."""
    face = load_registry().get("azure_face")
    pairs = [interaction("huawei_ocr", 0), interaction("azure_face", 3, body=IMAGE)]
    request, response = interaction("alibaba_image_search", 1, body='{"picName": "é ✓ \'q\'"}')
    response["body"]["string"] = IMAGE  # bytes the scrubber could not read, as recorded
    pairs.append((request, response))
    request, response = interaction("bing_image_search", 2, body="line one\n- line two\n  three")
    response["body"]["string"] = "- not an item\ninteractions:\n  # not a comment\n" * 3
    pairs.append((request, response))
    request, response = interaction("azure_face", 5, body="")
    response["body"] = {"string": ""}
    response["headers"]["X-Count"] = ["1", "2"]
    pairs.append((request, response))
    pairs += [interaction("huawei_ocr", n % 30) for n in range(6, 40)]
    return write(path, pairs, **provenance("live", face, "detect"), entry="x: y")


@pytest.fixture(params=[(1, 7), (500, 64), (1 << 20, 1 << 20)], ids=["1-per-batch", "500", "1MB"])
def batches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Batches of at least this many characters (1: one interaction each), the file read a
    few characters at a time."""
    batch, block = request.param
    monkeypatch.setattr(cassettes, "BATCH_CHARS", batch)
    monkeypatch.setattr(cassettes, "_BLOCK_CHARS", block)
    return int(batch)


def whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every file is read whole, as before batches (the reference)."""

    def refuse(stream: Any) -> Iterator[tuple[str, int, bool]]:
        raise cassettes._Whole
        yield  # pragma: no cover

    monkeypatch.setattr(cassettes, "_pieces", refuse)


def outcome(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return "ok", function(*args)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def read_whole_count(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files read whole from now on."""
    calls: list[Path] = []
    real = cassettes.read_whole

    def counted(path: Path) -> Any:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(cassettes, "read_whole", counted)
    return calls


# --------------------------------------------------------------------------- reading


def test_a_vcrpy_cassette_is_read_in_batches_as_it_is_whole(
    tmp_path: Path, batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = various(tmp_path / "c.yaml")
    text = path.read_text()
    assert "!!binary" in text and "\n- request:\n" in text
    wholes = read_whole_count(monkeypatch)
    got = read_document(path)
    assert wholes == []  # not read whole
    expected = read_whole(path)
    assert got == expected
    assert list(got[2]) == list(expected[2]) == ["interactions", "metadata", "version"]
    assert got[0][1].request["body"] == IMAGE and got[0][2].response["body"]["string"] == IMAGE
    assert len(got[0]) == 39 and got[1]["entry"] == "x: y"
    if batches == 1:
        assert len(list(Batches(path))) == 39  # one interaction a batch


def test_the_garbage_collector_is_left_as_it_was(tmp_path: Path) -> None:
    path = various(tmp_path / "c.yaml")
    read(path)
    assert gc.isenabled()
    gc.disable()
    try:
        read(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def layouts() -> dict[str, Callable[[str], str | bytes]]:
    def indented(text: str) -> str:
        head, _, rest = text.partition("\nmetadata:")
        lines = head.split("\n")
        return "\n".join([lines[0], *("  " + line for line in lines[1:])]) + "\nmetadata:" + rest

    def keys_first(text: str) -> str:
        return "version: 1\n" + text.replace("\nversion: 1\n", "\n")

    def flow(text: str) -> str:
        return str(yaml.dump(yamlserializer.deserialize(text), default_flow_style=True))

    return {
        "flow-style": flow,
        "json": lambda t: json.dumps(yamlserializer.deserialize(BASE_TEXT)),
        "comment-at-column-0": lambda t: t.replace("\n- request:", "\n# a comment\n- request:"),
        "indented-list": indented,
        "keys-before-the-list": keys_first,
        "document-markers": lambda t: "---\n" + t + "...\n",
        "tab-in-the-list": lambda t: t.replace("\n- request:", "\n-\trequest:", 2),
        "unicode-line-separator": lambda t: t.replace("line one", "line\u2028one"),
        "quote-across-an-item-line": lambda t: t.replace(
            "      X-Count:\n",
            "      X-Note: 'it goes on\n- request: still the same text'\n      X-Count:\n",
        ),
        "alias-to-an-earlier-item": lambda t: t.replace(
            "headers:\n      Content-Type:", "headers: &h\n      Content-Type:", 1
        ).replace(
            "    headers:\n      Content-Type:\n      - application/json\n      User-Agent:\n"
            "      - python-requests/2.32.3\n",
            "    headers: *h\n",
            1,
        ),
        "merge-key": lambda t: t.replace(
            "    headers:\n", "    headers:\n      <<: {X-Merged: [a]}\n", 1
        ),
        "second-interactions-key": lambda t: t + "interactions: []\n",
        "no-final-line-break": lambda t: t.rstrip("\n"),
        "blank-lines": lambda t: t.replace("\n- request:", "\n\n\n- request:").replace(
            "interactions:\n\n\n", "interactions:\n", 1
        ),
        "crlf": lambda t: t.replace("\n", "\r\n").encode(),
        "empty-list": lambda t: "interactions:\nmetadata: {}\n",
        "only-the-list": lambda t: t.partition("metadata:")[0],
        "comment-after-the-list": lambda t: t.replace("\nmetadata:", "\n# end\nmetadata:"),
    }


@pytest.mark.parametrize("layout", list(layouts()))
def test_other_layouts_give_the_same(
    tmp_path: Path, layout: str, batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = various(tmp_path / "base.yaml").read_text()
    changed = layouts()[layout](text)
    path = tmp_path / "c.yaml"
    if isinstance(changed, bytes):
        path.write_bytes(changed)
    else:
        path.write_text(changed)
    assert changed != text
    reader = Batches(path)
    got = outcome(lambda: (flat(reader), reader.document))
    got_document = outcome(read_document, path)
    if layout in BATCHED:
        assert not reader.whole
    elif layout in WHOLE:
        assert reader.whole
    whole(monkeypatch)
    assert got_document == outcome(read_document, path) == outcome(read_whole, path)
    reference = Batches(path)
    assert got == outcome(lambda: (flat(reference), reference.document))


BATCHED = ("crlf", "blank-lines", "no-final-line-break", "only-the-list")
WHOLE = (
    "flow-style",
    "json",
    "comment-at-column-0",
    "indented-list",
    "keys-before-the-list",
    "document-markers",
    "unicode-line-separator",
    "second-interactions-key",
    "empty-list",
    "comment-after-the-list",
)


def flat(reader: Batches) -> tuple[list[Any], list[Any]]:
    items: list[Any] = []
    interactions: list[Any] = []
    for raw, checked in reader:
        items += raw
        interactions += checked
    return items, interactions


# --------------------------------------------------------------------------- errors


def nth(text: str, old: str, new: str, n: int) -> str:
    """``text`` with ``old`` replaced, once, in its n-th interaction (from 1)."""
    head, *items = text.split("\n- request:")
    assert old in items[n - 1], (old, items[n - 1])
    items[n - 1] = items[n - 1].replace(old, new, 1)
    return "\n- request:".join([head, *items])


def item_lines(text: str, n: int) -> range:
    """The lines (from 1) of the n-th interaction."""
    starts = [m.start() + 1 for m in re.finditer("\n- request:", text)] + [text.index("\nversion")]
    return range(text[: starts[n - 1]].count("\n") + 1, text[: starts[n]].count("\n") + 1)


ERRORS: dict[str, Callable[[str], str | bytes]] = {
    "yaml-in-interaction-4": lambda t: nth(t, "method: POST", "method: [POST", 4),
    "yaml-in-interaction-1": lambda t: nth(t, "method: POST", "method: [POST", 1),
    "yaml-in-the-last": lambda t: nth(t, "method: POST", "method: [POST", 6),
    "unclosed-quote": lambda t: nth(t, "  uri: ", "  uri: 'open ", 3),
    "unclosed-quote-in-the-last": lambda t: nth(t, "  uri: ", "  uri: 'open ", 6),
    "shape-in-interaction-3": lambda t: nth(t, "      code: ", "      code: x", 3),
    "shape-then-yaml": lambda t: nth(
        nth(t, "      code: ", "      code: x", 2), "method: POST", "method: [POST", 5
    ),
    "yaml-then-shape": lambda t: nth(
        nth(t, "      code: ", "      code: x", 5), "method: POST", "method: [POST", 2
    ),
    "unknown-tag": lambda t: nth(t, "method: POST", "method: !!python/object:os.system POST", 4),
    "unknown-tag-then-yaml": lambda t: nth(
        nth(t, "method: POST", "method: !!python/object:os.system POST", 2),
        "method: POST",
        "method: [POST",
        4,
    ),
    "undefined-alias": lambda t: nth(t, "method: POST", "method: *nowhere", 3),
    "indentation": lambda t: nth(t, "    method: POST\n", "    method: POST\n   oops: 1\n", 3),
    "column-1": lambda t: nth(t, "    method: POST\n", "    method: POST\n oops: 1\n", 3),
    "a-mapping-key": lambda t: nth(
        t, "    method: POST\n", "    ? [a, b]\n    : 1\n    method: POST\n", 3
    ),
    "control-character": lambda t: nth(t, "method: POST", "method: PO\x07ST", 4),
    "not-utf-8": lambda t: nth(t, "method: POST", "method: PO\udcffST", 4).encode(
        "utf-8", "surrogateescape"
    ),
    "a-second-document": lambda t: t.replace("\nmetadata:", "\n---\nmetadata:"),
    "broken-metadata": lambda t: t.replace("metadata:\n", "metadata: [\n"),
    "deep": lambda t: nth(t, "method: POST", "method: " + "[" * 2000, 3),
    "request-not-a-mapping": lambda t: nth(
        t, "\n    body: null", " text\n  was:\n    body: null", 4
    ),
    "no-body-key": lambda t: nth(t, "    body: null\n", "", 4),
}


@pytest.mark.parametrize("error", list(ERRORS))
def test_errors_are_the_same_with_the_same_numbers_lines_and_columns(
    tmp_path: Path, error: str, batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.yaml"
    face = load_registry().get("azure_face")
    base = write(tmp_path / "base.yaml", BASE, **provenance("live", face, "detect"))
    changed = ERRORS[error](base.read_text())
    if isinstance(changed, bytes):
        path.write_bytes(changed)
    else:
        path.write_text(changed)
    registry = load_registry()
    state = ((str(path), 0, 0),)

    def everything() -> Any:
        return (
            outcome(read, path),
            outcome(lint_file, path, registry),
            outcome(lambda: comparable(load(path))),
            outcome(cassettes._parse_all.__wrapped__, state, registry),
        )

    got = everything()
    whole(monkeypatch)
    assert got == everything()
    if error == "no-body-key":  # a shape vcrpy refuses, not the plugin
        assert got[0][0] == "ok" and got[2][0] == "VisionContractError"
    else:
        assert got[0][0] == "ValueError"


def test_a_yaml_error_is_placed_in_the_whole_file_without_reading_it_whole(
    tmp_path: Path, batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.yaml"
    text = nth(write(tmp_path / "base.yaml", BASE).read_text(), "method: POST", "method: [POST", 4)
    path.write_text(text)
    wholes = read_whole_count(monkeypatch)
    with pytest.raises(ValueError) as info:
        read(path)
    assert wholes == []  # the batch's own error, placed in the whole file
    message = str(info.value)
    assert message.startswith("not a YAML cassette: while parsing a flow sequence: ")
    found = re.search(r"at line (\d+), column (\d+)$", message)
    assert found and int(found[1]) in item_lines(text, 4)
    with pytest.raises(ValueError) as reference:
        read_whole(path)
    assert str(reference.value) == message


def test_a_wrong_shape_is_numbered_in_the_whole_file(tmp_path: Path, batches: int) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(nth(write(tmp_path / "base.yaml", BASE).read_text(), "code: 4", "code: x4", 5))
    [finding] = lint_file(path, load_registry())
    assert re.fullmatch(
        f"{re.escape(str(path))}: parse: interaction 5: response.status.code is str 'x4..'; "
        "expected a whole number",
        str(finding),
    )


# --------------------------------------------------------------------------- the three readers


def lint_cassette(path: Path) -> Path:
    pairs = [interaction("azure_face", n) for n in range(4)]
    request, response = interaction("huawei_ocr", 0)
    response["body"]["string"] = response["body"]["string"].replace(b"AIS.0101", b"AIS.0199")
    pairs.append((request, response))  # drift
    request, response = interaction("alibaba_image_search", 2)
    response["body"]["string"] = b'{"Message": "no code"}'
    pairs.append((request, response))  # schema
    request, response = interaction("azure_face", 7, body=IMAGE)
    request.headers["Ocp-Apim-Subscription-Key"] = KEY
    pairs.append((request, response))  # a secret
    pairs += [interaction("bing_image_search", n % 5) for n in range(20)]
    return write(path, pairs)  # no metadata: provenance


def test_lint_finds_the_same_in_batches(
    tmp_path: Path, batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = lint_cassette(tmp_path / "c.yaml")
    registry = load_registry()
    secrets = [("$AZURE_FACE_KEY (from the environment)", KEY)]
    found = lint_file(path, registry, secrets)
    assert {f.kind for f in found} == {"provenance", "secret", "drift", "schema"}
    assert [f.where for f in found if f.kind != "provenance"] == [
        "interaction 7",
        "interaction 7",
        "interaction 5",
        "interaction 6",
    ]
    whole(monkeypatch)
    assert lint_file(path, registry, secrets) == found


def test_source_cassettes_finds_the_same_in_batches(
    tmp_path: Path, batches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = load_registry()
    files = [lint_cassette(tmp_path / "a.yaml"), various(tmp_path / "b.yaml")]
    state = tuple((str(p), 0, 0) for p in files)
    found = cassettes._parse_all.__wrapped__(state, registry)
    assert len(found) == 27 + 39
    assert [r.index for r in found if r.path == files[0]][:7] == [1, 2, 3, 4, 5, 6, 7]
    whole(monkeypatch)
    assert cassettes._parse_all.__wrapped__(state, registry) == found


def load(path: Path) -> Any:
    return SafePersister(load_registry()).load_cassette(str(path), yamlserializer)


def comparable(loaded: Any) -> Any:
    requests, responses, *metadata = loaded
    return (
        [(r.method, r.uri, r.body, dict(r.headers)) for r in requests],
        responses,
        metadata,
    )


def test_replay_loads_the_same_as_vcrpy(tmp_path: Path, batches: int) -> None:
    path = various(tmp_path / "c.yaml")
    got = comparable(load(path))
    assert got == comparable(deserialize(path.read_text(), yamlserializer))
    assert got[0][1][2] == IMAGE and got[1][2]["body"]["string"] == IMAGE
    bare = write(tmp_path / "bare.yaml", BASE)  # no metadata: vcrpy gives two lists
    assert len(load(bare)) == 2
    assert comparable(load(bare)) == comparable(deserialize(bare.read_text(), yamlserializer))


def test_replay_of_a_malformed_cassette_is_one_line(tmp_path: Path, batches: int) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(nth(write(tmp_path / "base.yaml", BASE).read_text(), "code: 4", "code: x4", 5))
    with pytest.raises(VisionContractError) as info:
        load(path)
    assert re.fullmatch(
        f"pytest-visioncontract: cannot replay cassette {re.escape(str(path))}: interaction 5: "
        "response.status.code is str 'x4..'; expected a whole number",
        str(info.value),
    )


# --------------------------------------------------------------------------- the fast loader

DOCUMENTS = [
    "a: 1\nb: [1, 2.5, .inf, -.inf, .nan, 0x1F, 0o17, 1_000, +3]\nc: ~\nd: null\ne: ''\n",
    "t: [yes, No, on, OFF, true, False, y, n]\n",
    "when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\n",
    "b: !!binary |\n  /9j/4AAQSkZJRg==\ns: !!str 12\ni: !!int '12'\nf: !!float '1'\n",
    "x: !!python/str text\nu: !!python/unicode text\nt: !!python/tuple [1, 2]\n",
    "x: !!python/object/new:_io.BytesIO {state: [!!binary aGk=]}\n",
    "x: !!python/object:os.system ls\n",
    "x: !!python/name:os.system ''\n",
    "x: !unknown 1\n",
    "a: &a {k: v}\nb: *a\n",
    "a: &a [1]\nb: *b\n",
    "base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n",
    "c:\n  <<: {x: 1}\n  x: 2\n",
    "=: value\n",
    "a: =\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "a: 1\na: 2\nb: 3\na: 4\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}]\n",
    "'1': 1\n1: 2\n1.0: 3\n~: 4\n",
    "a\n---\nb\n",
    "",
    "# nothing\n",
    "just text",
    "- [a, {b: [c, {d: e}]}]\n- 'quoted: ''x'''\n- \"esc\\t\\u00e9\\x41\"\n- |\n  lit\n  eral\n- >\n  fol\n  ded\n",
    "x: " + "[" * 70 + "]" * 70 + "\n",
    "x: " + "[" * 400 + "]" * 400 + "\n",
    "long: " + "1" * 100 + "\nlonger: " + "y" * 100 + "\n",
    "a: [1, 2\n",
    "a: 'open\n",
    "- a\nb: c\n",
    "x: !!timestamp 'not a time'\n",
    "x: !!binary '!!!'\n",
    "x: !!int 'abc'\n",
    "x: !!map [1]\n",
    "%YAML 1.1\n---\na: 1\n",
    "!!map {a: 1}\n",
    "!!seq [1]\n",
    "x: !!str [1]\n",
]


@pytest.mark.parametrize("document", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_the_fast_loader_gives_what_vcrpys_loader_gives(document: str) -> None:
    def plain(value: Any) -> Any:
        if isinstance(value, io.BytesIO):
            return "BytesIO", value.getvalue()
        if isinstance(value, dict):
            return [(plain(k), plain(v)) for k, v in value.items()]
        if isinstance(value, list | tuple):
            return type(value).__name__, [plain(v) for v in value]
        return repr(value)

    def loaded(function: Callable[[str], Any]) -> Any:
        try:
            return "ok", plain(function(document))
        except RecursionError:
            return "RecursionError", ""
        except Exception as exc:
            return type(exc).__name__, str(exc)

    assert loaded(cassettes._fast_load) == loaded(yamlserializer.deserialize)


def test_routes_remembered_are_routes_found() -> None:
    from pytest_visioncontract.recording import route

    registry = load_registry()
    router = cassettes._Router(registry)
    host = "https://imagesearch.cn-shanghai.aliyuncs.com/"
    uris = [
        host + "?Action=SearchImageByPic",
        host + "?Action=AddImage",
        host + "?Action=Add%49mage",
        host + "?Act%69on=DeleteImage",
        host + "?Action=Detail&Action=DumpMeta",
        host + "?Action=DumpMeta&Action=Detail",
        host + "?x=1",
        host + "#?Action=AddImage",
        host + "?x=1#Action=AddImage",
        "http://127.0.0.1:8080/?Action=AddImage",
        "http://127.0.0.1:8080/?Action=Detail",
        "http://127.0.0.1:8080/v2/p1/ocr/general-text?x=1",
        "https://ocr.cn-north-4.myhuaweicloud.com/v2/p1/ocr/general-text?n=1",
        "https://myresource.cognitiveservices.azure.com/face/v1.2/detect?returnFaceId=true",
        "https://myresource.cognitiveservices.azure.com/face/v1.2/nothing-here",
    ]
    for _ in range(2):  # the second time, from what was remembered
        for method in ("POST", "GET", "post"):
            for uri in uris:
                assert router(method, uri) == route(registry, method, uri), (method, uri)
    assert outcome(router, "POST", "http://[::1/?Action=x") == outcome(
        route, registry, "POST", "http://[::1/?Action=x"
    )
    assert outcome(router, "POST", "http://[::1/") == outcome(
        route, registry, "POST", "http://[::1/"
    )
