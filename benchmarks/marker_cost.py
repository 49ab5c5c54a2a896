"""What one documented-error case costs, seven ways, measured in one run.

The same client (Huawei OCR general text over ``requests``) is tested against the same 37
documented error responses of ``huawei_ocr``, seven ways:

  floor             parametrize over the rendered responses, build a ``requests.Response`` by
                    hand and call the client's error parser (no HTTP layer at all)
  marker            ``@pytest.mark.vision_errors`` serving each error to a real ``requests.post``
  responses         ``responses.RequestsMock()`` registering the case's response
  vcrpy             ``vcr.use_cassette`` of a one-interaction cassette per case
  pytest_recording  ``@pytest.mark.vcr`` replaying a cassette per test (``--record-mode=none``)
  hypothesis        ``source="hypothesis"``: one test per function, 37 drawn examples each
  retry             the marker with the retry contract (retryable errors twice, then success)
                    and a client that honours Retry-After with ``time.sleep``

Each way is a generated test file with 2 (and 20) test functions over the 37 cases, run as
``python -m pytest -q -p no:cacheprovider FILE`` in a subprocess with every installed plugin
loaded. Runs are interleaved round-robin; each (way, size) keeps its fastest run, and

    marginal cost per case = (t(10N) - t(N)) / 9N

removes what every run pays once (interpreter, plugin loading, collection set-up). Bytecode is
cached in the temp dir (``PYTHONPYCACHEPREFIX``) even where ``PYTHONDONTWRITEBYTECODE`` is set.

    .venv/bin/python benchmarks/marker_cost.py [--quick] [--repeats K] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from pytest_recording.plugin import get_default_cassette_name
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

import pytest_visioncontract
from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.wire import render

PROVIDER = "huawei_ocr"
URL = "https://ocr.cn-north-4.myhuaweicloud.com/v2/p/ocr/general-text"
REQUEST_BODY = b'{"image": "aGVsbG8="}'  # what the client sends (cassettes match on URL only)
WAYS = ("floor", "marker", "responses", "vcrpy", "pytest_recording", "hypothesis", "retry")
MARKER_TARGET = 2.0  # marker marginal <= 2.0 x floor
RECORDING_TARGET = 2.5  # pytest_recording marginal >= 2.5 x marker
HYPOTHESIS_TARGET = 1.5  # a Hypothesis example <= 1.5 x a catalog case
RETRY = "dict(times=2, attempts=3)"  # the retry way: retryable errors twice, then success
ONE_TEST_PER_FUNCTION = ("hypothesis",)  # one test item runs len(cases) examples

CLIENT = '''\
"""The client under test: Huawei OCR general text recognition over requests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

URL = "@URL@"
IMAGE = "aGVsbG8="
CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "cases.json").read_text())
IDS = [case["id"] for case in CASES]


