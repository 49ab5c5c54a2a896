"""Every error documented in the providers' seed documents has exactly one catalog entry.

The documented rows come from the project's snapshot of the seed documents
(``tests/data/documented_errors.json``, written by ``tests/seeds.py``'s own parser), so these
tests run in any checkout; ``test_seed_snapshot.py`` checks the snapshot against the seeds in
``../shared/seeds/`` wherever they are. The catalogs are the package data the plugin ships.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from functools import cache
from importlib.resources import files
from typing import Any

import pytest
from seeds import PROVIDERS, SNAPSHOT, SeedRow, snapshot_rows

Entry = dict[str, Any]

# Literal counts, per kind: a row the parser (or a seed edit) drops fails here.
EXPECTED_COUNTS: dict[str, dict[str, int]] = {
    "azure_image_analysis": {"wire": 11, "unconfirmed": 6, "client_side": 2},  # 19
    "azure_face": {"wire": 143},
    "huawei_ocr": {"wire": 37},
    "alibaba_image_search": {"wire": 52},
    "bing_image_search": {"wire": 13},
}
FLAG_FOR_KIND = {"wire": None, "unconfirmed": "unconfirmed", "client_side": "client_side"}

pytestmark = pytest.mark.parametrize("provider", PROVIDERS)


@cache
def rows_of(provider: str) -> tuple[SeedRow, ...]:
    return tuple(snapshot_rows(provider))


def catalog_entries(provider: str) -> list[Entry]:
    resource = files("pytest_visioncontract") / "catalogs" / f"{provider}.json"
    entries: list[Entry] = json.loads(resource.read_text(encoding="utf-8"))["entries"]
    return entries


def fits(row: SeedRow, entry: Entry) -> bool:
    """Does ``entry`` document ``row``? Fields the seed does not give are not compared."""
    if row.kind == "client_side":
        status_ok = entry.get("status") == 0  # the catalogs' status for SDK-side errors
    elif row.status is None:
        status_ok = bool(entry.get("status_inferred"))
    else:
        status_ok = entry.get("status") == row.status
    return (
        status_ok
        and (row.code is None or entry.get("code") == row.code)
        and entry.get("inner_code") == row.inner_code
        and (row.message is None or entry.get("message") == row.message)
        and (row.inner_message is None or entry.get("inner_message") == row.inner_message)
        and entry.get("flag") == FLAG_FOR_KIND[row.kind]
    )


def match(rows: tuple[SeedRow, ...], entries: list[Entry]) -> dict[int, int]:
    """A maximum one-to-one matching, row index -> entry index (augmenting paths)."""
    candidates = [[j for j, e in enumerate(entries) if fits(r, e)] for r in rows]
    row_of_entry: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in candidates[i]:
            if j not in seen:
                seen.add(j)
                if j not in row_of_entry or augment(row_of_entry[j], seen):
                    row_of_entry[j] = i
                    return True
        return False

    for i in range(len(rows)):
        augment(i, set())
    return {i: j for j, i in row_of_entry.items()}


def describe_entry(entry: Entry) -> str:
    keys = ("id", "status", "status_inferred", "code", "inner_code", "message", "flag")
    return "{" + ", ".join(f"{k}={entry[k]!r}" for k in keys if k in entry) + "}"


def closeness(row: SeedRow, entry: Entry) -> int:
    fields = (
        (entry.get("status"), row.status),
        (entry.get("inner_code"), row.inner_code),
        (entry.get("message"), row.message),
    )
    return sum(got == want for got, want in fields)


def missing_rows_report(provider: str, entries: list[Entry]) -> list[str]:
    """One line per seed row without a catalog entry, with same-code entries as hints."""
    rows = rows_of(provider)
    matched = match(rows, entries)
    report = []
    for i, row in enumerate(rows):
        if i in matched:
            continue
        line = f"{provider}: no catalog entry for seed row {row.describe()}"
        same_code = [e for e in entries if e.get("code") == row.code]
        if same_code:
            near = sorted(same_code, key=lambda e: -closeness(row, e))[:3]
            line += "; closest same-code entries: " + ", ".join(map(describe_entry, near))
        report.append(line)
    return report


def test_seed_row_counts(provider: str) -> None:
    counts = Counter(row.kind for row in rows_of(provider))
    assert dict(counts) == EXPECTED_COUNTS[provider], (
        f"{provider}: documented rows per kind changed in {SNAPSHOT.name}; check the seed "
        "and tests/seeds.py"
    )


def test_every_seed_row_has_its_own_catalog_entry(provider: str) -> None:
    report = missing_rows_report(provider, catalog_entries(provider))
    if report:
        pytest.fail("\n".join(report), pytrace=False)


def test_catalog_has_no_entries_beyond_the_seed(provider: str) -> None:
    rows, entries = rows_of(provider), catalog_entries(provider)
    used = set(match(rows, entries).values())
    extra = [describe_entry(e) for j, e in enumerate(entries) if j not in used]
    assert len(entries) == len(rows), (
        f"{provider}: {len(entries)} catalog entries for {len(rows)} seed rows; "
        f"entries matching no seed row: {extra}"
    )


def test_documented_messages_are_not_marked_undocumented(provider: str) -> None:
    rows, entries = rows_of(provider), catalog_entries(provider)
    wrong = [
        f"{describe_entry(entries[j])} for seed row {rows[i].describe()}"
        for i, j in match(rows, entries).items()
        if rows[i].message is not None and entries[j].get("message_documented") is False
    ]
    assert not wrong, f"{provider}: message_documented is false but the seed gives it: {wrong}"


def test_a_removed_entry_is_reported(provider: str) -> None:
    """The check above can fail: drop one matched entry from an in-memory copy."""
    entries = catalog_entries(provider)
    before = len(missing_rows_report(provider, entries))
    matched = match(rows_of(provider), entries)
    assert matched, f"{provider}: no catalog entry matches any seed row"
    trimmed = copy.deepcopy(entries)
    del trimmed[next(iter(matched.values()))]
    assert len(missing_rows_report(provider, trimmed)) == before + 1
