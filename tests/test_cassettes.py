"""Synthesized cassettes and `visioncontract lint`."""

from __future__ import annotations

import filecmp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_visioncontract.cassettes import lint_file, read
from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_top_level_cassettes_are_in_sync_with_the_catalogs(tmp_path: Path) -> None:
    assert main(["synthesize", "all", "--out", str(tmp_path)]) == 0
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yaml"))
    committed = sorted(p.relative_to(ROOT / "cassettes") for p in (ROOT / "cassettes").rglob("*.yaml"))
    assert fresh == committed, "run: visioncontract synthesize all --out cassettes"
    changed = [str(p) for p in fresh if not filecmp.cmp(tmp_path / p, ROOT / "cassettes" / p, shallow=False)]
    assert changed == [], "run: visioncontract synthesize all --out cassettes"
    assert len(fresh) == 52 + 143 + 11 + 13 + 37


def test_synthesized_cassettes_are_vcrpy_cassettes_with_provenance() -> None:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    path = ROOT / "cassettes" / "bing_image_search" / "429-RateLimitExceeded.yaml"
    requests, responses, metadata = deserialize(path.read_text(), yamlserializer)
    assert requests[0].uri == "https://api.bing.microsoft.com/v7.0/images/search"
    assert responses[0]["status"]["code"] == 429
    assert metadata["provenance"] == "synthetic" and metadata["provider"] == "bing_image_search"
    catalog = load_registry().get("bing_image_search")
    assert catalog.operation_for(requests[0].method, requests[0].uri, {}) == "search"


def test_committed_cassettes_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(ROOT / "cassettes")]) == 0
    assert capsys.readouterr().err == "256 cassette(s), 0 finding(s)\n"


def _edit(tmp_path: Path, source: str, change: Callable[[Any], object]) -> Path:
    data = yaml.safe_load((ROOT / "cassettes" / source).read_text())
    change(data)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_lint_finds_an_unscrubbed_key_and_a_credential_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "0123456789abcdef0123456789abcdef"
    path = _edit(
        tmp_path,
        "azure_face/common-429-429-rate-limit-is.yaml",
        lambda d: d["interactions"][0]["request"]["headers"].update({"Ocp-Apim-Subscription-Key": [key]}),
    )
    monkeypatch.setenv("AZURE_FACE_KEY", key)
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{path}: interaction 1: secret: request header Ocp-Apim-Subscription-Key holds the value "
        "of $AZURE_FACE_KEY (from the environment)",
        f"{path}: interaction 1: secret: request header Ocp-Apim-Subscription-Key holds a "
        "credential that was not scrubbed",
    ]


