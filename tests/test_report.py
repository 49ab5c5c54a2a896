"""Coverage report: terminal section, JSON, HTML, --vision-fail-under, and pytest-xdist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_visioncontract.catalog import load_registry

SUITE = """
import pytest, requests

class VisionError(Exception):
    pass

def search(q="cats"):
    r = requests.get("https://api.bing.microsoft.com/v7.0/images/search", params={"q": q})
    if not r.ok:
        error = r.json()["errors"][0]
        if error.get("subCode") == "Blocked":
            raise KeyError("pretend bug")
        raise VisionError(error["code"])

@pytest.mark.vision_errors("bing_image_search", handled=(VisionError,))
def test_bing(vision_error):
    if vision_error.code == "ServerError":
        return  # never calls the client: not exercised
    search()

@pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101", "APIG.0308"], handled=(requests.HTTPError,))
def test_huawei(vision_error):
    requests.post("https://ocr.cn-north-4.myhuaweicloud.com/v2/p/ocr/general-text", json={}).raise_for_status()
"""


def test_terminal_section_per_provider(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=11, failed=4)
    result.stdout.fnmatch_lines(
        [
            "*= vision contract: documented errors =*",
            "provider *documented*exercised*handled*unhandled*not exercised*not run*handled %",
            "bing_image_search *13 *10 *9 *1 *3 *0 *69.2%",
            "huawei_ocr *37 *2 *2 *0 *0 *35 *5.4%",
            "bing_image_search: not handled: 500-ServerError-UnexpectedError [[]not exercised], "
            "500-ServerError-ResourceError [[]not exercised], 500-ServerError-NotImplemented [[]not exercised], "
            "400-InvalidRequest-Blocked [[]unhandled]",
            "huawei_ocr: 35 documented error(s) not run by any test (filtered out or deselected)",
        ]
    )


def test_json_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    pytester.runpytest("--vision-report", "cov.json")
    document = json.loads((pytester.path / "cov.json").read_text())
    # The verdict SUITE implies for each documented Bing error: the ServerError cases return
    # before calling the client, Blocked escapes as KeyError, every other one raises VisionError.
    not_handled = {
        "500-ServerError-UnexpectedError": "not_exercised",
        "500-ServerError-ResourceError": "not_exercised",
        "500-ServerError-NotImplemented": "not_exercised",
        "400-InvalidRequest-Blocked": "unhandled",
    }
    bing = load_registry().get("bing_image_search").servable_entries
    expected_entries = {e.id: not_handled.get(e.id, "handled") for e in bing}
    assert not_handled.keys() <= expected_entries.keys()
    assert document["providers"]["bing_image_search"] == {
        "title": "Bing Image Search v7",
        "documented": 13,
        "exercised": 10,
        "handled": 9,
        "unhandled": 1,
        "not_exercised": 3,
        "not_run": 0,
        "handled_pct": 69.23,
        "entries": expected_entries,
    }
    assert list(document["providers"]["bing_image_search"]["entries"]) == sorted(expected_entries)
    assert document["providers"]["huawei_ocr"]["entries"] == {
        "400-AIS.0101": "handled",
        "429-APIG.0308": "handled",
    }
    assert document["handled_pct"] == round(100 * 11 / 50, 2)
    blocked = [c for c in document["cases"] if c["entry"] == "400-InvalidRequest-Blocked"]
    assert blocked == [
        {
            "provider": "bing_image_search",
            "operation": "any",
            "variant": None,
            "entry": "400-InvalidRequest-Blocked",
            "status": 400,
            "code": "InvalidRequest",
            "inner_code": "Blocked",
            "category": "invalid_request",
            "verdict": "unhandled",
            "test_id": "test_json_report.py::test_bing[bing_image_search-any-400-InvalidRequest-Blocked]",
            "exception": "KeyError: 'pretend bug'",
        }
    ]
    assert len(document["cases"]) == 15


def test_html_report_is_self_contained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--vision-report-html", "cov.html")
    result.stdout.fnmatch_lines(["report written to cov.html"])
    page = (pytester.path / "cov.html").read_text()
    assert page.startswith("<!doctype html>")
    assert "<script src" not in page and "<link" not in page  # nothing fetched
    assert page.count("class='cell handled'") == 11
    assert page.count("class='cell unhandled'") == 1
    assert page.count("class='cell not_exercised'") == 3
    assert page.count("class='cell not_run'") == 35
    assert "KeyError: &#x27;pretend bug&#x27;" in page  # the failure opens to what escaped
    assert "{&quot;_type&quot;:&quot;ErrorResponse&quot;" in page  # ... and to the served body


# Every test passes and all 15 run cases are handled: 13 + 2 of 50 documented = 30%.
PASSING_SUITE = SUITE.replace(
    'if vision_error.code == "ServerError":\n        return', "if False:\n        pass"
).replace('raise KeyError("pretend bug")', "raise VisionError()")


@pytest.mark.parametrize(("threshold", "code"), [("31", 1), ("30", 0)], ids=["below", "at"])
def test_fail_under(pytester: pytest.Pytester, threshold: str, code: int) -> None:
    pytester.makepyfile(PASSING_SUITE)
    result = pytester.runpytest("--vision-fail-under", threshold)
    result.assert_outcomes(passed=15)
    assert result.ret == code
    if code:
        result.stdout.fnmatch_lines(
            ["FAIL: documented errors handled 30.0% is below --vision-fail-under 31%"]
        )
    else:
        result.stdout.fnmatch_lines(["documented errors handled 30.0% (required 30%)"])


@pytest.mark.parametrize(
    ("ini", "args", "code", "line"),
    [
        ("31", [], 1, "FAIL: documented errors handled 30.0% is below --vision-fail-under 31%"),
        ("30", [], 0, "documented errors handled 30.0% (required 30%)"),
        ("99", ["--vision-fail-under", "30"], 0, "documented errors handled 30.0% (required 30%)"),
    ],
    ids=["ini-below", "ini-at", "option-overrides-ini"],
)
def test_fail_under_from_ini_and_header(
    pytester: pytest.Pytester, ini: str, args: list[str], code: int, line: str
) -> None:
    pytester.makeini(f"[pytest]\nvision_fail_under = {ini}\n")
    pytester.makepyfile(PASSING_SUITE)  # every test passes: only the threshold can fail the run
    result = pytester.runpytest("--vision-report", "r.json", *args)
    result.assert_outcomes(passed=15)
    required = args[-1] if args else ini
    result.stdout.fnmatch_lines(
        [
            f"visioncontract: hypothesis seed *, max_examples 50, fail under {required}%, JSON report r.json",
            "*= vision contract: documented errors =*",
            line,
        ]
    )
    assert result.ret == code


def test_same_numbers_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    serial = pytester.runpytest_subprocess("--vision-report", "serial.json", "-p", "no:randomly")
    parallel = pytester.runpytest_subprocess(
        "-p", "xdist", "-n", "2", "--vision-report", "xdist.json"
    )
    parallel.stdout.fnmatch_lines(["bing_image_search *13 *10 *9 *1 *3 *0 *69.2%"])
    a = json.loads(Path(pytester.path / "serial.json").read_text())
    b = json.loads(Path(pytester.path / "xdist.json").read_text())
    assert a["providers"] == b["providers"]
    key = lambda c: c["test_id"]  # noqa: E731
    assert sorted(a["cases"], key=key) == sorted(b["cases"], key=key)
    assert serial.ret == parallel.ret == 1


def test_report_paths_that_would_damage_a_file_are_usage_errors(pytester: pytest.Pytester) -> None:
    module = pytester.makepyfile(test_mod="def test_ok():\n    pass\n")
    before = module.read_bytes()
    folder = pytester.mkdir("reports")
    notes = pytester.path / "notes.json"
    notes.write_text('{"mine": true}')
    cases = [
        ("--vision-report", str(module), "it exists and is not a pytest-visioncontract report; "
         "nothing was written over it"),
        ("--vision-report-html", str(module), "it exists and is not a pytest-visioncontract "
         "report; nothing was written over it"),
        ("--vision-report", str(notes), "it exists and is not a pytest-visioncontract report; "
         "nothing was written over it"),
        ("--vision-report", str(folder), "it is a folder; give a file name"),
    ]
    for option, path, problem in cases:
        result = pytester.runpytest_inprocess(option, path)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, (option, path)
        assert [line for line in result.stderr.lines if line.strip()] == [
            f"ERROR: {option}: cannot write to {path!r}: {problem}"
        ]
    assert module.read_bytes() == before and notes.read_text() == '{"mine": true}'
    # the plugin's own reports are written over, run after run
    pytester.makepyfile(
        test_vision="""
