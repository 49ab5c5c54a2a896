"""The main job: the bundled example application handles every documented error.

Run as users run it (a subprocess of ``pytest examples``), so the README's first command
cannot rot.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = {
    "alibaba_image_search": 52,
    "azure_face": 143,
    "azure_image_analysis": 11,
    "bing_image_search": 13,
    "huawei_ocr": 37,
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_examples_handle_every_documented_error() -> None:
    done = run("examples")
    assert done.returncode == 0, done.stdout[-3000:]
    lines = done.stdout.splitlines()
    for provider, documented in DOCUMENTED.items():
        row = next(line.split() for line in lines if line.startswith(provider + " "))
        # provider, documented, exercised, handled, unhandled, not exercised, not run, handled %
        assert row == [provider, *map(str, [documented, documented, documented, 0, 0, 0]), "100.0%"]


def test_buggy_example_is_caught() -> None:
    done = run("examples/buggy")
    assert done.returncode == 1
    out = done.stdout
    assert "7 failed, 4 passed" in out
    assert "vision_errors: unhandled documented error of Azure AI Vision Image Analysis 4.0" in out
    assert "  escaped:    KeyError: 'innererror'" in out
