"""Replaying recorded errors (``source="cassettes"``): does a case cost more in a big cassette?

Two cassette folders hold the same 10 recorded Huawei OCR errors; the large one's cassette also
holds 990 recorded Azure Face errors. The same marked test (``source="cassettes"``, 10 cases per
test function) runs against each, with 2 and with 20 test functions; the marginal cost of a case
is ``(t(20) - t(2)) / (18 x 10)``. Cassettes are read and routed once per folder state, so the
marginal should not depend on the cassette's size.

    .venv/bin/python benchmarks/cassette_cost.py [--repeats K]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
from pathlib import Path

from marker_cost import Run, machine, measure, verdict
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from pytest_visioncontract.cassettes import example_request
from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.wire import render

CASES = 10
FUNCTIONS = (2, 20)  # test functions per file, CASES cases each
FOLDERS = {"small": 0, "large": 1000 - CASES}  # interactions added to the CASES recorded errors
FLAT_TARGET = 1.25  # large-cassette marginal at most 1.25 x the small one's (noise allowance)
TEST = """
import pytest
import requests

class OCRError(Exception):
    pass

def recognize():
    r = requests.post("https://ocr.cn-north-4.myhuaweicloud.com/v2/p1/ocr/general-text", json={})
    if not r.ok:
        raise OCRError(r.json()["error_code"])
"""
FUNCTION = """
@pytest.mark.vision_errors("huawei_ocr", source="cassettes", handled=(OCRError,))
def test_replay_{i:02d}(vision_error):
    recognize()
"""


def interactions(provider: str, count: int) -> tuple[list[Request], list[dict[str, object]]]:
    catalog = load_registry().get(provider)
    requests, responses = [], []
    for entry in itertools.islice(itertools.cycle(catalog.servable_entries), count):
        operation = entry.operations[0] if entry.operations else "any"
        raw = example_request(catalog, operation)
        requests.append(Request(raw["method"], raw["uri"], None, {}))
        responses.append(render(catalog, entry).as_vcr())
    return requests, responses


def generate(root: Path, extra: int) -> list[Run]:
    (root / "pytest.ini").write_text("[pytest]\n")
    requests, responses = interactions("huawei_ocr", CASES)
    more_requests, more_responses = interactions("azure_face", extra)
    cassette = serialize(
        {"requests": requests + more_requests, "responses": responses + more_responses},
        yamlserializer,
    )
    (root / "cassettes").mkdir()
    (root / "cassettes" / "errors.yaml").write_text(cassette)
    runs = []
    for functions in FUNCTIONS:
        path = root / f"test_replay_{functions}.py"
        path.write_text(TEST + "".join(FUNCTION.format(i=i) for i in range(functions)))
        runs.append(Run(f"{CASES + extra} interactions", functions, path))
    return runs


def generate_all(root: Path) -> dict[str, list[Run]]:
    """One folder per entry of FOLDERS under ``root``, each with its runs (2 and 20 functions)."""
    runs = {}
    for name, extra in FOLDERS.items():
        (root / name).mkdir(parents=True)
        runs[name] = generate(root / name, extra)
    return runs


def expected(run: Run) -> int:
    return CASES * run.functions


def marginal(small: float, large: float) -> float:
    """ms per case from the (fastest) wall times with 2 and with 20 test functions."""
    few, many = FUNCTIONS
    return (large - small) / ((many - few) * CASES) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per file")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="cassette_cost-"))
    runs = generate_all(root)
    print(machine())
    all_runs = [run for pair in runs.values() for run in pair]
    measured = measure(all_runs, args.repeats, expected)
    times = {(name, run.functions): measured[run] for name, pair in runs.items() for run in pair}
    print(f"\n{'cassette':<24} {'t(2 x 10) s':>12} {'t(20 x 10) s':>13} {'ms/case':>8}")
    per_case = {}
    for name, pair in runs.items():
        small, large = min(times[name, 2]), min(times[name, 20])
        per_case[name] = marginal(small, large)
        print(f"{pair[0].way:<24} {small:>12.3f} {large:>13.3f} {per_case[name]:>8.3f}")
    ratio = per_case["large"] / per_case["small"]
    print(
        f"\n{verdict(ratio <= FLAT_TARGET)}: a case replayed from the 1000-interaction cassette "
        f"costs {ratio:.2f} x one from the 10-interaction cassette (flat: <= {FLAT_TARGET})"
    )
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