import pytest, requests

@pytest.mark.vision_errors("bing_image_search", codes=["InvalidAuthorization"],
                           handled=(requests.HTTPError,))
def test_v(vision_error):
    requests.get("https://api.bing.microsoft.com/v7.0/images/search?q=x").raise_for_status()
"""
    )
    report, page = pytester.path / "r.json", pytester.path / "r.html"
    for _ in range(2):
        result = pytester.runpytest_inprocess(
            "test_vision.py", "--vision-report", str(report), "--vision-report-html", str(page)
        )
        assert result.ret == pytest.ExitCode.OK
    assert json.loads(report.read_text())["generator"] == "pytest-visioncontract"


def test_a_cassette_folder_that_is_a_file_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_face="def test_rec(vision_cassette):\n    pass\n"
    )
    (pytester.path / "cassettes").write_text("not a folder")
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*pytest-visioncontract: the cassette folder {pytester.path / 'cassettes'} is a file; "
            "move it away or set the ini vision_cassette_dir to another folder"
        ]
    )
    assert (pytester.path / "cassettes").read_text() == "not a folder"


FLAKY = """
import pytest, requests

attempts = {}

@pytest.mark.vision_errors("bing_image_search", codes=["RateLimitExceeded"],
                           handled=(requests.HTTPError,))
