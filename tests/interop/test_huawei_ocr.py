"""Interoperability: the official Huawei Cloud OCR SDK against every documented error.

``huaweicloudsdkocr`` (``OcrClient``) on ``huaweicloudsdkcore``, which sends with ``requests``.
The client is built the way a user builds it: ``OcrRegion.value_of("cn-north-4")`` (endpoint
``https://ocr.cn-north-4.myhuaweicloud.com``) and ``BasicCredentials(ak, sk, project_id)``.

- The project id is given explicitly. Without it ``ClientBuilder.build()`` asks IAM
  (``GET https://iam.<region>.myhuaweicloud.com/v3/projects``) for it; the plugin refuses that
  request with ``UnexpectedRequest`` (pinned below). With an access key and secret the SDK
  signs locally (AK/SK HMAC) and never contacts IAM, STS or the metadata service.
- Retries: ``HttpConfig.retry_times`` is set to 0 (also the default). It only configures
  urllib3's ``Retry(total=..., status_forcelist=[429])``, whose default ``allowed_methods``
  excludes POST, and every OCR operation is a POST: even ``retry_times=3`` sends one request for
  a 429 or a reset connection (pinned below). The SDK's real retry loop is opt-in per call,
  ``client.<operation>_invoker(request).with_retry(...)``; its backoff ignores ``Retry-After``.
- The SDK raises ``ClientRequestException`` (status < 500) or ``ServerResponseException``,
  both ``ServiceResponseException``: ``status_code``, ``error_code``, ``error_msg`` from the
  body's ``error_code``/``error_msg``, and ``request_id`` from the ``X-Request-Id`` header.

``test_every_documented_error_surfaces`` is the example in docs/sdks/huaweicloudsdkocr.md
(``tests/interop/test_sdk_docs.py`` keeps the two identical).
"""

from __future__ import annotations

import types
from typing import Any

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import (
    ClientRequestException,
    ConnectionException,
    SdkException,
    ServerResponseException,
    ServiceResponseException,
)
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.retry.backoff_strategy import BackoffStrategies
from huaweicloudsdkocr.v1 import GeneralTextRequestBody, OcrClient, RecognizeGeneralTextRequest
from huaweicloudsdkocr.v1 import model as ocr_model
from huaweicloudsdkocr.v1.region.ocr_region import OcrRegion

from pytest_visioncontract import Retry, VisionError, serve
from pytest_visioncontract.catalog import builtin_catalog
from pytest_visioncontract.replay import UnexpectedRequest
from pytest_visioncontract.wire import render

IMAGE_URL = "https://example.com/receipt.jpg"


def ocr_client(retry_times: int = 0) -> OcrClient:
    """An OcrClient for cn-north-4 that never contacts IAM: the project id is given."""
    config = HttpConfig.get_default_config()
    config.retry_times = retry_times  # urllib3-level; never retries POST (every OCR call)
    credentials = BasicCredentials("test-ak", "test-sk", "0123456789abcdef0123456789abcdef")
    return (
        OcrClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_region(OcrRegion.value_of("cn-north-4"))
        .build()
    )


def recognize(client: OcrClient) -> Any:
    body = GeneralTextRequestBody(url="https://example.com/receipt.jpg")
    return client.recognize_general_text(RecognizeGeneralTextRequest(body=body))


@pytest.mark.vision_errors("huawei_ocr")
def test_every_documented_error_surfaces(vision_error: VisionError) -> None:
    with pytest.raises(ServiceResponseException) as caught:
        recognize(ocr_client())
    error = caught.value
    assert error.status_code == vision_error.status
    assert error.error_code == vision_error.code
    assert error.error_msg == vision_error.message
    assert error.request_id == vision_error.response.header("X-Request-Id")
    expected = ClientRequestException if vision_error.status < 500 else ServerResponseException
    assert type(error) is expected
    assert len(vision_error.requests) == 1  # no retry


# --------------------------------------------------------------------------- routes