class OCRError(Exception):
    def __init__(
        self, status: int, code: str, message: str, request_id: str | None, retry_after: str | None
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id
        self.retry_after = retry_after


def error_from_response(response: requests.Response) -> OCRError:
    try:
        document = response.json()
    except ValueError:
        document = {}
    return OCRError(
        response.status_code,
        str(document.get("error_code", "")),
        str(document.get("error_msg", response.reason)),
        response.headers.get("X-Request-Id"),
        response.headers.get("Retry-After"),
    )


def recognize(image: str) -> Any:
    try:
        response = requests.post(
            URL, json={"image": image}, headers={"X-Auth-Token": "t"}, timeout=10
        )
    except requests.RequestException as exc:
        raise OCRError(0, "network", str(exc), None, None) from exc
    if not response.ok:
        raise error_from_response(response)
    return response.json()


def recognize_with_retry(image: str, attempts: int = 3) -> Any:
    for attempt in range(1, attempts + 1):
        try:
            return recognize(image)
        except OCRError as error:
            if error.status not in (429, 500, 502, 503, 504) or attempt == attempts:
                raise
            time.sleep(float(error.retry_after or 0))


def retry_after(response: requests.Response) -> str | None:
    return response.headers.get("Retry-After")
'''.replace("@URL@", URL)

# Per way: the module header, and one test function (``{name}`` is filled in K times).
HEADERS = {
    "floor": """\
import pytest
import requests
from requests.structures import CaseInsensitiveDict

from benchclient import CASES, IDS, URL, error_from_response


def response_for(case):
    response = requests.Response()
    response.status_code = case["status"]
    response.reason = case["reason"]
    response.headers = CaseInsensitiveDict(case["headers"])
    response._content = case["body"].encode()
    response.url = URL
    return response
""",
    "marker": """\
import pytest

from benchclient import IMAGE, OCRError, recognize
""",
    "responses": """\
import pytest
import responses

from benchclient import CASES, IDS, IMAGE, URL, OCRError, recognize
""",
    "vcrpy": """\
from pathlib import Path

import pytest
import vcr

from benchclient import CASES, IDS, IMAGE, OCRError, recognize

CASSETTES = Path(__file__).parent / "vcr_cassettes"
""",
    "pytest_recording": """\
import pytest

from benchclient import CASES, IDS, IMAGE, OCRError, recognize
""",
    "hypothesis": """\
import pytest

from benchclient import CASES, IMAGE, OCRError, recognize
""",
    "retry": """\
import pytest

from benchclient import IMAGE, OCRError, recognize_with_retry
""",
}
TESTS = {
    "floor": """
@pytest.mark.parametrize("case", CASES, ids=IDS)
def {name}(case):
    assert error_from_response(response_for(case)).code == case["code"]
""",
    "marker": """
@pytest.mark.vision_errors("huawei_ocr", handled=(OCRError,))
def {name}(vision_error):
    recognize(IMAGE)
""",
    "responses": """
@pytest.mark.parametrize("case", CASES, ids=IDS)
def {name}(case):
    with responses.RequestsMock() as mock:
        mock.add(
            responses.Response(
                "POST",
                URL,
                body=case["body"].encode(),
                status=case["status"],
                headers=dict(case["headers"]),
                content_type=None,
            )
        )
        with pytest.raises(OCRError) as info:
            recognize(IMAGE)
    assert info.value.code == case["code"]
""",
    "vcrpy": """
@pytest.mark.parametrize("case", CASES, ids=IDS)
def {name}(case):
    cassette = str(CASSETTES / (case["id"] + ".yaml"))
    with vcr.use_cassette(cassette, record_mode="none"), pytest.raises(OCRError) as info:
        recognize(IMAGE)
    assert info.value.code == case["code"]
""",
    "pytest_recording": """
@pytest.mark.vcr
@pytest.mark.parametrize("case", CASES, ids=IDS)
def {name}(case):
    with pytest.raises(OCRError) as info:
        recognize(IMAGE)
    assert info.value.code == case["code"]
""",
}
TESTS["hypothesis"] = """
@pytest.mark.vision_errors(
    "huawei_ocr", source="hypothesis", max_examples=len(CASES), handled=(OCRError,)
)
def {name}(vision_error):
    recognize(IMAGE)
"""
TESTS["retry"] = """
@pytest.mark.vision_errors("huawei_ocr", retry=@RETRY@, handled=(OCRError,))
def {name}(vision_error):
    recognize_with_retry(IMAGE)
""".replace("@RETRY@", RETRY)
EXTRA_ARGS = {"pytest_recording": ["--record-mode=none"]}
DROPPED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONDONTWRITEBYTECODE")
SUMMARY = re.compile(r"^(\d+) passed(?:, (\d+) warnings?)? in [\d.]+s")


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Run:
    way: str
    functions: int  # test functions in the file; the tests are functions x cases
    path: Path
    args: tuple[str, ...] = ()  # more pytest arguments, e.g. ("-n", "2")


def documented_cases() -> list[Case]:
    catalog = load_registry().get(PROVIDER)
    cases = []
    for entry in catalog.servable_entries:
        wire = render(catalog, entry)
        cases.append(
            Case(entry.id, entry.code, wire.status, wire.reason, list(wire.headers), wire.body)
        )
    return cases


def cassette_text(case: Case, method: str = "POST", uri: str = URL) -> str:
    """A one-interaction vcrpy cassette: ``method uri`` answered with the case's response."""
    headers: dict[str, list[str]] = {}
    for name, value in case.headers:
        headers.setdefault(name, []).append(value)
    response = {
        "status": {"code": case.status, "message": case.reason},
        "headers": headers,
        "body": {"string": case.body},
    }
    request = Request(method, uri, REQUEST_BODY, {"Content-Type": "application/json"})
    text: str = serialize({"requests": [request], "responses": [response]}, yamlserializer)
    return text


def case_record(case: Case) -> dict[str, object]:
    """A case as JSON for the generated tests (``cases.json``)."""
    return {
        "id": case.id,
        "code": case.code,
        "status": case.status,
        "reason": case.reason,
        "headers": case.headers,
        "body": case.body.decode("utf-8"),
    }


def write_recording_cassettes(module: Path, names: list[str], cassettes: dict[str, str]) -> None:
    """pytest-recording's layout: ``<dir>/cassettes/<module>/<test node name>.yaml``.

    One cassette per test: every function in ``names`` parametrized over the case ids.
    """
    folder = module.parent / "cassettes" / module.stem
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        for case_id, text in cassettes.items():
            cassette = get_default_cassette_name(None, f"{name}[{case_id}]")
            (folder / f"{cassette}.yaml").write_text(text)


def generate(root: Path, cases: list[Case], sizes: tuple[int, ...]) -> list[Run]:
    """Write the client, the case data, the cassettes and one test file per (way, size)."""
    (root / "pytest.ini").write_text("[pytest]\n")  # keep rootdir and ini lookup inside root
    (root / "benchclient.py").write_text(CLIENT)
    (root / "cases.json").write_text(json.dumps([case_record(c) for c in cases]))
    cassettes = {c.id: cassette_text(c) for c in cases}
    (root / "vcr_cassettes").mkdir()
    for case_id, text in cassettes.items():
        (root / "vcr_cassettes" / f"{case_id}.yaml").write_text(text)
    runs = []
    for functions in sizes:
        for way in WAYS:
            path = root / f"test_{way}_{functions}.py"
            names = [f"test_case_{i:02d}" for i in range(functions)]
            body = "".join(TESTS[way].replace("{name}", name) for name in names)
            path.write_text(HEADERS[way] + "\n" + body)
            if way == "pytest_recording":
                write_recording_cassettes(path, names, cassettes)
            runs.append(Run(way, functions, path))
    return runs


def run_once(run: Run, expected: int) -> float:
    """Wall time of one pytest run; exits if it did not pass exactly ``expected`` tests."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", run.path.name]
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    # Cache bytecode (and pytest's rewritten test modules) as a developer's machine would, but
    # in the temp dir: nothing is written next to the sources; the warm-up round fills it.
    env["PYTHONPYCACHEPREFIX"] = str(run.path.parent / "pycache")
    start = time.perf_counter()
    done = subprocess.run(
        command + EXTRA_ARGS.get(run.way, []) + list(run.args),
        cwd=run.path.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    match = SUMMARY.match(lines[-1]) if lines else None
    if done.returncode != 0 or match is None or int(match.group(1)) != expected:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        what = " ".join([f"{run.way} x{run.functions}", *run.args])
        sys.exit(
            f"{what}: expected {expected} passed, exit code 0; got exit code "
            f"{done.returncode}, summary {lines[-1] if lines else '(none)'!r}\n{tail}"
        )
    return elapsed


def measure(
    runs: list[Run],
    repeats: int,
    expected: Callable[[Run], int],
    after: Callable[[Run], None] | None = None,
) -> dict[Run, list[float]]:
    """Every run ``repeats`` times, round-robin, after one untimed warm-up round.

    Round 0 warms up (pyc, page cache) and checks outcomes like every other round: each run
    must pass exactly ``expected(run)`` tests; ``after(run)`` may check more (and exit).
    """
    times: dict[Run, list[float]] = {run: [] for run in runs}
    for round_ in range(repeats + 1):
        for run in runs:
            elapsed = run_once(run, expected(run))
            if after is not None:
                after(run)
            if round_:
                times[run].append(elapsed)
        print(f"  round {round_ or 'warm-up'} done", file=sys.stderr, flush=True)
    return times


def machine(more: tuple[str, ...] = ()) -> str:
    packages = ("pytest", "vcrpy", "responses", "pytest-recording", *more)
    versions = ", ".join(f"{p} {version(p)}" for p in packages)
    return (
        f"machine: {platform.platform()}; {platform.python_implementation()} "
        f"{platform.python_version()}; {os.cpu_count()} CPUs\n{versions}"
    )


def plugin_state() -> str:
    """A digest of the plugin's source files (others may edit them while this runs)."""
    digest = hashlib.sha256()
    for path in sorted(Path(pytest_visioncontract.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def plugin_commit() -> str:
    folder = str(Path(pytest_visioncontract.__file__).parent)

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", ".")
    return (git("rev-parse", "--short", "HEAD") or "?") + (" + uncommitted changes" * bool(dirty))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="37x1 vs 37x10 tests, 2 runs each")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--repeats", type=int, help="timed runs per file (default 3, quick 2)")
    args = parser.parse_args(argv)
    small, large = (1, 10) if args.quick else (2, 20)
    repeats = args.repeats or (2 if args.quick else 3)

    cases = documented_cases()
    root = Path(tempfile.mkdtemp(prefix="marker_cost-"))
    runs = generate(root, cases, (small, large))
    n = len(cases) * small
    print(machine())
    state = plugin_state()
    print(f"pytest-visioncontract at {plugin_commit()} (sources {state})")
    print(f"{PROVIDER}: {len(cases)} documented errors; N = {n} tests, 10N = {10 * n} tests")
    print(
        f"{repeats} timed runs per file (fastest kept) after one untimed warm-up; in {root}",
        flush=True,
    )

    def expected(run: Run) -> int:
        return (1 if run.way in ONE_TEST_PER_FUNCTION else len(cases)) * run.functions

    measured = measure(runs, repeats, expected)
    times = {(run.way, run.functions): measured[run] for run in runs}

    if plugin_state() != state:
        print("WARNING: the plugin's sources changed during the run; the numbers mix versions")

    marginal: dict[str, float] = {}
    print()
    print(f"{'way':<17} {'t(N) s':>8} {'t(10N) s':>9} {'ms/case':>8} {'noise':>7} {'x floor':>8}")
    for way in WAYS:
        small_runs, large_runs = times[way, small], times[way, large]
        marginal[way] = (min(large_runs) - min(small_runs)) / (9 * n) * 1000
        # How far the marginal could move if other runs had been the fastest ones.
        spread = max(small_runs) - min(small_runs) + max(large_runs) - min(large_runs)
        noise = spread / (9 * n) * 1000
        print(
            f"{way:<17} {min(small_runs):>8.3f} {min(large_runs):>9.3f} {marginal[way]:>8.3f} "
            f"{noise:>7.3f} {marginal[way] / marginal['floor']:>8.2f}"
        )
    print("noise: (slowest - fastest run at N + the same at 10N) / 9N, a rough error bar")
    print()
    marker_ratio = marginal["marker"] / marginal["floor"]
    recording_ratio = marginal["pytest_recording"] / marginal["marker"]
    print(
        f"{verdict(marker_ratio <= MARKER_TARGET)}: marker {marginal['marker']:.3f} ms/case is "
        f"{marker_ratio:.2f} x floor {marginal['floor']:.3f} (target <= {MARKER_TARGET})"
    )
    print(
        f"{verdict(recording_ratio >= RECORDING_TARGET)}: pytest_recording "
        f"{marginal['pytest_recording']:.3f} ms/case is {recording_ratio:.2f} x marker "
        f"{marginal['marker']:.3f} (target >= {RECORDING_TARGET})"
    )
    hypothesis_ratio = marginal["hypothesis"] / marginal["marker"]
    print(
        f"{verdict(hypothesis_ratio <= HYPOTHESIS_TARGET)}: a Hypothesis example "
        f"{marginal['hypothesis']:.3f} ms is {hypothesis_ratio:.2f} x a catalog case "
        f"{marginal['marker']:.3f} ms (target <= {HYPOTHESIS_TARGET})"
    )
    catalog = load_registry().get(PROVIDER)
    throttled = sum(1 for e in catalog.servable_entries if e.category == "throttled")
    waited = throttled * 2 * 1.0 * large  # Retry-After 1 s, served twice, per test function
    print(
        f"retry contract: the 10N run served {throttled * large} throttling cases whose client "
        f"honoured {waited:.0f} s of Retry-After, in {min(times['retry', large]):.2f} s of wall "
        f"time ({'no real sleeping' if min(times['retry', large]) < waited else 'REAL SLEEPING'}); "
        f"{marginal['retry'] / marginal['marker']:.2f} x a plain catalog case"
    )
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
