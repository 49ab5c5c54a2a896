"""The snapshot of documented facts (``tests/data/documented_errors.json``) is the seeds' own.

The catalogs are checked against the snapshot in every checkout (test_catalog_completeness.py).
Here the snapshot is checked against the seed documents themselves, parsed afresh by
``tests/seeds.py``, wherever ``../shared/seeds/`` is beside the checkout. A fresh clone has no
seeds beside it: these tests say so and skip, unless ``VISIONCONTRACT_REQUIRE_SEEDS=1`` (set by
``.ci/run``) makes a missing seed folder a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from seeds import PARSERS, PROVIDERS, SEEDS_DIR, SNAPSHOT, SeedRow, seed_rows, snapshot_rows

MISSING = (
    "seed documents not found: {seeds} is not a folder. The catalogs were checked against the "
    "snapshot {snapshot}; the snapshot is checked against the seeds where ../shared/seeds/ is "
    "beside the checkout (CI)"
)
THIS = Path(__file__)


def seeds_or_skip() -> Path:
    """The seeds' folder (read from the environment now, so runs inside this process see a
    monkeypatched one), or a skip that says why, or a failure where they are required."""
    seeds = Path(os.environ.get("VISIONCONTRACT_SEEDS_DIR") or SEEDS_DIR)
    if seeds.is_dir():
        return seeds
    message = MISSING.format(seeds=seeds, snapshot=SNAPSHOT.name)
    if os.environ.get("VISIONCONTRACT_REQUIRE_SEEDS", "") not in ("", "0"):
        pytest.fail(message + "; VISIONCONTRACT_REQUIRE_SEEDS is set", pytrace=False)
    pytest.skip(message)


def differences(parsed: list[SeedRow], kept: list[SeedRow]) -> list[str]:
    """Rows in one list and not the other, in document order."""
    lines = [
        f"in the seed, not the snapshot: {row.describe()}" for row in parsed if row not in kept
    ]
    lines += [
        f"in the snapshot, not the seed: {row.describe()}" for row in kept if row not in parsed
    ]
    if not lines and parsed != kept:
        lines.append("the same rows in another order")
    return lines


@pytest.mark.parametrize("provider", PROVIDERS)
def test_snapshot_matches_the_seeds(provider: str) -> None:
    seeds = seeds_or_skip()
    found = differences(seed_rows(provider, seeds), snapshot_rows(provider))
    if found:
        pytest.fail(
            f"{provider}: {SNAPSHOT.name} is not what {PARSERS[provider][0]} documents "
            "(rewrite it with `python tests/seeds.py --write`, then update the catalog):\n"
            + "\n".join(found),
            pytrace=False,
        )


def run_snapshot_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, seeds: Path, required: bool
) -> pytest.RunResult:
    monkeypatch.setenv("VISIONCONTRACT_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("VISIONCONTRACT_REQUIRE_SEEDS", "1" if required else "0")
    return pytester.runpytest(
        f"{THIS}::test_snapshot_matches_the_seeds", "-p", "no:cacheprovider", "-rsf"
    )


def test_missing_seeds_skip_with_the_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_snapshot_tests(pytester, monkeypatch, pytester.path / "nowhere", required=False)
    result.assert_outcomes(skipped=len(PROVIDERS))
    result.stdout.fnmatch_lines(["SKIPPED * seed documents not found: *nowhere is not a folder.*"])


def test_missing_seeds_fail_where_they_are_required(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_snapshot_tests(pytester, monkeypatch, pytester.path / "nowhere", required=True)
    result.assert_outcomes(failed=len(PROVIDERS))
    result.stdout.fnmatch_lines(["*seed documents not found*VISIONCONTRACT_REQUIRE_SEEDS is set"])


def test_a_seed_edit_is_caught(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = seeds_or_skip()
    edited = shutil.copytree(seeds, pytester.path / "seeds")
    face = edited / PARSERS["azure_face"][0]
    row = snapshot_rows("azure_face")[0]
    assert row.message is not None and row.message in face.read_text(encoding="utf-8")
    face.write_text(
        face.read_text(encoding="utf-8").replace(row.message, "A message nobody documented.", 1),
        encoding="utf-8",
    )
    result = run_snapshot_tests(pytester, monkeypatch, edited, required=True)
    result.assert_outcomes(passed=len(PROVIDERS) - 1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*azure_face: documented_errors.json is not what azure-face-errors.md documents*",
            "in the seed, not the snapshot: *A message nobody documented.*",
            f"in the snapshot, not the seed: *{row.message}*",
        ]
    )