def test_lint_reads_side_files_in_a_cassette_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bodies = tmp_path / "cassettes" / "test_face" / "bodies"
    bodies.mkdir(parents=True)
    (bodies / "clean.bin").write_bytes(b"\xff\xd8 an image")
    (bodies / "leaky.bin").write_bytes(b'{"url": "https://h/p?x=1", "password": "Hunter2-Hunter2"}')
    monkeypatch.delenv("AZURE_FACE_KEY", raising=False)
    assert main(["lint", str(tmp_path / "cassettes")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{bodies / 'leaky.bin'}: secret: request body, field password holds a credential that "
        "was not scrubbed"
    ]


def test_lint_finds_contract_drift_with_a_suggested_entry(tmp_path: Path) -> None:
    path = _edit(
        tmp_path,
        "huawei_ocr/400-AIS.0101.yaml",
        lambda d: d["interactions"][0]["response"]["body"].update(
            string='{"error_code": "AIS.0199", "error_msg": "Something new."}'
        ),
    )
    [finding] = lint_file(path, load_registry())
    assert finding.kind == "drift"
    assert str(finding).startswith(
        f"{path}: interaction 1: drift: undocumented huawei_ocr error 400 AIS.0199; suggested catalog entry: "
        '{"status": 400, "code": "AIS.0199", "message": "...",'
    )


def test_lint_finds_a_body_that_breaks_the_envelope_schema(tmp_path: Path) -> None:
    path = _edit(
        tmp_path,
        "alibaba_image_search/403-DeniedRequest.yaml",
        lambda d: d["interactions"][0]["response"]["body"].update(string='{"Message": "no code"}'),
    )
    [finding] = lint_file(path, load_registry())
    assert (finding.kind, finding.message) == (
        "schema",
        "alibaba_image_search error body: (root): 'RequestId' is a required property",
    )


def test_lint_finds_missing_provenance(tmp_path: Path) -> None:
    path = _edit(tmp_path, "huawei_ocr/400-AIS.0101.yaml", lambda d: d.pop("metadata"))
    [finding] = lint_file(path, load_registry())
    assert str(finding) == (
        f"{path}: provenance: metadata lacks provenance, provider, operation, api_version, "
        "recorded_at, plugin"
    )


GOOD = (ROOT / "cassettes" / "azure_face" / "common-429-429-rate-limit-is.yaml").read_text()
GOOD_REQUEST = (
    "    body: null\n    headers: {}\n    method: POST\n"
    "    uri: https://myresource.cognitiveservices.azure.com/face/v1.2/detect\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "interactions: [",
            "not a YAML cassette: while parsing a flow node: did not find expected node content "
            "at line 2, column 1",
        ),
        (
            GOOD.replace("    method: POST\n", "    method: [POST\n"),
            "not a YAML cassette: while parsing a flow sequence: did not find expected ',' or ']' "
            "at line 6, column 8",
        ),
        ("just: text\n", "not a vcrpy cassette: no 'interactions' list"),
        ("interactions:\n- request: {}\n", "interaction 1: is not a request/response pair"),
        (
            GOOD.replace(GOOD_REQUEST, "").replace("- request:\n", "- request: a string\n"),
            "interaction 1: request is str 'a string'; expected a mapping",
        ),
        (
            GOOD.replace("    headers: {}\n", "    headers: [a, b]\n"),
            "interaction 1: request.headers is list ['a', 'b']; expected a mapping of names to "
            "values",
        ),
        (
            GOOD.replace("    uri: https", "    uri: 7\n    was: https"),
            "interaction 1: request.uri is int 7; expected text",
        ),
        (
            GOOD.replace("      code: 429\n", "      code: many\n"),
            "interaction 1: response.status.code is str 'many'; expected a whole number",
        ),
        (
            GOOD.replace("      code: 429\n", "      code: 429.5\n"),
            "interaction 1: response.status.code is float 429.5; expected a whole number",
        ),
        (
            GOOD.replace("      - '1'\n", "      - {a: 1}\n"),
            "interaction 1: response.headers['Retry-After'] is list [{'a': 1}]; expected text",
        ),
        (
            GOOD.replace("      string: '{", "      string: 42\n      was: '{"),
            "interaction 1: response.body.string is int 42; expected text or bytes",
        ),
        (
            "[" * 100_000,
            "not a YAML cassette: while increasing flow level: exceeded maximum nesting depth at "
            "line 1, column 1001",
        ),
    ],
    ids=[
        "yaml",
        "yaml-line-column",
        "shape",
        "pair",
        "request-string",
        "headers-list",
        "uri-int",
        "status-text",
        "status-float",
        "header-value-mapping",
        "body-int",
        "deep",
    ],
)
def test_malformed_cassette_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    before = path.read_bytes()
    [finding] = lint_file(path, load_registry())
    assert str(finding) == f"{path}: parse: {message}"
    with pytest.raises(ValueError) as info:
        read(path)
    assert str(info.value) == message
    assert path.read_bytes() == before


def test_lint_of_a_missing_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["lint", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == f"visioncontract: no such file: {tmp_path / 'nope.yaml'}\n"
