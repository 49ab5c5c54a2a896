"""Retryability is the user's to adjust: retry=Retry(retryable=..., not_retryable=...), retry=N.

Each test runs a small requests client that retries a given number of times (``retries=0``: it
never retries) against documented errors whose catalog ``retryable`` the marker narrows or
widens, and shows which verdict applies: the ordinary one (a client that gives up on the error
passes) or the retry contract (it fails, naming the contract).
"""

from __future__ import annotations

import pytest

CLIENT = """
import time
import pytest, requests
from pytest_visioncontract import Retry

FACE = "https://myres.cognitiveservices.azure.com/face/v1.2/detect"
ALIBABA = "https://imagesearch.cn-shanghai.aliyuncs.com/?Action=SearchImageByPic"

class ClientError(Exception):
    pass

def call(url, retries=0):
    for attempt in range(retries + 1):
        r = requests.post(url, data=b"jpeg")
        if r.ok:
            return r.json()
        if attempt < retries:
            time.sleep(float(r.headers.get("Retry-After", 0)))
    raise ClientError(r.status_code)
"""

SEARCH_TIMEOUT = "alibaba_image_search-any-400-SearchTimeout"
INSTANCE_STATUS = "alibaba_image_search-any-409-InstanceStatusError"
BAD_REQUEST = "alibaba_image_search-any-400-BadRequest"
FACE_429 = "azure_face-detect-429-429-rate-limit-is"
FACE_409 = "azure_face-detect-409-ConcurrentOperationConflict-there-is-a"


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(CLIENT + body)
    return pytester.runpytest("-v", *args)


def line(test: str, label: str, outcome: str) -> str:
    """An fnmatch pattern for a ``-v`` result line (brackets escaped)."""
    return f"*::{test}[[]{label}[]] {outcome}*"


@pytest.mark.parametrize("item", ["SearchTimeout", "400-SearchTimeout"], ids=["code", "entry-id"])
def test_not_retryable_by_code_or_entry_id_gives_the_ordinary_verdict(
    pytester: pytest.Pytester, item: str
) -> None:
    """Alibaba serves 400 SearchTimeout as retryable; declared not retryable, giving up is fine."""
    result = run(
        pytester,
        f"""
@pytest.mark.vision_errors("alibaba_image_search", codes=["SearchTimeout"], retry=True, handled=(ClientError,))
def test_default(vision_error):
    call(ALIBABA)

@pytest.mark.vision_errors("alibaba_image_search", codes=["SearchTimeout"], retry=Retry(not_retryable=[{item!r}]), handled=(ClientError,))
def test_narrowed(vision_error):
    with pytest.raises(ClientError):
        call(ALIBABA)
    assert (vision_error.retryable, vision_error.retry, len(vision_error.served)) == (False, None, 1)
    assert len(vision_error.requests) == 1
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            line("test_default", SEARCH_TIMEOUT, "FAILED"),
            line("test_narrowed", SEARCH_TIMEOUT, "PASSED"),
            'vision_errors: retry contract broken for 400 SearchTimeout "The request is timed out." (alibaba_image_search, operation any)',
        ]
    )


def test_not_retryable_by_category_narrows_that_category_only(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429", "ConcurrentOperationConflict"], retry=dict(not_retryable="throttled"), handled=(ClientError,))
def test_it(vision_error):
    call(FACE)
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            line("test_it", FACE_409, "FAILED"),
            line("test_it", FACE_429, "PASSED"),
            "vision_errors: retry contract broken for 409 ConcurrentOperationConflict * (azure_face, operation detect)",
            "  The client did not recover: *ClientError: 409 escaped after 1 request(s); request 2 would have succeeded.",
        ]
    )


def test_retryable_by_code_puts_the_error_under_the_contract(pytester: pytest.Pytester) -> None:
    """Alibaba's 409 InstanceStatusError is not retryable in the catalog; the user says it is."""
    result = run(
        pytester,
        """
@pytest.mark.vision_errors("alibaba_image_search", codes=["InstanceStatusError"], retry=True, handled=(ClientError,))
def test_default_gives_up(vision_error):
    call(ALIBABA)

WIDER = Retry(retryable=["InstanceStatusError"])

@pytest.mark.vision_errors("alibaba_image_search", codes=["InstanceStatusError"], retry=WIDER, handled=(ClientError,))
def test_widened_gives_up(vision_error):
    call(ALIBABA)

@pytest.mark.vision_errors("alibaba_image_search", codes=["InstanceStatusError"], retry=WIDER, handled=(ClientError,))
def test_widened_recovers(vision_error):
    assert call(ALIBABA, retries=1)["Success"] is True   # the operation's success body
    assert vision_error.retryable is True and vision_error.retry == WIDER
    assert [r.status for r in vision_error.served] == [409, 200]
    assert len(vision_error.requests) == 2
""",
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            line("test_default_gives_up", INSTANCE_STATUS, "PASSED"),
            line("test_widened_gives_up", INSTANCE_STATUS, "FAILED"),
            line("test_widened_recovers", INSTANCE_STATUS, "PASSED"),
            'vision_errors: retry contract broken for 409 InstanceStatusError "Your instance is unavailable." (alibaba_image_search, operation any)',
            "  served:     the error 1 time(s), then the success response; budget 3 requests",
            "  The client did not recover: *ClientError: 409 escaped after 1 request(s); request 2 would have succeeded.",
        ]
    )


