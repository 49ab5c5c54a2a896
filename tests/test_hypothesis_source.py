"""source="hypothesis": the marked test as a property over drawn responses."""

from __future__ import annotations

import pytest

CLIENT = """
import pytest, requests

URL = "https://myres.cognitiveservices.azure.com/computervision/imageanalysis:analyze?api-version=2023-10-01"

class VisionError(Exception):
    pass

def analyze(*, buggy):
    try:
        r = requests.post(URL, data=b"img")
    except requests.RequestException as exc:
        raise VisionError("network") from exc
    if not r.ok:
        try:
            error = r.json()["error"]
        except (ValueError, KeyError, TypeError):
            raise VisionError(r.status_code)
        if buggy and error["message"] == "Analyze query is invalid":
            raise VisionError(error["innererror"]["code"])   # KeyError when innererror is absent
        raise VisionError(error.get("code"), (error.get("innererror") or {}).get("code"))
    return r.json()
"""


FINDS_IT = ", max_examples=1000"


def marked(source: str, buggy: bool, extra: str = "") -> str:
    return (
        f'@pytest.mark.vision_errors("azure_image_analysis", source="{source}", handled=(VisionError,){extra})\n'
        f"def test_it(vision_error):\n    analyze(buggy={buggy})\n"
    )


def test_a_bug_the_documented_bodies_miss_is_found_and_shrunk(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + marked("catalog", True))
    pytester.runpytest().assert_outcomes(passed=11)  # every documented body has its innererror

    # The bug needs one entry, one variation and the documented message drawn together: enough
    # examples that every Hypothesis release finds it (at 50, some releases miss it at seed 1).
    pytester.makepyfile(CLIENT + marked("hypothesis", True, FINDS_IT))
    result = pytester.runpytest("--hypothesis-seed=1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "visioncontract: hypothesis seed 1 (--hypothesis-seed=1 to reproduce), max_examples 50",
            "*test_it[[]azure_image_analysis-hypothesis[]]*",
            "  escaped:    KeyError: 'innererror'",
            "Hypothesis' minimal failing response (seed 1):",
            "    drawn=DrawnError(azure_image_analysis 400-InvalidRequest-* on any, no inner error):",
            "    HTTP 400 Bad Request",
            '    {"error": {"code": "InvalidRequest", "message": "Analyze query is invalid"}},',
        ]
    )


def test_the_fixed_client_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + marked("hypothesis", False, ", max_examples=30"))
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_it[[]azure_image_analysis-hypothesis[]] PASSED*"])


def test_json_decode_error_on_a_gateway_page_is_found(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
def naive():
    r = requests.post(URL, data=b"img")
    if not r.ok:
        raise VisionError(r.json()["error"]["code"])

@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,))
def test_it(vision_error):
    try:
        naive()
    except requests.ConnectionError as exc:   # network faults are handled; broken bodies are not
        raise VisionError("network") from exc
    except requests.Timeout as exc:
        raise VisionError("timeout") from exc
"""
    )
    result = pytester.runpytest("--hypothesis-seed=3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  escaped:    requests.exceptions.JSONDecodeError: *"])


def test_same_seed_same_outcome(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + marked("hypothesis", True, FINDS_IT))
    first = pytester.runpytest("--hypothesis-seed=7")
    second = pytester.runpytest("--hypothesis-seed=7")
    first.assert_outcomes(failed=1)
    minimal = [line for line in first.outlines if "drawn=DrawnError(" in line]
    assert minimal and minimal == [line for line in second.outlines if "drawn=DrawnError(" in line]


def test_coverage_counts_the_entries_drawn(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + marked("hypothesis", False, ", max_examples=200"))
    result = pytester.runpytest("--hypothesis-seed=5")
    result.stdout.fnmatch_lines(["azure_image_analysis *11 *11 *11 *0 *0 *0 *100.0%"])


def test_max_examples_ini_and_misuse(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvision_max_examples = 0\n")
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: vision_max_examples: expected a whole number from 1 to 10000, got '0'"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (', max_examples="many"', "vision_errors: max_examples= must be a whole number from 1 to 10000, got 'many'"),
        (", faults=True", "vision_errors: faults= applies to source='catalog' only"),
    ],
    ids=["max-examples", "faults"],
)
def test_hypothesis_marker_misuse(pytester: pytest.Pytester, extra: str, message: str) -> None:
    pytester.makepyfile(CLIENT + marked("hypothesis", False, extra))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert f"test_hypothesis_marker_misuse.py::test_it: {message}" in result.stdout.lines


def test_max_examples_only_with_hypothesis(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + marked("catalog", False, ", max_examples=5"))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*vision_errors: max_examples= applies to source='hypothesis' only"])


def test_serve_inside_a_users_own_given_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
from hypothesis import given, settings
from pytest_visioncontract import serve
from pytest_visioncontract.strategies import error_responses, malformed_responses

@settings(max_examples=25)
@given(error_responses("azure_image_analysis"))
def test_documented_variations(drawn):
    with serve(drawn) as exchange:
        with pytest.raises(VisionError):
            analyze(buggy=False)
    assert len(exchange.requests) == 1

@settings(max_examples=25)
@given(malformed_responses("azure_image_analysis"))
def test_malformed(drawn):
    with serve(drawn):
        with pytest.raises(VisionError):
            analyze(buggy=False)
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_xdist_workers_draw_with_the_controllers_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
def always_wrong():
    try:
        analyze(buggy=False)
    except VisionError:
        raise RuntimeError("every example fails")

@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,))
def test_one(vision_error):
    always_wrong()

@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,))
def test_two(vision_error):
    always_wrong()
"""
    )
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2")
    header = next(line for line in result.outlines if "hypothesis seed" in line)
    seed = header.split("hypothesis seed ")[1].split(" ")[0]
    failures = [line for line in result.outlines if line.startswith("Hypothesis' minimal failing response")]
    # two failures (CI=true repeats each in the short summary), all with the header's seed
    assert len(failures) >= 2
    assert set(failures) == {f"Hypothesis' minimal failing response (seed {seed}):"}
