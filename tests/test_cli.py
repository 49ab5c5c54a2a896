"""The visioncontract command."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
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


# --------------------------------------------------------------------------- helpers

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "cassettes" / "huawei_ocr" / "400-AIS.0101.yaml"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _exe() -> str:
    return shutil.which("visioncontract") or str(Path(sys.executable).parent / "visioncontract")


def _guarded(args: list[str]) -> int:
    """main(args) in a thread: a regression that blocks (a simulator that starts, a FIFO read)
    fails the test instead of hanging the suite."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(args)), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), f"visioncontract {' '.join(args)} did not end"
    assert len(result) == 1, "main() raised"
    return result[0]


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under folder, with a file's bytes (None for a folder)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


# --------------------------------------------------------------------------- --version


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert version("pytest-visioncontract") == declared["project"]["version"]
    assert capsys.readouterr().out == f"visioncontract {declared['project']['version']}\n"


def test_a_usage_error_is_still_argparses_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--port", "eighty"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("usage: visioncontract serve ")
    assert err[-1] == "visioncontract serve: error: argument --port: invalid int value: 'eighty'"


# --------------------------------------------------------------------------- a closed pipe


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize(
    ("args", "read_first"),
    [
        (["catalog", "--format", "json"], True),  # 170 kB: more than a pipe holds
        (["catalog"], False),  # closed before it writes
        (["lint", "EMPTY"], False),
        (["lint", "--format", "json", "EMPTY"], False),
    ],
    ids=["catalog-json-head-1", "catalog-closed", "lint-closed", "lint-json-closed"],
)
def test_a_closed_pipe_ends_quietly(
    tmp_path: Path, args: list[str], read_first: bool, buffered: bool
) -> None:
    """`visioncontract catalog | head -1`: no traceback, no "Exception ignored", exit 141.

    Buffered, the closed pipe is found when stdout is flushed at the end; unbuffered
    (PYTHONUNBUFFERED), by the first print.
    """
    empty = tmp_path / "empty.yaml"
    empty.touch()
    argv = [_exe(), *(str(empty) if a == "EMPTY" else a for a in args)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as child:
        assert child.stdout is not None and child.stderr is not None
        if read_first:
            assert child.stdout.readline() == b"{\n"
        child.stdout.close()
        err = child.stderr.read().decode()
        code = child.wait(timeout=60)
    # text lint says its summary (stderr) before the buffered findings reach the closed pipe
    said = "1 cassette(s), 1 finding(s)\n" if args == ["lint", "EMPTY"] and buffered else ""
    assert (code, err) == (141, said)


# --------------------------------------------------------------------------- serve


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_serve_on_a_busy_port(capsys: pytest.CaptureFixture[str], busy_port: int) -> None:
    assert _guarded(["serve", "--port", str(busy_port)]) == 2
    assert capsys.readouterr() == (
        "",
        f"visioncontract: cannot serve on 127.0.0.1:{busy_port}: the port is already in use\n",
    )


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [
        ("999.1.1.1", "0", "not a valid IPv4 address"),
        ("192.0.2.1", "0", "the address is not one of this machine's"),  # TEST-NET-1
        ("127.0.0.1", "70000", "the port must be between 0 and 65535"),
        ("127.0.0.1", "-1", "the port must be between 0 and 65535"),
    ],
)
def test_serve_where_it_cannot(
    capsys: pytest.CaptureFixture[str], host: str, port: str, reason: str
) -> None:
    assert _guarded(["serve", "--host", host, "--port", port]) == 2
    assert capsys.readouterr() == ("", f"visioncontract: cannot serve on {host}:{port}: {reason}\n")


def test_serve_on_a_host_that_does_not_resolve(capsys: pytest.CaptureFixture[str]) -> None:
    assert _guarded(["serve", "--host", "no.such.host.invalid", "--port", "0"]) == 2
    out, err = capsys.readouterr()
    # the resolver's words vary ("Name or service not known", "Temporary failure in ...")
    assert out == "" and re.fullmatch(
        r"visioncontract: cannot serve on no\.such\.host\.invalid:0: "
        r"cannot resolve the host \([^()\n]+\)\n",
        err,
    ), err


def test_serve_on_a_privileged_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 1))
        except PermissionError:
            pass
        else:
            pytest.skip("this user may bind port 1 (root, or net.ipv4.ip_unprivileged_port_start)")
    assert _guarded(["serve", "--port", "1"]) == 2
    assert capsys.readouterr() == (
        "",
        "visioncontract: cannot serve on 127.0.0.1:1: "
        "permission denied (ports below 1024 need privileges)\n",
    )


def test_serve_refusal_is_one_line_from_the_console_script(busy_port: int) -> None:
    done = subprocess.run(
        [_exe(), "serve", "--port", str(busy_port)], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"visioncontract: cannot serve on 127.0.0.1:{busy_port}: the port is already in use\n"
    )


