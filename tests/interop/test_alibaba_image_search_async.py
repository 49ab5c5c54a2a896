"""Interoperability: the ``*_async`` methods of the Alibaba Cloud Image Search SDK.

``Client.search_image_by_pic_with_options_async`` and every other ``*_async`` method of
``alibabacloud-imagesearch20201214`` go through ``alibabacloud_tea_openapi``'s
``do_request_async`` and darabonba's ``DaraCore.async_do_action``, which sends with aiohttp (a new
``ClientSession`` per attempt); the plugin serves it through vcrpy. Every documented error must
come out as the sync methods' ``ClientException``/``ServerException``/``ThrottlingException``
with the documented status, code and request id (``test_alibaba_image_search.py``).

Retries: only ``Config.retry_options`` drives the loop, as in the sync methods. Its backoff is
``DaraCore.sleep``, a blocking ``time.sleep`` even in the ``*_async`` path (the event loop stalls
for the wait); under the plugin it is virtual like any ``time.sleep``.

Faults: ``LOOPBACK`` is what the ``*_async`` methods raise when a real server on 127.0.0.1 sends
the same bytes, resets the connection or never answers (``tests/interop/loopback.py``);
``test_plugin_serves_the_loopback_truth`` requires the plugin's ``faults=True`` variants to raise
the same. docs/sdks/alibabacloud-imagesearch.md has the table.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_imagesearch20201214.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import (
    AlibabaCloudException,
    ClientException,
    ServerException,
    ThrottlingException,
)
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions
from loopback import KINDS, SHORT_TIMEOUT, Seen, kind_id, served, serving
from Tea.exceptions import TeaException

from pytest_visioncontract import VisionError


def image_search_client(retry_options: RetryOptions | None = None) -> Client:
    """A Client for cn-shanghai with a static access key: nothing is fetched to sign."""
    config = open_api_models.Config(
        access_key_id="test-access-key-id",
        access_key_secret="test-access-key-secret",
        endpoint="imagesearch.cn-shanghai.aliyuncs.com",
        retry_options=retry_options or RetryOptions(retryable=False),
    )
    return Client(config)


async def search_async(client: Client, runtime: RuntimeOptions | None = None) -> Any:
    request = models.SearchImageByPicRequest(instance_name="demo", pic_content="aGVsbG8=")
    return await client.search_image_by_pic_with_options_async(request, runtime or RuntimeOptions())


@pytest.mark.asyncio
@pytest.mark.vision_errors("alibaba_image_search")
async def test_every_documented_error_surfaces_async(vision_error: VisionError) -> None:
    with pytest.raises(AlibabaCloudException) as caught:
        await search_async(image_search_client())
    error = caught.value
    assert error.status_code == vision_error.status
    assert error.code == vision_error.code
    assert error.request_id == vision_error.response.header("x-acs-request-id")
    assert vision_error.message in error.message
    if vision_error.response.header("x-acs-retry-after") is not None:
        assert type(error) is ThrottlingException
        assert error.retry_after == 1000  # milliseconds
    elif vision_error.status < 500:
        assert type(error) is ClientException
    else:
        assert type(error) is ServerException
    (request,) = vision_error.requests  # no retry
    assert request.headers["x-acs-action"] == "SearchImageByPic"


RETRY_OPTIONS = RetryOptions(
    retryable=True,
    retry_condition=[
        {
            "maxAttempts": 3,
            "exception": ["ThrottlingException", "ServerException"],
            "errorCode": ["SearchTimeout", "TimeoutForTransferImage"],  # 400s worth a retry
            "backoff": {"policy": "Fixed", "period": 200},  # milliseconds
        }
    ],
)


@pytest.mark.asyncio
@pytest.mark.vision_errors(
    "alibaba_image_search", categories=["throttled", "server", "timeout"], retry=True
)
async def test_retry_options_recover_async(vision_error: VisionError) -> None:
    response = await search_async(image_search_client(RETRY_OPTIONS))
    assert response.status_code == 200
    assert response.body.auctions[0].product_id == "sku-1001"
    assert len(vision_error.requests) == 2
    # x-acs-retry-after (ms) of a throttling response, else the fixed 200 ms backoff
    assert vision_error.waits == [vision_error.response.retry_after or 0.2]


@pytest.mark.asyncio
@pytest.mark.vision_errors("alibaba_image_search", codes=["InternalError"])
async def test_retry_options_give_up_after_max_attempts_async(vision_error: VisionError) -> None:
    with pytest.raises(ServerException) as caught:
        await search_async(image_search_client(RETRY_OPTIONS))
    assert caught.value.code == "InternalError"
    assert len(vision_error.requests) == 3  # maxAttempts counts every attempt
    assert vision_error.waits == [0.2, 0.2]


@pytest.mark.asyncio
@pytest.mark.vision_errors("alibaba_image_search", codes=["InternalError", "DeniedRequest"])
async def test_runtime_options_autoretry_is_ignored_async(vision_error: VisionError) -> None:
    """``RuntimeOptions(autoretry=True, max_attempts=3)`` does not make this SDK retry."""
    runtime = RuntimeOptions(autoretry=True, max_attempts=3)
    with pytest.raises(AlibabaCloudException):
        await search_async(image_search_client(), runtime)
    assert len(vision_error.requests) == 1


# --------------------------------------------------------------------------- faults


def loopback_client(url: str, retry_options: RetryOptions | None = None) -> Client:
    config = open_api_models.Config(
        access_key_id="test-access-key-id",
        access_key_secret="test-access-key-secret",
        endpoint=url.removeprefix("http://"),
        protocol="HTTP",
        retry_options=retry_options or RetryOptions(retryable=False),
    )
    return Client(config)


def seen(error: BaseException, status: int, code: str) -> Seen:
    inner = getattr(error, "inner_exception", None)
    return Seen(
        type(error),
        None if inner is None else type(inner),
        getattr(error, "status_code", None) == status,
        getattr(error, "code", None) == code,
    )


UNRETRYABLE_PARSE = Seen(UnretryableException, RuntimeError, False, False)  # "Failed to parse"
# What the *_async methods raise for each variant of the 400 BadRequest, observed against a real
# loopback server (alibabacloud-tea-openapi 0.4.6, darabonba-core 1.0.9, aiohttp 3.14). The same
# as the sync methods.
LOOPBACK: dict[str | None, Seen] = {
    None: Seen(ClientException, None, True, True),
    "truncated": UNRETRYABLE_PARSE,
    "empty_body": UNRETRYABLE_PARSE,
    "html": UNRETRYABLE_PARSE,
    "wrong_content_type": Seen(ClientException, None, True, True),
    "no_content_type": Seen(ClientException, None, True, True),
    "non_utf8": Seen(UnretryableException, UnicodeDecodeError, False, False),
    "connection_reset": Seen(UnretryableException, RetryError, False, False),
    "read_timeout": Seen(UnretryableException, RetryError, False, False),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
async def test_loopback_truth(kind: str | None) -> None:
    runtime = RuntimeOptions(read_timeout=int(SHORT_TIMEOUT * 1000))  # milliseconds
    with (
        serving(served("alibaba_image_search", "400-BadRequest", kind)) as server,
        pytest.raises(Exception) as caught,
    ):
        await search_async(loopback_client(server.base), runtime)
    assert server.requests == ["POST / HTTP/1.1"]
    assert seen(caught.value, 400, "BadRequest") == LOOPBACK[kind]


@pytest.mark.asyncio
@pytest.mark.vision_errors("alibaba_image_search", codes=["BadRequest"], faults=True)
async def test_plugin_serves_the_loopback_truth(vision_error: VisionError) -> None:
    with pytest.raises(Exception) as caught:
        await search_async(image_search_client())
    got, truth = seen(caught.value, 400, "BadRequest"), LOOPBACK[vision_error.variant]
    assert got == truth, f"through the plugin: {got}; from a real server: {truth}"


@pytest.mark.asyncio
@pytest.mark.vision_errors(
    "alibaba_image_search",
    faults=True,
    codes=["BadRequest", "DeniedRequest", "InternalError"],
    handled=(TeaException,),
)
async def test_recommended_handled_covers_every_variant(vision_error: VisionError) -> None:
    await search_async(image_search_client())


@pytest.mark.asyncio
async def test_the_async_backoff_blocks_the_event_loop() -> None:
    """The *_async retry loop waits with DaraCore.sleep, a time.sleep: nothing else runs."""
    options = RetryOptions(
        retryable=True,
        retry_condition=[
            {
                "maxAttempts": 2,
                "exception": ["ServerException"],
                "backoff": {"policy": "Fixed", "period": 300},
            }
        ],
    )
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    with serving(served("alibaba_image_search", "500-InternalError", None)) as server:
        client = loopback_client(server.base, options)
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        with pytest.raises(ServerException):
            await search_async(client)
        task.cancel()
    assert len(server.requests) == 2
    assert max(b - a for a, b in itertools.pairwise(ticks)) >= 0.3
