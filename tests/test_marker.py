"""The vision_errors marker: parametrization, ids, the fixture, and misuse."""

from __future__ import annotations

import pytest

CLIENT = """
import pytest
import requests

class VisionError(Exception):
    pass

def detect(endpoint="https://myres.cognitiveservices.azure.com"):
    r = requests.post(endpoint + "/face/v1.2/detect", data=b"jpeg", headers={"Ocp-Apim-Subscription-Key": "k"})
    if not r.ok:
        raise VisionError(r.status_code, r.json()["error"]["code"])
    return r.json()
"""


def test_one_case_per_documented_error_with_readable_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
@pytest.mark.vision_errors("azure_face", operations=["detect"], handled=(VisionError,))
def test_detect(vision_error):
    detect()
"""
    )
    result = pytester.runpytest("--collect-only", "-q")
    # 22 common errors served on detect + 4 documented for detect
    result.stdout.fnmatch_lines(
        [
            "test_one_case_per_documented_error_with_readable_ids.py::test_detect[[]azure_face-detect-400-BadArgument-request-body-is[]]",
            "*::test_detect[[]azure_face-detect-400-InvalidImage-no-face-detected[]]",
            "*::test_detect[[]azure_face-detect-429-429-rate-limit-is[]]",
            "*::test_detect[[]azure_face-detect-403-UnsupportedFeature-return-attributes-emotion[]]",
            "26 tests collected*",
        ]
    )


def test_k_selects_cases(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
@pytest.mark.vision_errors("azure_face", operations=["detect"], handled=(VisionError,))
def test_detect(vision_error):
    detect()
"""
    )
    result = pytester.runpytest("-k", "InvalidImage and not InvalidImageSize", "-v")
    result.assert_outcomes(passed=3)


def test_ids_unique_even_for_rows_differing_only_in_capitalisation(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.vision_errors("azure_face")
def test_all(vision_error):
    pass
"""
    )
    result = pytester.runpytest("--collect-only", "-q")
    ids = [line for line in result.outlines if "::test_all[" in line]
    assert len(ids) == 143  # every documented Face error once: common ones on any operation
    assert len({i.lower() for i in ids}) == len(ids)
    result.stdout.fnmatch_lines(["*test_all[[]azure_face-any-400-BadArgument-request-body-is[]]"])


def test_filters_by_category_and_code_and_exclude(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.vision_errors("bing_image_search", categories=["throttled", "quota"])
def test_rate(vision_error):
    pass

@pytest.mark.vision_errors("bing_image_search", codes="InvalidAuthorization")
def test_auth(vision_error):
    pass

@pytest.mark.vision_errors("bing_image_search", codes=["InvalidRequest"], exclude=["Blocked", "HttpNotAllowed"])
def test_bad(vision_error):
    pass
"""
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*test_rate[[]bing_image_search-any-429-RateLimitExceeded[]]",
            "*test_rate[[]bing_image_search-any-403-RateLimitExceeded[]]",
            "*test_auth[[]bing_image_search-any-401-InvalidAuthorization-AuthorizationMissing[]]",
            "*test_auth[[]bing_image_search-any-401-InvalidAuthorization-AuthorizationRedundancy[]]",
            "*test_bad[[]bing_image_search-any-400-InvalidRequest-ParameterMissing[]]",
            "*test_bad[[]bing_image_search-any-400-InvalidRequest-ParameterInvalidValue[]]",
            "6 tests collected*",
        ]
    )


def test_unconfirmed_entries_only_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.vision_errors("azure_image_analysis")
def test_default(vision_error):
    pass

@pytest.mark.vision_errors("azure_image_analysis", unconfirmed=True)
def test_with_unconfirmed(vision_error):
    pass
"""
    )
    result = pytester.runpytest("--collect-only", "-q")
    lines = result.outlines
    assert sum("::test_default[" in line for line in lines) == 11
    assert (
        sum("::test_with_unconfirmed[" in line for line in lines) == 17
    )  # never the 2 client-side
    assert not any("ClientSide" in line for line in lines)


def test_fixture_describes_the_case_and_the_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
@pytest.mark.vision_errors("azure_face", operations=["identify"], codes=["PersonGroupTrainingNotFinished"])
def test_identify(vision_error):
    r = requests.post("https://custom.example/face/v1.2/identify?x=1", json={"faceIds": ["a"]})
    assert (vision_error.provider, vision_error.operation) == ("azure_face", "identify")
    assert (vision_error.status, vision_error.code, vision_error.inner_code) == (409, "PersonGroupTrainingNotFinished", None)
    assert vision_error.message == "Person group is under training."
    assert (vision_error.category, vision_error.retryable) == ("conflict", True)
    assert r.status_code == vision_error.response.status == 409
    assert r.reason == "Conflict"
    assert r.json() == vision_error.response.json()
    assert r.headers["apim-request-id"] == vision_error.response.header("apim-request-id")
    [req] = vision_error.requests
    assert (req.method, req.url, req.operation) == ("POST", "https://custom.example/face/v1.2/identify?x=1", "identify")
    assert req.body_length == len(b'{"faceIds": ["a"]}')
    assert req.headers["Content-Type"] == "application/json"
"""
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)


