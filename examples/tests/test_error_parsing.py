"""Plain unit tests: error envelopes that are not what the documentation shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from visionapp import (
    VisionAPIError,
    alibaba_image_search,
    azure_face,
    azure_image_analysis,
    bing_image_search,
    huawei_ocr,
)

Parser = Callable[[int, Mapping[str, str], bytes], VisionAPIError]
PARSERS: dict[str, Parser] = {
    "alibaba": alibaba_image_search.error_from_response,
    "azure_face": azure_face.error_from_response,
    "azure_image_analysis": azure_image_analysis.error_from_response,
    "bing": bing_image_search.error_from_response,
    "huawei": huawei_ocr.error_from_response,
}
ODD_BODIES = {
    "html": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "empty": b"",
    "not utf-8": b"\xff\xfe\x00garbage",
    "json list": b"[1, 2, 3]",
    "json null": b"null",
    "no fields": b"{}",
    "wrong types": b'{"error": "boom", "errors": {"code": 1}, "Code": [], "error_code": {}}',
}


@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=ODD_BODIES.keys())
@pytest.mark.parametrize("parse", PARSERS.values(), ids=PARSERS.keys())
def test_odd_bodies_still_give_a_vision_error(parse: Parser, body: bytes) -> None:
    err = parse(502, {}, body)
    assert (err.status, err.code, err.retryable) == (502, "502", True)
    assert err.message.startswith("HTTP 502")
    assert "502" in str(err)


def test_azure_reads_the_api_management_shape() -> None:
    body = b'{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 2 seconds."}'
    err = azure_face.error_from_response(429, {"retry-after": "2"}, body)
    assert (err.code, err.retryable, err.retry_after) == ("429", True, 2.0)
    assert err.message.startswith("Rate limit is exceeded")


def test_azure_transient_conflicts_are_retryable() -> None:
    body = b'{"error": {"code": "PersonGroupExists", "message": "Person group already exists."}}'
    assert not azure_face.error_from_response(409, {}, body).retryable
    body = b'{"error": {"code": "ConcurrentOperationConflict", "message": "Try later."}}'
    assert azure_face.error_from_response(409, {}, body).retryable


def test_bing_reads_the_gateway_shape() -> None:
    body = (
        b'{"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}'
    )
    err = bing_image_search.error_from_response(401, {"BingAPIs-TraceId": "ABC"}, body)
    assert (err.code, err.inner_code, err.request_id) == ("401", None, "ABC")


def test_alibaba_retry_header_is_in_milliseconds() -> None:
    body = b'{"Code": "DeniedRequest", "Message": "Flow control.", "RequestId": "R-1"}'
    err = alibaba_image_search.error_from_response(403, {"x-acs-retry-after": "1500"}, body)
    assert (err.retryable, err.retry_after, err.request_id) == (True, 1.5, "R-1")


def test_str_says_who_what_and_which_request() -> None:
    err = VisionAPIError("huawei_ocr", 400, "AIS.0103", "Image too big.", request_id="r-9")
    assert str(err) == "huawei_ocr: HTTP 400 AIS.0103: Image too big. (request id r-9)"
