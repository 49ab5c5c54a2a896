"""The visioncontract command."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_visioncontract.cli import main


def test_catalog_table_lists_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "bing_image_search"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("bing_image_search: Bing Image Search v7 (13 entries, 13 served")
    assert sum(1 for line in out if "RateLimitExceeded" in line) == 2
    assert any(line.split()[:3] == ["400?", "InvalidRequest", "Blocked"] for line in out)


def test_catalog_json_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert sorted(document) == [
        "alibaba_image_search",
        "azure_face",
        "azure_image_analysis",
        "bing_image_search",
        "huawei_ocr",
    ]
    assert sum(len(p["entries"]) for p in document.values()) == 19 + 143 + 37 + 52 + 13
    entry = document["huawei_ocr"]["entries"][0]
    assert entry["code"] == "AIS.0101" and entry["status_inferred"]


def test_catalog_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "huawei_ocr", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Huawei Cloud OCR (`huawei_ocr`)")
    assert out.count("\n| ") == 1 + 37


def test_unknown_provider_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "azure-face"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "visioncontract: unknown provider 'azure-face'; known: alibaba_image_search, azure_face, "
        "azure_image_analysis, bing_image_search, huawei_ocr\n"
    )


def test_extra_catalog_file(capsys: pytest.CaptureFixture[str], acme_catalog: Path) -> None:
    assert main(["--catalog", str(acme_catalog), "catalog", "acme_vision", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["acme_vision"]["entries"]) == 2


def test_console_script_is_installed() -> None:
    exe = shutil.which("visioncontract") or str(
        Path(__import__("sys").executable).parent / "visioncontract"
    )
    done = subprocess.run([exe, "catalog", "nope"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("visioncontract: unknown provider 'nope'; known: ")
