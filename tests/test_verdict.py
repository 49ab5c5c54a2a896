"""The verdict rules: not exercised, handled, unhandled (DESIGN.md, 'Verdict rules')."""

from __future__ import annotations

import pytest

CLIENT = """
import pytest, requests

class VisionError(Exception):
    pass

URL = "https://myres.cognitiveservices.azure.com/computervision/imageanalysis:analyze?api-version=2023-10-01"

def buggy_analyze():
    r = requests.post(URL, data=b"img")
    if not r.ok:
        inner = r.json()["error"]["innererror"]["code"]   # KeyError when innererror is absent
        raise VisionError(inner)
    return r.json()

def careful_analyze():
    r = requests.post(URL, data=b"img")
    if not r.ok:
        error = r.json().get("error", {})
        raise VisionError(error.get("code"), (error.get("innererror") or {}).get("code"))
    return r.json()
"""

MARK = '@pytest.mark.vision_errors("azure_image_analysis", handled=(VisionError,))\n'


def test_rule_1_no_request_is_not_exercised(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + MARK + "def test_it(vision_error):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=11)
    result.stdout.fnmatch_lines(
        [
            'vision_errors: not exercised: the test made no request to azure_image_analysis, so 404 404 "Resource not found" was never served.',
        ]
    )


def test_rule_2_declared_exception_is_handled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + MARK + "def test_it(vision_error):\n    careful_analyze()\n")
    pytester.runpytest().assert_outcomes(passed=11)


def test_rule_3_other_exception_is_unhandled_with_a_readable_message(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(CLIENT + MARK + "def test_it(vision_error):\n    buggy_analyze()\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=4, failed=7)  # the 4 rows with an innererror pass
    result.stdout.fnmatch_lines(
        [
            "*_ test_it[[]azure_image_analysis-analyze-404-404-resource-not-found[]] _*",
            "vision_errors: unhandled documented error of Azure AI Vision Image Analysis 4.0 (azure_image_analysis)",
            '  documented: 404 404 "Resource not found", operation analyze',
            "  served:",
            "              HTTP 404 Not Found",
            "              Content-Type: application/json; charset=utf-8",
            "              apim-request-id: *",
            '              {"error":{"code":"404","message":"Resource not found"}}',
            "  escaped:    KeyError: 'innererror'",
            "              raised at *test_rule_3_other_exception_is_unhandled_with_a_readable_message.py:11 in buggy_analyze",
            "  The exception escaped the test and is not one of handled=(VisionError). Turn this response into one of your own error types and list it in handled=, or degrade gracefully.",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_rule_3_without_handled_types_any_escape_is_unhandled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + '@pytest.mark.vision_errors("azure_image_analysis", codes=["404"])\n'
        + "def test_it(vision_error):\n    careful_analyze()\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  escaped:    test_rule_3_without_handled_types_any_escape_is_unhandled.VisionError: ('404', None)",
            "  The exception escaped the test and the marker declares no handled= types.*",
        ]
    )


def test_rule_3_raw_http_error_is_unhandled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + MARK
        + "def test_it(vision_error):\n    requests.post(URL, data=b'x').raise_for_status()\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=11)
    result.stdout.fnmatch_lines(
        ["  escaped:    requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: *"]
    )


def test_rule_4_returning_normally_is_handled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + MARK
        + """def test_it(vision_error):
    try:
        careful_analyze()
    except VisionError:
        return None  # degrade gracefully
"""
    )
    pytester.runpytest().assert_outcomes(passed=11)


def test_rule_4_unless_the_users_own_assertion_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + MARK
        + """def test_it(vision_error):
    with pytest.raises(VisionError) as info:
        careful_analyze()
    assert info.value.args[0] == "InvalidRequest"
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=9, failed=2)  # the 401 and 404 rows have other codes
    result.stdout.fnmatch_lines(["E       AssertionError: assert '401' == 'InvalidRequest'*"])


def test_skip_and_xfail_pass_through(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + '@pytest.mark.vision_errors("azure_image_analysis", codes=["404"])\n'
        + "def test_skip(vision_error):\n    pytest.skip('not today')\n"
        + '@pytest.mark.vision_errors("azure_image_analysis", codes=["404"])\n'
        + "@pytest.mark.xfail(reason='known', strict=True)\n"
        + "def test_xfail(vision_error):\n    buggy_analyze()\n"
    )
    pytester.runpytest().assert_outcomes(skipped=1, xfailed=1)
