"""Catalog loading and validation: the built-ins load, malformed catalogs get one clear line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import builtin_document

from pytest_visioncontract.catalog import (
    BUILTIN_PROVIDERS,
    case_label,
    load_catalog_file,
    load_registry,
    parse_catalog,
)
from pytest_visioncontract.errors import VisionContractError


def test_all_five_builtin_catalogs_load() -> None:
    registry = load_registry()
    assert registry.names == sorted(BUILTIN_PROVIDERS)
    assert {c.provider: len(c.entries) for c in registry.all()} == {
        "alibaba_image_search": 52,
        "azure_face": 143,
        "azure_image_analysis": 19,
        "bing_image_search": 13,
        "huawei_ocr": 37,
    }


def test_flagged_entries_are_not_servable() -> None:
    ia = load_registry().get("azure_image_analysis")
    flags = sorted(e.flag or "" for e in ia.entries if not e.servable)
    assert flags == ["client_side"] * 2 + ["unconfirmed"] * 6
    assert len(ia.servable_entries) == 11


# Entries whose documentation gives no status, per provider (docs/catalogs.md, status_inferred).
INFERRED_STATUSES: dict[str, int | set[str]] = {
    "alibaba_image_search": set(),
    "azure_face": set(),
    "azure_image_analysis": {
        "400-InvalidRequest-NotSupportedImage-unsupported-image-for",
        "400-InvalidRequest-InvalidDetails-unsupported-detail-parameter",
        "400-InvalidRequest-BadArgument-more-details-are",
    },
    "bing_image_search": {"400-InvalidRequest-Blocked"},
    "huawei_ocr": 37,  # every entry
}


def test_inferred_statuses_cover_every_provider() -> None:
    assert sorted(INFERRED_STATUSES) == sorted(BUILTIN_PROVIDERS)


@pytest.mark.parametrize("provider", BUILTIN_PROVIDERS)
def test_inferred_statuses_say_why(provider: str) -> None:
    inferred = [e for e in load_registry().get(provider).entries if e.status_inferred is not None]
    expected = INFERRED_STATUSES[provider]
    if isinstance(expected, int):
        assert len(inferred) == expected
    else:
        assert {e.id for e in inferred} == expected
    for entry in inferred:
        reason = entry.status_inferred
        assert reason is not None
        # a reason in words, not a bare status or a placeholder
        assert len(reason) > 20 and len(reason.split()) >= 4, (entry.id, reason)


def test_huawei_statuses_are_all_inferred() -> None:
    entries = load_registry().get("huawei_ocr").entries
    assert all(e.status_inferred for e in entries)
    assert {e.status for e in entries if e.code == "APIG.0308"} == {429}


def test_same_code_under_two_statuses_stays_two_entries() -> None:
    bing = load_registry().get("bing_image_search")
    rate = [e for e in bing.entries if e.code == "RateLimitExceeded"]
    assert sorted((e.status, e.category, e.retryable) for e in rate) == [
        (403, "quota", False),
        (429, "throttled", True),
    ]


def test_throttling_that_is_not_a_429() -> None:
    denied = [
        e for e in load_registry().get("alibaba_image_search").entries if e.code == "DeniedRequest"
    ]
    assert [(e.status, e.category, e.retryable) for e in denied] == [(403, "throttled", True)]


def test_rows_differing_in_capitalisation_are_distinct_entries() -> None:
    face = load_registry().get("azure_face")
    messages = [e.message for e in face.entries if e.code == "PersistedFaceNotFound"]
    assert "Persisted face ID is invalid." in messages
    assert "Persisted Face ID is invalid." in messages


def test_placeholders_are_filled() -> None:
    face = load_registry().get("azure_face")
    entry = next(e for e in face.entries if "<personId>" in e.message)
    assert "<personId>" not in entry.filled_message
    assert entry.filled_message.startswith("Person ") and entry.filled_message.endswith(
        " is not found."
    )
    huawei = load_registry().get("huawei_ocr").entries
    throttled = next(e for e in huawei if e.code == "APIG.0308")
    assert "XX" not in throttled.filled_message


def test_operations_are_identified_by_path_and_action() -> None:
    registry = load_registry()
    face = registry.get("azure_face")
    assert (
        face.operation_for("POST", "https://r.cognitiveservices.azure.com/face/v1.2/detect?x=1", {})
        == "detect"
    )
    assert (
        face.operation_for("PUT", "https://custom.example/face/v1.0/persongroups/g1", {})
        == "person_group"
    )
    assert face.operation_for("GET", "https://r.example/other", {}) is None
    ali = registry.get("alibaba_image_search")
    assert (
        ali.operation_for(
            "POST", "https://imagesearch.cn-shanghai.aliyuncs.com/", {"x-acs-action": "AddImage"}
        )
        == "add_image"
    )
    assert (
        ali.operation_for(
            "POST", "https://imagesearch.cn-shanghai.aliyuncs.com/?Action=SearchImageByPic", {}
        )
        == "search_image_by_pic"
    )
    assert ali.operation_for("POST", "https://evil.example/?Action=SearchImageByPic", {}) is None
    huawei = registry.get("huawei_ocr")
    assert (
        huawei.operation_for(
            "POST", "https://ocr.ap-southeast-1.myhuaweicloud.com/v2/p1/ocr/general-text", {}
        )
        == "general_text"
    )


def test_case_labels_are_unique_and_readable() -> None:
    face = load_registry().get("azure_face")
    entry = next(e for e in face.entries if e.message == "No face detected in the image.")
    assert case_label(entry, "detect") == "azure_face-detect-400-InvalidImage-no-face-detected"


# ---------------------------------------------------------------- malformed catalogs


def _broken(change: Any) -> dict[str, Any]:
    document = builtin_document("bing_image_search")
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["entries"][3].update(status=700),
            "entries[3] (id '400-InvalidRequest-ParameterMissing').status: 700 is greater than the maximum of 599",
        ),
        (
            lambda d: d["entries"][0].pop("code"),
            "entries[0] (id '500-ServerError-UnexpectedError'): 'code' is a required property",
        ),
        (
            lambda d: d["entries"][1].update(category="bad"),
            "entries[1] (id '500-ServerError-ResourceError').category: 'bad' is not one of",
        ),
        (lambda d: d.update(wire_format="soap"), "wire_format: 'soap' is not one of"),
        (
            lambda d: d["entries"][2].update(operations=["nope"]),
            "entries[2] (id '500-ServerError-NotImplemented'): unknown operation 'nope'; the catalog defines: search, details, trending",
        ),
        (
            lambda d: d["entries"][4].update(id=d["entries"][3]["id"].upper()),
            "id repeats entries[3]",
        ),
        (
            lambda d: d["operations"]["search"]["routes"][0].update(path="(unclosed"),
            "operations.search: path '(unclosed' is not a regular expression",
        ),
        (
            lambda d: d["entries"][0].update(fill={"<x>": "1"}),
            "fill names '<x>', which the message does not contain",
        ),
        (
            lambda d: d["entries"][0].update(fill=[["x" * 5000]]),
            "entries[0] (id '500-ServerError-UnexpectedError').fill: [['xxxx",
        ),
        (
            lambda d: d.update(scrub={"patterns": [{"name": "x", "pattern": "(", "carries": "y"}]}),
            "scrub.patterns[0]: '(' is not a regular expression",
        ),
    ],
    ids=[
        "status-range",
        "missing-code",
        "category",
        "wire-format",
        "operation",
        "duplicate-id",
        "regex",
        "fill",
        "huge-value",
        "scrub-regex",
    ],
)
def test_malformed_catalog_is_one_line(change: Any, expected: str) -> None:
    with pytest.raises(VisionContractError) as info:
        parse_catalog(_broken(change), "mine.json")
    message = str(info.value)
    assert message.startswith("malformed catalog mine.json: ")
    assert expected in message
    assert "\n" not in message and len(message) < 400


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def test_a_deeply_nested_value_is_one_line() -> None:
    """Python 3.11 runs out of recursion validating it; 3.13 checks its type at once."""
    with pytest.raises(VisionContractError) as info:
        parse_catalog(_broken(lambda d: d["entries"][0].update(fill=_nested(5000))), "mine.json")
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    assert message == "malformed catalog mine.json: nested too deeply to be a catalog" or (
        message.startswith(
            "malformed catalog mine.json: entries[0] (id '500-ServerError-UnexpectedError')"
            ".fill: [[[["
        )
        and message.endswith("...")
    )


def test_catalog_files_too_deep_or_too_large_are_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(VisionContractError) as info:
        load_catalog_file(deep)
    assert str(info.value) == f"malformed catalog {deep}: nested too deeply to be a catalog"
    large = tmp_path / "large.json"
    with large.open("wb") as out:
        out.truncate(64 * 1024 * 1024 + 1)  # sparse: no disk used
    with pytest.raises(VisionContractError) as info:
        load_catalog_file(large)
    assert str(info.value) == (
        f"malformed catalog {large}: 67,108,865 bytes; a catalog is at most 67,108,864 bytes"
    )


def test_catalog_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "cat.json"
    path.write_text("{nope")
    with pytest.raises(
        VisionContractError, match=r"malformed catalog .*cat.json: not JSON: .* line 1"
    ):
        load_catalog_file(path)


def test_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(VisionContractError, match=r"cannot read catalog .*missing.json: "):
        load_catalog_file(tmp_path / "missing.json")


def test_user_catalog_defining_a_builtin_provider_again(tmp_path: Path) -> None:
    path = tmp_path / "face.json"
    path.write_text(json.dumps(builtin_document("azure_face")))
    with pytest.raises(VisionContractError, match="provider 'azure_face' is defined twice"):
        load_registry((str(path),))


def test_malformed_user_catalog_is_a_usage_error(
    pytester: pytest.Pytester, acme_catalog: Path
) -> None:
    document = json.loads(acme_catalog.read_text())
    document["entries"][1]["retryable"] = "yes"
    acme_catalog.write_text(json.dumps(document))
    before = acme_catalog.read_bytes()
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--vision-catalog", str(acme_catalog))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.stderr.lines if line.strip()]
    assert lines == [
        f"ERROR: malformed catalog {acme_catalog}: entries[1] (id '429-Throttled').retryable: "
        "'yes' is not of type 'boolean'"
    ]
    assert acme_catalog.read_bytes() == before


def test_user_catalog_from_ini_is_listed_in_header(
    pytester: pytest.Pytester, acme_catalog: Path
) -> None:
    pytester.makeini(f"[pytest]\nvision_catalogs = {acme_catalog}\n")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(
        ["visioncontract: documented errors per catalog: acme_vision (2), *"]
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("provider", BUILTIN_PROVIDERS)
def test_every_operation_has_a_success_response(provider: str) -> None:
    from pytest_visioncontract.wire import success

    catalog = load_registry().get(provider)
    for name, operation in catalog.operations.items():
        assert operation.success_body is not None, name
        response = success(catalog, name)
        assert 200 <= response.status < 300
        assert response.json() == operation.success_body
