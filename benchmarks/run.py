"""The full run: the marker against the tools it replaces, on the errors of five providers.

In one run, each timed pytest run in its own subprocess and checked for its exact pass count:

  five providers    every documented error of azure_image_analysis, azure_face, huawei_ocr,
                    alibaba_image_search and bing_image_search (256 cases) four ways: floor
                    (parametrize, build a ``requests.Response`` by hand, call the client's
                    error parser), marker (``vision_errors``), ``responses``, and
                    pytest-recording (one cassette per test); with 1 case, 1x and 10x the cases
  hypothesis        ``source="hypothesis"`` against ``source="catalog"``: 100 examples each
                    (azure_image_analysis 11 + huawei_ocr 37 + alibaba_image_search 52), and
                    1000 each
  retry             the retry contract (errors twice, then success) on every throttling case
                    of every provider, with a client that honours Retry-After with
                    ``time.sleep``: wall time against the Retry-After it honoured
  cassettes         ``source="cassettes"`` from a 10- and a 1000-interaction cassette
                    (``cassette_cost.py``'s files)
  xdist             the marker, and the floor, at 10x the cases with ``-n 2`` against serial

The clients: one small ``requests`` client per provider (``benchclients.py``, generated), which
calls an operation on the route the catalog gives it (``example_request``; ``any`` is the
provider's first operation, Face's detect) and turns every error into ``VisionAPIError``.

Per-case cost: ``ms/case at 1x = (t(256) - t(1 case)) / 255``, ``at 10x = (t(2560) - t(1 case))
/ 2559``; linear growth makes them equal. The targets use the marginal ``(t(2560) - t(256)) /
2304`` (as ``marker_cost.py`` does), which removes everything a run pays once. Runs are
interleaved round-robin after an untimed warm-up round; each keeps its fastest time.

    .venv/bin/python benchmarks/run.py [--quick] [--repeats K] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cassette_cost
from marker_cost import (
    MARKER_TARGET,
    Case,
    Run,
    case_record,
    cassette_text,
    machine,
    measure,
    plugin_commit,
    plugin_state,
    verdict,
    write_recording_cassettes,
)

from pytest_visioncontract.cassettes import example_request
from pytest_visioncontract.catalog import ANY_OPERATION, Catalog, Registry, load_registry
from pytest_visioncontract.selection import Case as SelectedCase
from pytest_visioncontract.selection import Selection, expand

PROVIDERS = (
    "azure_image_analysis",
    "azure_face",
    "huawei_ocr",
    "alibaba_image_search",
    "bing_image_search",
)
WAYS = ("floor", "marker", "responses", "pytest_recording")
SCALE = 10  # "10x the cases": SCALE test functions per provider instead of one
HYPOTHESIS_PROVIDERS = ("azure_image_analysis", "huawei_ocr", "alibaba_image_search")  # 100
RETRY_TIMES = 2
RETRY = f"dict(times={RETRY_TIMES}, attempts=3)"
RETRY_COPIES = (10, 100)  # test functions per provider with throttling errors
EXTRA_ARGS = {"pytest_recording": ("--record-mode=none",)}
XDIST = ("-n", "2")
XDIST_WAYS = ("floor", "marker")  # the floor shows what xdist costs without the plugin

CLIENTS = '''\
"""Five small clients over requests: call an operation, turn every failure into VisionAPIError."""

from __future__ import annotations

import atexit
import json
import os
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).parent
ROUTES: dict[str, dict[str, list[str]]] = json.loads((HERE / "routes.json").read_text())
CASES: dict[str, list[dict[str, Any]]] = json.loads((HERE / "cases.json").read_text())
IDS = {provider: [case["id"] for case in cases] for provider, cases in CASES.items()}
AZURE_KEY = {"Ocp-Apim-Subscription-Key": "k"}
AUTH = {
    "azure_image_analysis": AZURE_KEY,
    "azure_face": AZURE_KEY,
    "bing_image_search": AZURE_KEY,
    "huawei_ocr": {"X-Auth-Token": "t"},
    "alibaba_image_search": {"x-acs-version": "2020-12-14"},
}
RETRYABLE = (429, 500, 502, 503, 504)


class VisionAPIError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def azure(document: dict[str, Any]) -> tuple[Any, Any]:
    error = document.get("error") or {}
    return error.get("code"), error.get("message")


def huawei(document: dict[str, Any]) -> tuple[Any, Any]:
    return document.get("error_code"), document.get("error_msg")


def alibaba(document: dict[str, Any]) -> tuple[Any, Any]:
    return document.get("Code"), document.get("Message")


def bing(document: dict[str, Any]) -> tuple[Any, Any]:
    errors = document.get("errors") or [{}]
    return errors[0].get("code"), errors[0].get("message")


PARSERS = {
    "azure_image_analysis": azure,
    "azure_face": azure,
    "huawei_ocr": huawei,
    "alibaba_image_search": alibaba,
    "bing_image_search": bing,
}


def error_from_response(provider: str, response: requests.Response) -> VisionAPIError:
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {}
    code, message = PARSERS[provider](document)
    return VisionAPIError(
        response.status_code, str(code or ""), str(message or response.reason), wait(response)
    )


def wait(response: requests.Response) -> float | None:
    """Seconds to wait: Retry-After, or Alibaba's x-acs-retry-after (milliseconds)."""
    try:
        if "Retry-After" in response.headers:
            return float(response.headers["Retry-After"])
        if "x-acs-retry-after" in response.headers:
            return float(response.headers["x-acs-retry-after"]) / 1000
    except ValueError:  # an HTTP date: not worth parsing here
        return 1.0
    return None