def test_every_request_of_a_case_is_answered_and_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest, requests

@pytest.mark.vision_errors("bing_image_search", codes=["ServerError"], exclude=["ResourceError", "NotImplemented"])
def test_three_calls(vision_error):
    for q in ("a", "b", "c"):
        assert requests.get("https://api.bing.microsoft.com/v7.0/images/search", params={"q": q}).status_code == 500
    assert [r.url.rsplit("=", 1)[1] for r in vision_error.requests] == ["a", "b", "c"]
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_strict_markers_accepts_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
@pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"])
def test_it(vision_error):
    import requests
    requests.post("https://ocr.cn-north-4.myhuaweicloud.com/v2/p/ocr/general-text", json={})
"""
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


# ------------------------------------------------------------------------ misuse


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            '"azure-face"',
            "vision_errors: unknown provider 'azure-face'; known: alibaba_image_search, azure_face, azure_image_analysis, bing_image_search, huawei_ocr",
        ),
        (
            "",
            "vision_errors: needs one provider id as its first argument; known: alibaba_image_search, azure_face, azure_image_analysis, bing_image_search, huawei_ocr",
        ),
        (
            '"azure_face", "detect"',
            "vision_errors: takes one positional argument (the provider), got 2; filters are keywords: operations, categories, codes, exclude, handled, unconfirmed, source, faults, retry, max_examples",
        ),
        (
            '"azure_face", operation=["detect"]',
            "vision_errors: unknown argument operation=; accepted: operations, categories, codes, exclude, handled, unconfirmed, source, faults, retry, max_examples",
        ),
        (
            '"azure_face", operations=["detection"]',
            "vision_errors: unknown operation 'detection' for azure_face; known: detect, face_list, find_similar, group, identify, large_face_list, large_person_group, liveness_session, person_directory, person_group, verify",
        ),
        (
            '"azure_face", categories=["throttling"]',
            "vision_errors: unknown category 'throttling' for azure_face; known: auth, conflict, invalid_request, not_found, permission, quota, server, throttled, timeout",
        ),
        (
            '"bing_image_search", codes=["RateLimit"]',
            "vision_errors: unknown code 'RateLimit' for bing_image_search (did you mean 'RateLimitExceeded'?); bing_image_search documents 29 codes and entry ids: list them with `visioncontract catalog bing_image_search`",
        ),
        (
            '"azure_face", codes=["Nope"]',
            "vision_errors: unknown code 'Nope' for azure_face; azure_face documents 181 codes and entry ids: list them with `visioncontract catalog azure_face`",
        ),
        (
            '"azure_face", operations=[]',
            "vision_errors: operations= is empty, which would select nothing; name at least one, or leave it out to select them all",
        ),
        (
            '"azure_face", codes=()',
            "vision_errors: codes= is empty, which would select nothing; name at least one, or leave it out to select them all",
        ),
        (
            '"azure_face", categories=[""]',
            "vision_errors: categories= must be a string or a list of strings, got ['']",
        ),
        (
            '"azure_face", operations=3',
            "vision_errors: operations= must be a string or a list of strings, got 3",
        ),
        (
            '"azure_face", handled=ValueError()',
            "vision_errors: handled= must be an exception class or a tuple of them (e.g. handled=(MyVisionError,)), got ValueError()",
        ),
        (
            '"azure_face", handled=(ValueError, "KeyError")',
            "vision_errors: handled= must be an exception class or a tuple of them (e.g. handled=(MyVisionError,)), got (<class 'ValueError'>, 'KeyError')",
        ),
        (
            '"azure_face", unconfirmed="yes"',
            "vision_errors: unconfirmed= must be True or False, got 'yes'",
        ),
        ('"azure_face", source="tape"', "vision_errors: unknown source 'tape'; accepted: catalog, hypothesis, cassettes"),
        (
            '"azure_face", operations=["detect"], categories=["quota"]',
            "vision_errors: no documented error of azure_face matches the filters (operations=['detect'], categories=['quota']); loosen operations=/categories=/codes=/exclude=",
        ),
    ],
    ids=[
        "provider",
        "no-provider",
        "positional",
        "keyword",
        "operation",
        "category",
        "code",
        "code-of-many",
        "empty-operations",
        "empty-codes",
        "empty-string",
        "type",
        "handled",
        "handled-tuple",
        "flag",
        "source",
        "empty",
    ],
)
def test_marker_misuse_is_one_collection_error_line(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(
        f"""