# catalog operation -> (OcrClient method, request class, request body class)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "general_text": (
        "recognize_general_text",
        "RecognizeGeneralTextRequest",
        "GeneralTextRequestBody",
    ),
    "general_table": (
        "recognize_general_table",
        "RecognizeGeneralTableRequest",
        "GeneralTableRequestBody",
    ),
    "web_image": ("recognize_web_image", "RecognizeWebImageRequest", "WebImageRequestBody"),
    "handwriting": (
        "recognize_handwriting",
        "RecognizeHandwritingRequest",
        "HandwritingRequestBody",
    ),
    "smart_document": (
        "recognize_smart_document_recognizer",
        "RecognizeSmartDocumentRecognizerRequest",
        "SmartDocumentRecognizerRequestBody",
    ),
    "id_card": ("recognize_id_card", "RecognizeIdCardRequest", "IdCardRequestBody"),
    "passport": ("recognize_passport", "RecognizePassportRequest", "PassportRequestBody"),
    "bankcard": ("recognize_bankcard", "RecognizeBankcardRequest", "BankcardRequestBody"),
    "business_license": (
        "recognize_business_license",
        "RecognizeBusinessLicenseRequest",
        "BusinessLicenseRequestBody",
    ),
    "driver_license": (
        "recognize_driver_license",
        "RecognizeDriverLicenseRequest",
        "DriverLicenseRequestBody",
    ),
    "vehicle_license": (
        "recognize_vehicle_license",
        "RecognizeVehicleLicenseRequest",
        "VehicleLicenseRequestBody",
    ),
    "vat_invoice": ("recognize_vat_invoice", "RecognizeVatInvoiceRequest", "VatInvoiceRequestBody"),
    # every OCR API the catalog does not name goes to its catch-all operation
    "other": ("recognize_hk_id_card", "RecognizeHkIdCardRequest", "HkIdCardRequestBody"),
}


def call(client: OcrClient, operation: str) -> Any:
    method, request_class, body_class = OPERATIONS[operation]
    body = getattr(ocr_model, body_class)(url=IMAGE_URL)
    return getattr(client, method)(getattr(ocr_model, request_class)(body=body))


def test_operations_table_covers_the_catalog() -> None:
    assert set(OPERATIONS) == set(builtin_catalog("huawei_ocr").operations)


@pytest.mark.vision_errors("huawei_ocr", operations=list(OPERATIONS), codes=["AIS.0101"])
def test_every_catalog_operation_is_routed(vision_error: VisionError) -> None:
    """The SDK's request for each catalog operation is recognised by the catalog's routes."""
    with pytest.raises(ClientRequestException) as caught:
        call(ocr_client(), vision_error.operation)
    assert caught.value.error_code == "AIS.0101"
    (request,) = vision_error.requests
    assert request.method == "POST"
    assert request.operation == vision_error.operation
    assert request.url.startswith(
        "https://ocr.cn-north-4.myhuaweicloud.com/v2/0123456789abcdef0123456789abcdef/ocr/"
    )


@pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"])
def test_the_regions_second_endpoint_is_served(vision_error: VisionError) -> None:
    """Every OcrRegion also lists ``ocr.<region>.myhuaweicloud.cn`` (the SDK fails over to it)."""
    config = HttpConfig.get_default_config()
    client = (
        OcrClient.new_builder()
        .with_http_config(config)
        .with_credentials(
            BasicCredentials("test-ak", "test-sk", "0123456789abcdef0123456789abcdef")
        )
        .with_endpoints(["https://ocr.cn-north-4.myhuaweicloud.cn"])
        .build()
    )
    with pytest.raises(ClientRequestException) as caught:
        recognize(client)
    assert caught.value.error_code == "AIS.0101"
    assert vision_error.requests[0].url.startswith("https://ocr.cn-north-4.myhuaweicloud.cn/")


# --------------------------------------------------------------------------- faults

# What escapes for each variant of faults=True, and what it keeps (observed with
# huaweicloudsdkcore 3.1.219; docs/sdks/huaweicloudsdkocr.md has the same table).
#   variant -> (exception type, or None for ClientRequestException/ServerResponseException by
#               status; what error_code holds: "code", "status", "mangled" or "-" when no status)
FAULTS: dict[str | None, tuple[type[BaseException] | None, str]] = {
    None: (None, "code"),
    "truncated": (None, "status"),  # the body is not JSON: error_code = str(status)
    "empty_body": (None, "status"),
    "html": (None, "status"),
    "wrong_content_type": (None, "code"),  # the SDK parses JSON whatever the Content-Type
    "no_content_type": (None, "code"),
    "non_utf8": (None, "mangled"),  # decoded with errors="replace": "\ufffd" + code
    "connection_reset": (ConnectionException, "-"),  # an SdkException, no status
    "read_timeout": (requests.exceptions.ReadTimeout, "-"),  # NOT an SdkException
}