def call(provider: str, operation: str = "any") -> Any:
    """One request on the operation's route (``any``: the provider's first operation)."""
    method, uri = ROUTES[provider][operation]
    body = None if method == "GET" else {"url": "https://example.com/a.jpg"}
    try:
        response = requests.request(method, uri, json=body, headers=AUTH[provider], timeout=10)
    except requests.RequestException as exc:
        raise VisionAPIError(0, "network", str(exc), None) from exc
    if not response.ok:
        raise error_from_response(provider, response)
    try:
        return response.json()
    except ValueError as exc:
        raise VisionAPIError(response.status_code, "malformed", str(exc), None) from exc


def call_with_retry(provider: str, operation: str = "any", attempts: int = 3) -> Any:
    for attempt in range(1, attempts + 1):
        try:
            return call(provider, operation)
        except VisionAPIError as error:
            retryable = error.retry_after is not None or error.status in RETRYABLE
            if not retryable or attempt == attempts:
                raise
            time.sleep(error.retry_after if error.retry_after is not None else 1.0)


# How many times the tests ran their body: Hypothesis runs one test item many times.
examples = 0


def count() -> None:
    global examples
    examples += 1


@atexit.register
def _write_count() -> None:
    if examples:
        (HERE / f"examples-{os.getpid()}.txt").write_text(str(examples))