# --------------------------------------------------------------------------- lint


def test_lint_of_an_empty_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no cassettes here\n")
    assert main(["lint", str(tmp_path)]) == 2
    assert capsys.readouterr() == ("", f"visioncontract: no cassettes under {tmp_path}\n")


def test_lint_names_every_path_it_cannot_lint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    shutil.copy(CLEAN, tmp_path / "clean.yaml")
    args = [str(tmp_path / "clean.yaml"), str(tmp_path / "gone"), str(tmp_path / "empty")]
    assert main(["lint", "--format", "json", *args]) == 2
    assert capsys.readouterr() == (
        "",
        f"visioncontract: no such file: {tmp_path / 'gone'}\n"
        f"visioncontract: no cassettes under {tmp_path / 'empty'}\n",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_lint_of_a_fifo_does_not_wait_for_a_writer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "cassettes" / "pipe.yaml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    for given in (fifo, fifo.parent):  # named, and found in a folder
        assert _guarded(["lint", str(given)]) == 2
        assert capsys.readouterr() == ("", f"visioncontract: not a regular file: {fifo}\n")


@pytest.mark.skipif(AS_ROOT, reason="root reads a file whatever its permission bits")
def test_lint_of_an_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    locked = tmp_path / "locked.yaml"
    shutil.copy(CLEAN, locked)
    locked.chmod(0)
    try:
        assert main(["lint", str(locked)]) == 2
    finally:
        locked.chmod(0o600)
    assert capsys.readouterr() == ("", f"visioncontract: cannot read {locked}: Permission denied\n")


def test_lint_of_an_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.touch()
    assert main(["lint", str(empty)]) == 1
    assert capsys.readouterr() == (
        f"{empty}: parse: the file is empty, not a vcrpy cassette\n",
        "1 cassette(s), 1 finding(s)\n",
    )


def test_lint_format_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copy(CLEAN, tmp_path / "a-clean.yaml")
    (tmp_path / "b-empty.yaml").touch()
    (tmp_path / "c-no-provenance.yaml").write_text(
        CLEAN.read_text(encoding="utf-8").replace("provenance: synthetic", "provenance: guessed")
    )
    assert main(["lint", "--format", "json", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out) == {
        "files": 3,
        "findings": [
            {
                "path": str(tmp_path / "b-empty.yaml"),
                "where": "",
                "kind": "parse",
                "message": "the file is empty, not a vcrpy cassette",
            },
            {
                "path": str(tmp_path / "c-no-provenance.yaml"),
                "where": "",
                "kind": "provenance",
                "message": "provenance 'guessed' is not one of live, simulator, synthetic",
            },
        ],
    }
    assert main(["lint", "--format", "json", str(tmp_path / "a-clean.yaml")]) == 0
    assert json.loads(capsys.readouterr().out) == {"files": 1, "findings": []}


# --------------------------------------------------------------------------- synthesize


def test_synthesize_into_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"my notes\n")
    before = _tree(tmp_path)
    out = tmp_path / "notes.txt"
    assert main(["synthesize", "huawei_ocr", "--out", str(out)]) == 2
    assert capsys.readouterr() == (
        "",
        f"visioncontract: cannot write to {out}: it is a file, not a folder\n",
    )
    assert _tree(tmp_path) == before


def test_synthesize_under_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"my notes\n")
    before = _tree(tmp_path)
    out = tmp_path / "notes.txt" / "cassettes" / "synthetic"
    assert main(["synthesize", "all", "--out", str(out)]) == 2
    assert capsys.readouterr() == (
        "",
        f"visioncontract: cannot write to {out}: {tmp_path / 'notes.txt'} is a file, not a folder\n",
    )
    assert _tree(tmp_path) == before


def test_synthesize_all_where_one_providers_folder_is_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "huawei_ocr").write_bytes(b"not a folder\n")
    before = _tree(tmp_path)
    assert main(["synthesize", "all", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr() == (
        "",
        f"visioncontract: cannot write to {tmp_path}: "
        f"{tmp_path / 'huawei_ocr'} is a file, not a folder\n",
    )
    assert _tree(tmp_path) == before, "nothing is written, not even the providers before it"


@pytest.mark.skipif(AS_ROOT, reason="root writes into a folder whatever its permission bits")
def test_synthesize_into_an_unwritable_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert main(["synthesize", "huawei_ocr", "--out", str(locked / "out")]) == 2
    finally:
        locked.chmod(0o755)
    assert capsys.readouterr() == (
        "",
        f"visioncontract: cannot write to {locked / 'out'}: {locked} is not writable\n",
    )
    assert _tree(tmp_path) == {"locked": None}