def test_retryable_by_category_widens_that_category_only(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.vision_errors("alibaba_image_search", codes=["InstanceStatusError", "BadRequest"], retry=dict(retryable="conflict"), handled=(ClientError,))
def test_it(vision_error):
    call(ALIBABA)
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            line("test_it", BAD_REQUEST, "PASSED"),
            line("test_it", INSTANCE_STATUS, "FAILED"),
            "vision_errors: retry contract broken for 409 InstanceStatusError * (alibaba_image_search, operation any)",
        ]
    )


def test_retry_n_serves_the_error_n_times(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry=2, handled=(ClientError,))
def test_recovers(vision_error):
    assert call(FACE, retries=2)
    assert vision_error.retry == Retry(times=2, attempts=4, cap=20)
    assert [r.status for r in vision_error.served] == [429, 429, 200]
    assert (len(vision_error.requests), vision_error.waits) == (3, [1.0, 1.0])

@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry=2, handled=(ClientError,))
def test_gives_up_after_one_retry(vision_error):
    call(FACE, retries=1)
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            line("test_recovers", FACE_429, "PASSED"),
            line("test_gives_up_after_one_retry", FACE_429, "FAILED"),
            "  served:     the error 2 time(s), then the success response; budget 4 requests, Retry-After 1s to honour",
            "  happened:   request 1 -> 429, sleep 1s, request 2 -> 429",
            "  The client did not recover: *ClientError: 429 escaped after 2 request(s); request 3 would have succeeded.",
        ]
    )


@pytest.mark.parametrize("retry", ["1", "True"])
def test_retry_one_is_retry_true(pytester: pytest.Pytester, retry: str) -> None:
    result = run(
        pytester,
        f"""
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry={retry})
def test_it(vision_error):
    assert call(FACE, retries=1)
    assert vision_error.retry == Retry() == Retry(times=1, attempts=3, honor_retry_after=True, cap=20)
    assert [r.status for r in vision_error.served] == [429, 200]
""",
    )
    result.assert_outcomes(passed=1)


def test_adjusting_retryability_keeps_the_test_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
CODES = ["InstanceStatusError", "SearchTimeout"]

@pytest.mark.vision_errors("alibaba_image_search", codes=CODES, retry=True)
def test_default(vision_error): ...

@pytest.mark.vision_errors("alibaba_image_search", codes=CODES, retry=Retry(retryable="conflict", not_retryable="timeout"))
def test_adjusted(vision_error): ...
"""
    )
    result = pytester.runpytest("--collect-only", "-q")
    ids = [s.partition("[")[2] for s in result.stdout.lines if "::" in s]
    assert ids == [f"{INSTANCE_STATUS}]", f"{SEARCH_TIMEOUT}]"] * 2


FACE_MARK = '@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry={retry})\n'
ACCEPTED = (
    "vision_errors: retry= must be True, a number of times N >= 1, a dict or a Retry(times=, "
    "attempts=, honor_retry_after=, cap=, retryable=, not_retryable=) with "
    "1 <= times < attempts <= cap; got "
)


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        ("0", ACCEPTED + "0"),
        ("-2", ACCEPTED + "-2"),
        ("2.0", ACCEPTED + "2.0"),
        ("'2'", ACCEPTED + "'2'"),
        (
            "Retry(times=3, attempts=3)",
            ACCEPTED + "Retry(times=3, attempts=3, honor_retry_after=True, cap=20)",
        ),
        (
            "Retry(retryable=[409])",
            "vision_errors: retry's retryable must be a code, inner code, entry id or category, "
            "or a list of them; got (409,)",
        ),
        (
            "Retry(retryable=['Throttled'])",
            "vision_errors: unknown code, entry id or category 'Throttled' in retry's retryable "
            "for azure_face; known categories: auth, conflict, invalid_request, not_found, "
            "permission, quota, server, throttled, timeout; known codes and entry ids: 401, 429, "
            "BadArgument, *",
        ),
        (
            "dict(not_retryable='RateLimit')",
            "vision_errors: unknown code, entry id or category 'RateLimit' in retry's "
            "not_retryable for azure_face; known categories: *",
        ),
        (
            "Retry(retryable='conflict', not_retryable=['ConcurrentOperationConflict'])",
            "vision_errors: retry= makes 409 ConcurrentOperationConflict (entry "
            "common-409-ConcurrentOperationConflict-there-is-a) both retryable (by 'conflict') "
            "and not retryable (by 'ConcurrentOperationConflict'); name each error on one side "
            "only",
        ),
        (
            "dict(retryable='429', not_retryable='429')",
            "vision_errors: retry= makes 429 429 (entry common-429-429-rate-limit-is) both "
            "retryable (by '429') and not retryable (by '429'); name each error on one side only",
        ),
    ],
    ids=[
        "zero",
        "negative",
        "float",
        "string",
        "times-not-below-attempts",
        "item-not-a-string",
        "unknown-item",
        "unknown-item-dict",
        "category-vs-code",
        "same-item",
    ],
)
def test_misuse_is_one_collection_error_line(
    pytester: pytest.Pytester, retry: str, message: str
) -> None:
    result = run(
        pytester, FACE_MARK.format(retry=retry) + "def test_it(vision_error):\n    call(FACE)\n"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*::test_it: {message}"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*selection.py*")