'''

PARAMETRIZED_HEADER = """\
import pytest

from benchclients import CASES, IDS, VisionAPIError, call
"""
HEADERS = {
    "floor": """\
import pytest
import requests
from requests.structures import CaseInsensitiveDict

from benchclients import CASES, IDS, error_from_response


def response_for(case):
    response = requests.Response()
    response.status_code = case["status"]
    response.reason = case["reason"]
    response.headers = CaseInsensitiveDict(case["headers"])
    response._content = case["body"].encode()
    response.url = case["uri"]
    return response
""",
    "marker": """\
import pytest

from benchclients import VisionAPIError, call
""",
    "responses": PARAMETRIZED_HEADER.replace(
        "import pytest\n", "import pytest\nimport responses\n"
    ),
    "pytest_recording": PARAMETRIZED_HEADER,
    "catalog": """\
import pytest

from benchclients import VisionAPIError, call, count
""",
    "retry": """\
import pytest

from benchclients import VisionAPIError, call_with_retry
""",
}
HEADERS["hypothesis"] = HEADERS["catalog"]
PARAMETRIZE = """
@pytest.mark.parametrize("case", CASES["@P@"]@SELECT@, ids=IDS["@P@"]@SELECT@)"""
# Per way one test function; @P@ provider, @NAME@ function name, @SELECT@ ("[:1]" for the
# one-case baseline) and @CODES@ (the marker's codes= for it) are filled in.
TESTS = {
    "floor": PARAMETRIZE
    + """
def @NAME@(case):
    assert error_from_response("@P@", response_for(case)).code == case["code"]
""",
    "marker": """
@pytest.mark.vision_errors("@P@"@CODES@, handled=(VisionAPIError,))
def @NAME@(vision_error):
    call("@P@", vision_error.operation)
""",
    "responses": PARAMETRIZE
    + """
def @NAME@(case):
    with responses.RequestsMock() as mock:
        mock.add(
            responses.Response(
                case["method"],
                case["uri"],
                body=case["body"].encode(),
                status=case["status"],
                headers=dict(case["headers"]),
                content_type=None,
            )
        )
        with pytest.raises(VisionAPIError) as info:
            call("@P@", case["operation"])
    assert info.value.code == case["code"]
""",
    "pytest_recording": "\n@pytest.mark.vcr"
    + PARAMETRIZE
    + """
def @NAME@(case):
    with pytest.raises(VisionAPIError) as info:
        call("@P@", case["operation"])
    assert info.value.code == case["code"]
""",
    "catalog": """
@pytest.mark.vision_errors("@P@", handled=(VisionAPIError,))
def @NAME@(vision_error):
    count()
    call("@P@", vision_error.operation)
""",
    "hypothesis": """
@pytest.mark.vision_errors(
    "@P@", source="hypothesis", max_examples=@EXAMPLES@, handled=(VisionAPIError,)
)
def @NAME@(vision_error):
    count()
    call("@P@", vision_error.operation)
""",
    "retry": """
@pytest.mark.vision_errors(
    "@P@", categories=["throttled"], retry=@RETRY@, handled=(VisionAPIError,)
)
def @NAME@(vision_error):
    call_with_retry("@P@", vision_error.operation)
    assert vision_error.waits == [vision_error.response.retry_after] * @TIMES@
""".replace("@RETRY@", RETRY).replace("@TIMES@", str(RETRY_TIMES)),
}


@dataclass(frozen=True)
class Documented:
    """One case the marker runs, in the form the other ways need it."""

    entry: str  # the catalog entry id (the marker's codes= selects it)
    category: str
    retry_after: float | None
    record: dict[str, object]  # for cases.json: the response, the operation, method and URI
    cassette: str  # one interaction: that request answered with the response


@dataclass(frozen=True)
class Planned:
    run: Run
    tests: int  # the run must pass exactly this many tests
    examples: int = 0  # and run this many test bodies (benchclients.count), when not 0
    waits: float = 0  # the Retry-After (s) its client honours (asserted by each retry test)


def route(catalog: Catalog, operation: str) -> tuple[str, str]:
    """Method and URI of a request on ``operation`` (``any``: the catalog's first operation)."""
    request = example_request(catalog, operation)
    return request["method"], request["uri"]


def documented(registry: Registry) -> dict[str, list[Documented]]:
    """Per provider, the cases ``@pytest.mark.vision_errors(provider)`` runs, in its order."""
    cases: dict[str, list[Documented]] = {}
    for provider in PROVIDERS:
        catalog = registry.get(provider)
        cases[provider] = []
        for case in expand(Selection(provider), registry):
            assert isinstance(case, SelectedCase)  # source="catalog"
            method, uri = route(catalog, case.operation)
            wire = case.response
            plain = Case(
                case.label, case.entry.code, wire.status, wire.reason, list(wire.headers), wire.body
            )
            record = case_record(plain) | {
                "operation": case.operation,
                "method": method,
                "uri": uri,
            }
            cassette = cassette_text(plain, method, uri)
            entry = case.entry
            cases[provider].append(
                Documented(entry.id, entry.category, wire.retry_after, record, cassette)
            )
    return cases


def write_tests(
    path: Path, way: str, cases: dict[str, list[Documented]], copies: int, one_case: bool = False
) -> Path:
    """``copies`` test functions per provider of ``cases``, each over all its cases (or one)."""
    body = []
    for provider, provider_cases in cases.items():
        chosen = provider_cases[:1] if one_case else provider_cases
        names = [f"test_{provider}_{i:03d}" for i in range(copies)]
        fill = {
            "@P@": provider,
            "@SELECT@": "[:1]" if one_case else "",
            "@CODES@": f", codes=[{chosen[0].entry!r}]" if one_case else "",
            "@EXAMPLES@": str(len(chosen)),
        }
        for name in names:
            text = TESTS[way].replace("@NAME@", name)
            for placeholder, value in fill.items():
                text = text.replace(placeholder, value)
            body.append(text)
        if way == "pytest_recording":
            write_recording_cassettes(
                path, names, {str(c.record["id"]): c.cassette for c in chosen}
            )
    path.write_text(HEADERS[way] + "\n" + "".join(body))
    return path


def generate(root: Path, registry: Registry) -> dict[tuple[str, str], Planned]:
    """Write every file; per (group, size) the run and what it must do."""
    cases = documented(registry)
    (root / "pytest.ini").write_text("[pytest]\n")  # keep rootdir and ini lookup inside root
    (root / "benchclients.py").write_text(CLIENTS)
    routes = {
        provider: {op: route(catalog, op) for op in [*catalog.operations, ANY_OPERATION]}
        for provider in PROVIDERS
        for catalog in [registry.get(provider)]
    }
    (root / "routes.json").write_text(json.dumps(routes))
    records = {provider: [c.record for c in found] for provider, found in cases.items()}
    (root / "cases.json").write_text(json.dumps(records))
    plan: dict[tuple[str, str], Planned] = {}

    def add(
        group: str,
        size: str,
        path: Path,
        copies: int,
        tests: int,
        examples: int = 0,
        waits: float = 0,
    ) -> None:
        parallel = group.endswith(" ".join(XDIST))
        args = EXTRA_ARGS.get(group.split(" ")[0], ()) + (XDIST if parallel else ())
        run = Run(f"{group} {size}", copies, path, args)
        plan[group, size] = Planned(run, tests, examples, waits)

    total = sum(len(found) for found in cases.values())
    first = {PROVIDERS[0]: cases[PROVIDERS[0]]}
    for way in WAYS:
        add(way, "1", write_tests(root / f"test_{way}_one.py", way, first, 1, one_case=True), 1, 1)
        for copies in (1, SCALE):
            path = write_tests(root / f"test_{way}_{copies}x.py", way, cases, copies)
            add(way, f"{copies}x", path, copies, total * copies)
    for way in XDIST_WAYS:
        path = plan[way, f"{SCALE}x"].run.path
        add(f"{way} {' '.join(XDIST)}", f"{SCALE}x", path, SCALE, total * SCALE)

    chosen = {provider: cases[provider] for provider in HYPOTHESIS_PROVIDERS}
    examples = sum(len(found) for found in chosen.values())
    for copies in (1, SCALE):
        for source in ("catalog", "hypothesis"):
            path = write_tests(root / f"test_{source}_{copies}x.py", source, chosen, copies)
            items = examples if source == "catalog" else len(chosen)
            add(source, f"{copies}x", path, copies, items * copies, examples=examples * copies)

    throttled = {
        provider: found
        for provider in PROVIDERS
        if (found := [c for c in cases[provider] if c.category == "throttled"])
    }
    throttling = [c for found in throttled.values() for c in found]
    waits = sum((c.retry_after or 0) * RETRY_TIMES for c in throttling)
    for copies in RETRY_COPIES:
        path = write_tests(root / f"test_retry_{copies}.py", "retry", throttled, copies)
        add("retry", str(copies), path, copies, len(throttling) * copies, waits=waits * copies)

    for name, runs in cassette_cost.generate_all(root / "recorded").items():
        for run in runs:
            plan[f"cassettes {name}", str(run.functions)] = Planned(
                run, cassette_cost.expected(run)
            )
    return plan


def check_examples(root: Path, plan: dict[Run, Planned]) -> Callable[[Run], None]:
    def after(run: Run) -> None:
        """Exit unless the run's test bodies ran exactly as often as expected."""
        files = list(root.glob("examples-*.txt"))
        ran = sum(int(f.read_text()) for f in files)
        for f in files:
            f.unlink()
        wanted = plan[run].examples
        if wanted and ran != wanted:
            sys.exit(f"{run.way}: expected {wanted} test bodies (examples) run, counted {ran}")

    return after


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table (also readable in a terminal)."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed run per file (default 5)")
    parser.add_argument("--repeats", type=int, help="timed runs per file (default 5, quick 1)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)

    registry = load_registry()
    root = Path(tempfile.mkdtemp(prefix="visioncontract-bench-"))
    plan = generate(root, registry)
    total = plan["floor", "1x"].tests
    counts = {p: len(expand(Selection(p), registry)) for p in PROVIDERS}
    state = plugin_state()
    print(f"date: {date.today().isoformat()}")
    print(machine(("hypothesis", "pytest-xdist")))
    print(f"pytest-visioncontract at {plugin_commit()} (sources {state})")
    print("documented errors: " + ", ".join(f"{p} {k}" for p, k in counts.items()) + f" = {total}")
    print(
        f"{len(plan)} pytest runs, each timed {repeats} time(s) after one untimed warm-up round "
        f"(fastest kept), each checked for its exact pass count; in {root}",
        flush=True,
    )
    by_run = {planned.run: planned for planned in plan.values()}
    measured = measure(
        [p.run for p in plan.values()],
        repeats,
        lambda run: by_run[run].tests,
        check_examples(root, by_run),
    )
    if plugin_state() != state:
        print("WARNING: the plugin's sources changed during the run; the numbers mix versions")
    best = {key: min(measured[p.run]) for key, p in plan.items()}
    spread = {key: max(measured[p.run]) - min(measured[p.run]) for key, p in plan.items()}

    def ms(value: float) -> str:
        return f"{value:.3f}"

    def noise(*keys: tuple[str, str], per: int) -> str:
        return "n/a" if repeats == 1 else ms(sum(spread[k] for k in keys) / per * 1000)

    big = f"{SCALE}x"
    n, n10 = total, total * SCALE
    per_case: dict[str, dict[str, float]] = {}
    for way in WAYS:
        one, t1, t10 = best[way, "1"], best[way, "1x"], best[way, big]
        per_case[way] = {
            "1x": (t1 - one) / (n - 1) * 1000,
            big: (t10 - one) / (n10 - 1) * 1000,
            "marginal": (t10 - t1) / (n10 - n) * 1000,
        }
    floor = per_case["floor"]["marginal"]
    print(f"\n## Every documented error of five providers: {n} cases, and {n10} ({big})\n")
    rows = []
    for way in WAYS:
        cost = per_case[way]
        rows.append(
            [
                way,
                ms(best[way, "1"]),
                ms(best[way, "1x"]),
                ms(best[way, big]),
                ms(cost["1x"]),
                ms(cost[big]),
                f"{cost[big] / cost['1x']:.2f}",
                ms(cost["marginal"]),
                noise((way, "1x"), (way, big), per=n10 - n),
                f"{cost['marginal'] / floor:.2f}",
                f"{best[way, '1x'] / best['floor', '1x']:.2f}",
                f"{best[way, big] / best['floor', big]:.2f}",
            ]
        )
    print(
        "\n".join(
            table(
                [
                    "way",
                    "t(1 case) s",
                    f"t({n}) s",
                    f"t({n10}) s",
                    "ms/case 1x",
                    f"ms/case {big}",
                    f"{big} / 1x",
                    "marginal ms/case",
                    "±",
                    "marginal x floor",
                    "wall x floor 1x",
                    f"wall x floor {big}",
                ],
                rows,
            )
        )
    )
    print(
        f"ms/case 1x = (t({n}) - t(1 case)) / {n - 1}; {big}: (t({n10}) - t(1 case)) / {n10 - 1}; "
        f"marginal = (t({n10}) - t({n})) / {n10 - n}; ± = the spread of the repeated runs "
        "(slowest - fastest, at 1x plus at 10x) over the same divisor, a rough error bar"
    )

    catalog_items = plan["catalog", "1x"].tests
    examples = plan["hypothesis", "1x"].examples
    print(
        f"\n## source='hypothesis' against source='catalog': {examples} examples each "
        f"({' + '.join(HYPOTHESIS_PROVIDERS)}), and {examples * SCALE}\n"
    )
    example_cost = {
        source: (best[source, big] - best[source, "1x"]) / (examples * (SCALE - 1)) * 1000
        for source in ("catalog", "hypothesis")
    }
    rows = [
        [
            f"{source} ({plan[source, '1x'].tests} test items)",
            ms(best[source, "1x"]),
            ms(best[source, big]),
            ms(example_cost[source]),
            noise((source, "1x"), (source, big), per=examples * (SCALE - 1)),
            f"{example_cost[source] / example_cost['catalog']:.2f}",
        ]
        for source in ("catalog", "hypothesis")
    ]
    print(
        "\n".join(
            table(
                [
                    "source",
                    f"t({examples} examples) s",
                    f"t({examples * SCALE}) s",
                    "ms/example",
                    "±",
                    "x catalog",
                ],
                rows,
            )
        )
    )
    assert catalog_items == examples

    few_retries, many_retries = RETRY_COPIES
    cases = plan["retry", str(few_retries)].tests // few_retries
    print(
        f"\n## The retry contract on all {cases} throttling cases ({RETRY}; the client sleeps "
        "Retry-After with time.sleep)\n"
    )
    rows = []
    for copies in RETRY_COPIES:
        planned = plan["retry", str(copies)]
        waited = planned.waits
        wall = best["retry", str(copies)]
        rows.append([f"{planned.tests}", f"{waited:.0f}", ms(wall), f"{wall / waited:.4f}"])
    print("\n".join(table(["cases", "Retry-After honoured s", "wall s", "wall / honoured"], rows)))
    many_waits = plan["retry", str(many_retries)].waits
    retry_small, retry_large = best["retry", str(few_retries)], best["retry", str(many_retries)]
    retry_cost = (retry_large - retry_small) / (cases * (many_retries - few_retries)) * 1000
    print(
        f"a retry case (3 requests) costs {retry_cost:.3f} ms marginal, "
        f"{retry_cost / per_case['marker']['marginal']:.2f} x a plain marker case"
    )

    print(f"\n## source='cassettes': {cassette_cost.CASES} recorded errors per test function\n")
    few, many = cassette_cost.FUNCTIONS
    cassette_case = {}
    rows = []
    for name in cassette_cost.FOLDERS:
        group = f"cassettes {name}"
        small, large = best[group, str(few)], best[group, str(many)]
        cassette_case[name] = cassette_cost.marginal(small, large)
        way = plan[group, str(few)].run.way
        error = noise((group, str(few)), (group, str(many)), per=(many - few) * cassette_cost.CASES)
        rows.append([way, ms(small), ms(large), ms(cassette_case[name]), error])
    print(
        "\n".join(
            table(
                [
                    "cassette",
                    f"t({few} x {cassette_cost.CASES}) s",
                    f"t({many} x {cassette_cost.CASES}) s",
                    "ms/case",
                    "±",
                ],
                rows,
            )
        )
    )

    xdist = " ".join(XDIST)
    print(f"\n## pytest-xdist {xdist} against serial, {n10} cases\n")
    rows = []
    for way in XDIST_WAYS:
        alone, shared = best[way, big], best[f"{way} {xdist}", big]
        spreads = [spread[way, big], spread[f"{way} {xdist}", big]]
        error = "n/a" if repeats == 1 else " / ".join(f"{s:.3f}" for s in spreads)
        rows.append([way, ms(alone), ms(shared), error, f"{shared / alone:.2f}"])
    header = ["way", "serial s", f"{xdist} s", f"spread s (serial / {xdist})", f"{xdist} / serial"]
    print("\n".join(table(header, rows)))
    serial, parallel = best["marker", big], best[f"marker {xdist}", big]

    marker, recording = per_case["marker"]["marginal"], per_case["pytest_recording"]["marginal"]
    flat = cassette_case["large"] / cassette_case["small"]
    linear = ", ".join(f"{way} {per_case[way][big] / per_case[way]['1x']:.2f}" for way in WAYS)
    print("\n## Targets\n")
    print(
        f"- {verdict(marker / floor <= MARKER_TARGET)}: a marker case costs {marker:.3f} ms, "
        f"{marker / floor:.2f} x the floor's {floor:.3f} ms (target <= {MARKER_TARGET})"
    )
    print(
        f"- {verdict(marker < recording)}: the marker is faster than pytest-recording on the same "
        f"cases: {marker:.3f} against {recording:.3f} ms per case ({recording / marker:.2f} x); "
        f"wall {best['marker', '1x']:.2f} against {best['pytest_recording', '1x']:.2f} s at "
        f"{n} cases, {serial:.2f} against {best['pytest_recording', big]:.2f} s at {n10}"
    )
    print(
        f"- {verdict(flat <= cassette_cost.FLAT_TARGET)}: a case from the 1000-interaction "
        f"cassette costs {flat:.2f} x one from the 10-interaction cassette "
        f"(flat: <= {cassette_cost.FLAT_TARGET})"
    )
    print(
        f"- {verdict(parallel < serial)}: {xdist} takes {parallel:.2f} s against {serial:.2f} s "
        f"serial on {n10} marker cases ({parallel / serial:.2f} x)"
    )
    print(f"- linear growth: cost per case at {big} / at 1x (1.00 = linear): {linear}")
    print(
        f"- a Hypothesis example costs {example_cost['hypothesis'] / example_cost['catalog']:.2f} "
        f"x a catalog case; the retry contract honoured {many_waits:.0f} s of Retry-After in "
        f"{retry_large:.2f} s of wall time"
    )
    if args.keep:
        print(f"\nkept {root}")
    else:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
