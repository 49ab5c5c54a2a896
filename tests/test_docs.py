"""Every Python example in the README and docs/ runs, with the outcome its page promises.

Each ```python block is preceded by ``<!-- docs-test: passed=N [simulator] [cassettes=P]
[args=...] -->``: the block is run as a test module (with the example application on the path)
and must give exactly those outcomes. ``simulator`` runs the loopback simulator and points the
example's endpoint variables at it; ``cassettes=P`` copies the synthesized cassettes of provider
P beside the module. The SDK pages' examples are checked by tests/interop/test_sdk_docs.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.simulator import running

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- docs-test: (?P<spec>[^>]*) -->\n)?```python\n(?P<code>.*?)```", re.S)


def examples() -> list[tuple[str, str | None, str]]:
    found = []
    for page in PAGES:
        for number, match in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8")), 1):
            found.append((f"{page.relative_to(ROOT)}#{number}", match["spec"], match["code"]))
    return found


EXAMPLES = examples()


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("where", "spec", "code"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_runs_as_documented(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    spec: str | None,
    code: str,
) -> None:
    assert spec is not None, f"{where}: a python example without a <!-- docs-test: ... --> line"
    words = spec.split()
    outcomes = {
        k: int(v)
        for k, v in (w.split("=") for w in words if re.fullmatch(r"(passed|failed|errors)=\d+", w))
    }
    args = [w.removeprefix("args=") for w in words if w.startswith("args=")]
    pytester.syspathinsert(ROOT / "examples")
    pytester.makepyfile(test_example=code)
    for word in words:
        if word.startswith("cassettes="):
            shutil.copytree(
                ROOT / "cassettes" / word.removeprefix("cassettes="), pytester.path / "cassettes"
            )
    if "simulator" in words:
        with running(load_registry()) as base:
            monkeypatch.setenv("AZURE_FACE_ENDPOINT", base)
            monkeypatch.setenv("AZURE_FACE_KEY", "test-key")
            monkeypatch.setenv("PYTHONPATH", str(ROOT / "examples"))
            result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    else:
        result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(**outcomes)


def test_the_failing_report_shown_is_what_pytest_prints() -> None:
    """concepts.md shows examples/buggy failing: every line of it, as it really prints."""
    import subprocess
    import sys

    page = (ROOT / "docs" / "concepts.md").read_text(encoding="utf-8")
    shown = (
        page.split("This is what a caught bug looks like", 1)[1]
        .split("```\n", 1)[1]
        .split("```", 1)[0]
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "examples/buggy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    printed = {line.rstrip() for line in done.stdout.replace(str(ROOT) + "/", "").splitlines()}
    volatile = re.compile(r"apim-request-id: |in \d+\.\d+s")
    for line in shown.splitlines():
        if line.strip() in ("", "...") or volatile.search(line):
            continue
        assert line.rstrip() in printed, (
            f"docs/concepts.md shows a line pytest does not print: {line!r}"
        )


def test_provider_pages_are_generated_from_the_catalogs() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    for catalog in load_registry().all():
        page, scrubbing = hooks.page(catalog.provider).split("## What recording scrubs")
        rows = [line for line in page.splitlines() if line.startswith("| ") and "`" in line.split("|")[2]]
        assert len(rows) == len(catalog.entries) + len(catalog.operations), catalog.provider
        for entry in catalog.entries:
            assert f"`{entry.code}`" in page
        # one row per scrubbing rule in force: the catalog's own and the generic ones
        rows = [line for line in scrubbing.splitlines() if line.startswith("| ")][1:]
        own = [row for row in rows if row.endswith("| this catalog |")]
        block = catalog.scrub
        assert len(own) == sum(len(block.get(kind, ())) for kind in block), catalog.provider
        for kind in ("names", "volatile", "keep"):
            for rule in block.get(kind, ()):
                assert any(row.startswith(f"| <code>{rule['name']}</code> |") for row in own), rule
        assert len(rows) - len(own) == 10  # 5 generic names, 1 for queries, 4 generic shapes


def test_the_minimal_catalog_shown_in_catalogs_md_loads() -> None:
    import json

    from pytest_visioncontract.catalog import parse_catalog

    page = (ROOT / "docs" / "catalogs.md").read_text(encoding="utf-8")
    block = page.split("A minimal catalog:", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    catalog = parse_catalog(json.loads(block), "docs/catalogs.md")
    assert (catalog.provider, len(catalog.entries)) == ("acme_vision", 1)


def test_the_scrub_block_shown_in_catalogs_md_scrubs(tmp_path: Path) -> None:
    import json

    from vcr.request import Request

    from pytest_visioncontract.catalog import parse_catalog
    from pytest_visioncontract.scrubbing import Rules, Scrubber

    page = (ROOT / "docs" / "catalogs.md").read_text(encoding="utf-8")
    minimal = page.split("A minimal catalog:", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    block = page.split("### Credentials: the `scrub` block", 1)[1].split("```json\n", 1)[1]
    document = json.loads(minimal)
    document.update(json.loads("{" + block.split("```", 1)[0] + "}"))
    scrubber = Scrubber(Rules.build([parse_catalog(document, "docs/catalogs.md")]))
    key = "acme_" + "0a" * 16
    out = scrubber.request(
        Request(
            "POST",
            "https://contoso.vision.acme.test/v1/accounts/a-42/tag?pageToken=p2&note=" + key,
            None,
            {"X-Acme-Key": "k-123456789", "X-Acme-Date": "2026-12-02T00:00:00Z"},
        )
    )
    assert out.uri == (
        "https://tenant.vision.acme.test/v1/accounts/ACCOUNT/tag?pageToken=p2&note=REDACTED"
    )
    assert out.headers == {"X-Acme-Key": "REDACTED", "X-Acme-Date": "REDACTED"}
