"""Wire formats: every documented error renders to a faithful response of its provider."""

from __future__ import annotations

import json

import pytest

from pytest_visioncontract.catalog import BUILTIN_PROVIDERS, load_registry
from pytest_visioncontract.wire import WireResponse, envelope_problems, render


@pytest.mark.parametrize("provider", BUILTIN_PROVIDERS)
def test_every_rendered_body_validates_against_its_envelope_schema(provider: str) -> None:
    catalog = load_registry().get(provider)
    for entry in catalog.entries:
        if entry.flag == "client_side":
            continue
        response = render(catalog, entry)
        assert envelope_problems(catalog.wire_format, response.body) == [], entry.id
        assert response.status == entry.status
        assert response.reason  # every documented status has a reason phrase
        content_type = response.header("Content-Type")
        assert content_type is not None and content_type.startswith("application/json"), entry.id


@pytest.mark.parametrize("provider", BUILTIN_PROVIDERS)
def test_throttling_responses_carry_the_retry_header_clients_read(provider: str) -> None:
    catalog = load_registry().get(provider)
    header = "x-acs-retry-after" if catalog.wire_format == "alibaba" else "Retry-After"
    for entry in catalog.servable_entries:
        response = render(catalog, entry)
        if entry.category == "throttled":
            assert response.retry_after == 1.0
            expected = "1000" if header == "x-acs-retry-after" else "1"
            assert response.header(header) == expected, entry.id
        else:
            assert response.header("Retry-After") is None
            assert response.header("x-acs-retry-after") is None


def test_schema_rejects_a_wrong_envelope() -> None:
    assert envelope_problems("azure", b'{"error": {"message": "x"}}') == [
        "error: 'code' is a required property"
    ]
    assert envelope_problems("bing", b'{"_type": "Error", "errors": []}') != []
    assert envelope_problems("huawei", b"<html>502</html>")[0].startswith("body is not JSON")


def _render(provider: str, **match: object) -> WireResponse:
    catalog = load_registry().get(provider)
    entry = next(e for e in catalog.entries if all(getattr(e, k) == v for k, v in match.items()))
    return render(catalog, entry)


def test_azure_envelope_with_innererror() -> None:
    response = _render("azure_image_analysis", inner_code="NotSupportedLanguage")
    assert response.json() == {
        "error": {
            "code": "InvalidRequest",
            "message": "Analyze query is invalid",
            "innererror": {
                "code": "NotSupportedLanguage",
                "message": "The input language is not supported",
            },
        }
    }
    assert response.status == 400 and response.reason == "Bad Request"
    assert response.header("apim-request-id")


def test_azure_envelope_without_innererror_has_no_key() -> None:
    response = _render("azure_face", code="429")
    assert response.json() == {"error": {"code": "429", "message": "Rate limit is exceeded."}}
    assert response.reason == "Too Many Requests"


def test_huawei_envelope() -> None:
    response = _render("huawei_ocr", code="AIS.0101")
    assert response.json() == {
        "error_code": "AIS.0101",
        "error_msg": "The input parameter is invalid.",
    }
    assert response.header("X-Request-Id")


def test_alibaba_envelope() -> None:
    response = _render("alibaba_image_search", code="DeniedRequest")
    body = response.json()
    assert list(body) == ["RequestId", "HostId", "Code", "Message", "Recommend"]
    assert body["Code"] == "DeniedRequest" and response.status == 403
    assert body["Message"] == "Your request was denied due to instance flow control."
    assert response.header("x-acs-request-id") == body["RequestId"]


def test_bing_envelope() -> None:
    response = _render("bing_image_search", inner_code="ParameterMissing")
    assert response.json() == {
        "_type": "ErrorResponse",
        "errors": [
            {
                "code": "InvalidRequest",
                "subCode": "ParameterMissing",
                "message": "Required parameter is missing.",
                "parameter": "q",
            }
        ],
    }


def test_rendering_is_deterministic_and_request_ids_vary_by_entry() -> None:
    catalog = load_registry().get("azure_face")
    a, b = catalog.entries[0], catalog.entries[1]
    assert render(catalog, a) == render(catalog, a)
    assert render(catalog, a).header("apim-request-id") != render(catalog, b).header(
        "apim-request-id"
    )
    custom = render(catalog, a, request_id="abc", retry_after=7)
    assert custom.header("apim-request-id") == "abc" and custom.header("Retry-After") == "7"


def test_describe_is_readable() -> None:
    text = _render("huawei_ocr", code="APIG.0308").describe()
    assert text.splitlines()[0] == "HTTP 429 Too Many Requests"
    assert json.loads(text.split("\n\n", 1)[1])["error_code"] == "APIG.0308"