import pytest

@pytest.mark.vision_errors({marker})
def test_it(vision_error):
    pass

def test_other():
    pass
"""
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest's exit code for collection errors
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting*"])
    assert (
        f"test_marker_misuse_is_one_collection_error_line.py::test_it: {message}"
        in result.stdout.lines
    )
    assert "Traceback" not in result.stdout.str()
    assert "pytest_visioncontract" not in result.stdout.str()


def test_stacked_markers_are_an_error_not_one_dropped(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

pytestmark = pytest.mark.vision_errors("bing_image_search")

@pytest.mark.vision_errors("azure_face")
@pytest.mark.vision_errors("huawei_ocr")
def test_it(vision_error):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        "test_stacked_markers_are_an_error_not_one_dropped.py::test_it: vision_errors is given 3 "
        "times (on the test, its class or its module); give one: one provider per test, or "
        "split the test"
    ) in result.stdout.lines


@pytest.mark.parametrize(
    ("marker", "shown"),
    [
        ("3", "vision_cassette(3)"),
        ('"a", "b"', "vision_cassette('a', 'b')"),
        ('name="a", mode="once"', "vision_cassette(name='a', mode='once')"),
        ('""', "vision_cassette('')"),
        ('"a", name="b"', "vision_cassette('a', name='b')"),
    ],
)
def test_vision_cassette_marker_misuse_is_one_line(
    pytester: pytest.Pytester, marker: str, shown: str
) -> None:
    pytester.makepyfile(
        f"""
import pytest

@pytest.mark.vision_cassette({marker})
def test_rec(vision_cassette):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        "vision_cassette: takes one cassette name, vision_cassette('name') or "
        f"vision_cassette(name='name'), a non-empty string; got {shown}"
    ) in result.stdout.lines
    assert "Traceback" not in result.stdout.str()
    assert not (pytester.path / "cassettes").exists()


def test_vision_cassette_name_as_a_keyword(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.vision_cassette(name="named-by-keyword")
def test_rec(vision_cassette):
    assert vision_cassette._path.endswith("named-by-keyword.yaml")
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_vision_store_bodies_is_checked_at_start_up(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvision_store_bodies = sometimes\n")
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        "ERROR: vision_store_bodies: expected true or false, got 'sometimes'"
    ]


def test_marker_without_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.vision_errors("azure_face")
def test_forgot():
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "vision_errors: test_forgot is marked but does not request the 'vision_error' fixture; add vision_error to its arguments: def test_forgot(vision_error): ..."
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_fixture_without_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_unmarked(vision_error):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "vision_error: test_unmarked requests the 'vision_error' fixture but has no @pytest.mark.vision_errors marker; add one, e.g. @pytest.mark.vision_errors('azure_face', operations=['detect'])"
        ]
    )
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--vision-fail-under", "abc"],
            "ERROR: --vision-fail-under: expected a percentage from 0 to 100, got 'abc'",
        ),
        (
            ["--vision-fail-under", "101"],
            "ERROR: --vision-fail-under: expected a percentage from 0 to 100, got '101'",
        ),
        (
            ["--vision-report", "no/such/dir/r.json"],
            "ERROR: --vision-report: cannot write to 'no/such/dir/r.json': the folder 'no/such/dir' does not exist",
        ),
        (
            ["--vision-report-html", "nope/r.html"],
            "ERROR: --vision-report-html: cannot write to 'nope/r.html': the folder 'nope' does not exist",
        ),
    ],
    ids=["fail-under-nan", "fail-under-range", "report-dir", "html-dir"],
)
def test_invalid_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [message]


def test_invalid_ini_fail_under(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvision_fail_under = lots\n")
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --vision-fail-under: expected a percentage from 0 to 100, got 'lots'"]
    )
