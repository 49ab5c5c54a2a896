"""Interoperability: the async ``azure.ai.vision.imageanalysis.aio.ImageAnalysisClient``.

The aio client runs on azure-core's ``AioHttpTransport`` (aiohttp), which the plugin serves
through vcrpy like the sync client's requests transport. Every served error (the unconfirmed
ones included) must come out as ``HttpResponseError`` with the documented status, code and inner
code, as for the sync client (``test_azure_image_analysis.py``).

Retries: ``AsyncRetryPolicy`` is the sync policy's twin; ``retry_total=0`` makes one request
per case. Its backoff awaits ``asyncio.sleep`` (through the transport), virtual under the plugin.

Faults: ``LOOPBACK`` is what the aio client raises when a real server on 127.0.0.1 sends the
same bytes, or resets the connection, or never answers (``tests/interop/loopback.py``);
``test_loopback_truth`` re-observes it and ``test_plugin_serves_the_loopback_truth`` requires
the plugin's ``faults=True`` variants to raise the same. docs/sdks/azure-ai-vision-imageanalysis.md
has the table.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from azure.ai.vision.imageanalysis.aio import ImageAnalysisClient
from azure.ai.vision.imageanalysis.models import VisualFeatures
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import (
    DecodeError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from loopback import KINDS, SHORT_TIMEOUT, Seen, azure_seen, kind_id, served, serving
from test_azure_image_analysis import ENDPOINT, IMAGE

from pytest_visioncontract import VisionError

FAULT_ENTRY = "400-InvalidRequest-InvalidImageFormat-image-format-is"


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_image_analysis", unconfirmed=True)
async def test_analyze_async_surfaces_status_and_code(vision_error: VisionError) -> None:
    client = ImageAnalysisClient(
        "https://myres.cognitiveservices.azure.com",
        AzureKeyCredential("test-key"),
        retry_total=0,  # one request per case: no SDK retries
    )
    async with client:
        with pytest.raises(HttpResponseError) as caught:
            await client.analyze(b"\x89PNG\r\n\x1a\n", [VisualFeatures.CAPTION])
    error = caught.value
    assert error.status_code == vision_error.status
    assert error.error is not None
    assert error.error.code == vision_error.code
    assert error.error.message == vision_error.message
    assert error.error.innererror.get("code") == vision_error.inner_code
    assert error.error.innererror.get("message") == vision_error.inner_message
    assert len(vision_error.requests) == 1


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_image_analysis", unconfirmed=True, codes=["InternalServerError"])
async def test_default_retry_policy_repeats_a_persistent_500(vision_error: VisionError) -> None:
    async with ImageAnalysisClient(ENDPOINT, AzureKeyCredential("test-key")) as client:
        with pytest.raises(HttpResponseError) as caught:
            await client.analyze(IMAGE, [VisualFeatures.CAPTION])
    assert caught.value.status_code == 500
    assert len(vision_error.requests) == 4  # 1 + retry_status=3
    # the backoff, awaited and virtual (the asyncio.sleep(0) azure-core awaits as it closes
    # each aiohttp response is a yield, not a wait: not recorded)
    assert vision_error.waits == [1.6, 3.2]


# --------------------------------------------------------------------------- faults


async def analyze(endpoint: str, **kwargs: Any) -> None:
    async with ImageAnalysisClient(endpoint, AzureKeyCredential("test-key"), **kwargs) as client:
        await client.analyze(IMAGE, [VisualFeatures.CAPTION])


# What the aio client raises for each variant of the 400 InvalidRequest/InvalidImageFormat,
# observed against a real loopback server (aiohttp 3.14, azure-core 1.41.0; retry_total=0).
LOOPBACK: dict[str | None, Seen] = {
    None: Seen(HttpResponseError, None, True, True),
    "truncated": Seen(DecodeError, json.JSONDecodeError, True, False),
    "empty_body": Seen(HttpResponseError, None, True, False),
    "html": Seen(HttpResponseError, None, True, False),
    "wrong_content_type": Seen(HttpResponseError, None, True, True),
    "no_content_type": Seen(HttpResponseError, None, True, True),
    "non_utf8": Seen(UnicodeDecodeError, None, False, False),
    # the sync client raises ServiceResponseError here: aiohttp's reset is a ClientOSError
    "connection_reset": Seen(ServiceRequestError, aiohttp.ClientOSError, False, False),
    "read_timeout": Seen(ServiceResponseTimeoutError, aiohttp.SocketTimeoutError, False, False),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
async def test_loopback_truth(kind: str | None) -> None:
    with (
        serving(served("azure_image_analysis", FAULT_ENTRY, kind)) as server,
        pytest.raises(Exception) as caught,
    ):
        await analyze(server.base, retry_total=0, read_timeout=SHORT_TIMEOUT)
    assert server.requests == [
        "POST /computervision/imageanalysis:analyze?api-version=2023-10-01&features=caption HTTP/1.1"
    ]
    assert azure_seen(caught.value, 400, "InvalidRequest") == LOOPBACK[kind]


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_image_analysis", codes=["InvalidImageFormat"], faults=True)
async def test_plugin_serves_the_loopback_truth(vision_error: VisionError) -> None:
    with pytest.raises(Exception) as caught:
        await analyze(ENDPOINT, retry_total=0)
    got, truth = azure_seen(caught.value, 400, "InvalidRequest"), LOOPBACK[vision_error.variant]
    assert got == truth, f"through the plugin: {got}; from a real server: {truth}"


@pytest.mark.asyncio
@pytest.mark.vision_errors(
    "azure_image_analysis",
    codes=["InvalidImageFormat"],
    faults=True,
    handled=(HttpResponseError, ServiceRequestError, ServiceResponseError, UnicodeDecodeError),
)
async def test_recommended_handled_covers_every_variant(vision_error: VisionError) -> None:
    await analyze(ENDPOINT, retry_total=0)


@pytest.mark.asyncio
async def test_default_retry_policy_does_not_retry_a_reset_post() -> None:
    """A reset is a ServiceRequestError under aiohttp, but the POST is still not retried."""
    with (
        serving(served("azure_image_analysis", FAULT_ENTRY, "connection_reset")) as server,
        pytest.raises(ServiceRequestError),
    ):
        await analyze(server.base, retry_backoff_factor=0.01)
    assert len(server.requests) == 1
