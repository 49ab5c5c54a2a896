"""Interoperability: Huawei Cloud OCR's ``OcrAsyncClient`` against every documented error.

``OcrAsyncClient`` is not an asyncio client: its ``*_async`` methods return at once a
``FutureSdkResponse`` (``huaweicloudsdkcore.sdk_response``) whose ``result()`` blocks until the
request, sent with ``requests`` on the SDK's own ``ThreadPoolExecutor``, has been answered. An
asyncio program awaits it with ``await asyncio.to_thread(future.result)``, as these tests do.
The plugin serves the executor's threads like any other (vcrpy patches ``requests``).

Every documented error must come out of ``result()`` as the sync client's
``ClientRequestException``/``ServerResponseException`` with the documented status, code, message
and request id (``test_huawei_ocr.py``). The async client has no retry loop:
``*_async_invoker(...)`` returns an ``AsyncInvoker`` without ``with_retry``; ``retry_times`` is
urllib3's, which never retries the POST.

Faults: ``LOOPBACK`` is what ``result()`` raises when a real server on 127.0.0.1 sends the same
bytes, resets the connection or never answers (``tests/interop/loopback.py``);
``test_plugin_serves_the_loopback_truth`` requires the plugin's ``faults=True`` variants to raise
the same. docs/sdks/huaweicloudsdkocr.md has the table.
"""

from __future__ import annotations

import asyncio
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
from huaweicloudsdkocr.v1 import GeneralTextRequestBody, OcrAsyncClient, RecognizeGeneralTextRequest
from huaweicloudsdkocr.v1.region.ocr_region import OcrRegion
from loopback import KINDS, SHORT_TIMEOUT, Seen, kind_id, served, serving

from pytest_visioncontract import VisionError

PROJECT = "0123456789abcdef0123456789abcdef"


def ocr_async_client() -> OcrAsyncClient:
    """An OcrAsyncClient for cn-north-4 that never contacts IAM: the project id is given."""
    credentials = BasicCredentials("test-ak", "test-sk", "0123456789abcdef0123456789abcdef")
    return (
        OcrAsyncClient.new_builder()
        .with_http_config(HttpConfig.get_default_config())
        .with_credentials(credentials)
        .with_region(OcrRegion.value_of("cn-north-4"))
        .build()
    )


async def recognize_async(client: OcrAsyncClient) -> Any:
    body = GeneralTextRequestBody(url="https://example.com/receipt.jpg")
    future = client.recognize_general_text_async(RecognizeGeneralTextRequest(body=body))
    return await asyncio.to_thread(future.result)  # result() blocks: keep it off the loop


@pytest.mark.asyncio
@pytest.mark.vision_errors("huawei_ocr")
async def test_every_documented_error_surfaces_async(vision_error: VisionError) -> None:
    with pytest.raises(ServiceResponseException) as caught:
        await recognize_async(ocr_async_client())
    error = caught.value
    assert error.status_code == vision_error.status
    assert error.error_code == vision_error.code
    assert error.error_msg == vision_error.message
    assert error.request_id == vision_error.response.header("X-Request-Id")
    expected = ClientRequestException if vision_error.status < 500 else ServerResponseException
    assert type(error) is expected
    assert len(vision_error.requests) == 1  # no retry


# --------------------------------------------------------------------------- faults


def loopback_client(url: str) -> OcrAsyncClient:
    config = HttpConfig.get_default_config()
    config.timeout = (SHORT_TIMEOUT, SHORT_TIMEOUT)  # (connect, read) seconds, for requests
    return (
        OcrAsyncClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials("test-ak", "test-sk", PROJECT))
        .with_endpoints([url])
        .build()
    )


def seen(error: BaseException, status: int, code: str) -> Seen:
    return Seen(
        type(error),
        None,
        getattr(error, "status_code", None) == status,
        getattr(error, "error_code", None) == code,
    )


# What result() raises for each variant of the 400 AIS.0101, observed against a real loopback
# server (huaweicloudsdkcore 3.1.219, requests 2.34). The same as the sync OcrClient.
LOOPBACK: dict[str | None, Seen] = {
    None: Seen(ClientRequestException, None, True, True),
    "truncated": Seen(ClientRequestException, None, True, False),  # error_code "400"
    "empty_body": Seen(ClientRequestException, None, True, False),
    "html": Seen(ClientRequestException, None, True, False),
    "wrong_content_type": Seen(ClientRequestException, None, True, True),
    "no_content_type": Seen(ClientRequestException, None, True, True),
    "non_utf8": Seen(ClientRequestException, None, True, False),  # "\ufffdAIS.0101"
    "connection_reset": Seen(ConnectionException, None, False, False),
    "read_timeout": Seen(requests.exceptions.ReadTimeout, None, False, False),  # not an SDK error
}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
async def test_loopback_truth(kind: str | None) -> None:
    with (
        serving(served("huawei_ocr", "400-AIS.0101", kind)) as server,
        pytest.raises(Exception) as caught,
    ):
        await recognize_async(loopback_client(server.base))
    assert server.requests == [f"POST /v2/{PROJECT}/ocr/general-text HTTP/1.1"]
    assert seen(caught.value, 400, "AIS.0101") == LOOPBACK[kind]


@pytest.mark.asyncio
@pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"], faults=True)
async def test_plugin_serves_the_loopback_truth(vision_error: VisionError) -> None:
    with pytest.raises(Exception) as caught:
        await recognize_async(ocr_async_client())
    got, truth = seen(caught.value, 400, "AIS.0101"), LOOPBACK[vision_error.variant]
    assert got == truth, f"through the plugin: {got}; from a real server: {truth}"


@pytest.mark.asyncio
@pytest.mark.vision_errors(
    "huawei_ocr",
    faults=True,
    codes=["AIS.0101", "ModelArts.4301"],
    handled=(SdkException, requests.RequestException),
)
async def test_recommended_handled_covers_every_variant(vision_error: VisionError) -> None:
    await recognize_async(ocr_async_client())
