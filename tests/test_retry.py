"""The retry contract: retryable errors served k times, then success; waits are virtual."""

from __future__ import annotations

import pytest

from pytest_visioncontract.selection import BAD_RETRY

CLIENT = """
import asyncio, time
import pytest, requests

URL = "https://myres.cognitiveservices.azure.com/face/v1.2/detect"

class VisionError(Exception):
    pass

def detect(*, honour=True, bounded=True, retry=True, attempts=4):
    tries = 0
    while True:
        tries += 1
        r = requests.post(URL, data=b"jpeg")
        if r.ok:
            return r.json()
        if not retry or (bounded and tries >= attempts) or r.status_code not in (409, 429):
            raise VisionError(r.status_code)
        if honour:
            time.sleep(float(r.headers.get("Retry-After", 0)))
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(CLIENT + body)
    return pytester.runpytest(*args)


MARK = '@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry={retry}, handled=(VisionError,))\n'


def test_a_correct_client_recovers_and_the_waits_are_virtual(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        MARK.format(retry="dict(times=2, attempts=4)")
        + """def test_it(vision_error):
    start = time.monotonic()
    faces = detect()
    assert faces[0]["faceRectangle"]["width"] == 162   # the operation's success body
    assert [r.operation for r in vision_error.requests] == ["detect"] * 3
    assert vision_error.waits == [1.0, 1.0]
    assert time.monotonic() - start < 1.0   # two 1 s Retry-Afters, no real sleeping
""",
    )
    result.assert_outcomes(passed=1)


def test_ignoring_retry_after_fails(pytester: pytest.Pytester) -> None:
    result = run(pytester, MARK.format(retry="True") + "def test_it(vision_error):\n    detect(honour=False)\n")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            'vision_errors: retry contract broken for 429 429 "Rate limit is exceeded." (azure_face, operation detect)',
            "  served:     the error 1 time(s), then the success response; budget 3 requests, Retry-After 1s to honour",
            "  happened:   request 1 -> 429, request 2 -> 200",
            "  The client waited 0s before retry 1; the response asked for Retry-After 1s.",
        ]
    )


def test_not_retrying_fails(pytester: pytest.Pytester) -> None:
    result = run(pytester, MARK.format(retry="True") + "def test_it(vision_error):\n    detect(retry=False)\n")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  happened:   request 1 -> 429",
            "  The client did not recover: *VisionError: 429 escaped after 1 request(s); request 2 would have succeeded.",
        ]
    )


def test_over_budget_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        MARK.format(retry="dict(times=3, attempts=4)")
        + """def test_it(vision_error):
    detect()
    detect()
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  The client recovered only after 5 requests; the budget is 4."])


def test_unbounded_retries_are_stopped_at_the_cap(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        '@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], handled=(VisionError,))\n'
        "def test_it(vision_error):\n    detect(bounded=False)\n",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "vision_errors: the client kept sending requests for 429 429 \"Rate limit is exceeded.\" (azure_face): the plugin refused request 51 (cap 50).",
            "  Bound the retries (a maximum number of attempts) so a persistent error ends them.",
        ]
    )


def test_non_retryable_cases_keep_the_ordinary_verdict(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        '@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["InvalidImage", "429"], retry=True, handled=(VisionError,))\n'
        """def test_it(vision_error):
    if vision_error.retry:
        assert detect()
    else:
        with pytest.raises(VisionError):
            detect()
        assert len(vision_error.requests) == 1
""",
    )
    result.assert_outcomes(passed=4)


def test_asyncio_sleep_is_virtual_too(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import httpx

async def detect_async():
    async with httpx.AsyncClient() as client:
        for _ in range(3):
            r = await client.post(URL, content=b"jpeg")
            if r.status_code != 429:
                return r.json()
            await asyncio.sleep(int(r.headers["Retry-After"]) * 3600)
    raise VisionError("gave up")

@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry=True)
def test_it(vision_error):
    assert asyncio.run(detect_async())
    assert vision_error.waits == [3600.0]
""",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("dict(times=3, attempts=3)", "Retry(times=3, attempts=3, honor_retry_after=True, cap=20)"),
        ("dict(tries=2)", "{'tries': 2}"),
        ("'yes'", "'yes'"),
    ],
)
def test_bad_retry_values(pytester: pytest.Pytester, value: str, shown: str) -> None:
    result = run(pytester, MARK.format(retry=value) + "def test_it(vision_error):\n    detect()\n")
    result.assert_outcomes(errors=1)
    # The message's wording is selection.py's (pinned in tests/test_retryable.py); here: one line
    # naming the value, as a collection error.
    assert f"test_bad_retry_values.py::test_it: {BAD_RETRY.format(got=shown)}" in result.stdout.lines
