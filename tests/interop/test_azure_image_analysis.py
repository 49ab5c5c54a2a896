"""Interoperability: the official ``azure-ai-vision-imageanalysis`` SDK against every served error.

``ImageAnalysisClient`` is pointed at an ordinary resource endpoint; the plugin answers its
``POST {endpoint}/computervision/imageanalysis:analyze`` through vcrpy (azure-core's default
transport is requests). Every documented error, the unconfirmed ones included, must come out as
an ``azure.core.exceptions.HttpResponseError`` carrying the documented status (``.status_code``),
code (``.error.code``) and inner code (``.error.innererror["code"]``).

Retries: azure-core's ``RetryPolicy`` retries 408, 429, 500, 502, 503 and 504, and any error
response that carries ``Retry-After``, up to 3 times. The error still surfaces after the last
attempt, but the request count changes, so the clients here are built with ``retry_total=0``:
one request per case. ``test_default_retry_policy_*`` pin what the default policy does (its
sleeps are virtual under the plugin, so they cost nothing).

``test_fault_variants_pinned`` records what escapes the SDK for each broken response
(``faults=True``); see docs/sdks/azure-ai-vision-imageanalysis.md.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.ai.vision.imageanalysis import ImageAnalysisClient
from azure.ai.vision.imageanalysis.models import VisualFeatures
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from pytest_visioncontract import VisionError

ENDPOINT = "https://myres.cognitiveservices.azure.com"
IMAGE = b"\x89PNG\r\n\x1a\n"


def image_analysis_client(**kwargs: Any) -> ImageAnalysisClient:
    return ImageAnalysisClient(ENDPOINT, AzureKeyCredential("test-key"), **kwargs)


@pytest.mark.vision_errors("azure_image_analysis", unconfirmed=True)
def test_analyze_surfaces_status_and_code(vision_error: VisionError) -> None:
    client = ImageAnalysisClient(
        "https://myres.cognitiveservices.azure.com",
        AzureKeyCredential("test-key"),
        retry_total=0,  # one request per case: no SDK retries
    )
    with pytest.raises(HttpResponseError) as caught:
        client.analyze(b"\x89PNG\r\n\x1a\n", [VisualFeatures.CAPTION, VisualFeatures.READ])
    error = caught.value
    assert error.status_code == vision_error.status
    assert error.error is not None
    assert error.error.code == vision_error.code
    assert error.error.message == vision_error.message
    assert error.error.innererror.get("code") == vision_error.inner_code
    assert error.error.innererror.get("message") == vision_error.inner_message
    assert len(vision_error.requests) == 1


@pytest.mark.vision_errors("azure_image_analysis", codes=["401", "404"])
def test_auth_and_not_found_get_their_own_exception_types(vision_error: VisionError) -> None:
    expected = {401: ClientAuthenticationError, 404: ResourceNotFoundError}[vision_error.status]
    with pytest.raises(HttpResponseError) as caught:
        image_analysis_client(retry_total=0).analyze(IMAGE, [VisualFeatures.TAGS])
    assert type(caught.value) is expected


@pytest.mark.vision_errors(
    "azure_image_analysis", unconfirmed=True, categories=["server", "timeout"], retry=True
)
def test_default_retry_policy_recovers_from_a_transient_500(vision_error: VisionError) -> None:
    result = image_analysis_client().analyze(IMAGE, [VisualFeatures.CAPTION])
    assert result.caption is not None
    assert len(vision_error.requests) == 2  # the 500, then the success response
    assert vision_error.waits == []  # azure-core retries the first time without sleeping


@pytest.mark.vision_errors("azure_image_analysis", unconfirmed=True, codes=["InternalServerError"])
def test_default_retry_policy_repeats_a_persistent_500(vision_error: VisionError) -> None:
    with pytest.raises(HttpResponseError) as caught:
        image_analysis_client().analyze(IMAGE, [VisualFeatures.CAPTION])
    assert caught.value.status_code == 500
    assert caught.value.error is not None
    assert caught.value.error.code == "InternalServerError"
    assert len(vision_error.requests) == 4  # 1 + retry_status=3
    assert vision_error.waits == [1.6, 3.2]  # exponential backoff, 0.8 s factor (virtual)


# variant -> (exception type that escapes analyze(), status kept, code kept)
FAULTS: dict[str | None, tuple[type[BaseException], bool, bool]] = {
    None: (HttpResponseError, True, True),
    "truncated": (DecodeError, True, False),
    "empty_body": (HttpResponseError, True, False),
    "html": (HttpResponseError, True, False),
    "wrong_content_type": (HttpResponseError, True, True),
    "no_content_type": (HttpResponseError, True, True),
    "non_utf8": (UnicodeDecodeError, False, False),
    "connection_reset": (ServiceResponseError, False, False),
    "read_timeout": (ServiceResponseTimeoutError, False, False),
}


@pytest.mark.vision_errors(
    "azure_image_analysis",
    codes=["InvalidImageFormat"],
    faults=True,
    handled=(HttpResponseError, ServiceResponseError, UnicodeDecodeError),
)
def test_fault_variants_pinned(vision_error: VisionError) -> None:
    exception_type, status_kept, code_kept = FAULTS[vision_error.variant]
    with pytest.raises(exception_type) as caught:
        image_analysis_client(retry_total=0).analyze(IMAGE, [VisualFeatures.CAPTION])
    error = caught.value
    assert type(error) is exception_type
    status = getattr(error, "status_code", None)
    assert status == (vision_error.status if status_kept else None)
    odata = getattr(error, "error", None)
    assert (getattr(odata, "code", None) == vision_error.code) is code_kept