def test_flaky(vision_error):
    attempts[vision_error.id] = attempts.get(vision_error.id, 0) + 1
    response = requests.get("https://api.bing.microsoft.com/v7.0/images/search?q=cats")
    if attempts[vision_error.id] == 1:
        response.json()["value"]  # the first attempt lets a KeyError escape: unhandled
    response.raise_for_status()
"""


def test_reruns_count_each_case_once_and_junit_carries_its_properties(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("pytest_rerunfailures")
    pytester.makepyfile(test_flaky=FLAKY)
    result = pytester.runpytest_inprocess(
        "-p", "rerunfailures", "--reruns", "1", "--vision-report", "r.json", "--junitxml", "j.xml"
    )
    assert result.parseoutcomes() == {"passed": 2, "rerun": 2}
    report = json.loads((pytester.path / "r.json").read_text())
    assert sorted((c["entry"], c["verdict"]) for c in report["cases"]) == [
        ("403-RateLimitExceeded", "handled"),
        ("429-RateLimitExceeded", "handled"),
    ]
    assert report["providers"]["bing_image_search"]["handled"] == 2
    import xml.etree.ElementTree as ET

    # JUnit XML may list each attempt (newer pytest with pytest-rerunfailures), each with the
    # verdict of that attempt: the last one of each case is the one that counts
    cases = list(ET.parse(pytester.path / "j.xml").getroot().iter("testcase"))
    last = {case.get("name"): case for case in cases}
    properties = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}
        for name, case in last.items()
    }
    assert properties == {
        f"test_flaky[bing_image_search-any-{status}-RateLimitExceeded]": {
            "vision.provider": "bing_image_search",
            "vision.operation": "any",
            "vision.entry": f"{status}-RateLimitExceeded",
            "vision.status": status,
            "vision.code": "RateLimitExceeded",
            "vision.verdict": "handled",
        }
        for status in ("403", "429")
    }
    first = [case for case in cases if case not in last.values()]  # pytest 8.0 lists none
    assert [
        {p.get("name"): p.get("value") for p in case.iter("property")}["vision.verdict"]
        for case in first
    ] in ([], ["unhandled", "unhandled"])


def test_the_fail_under_help_says_what_it_counts(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    text = " ".join(" ".join(result.stdout.lines).split())
    assert (
        "--vision-fail-under=PCT fail the session (exit 1) when the documented errors handled "
        "are below PCT% of the documented errors of the providers the run served: an error "
        "counts as handled when every case of it that ran was handled; errors of those "
        "providers that no test ran count as not handled"
    ) in text