@pytest.mark.vision_errors("huawei_ocr", faults=True)
def test_fault_variants_pinned(vision_error: VisionError) -> None:
    with pytest.raises(Exception) as caught:
        recognize(ocr_client())
    error = caught.value
    expected_type, kept = FAULTS[vision_error.variant]
    if expected_type is not None:
        assert type(error) is expected_type
        return
    by_status = ClientRequestException if vision_error.status < 500 else ServerResponseException
    assert type(error) is by_status
    assert isinstance(error, ServiceResponseException)
    assert error.status_code == vision_error.status
    assert error.request_id == vision_error.response.header("X-Request-Id")
    code = {
        "code": vision_error.code,
        "status": str(vision_error.status),
        "mangled": "\ufffd" + vision_error.code,
    }[kept]
    assert error.error_code == code


@pytest.mark.vision_errors(
    "huawei_ocr",
    faults=True,
    codes=["AIS.0101", "ModelArts.4301"],
    handled=(SdkException, requests.RequestException),
)
def test_recommended_handled_covers_every_variant(vision_error: VisionError) -> None:
    """What a user lists in handled= to count every variant as handled."""
    recognize(ocr_client())


# --------------------------------------------------------------------------- retries


@pytest.mark.vision_errors(
    "huawei_ocr", codes=["ModelArts.4401", "APIG.0308"], faults=["connection_reset"]
)
def test_retry_times_does_not_retry_a_post(vision_error: VisionError) -> None:
    """``HttpConfig.retry_times`` is urllib3's Retry, which leaves POST alone: one request."""
    with pytest.raises(SdkException) as caught:
        recognize(ocr_client(retry_times=3))
    if vision_error.variant == "connection_reset":
        assert type(caught.value) is ConnectionException
    else:
        assert isinstance(caught.value, ClientRequestException)
        assert caught.value.status_code == 429
        assert caught.value.error_code == vision_error.code
    assert len(vision_error.requests) == 1
    assert vision_error.waits == []


def retryable(response: Any, exception: SdkException | None) -> bool:
    return isinstance(exception, ServiceResponseException) and exception.status_code in (
        429,
        500,
        502,
        503,
        504,
    )


@pytest.mark.vision_errors(
    "huawei_ocr",
    categories=["throttled", "server", "timeout"],
    retry=Retry(times=1, attempts=3, honor_retry_after=False),
)
def test_invoker_with_retry_recovers(vision_error: VisionError) -> None:
    """The per-call invoker retries; its backoff (tens of ms, virtual) ignores Retry-After."""
    request = RecognizeGeneralTextRequest(body=GeneralTextRequestBody(url=IMAGE_URL))
    invoker = ocr_client().recognize_general_text_invoker(request)
    response = invoker.with_retry(retryable, 2, BackoffStrategies.EQUAL_JITTER).invoke()
    assert response.status_code == 200
    assert response.result.words_block_list[0].words == "Hello, world"
    assert len(vision_error.requests) == 2
    (wait,) = vision_error.waits
    if vision_error.response.retry_after is not None:
        assert wait < vision_error.response.retry_after  # why honor_retry_after=False


# --------------------------------------------------------------------------- traps


def test_without_project_id_the_sdk_asks_iam_and_the_plugin_refuses() -> None:
    catalog = builtin_catalog("huawei_ocr")
    drawn = types.SimpleNamespace(catalog=catalog, response=render(catalog, catalog.entries[0]))
    builder = (
        OcrClient.new_builder()
        .with_credentials(BasicCredentials("test-ak", "test-sk"))
        .with_region(OcrRegion.value_of("cn-north-4"))
    )
    with serve(drawn) as exchange, pytest.raises(UnexpectedRequest):
        builder.build()
    (refused,) = exchange.unmatched
    assert refused.url == "https://iam.cn-north-4.myhuaweicloud.com/v3/projects?name=cn-north-4"
    assert exchange.requests == []
