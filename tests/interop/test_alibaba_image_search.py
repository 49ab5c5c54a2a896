"""Interoperability: the official Alibaba Cloud Image Search SDK against every documented error.

``alibabacloud-imagesearch20201214`` (``Client``) on ``alibabacloud-tea-openapi`` and
``darabonba-core`` (the Darabonba generation of the Tea runtime), which send with ``requests``.
The client is built the way a user builds it: a ``Config`` with an access key id and secret and
the endpoint ``imagesearch.cn-shanghai.aliyuncs.com``.

- Requests: every operation is ``POST /`` with the action in the ``x-acs-action`` header (and
  ``x-acs-version: 2020-12-14``), signed locally (ACS3-HMAC-SHA256); there is no ``Action``
  query parameter. The catalog's routes recognise the header.
- Credentials: with ``access_key_id``/``access_key_secret`` in the ``Config`` nothing is fetched
  (no STS, no ECS metadata). The ``*_advance`` methods (file uploads) first ask
  ``openplatform.aliyuncs.com`` for an OSS upload token: the plugin refuses that request
  (pinned below); send ``pic_content`` (base64) with the plain methods instead.
- Retries: only ``Config.retry_options`` (a ``darabonba.policy.retry.RetryOptions``) drives the
  retry loop of ``do_request``; ``RuntimeOptions(autoretry=..., max_attempts=...)`` is ignored by
  this SDK generation (pinned below). No ``retry_options`` means one attempt; the tests set
  ``RetryOptions(retryable=False)`` to say so. With a retry condition the SDK waits the
  ``x-acs-retry-after`` milliseconds of a throttling response (virtually, under the plugin).
- The SDK raises ``ClientException`` (4xx), ``ServerException`` (5xx) or, whenever the response
  carries ``x-acs-retry-after``, ``ThrottlingException``; all ``AlibabaCloudException``:
  ``status_code``, ``code`` (body ``Code``), ``request_id`` (body ``RequestId``, not the header),
  ``retry_after`` (ms), ``data`` (the body, plus ``statusCode``).

``test_every_documented_error_surfaces`` is the example in docs/sdks/alibabacloud-imagesearch.md
(``tests/interop/test_sdk_docs.py`` keeps the two identical).
"""

from __future__ import annotations

import io
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
from Tea.exceptions import TeaException
from test_alibaba_image_search_async import RETRY_OPTIONS  # defined in the async docs example

from pytest_visioncontract import VisionError, serve
from pytest_visioncontract.catalog import builtin_catalog
from pytest_visioncontract.replay import UnexpectedRequest
from pytest_visioncontract.wire import render

PICTURE = "aGVsbG8="  # base64 of the image bytes


def image_search_client(retry_options: RetryOptions | None = None) -> Client:
    """A Client for cn-shanghai with a static access key: nothing is fetched to sign."""
    config = open_api_models.Config(
        access_key_id="test-access-key-id",
        access_key_secret="test-access-key-secret",
        endpoint="imagesearch.cn-shanghai.aliyuncs.com",
        retry_options=retry_options or RetryOptions(retryable=False),
    )
    return Client(config)


def search(client: Client) -> Any:
    request = models.SearchImageByPicRequest(instance_name="demo", pic_content="aGVsbG8=")
    return client.search_image_by_pic_with_options(request, RuntimeOptions())


@pytest.mark.vision_errors("alibaba_image_search")
def test_every_documented_error_surfaces(vision_error: VisionError) -> None:
    with pytest.raises(AlibabaCloudException) as caught:
        search(image_search_client())
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


# --------------------------------------------------------------------------- routes

# catalog operation -> (x-acs-action, a call of the SDK's plain method)
OPERATIONS: dict[str, tuple[str, Callable[[Client, RuntimeOptions], Any]]] = {
    "search_image_by_pic": (
        "SearchImageByPic",
        lambda c, rt: c.search_image_by_pic_with_options(
            models.SearchImageByPicRequest(instance_name="demo", pic_content=PICTURE), rt
        ),
    ),
    "search_image_by_name": (
        "SearchImageByName",
        lambda c, rt: c.search_image_by_name_with_options(
            models.SearchImageByNameRequest(
                instance_name="demo", product_id="sku-1001", pic_name="front.jpg"
            ),
            rt,
        ),
    ),
    "add_image": (
        "AddImage",
        lambda c, rt: c.add_image_with_options(
            models.AddImageRequest(
                instance_name="demo",
                product_id="sku-1001",
                pic_name="front.jpg",
                pic_content=PICTURE,
            ),
            rt,
        ),
    ),
    "delete_image": (
        "DeleteImage",
        lambda c, rt: c.delete_image_with_options(
            models.DeleteImageRequest(instance_name="demo", product_id="sku-1001"), rt
        ),
    ),
    "update_image": (
        "UpdateImage",
        lambda c, rt: c.update_image_with_options(
            models.UpdateImageRequest(
                instance_name="demo", product_id="sku-1001", pic_name="front.jpg", int_attr=1
            ),
            rt,
        ),
    ),
    "detail": (
        "Detail",
        lambda c, rt: c.detail_with_options(models.DetailRequest(instance_name="demo"), rt),
    ),
    "dump_meta": (
        "DumpMeta",
        lambda c, rt: c.dump_meta_with_options(models.DumpMetaRequest(instance_name="demo"), rt),
    ),
    "compare_similar_by_image": (
        "CompareSimilarByImage",
        lambda c, rt: c.compare_similar_by_image_with_options(
            models.CompareSimilarByImageRequest(
                instance_name="demo", primary_pic_content=PICTURE, secondary_pic_content=PICTURE
            ),
            rt,
        ),
    ),
    "check_image_exists": (
        "CheckImageExists",
        lambda c, rt: c.check_image_exists_with_options(
            models.CheckImageExistsRequest(
                instance_name="demo", product_id="sku-1001", pic_name="front.jpg"
            ),
            rt,
        ),
    ),
    "dump_meta_list": (
        "DumpMetaList",
        lambda c, rt: c.dump_meta_list_with_options(
            models.DumpMetaListRequest(instance_name="demo"), rt
        ),
    ),
    "increase_instance": (
        "IncreaseInstance",
        lambda c, rt: c.increase_instance_with_options(
            models.IncreaseInstanceRequest(instance_name="demo", bucket_name="b", path="/x/"), rt
        ),
    ),
    "increase_list": (
        "IncreaseList",
        lambda c, rt: c.increase_list_with_options(
            models.IncreaseListRequest(instance_name="demo"), rt
        ),
    ),
    "search_image_by_filter": (
        "SearchImageByFilter",
        lambda c, rt: c.search_image_by_filter_with_options(
            models.SearchImageByFilterRequest(instance_name="demo", filter="int_attr=1"), rt
        ),
    ),
    "search_image_by_text": (
        "SearchImageByText",
        lambda c, rt: c.search_image_by_text_with_options(
            models.SearchImageByTextRequest(instance_name="demo", text="red shoes"), rt
        ),
    ),
}


def test_operations_table_covers_the_catalog() -> None:
    assert set(OPERATIONS) == set(builtin_catalog("alibaba_image_search").operations)


@pytest.mark.vision_errors(
    "alibaba_image_search", operations=list(OPERATIONS), codes=["BadRequest"]
)
def test_every_catalog_operation_is_routed(vision_error: VisionError) -> None:
    """The SDK's request for each catalog operation is recognised by the catalog's routes."""
    action, call = OPERATIONS[vision_error.operation]
    with pytest.raises(ClientException) as caught:
        call(image_search_client(), RuntimeOptions())
    assert caught.value.code == "BadRequest"
    (request,) = vision_error.requests
    assert request.method == "POST"
    url = urlsplit(request.url)  # Detail and DumpMeta send InstanceName in the query
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "imagesearch.cn-shanghai.aliyuncs.com",
        "/",
    )
    assert "Action" not in parse_qs(url.query)  # the action travels in the header only
    assert request.headers["x-acs-action"] == action
    assert request.headers["x-acs-version"] == "2020-12-14"
    assert request.operation == vision_error.operation


# --------------------------------------------------------------------------- faults

# What escapes for each variant of faults=True (observed with alibabacloud-tea-openapi 0.4.6 and
# darabonba-core 1.0.9; docs/sdks/alibabacloud-imagesearch.md has the same table).
#   variant -> None (the documented AlibabaCloudException, status/code/request id kept), or the
#              type of UnretryableException.inner_exception (status, code, request id all lost)
FAULTS: dict[str | None, type[BaseException] | None] = {
    None: None,
    "truncated": RuntimeError,  # "Failed to parse the value as json format, ..."
    "empty_body": RuntimeError,
    "html": RuntimeError,
    "wrong_content_type": None,  # the SDK parses JSON unless Content-Type is text/xml
    "no_content_type": None,
    "non_utf8": UnicodeDecodeError,  # the body is decoded strictly
    "connection_reset": RetryError,  # darabonba's, wrapping requests' ConnectionError text
    "read_timeout": RetryError,
}


@pytest.mark.vision_errors("alibaba_image_search", faults=True)
def test_fault_variants_pinned(vision_error: VisionError) -> None:
    with pytest.raises(Exception) as caught:
        search(image_search_client())
    error = caught.value
    inner = FAULTS[vision_error.variant]
    if inner is None:
        assert isinstance(error, AlibabaCloudException)
        assert error.status_code == vision_error.status
        assert error.code == vision_error.code
        assert error.request_id == vision_error.response.header("x-acs-request-id")
        return
    assert isinstance(error, UnretryableException)
    assert type(error) is UnretryableException
    assert type(error.inner_exception) is inner
    assert error.code is None
    assert not hasattr(error, "status_code")
    assert not hasattr(error, "request_id")
    assert error.last_request.headers["x-acs-action"] == "SearchImageByPic"  # all that is kept


@pytest.mark.vision_errors(
    "alibaba_image_search",
    faults=True,
    codes=["BadRequest", "DeniedRequest", "InternalError"],
    handled=(TeaException,),
)
def test_recommended_handled_covers_every_variant(vision_error: VisionError) -> None:
    """What a user lists in handled= to count every variant as handled."""
    search(image_search_client())


# --------------------------------------------------------------------------- retries


@pytest.mark.vision_errors("alibaba_image_search", codes=["InternalError", "DeniedRequest"])
def test_runtime_options_autoretry_is_ignored(vision_error: VisionError) -> None:
    """``RuntimeOptions(autoretry=True, max_attempts=3)`` does not make this SDK retry."""
    request = models.SearchImageByPicRequest(instance_name="demo", pic_content=PICTURE)
    runtime = RuntimeOptions(autoretry=True, max_attempts=3)
    with pytest.raises(AlibabaCloudException):
        image_search_client().search_image_by_pic_with_options(request, runtime)
    assert len(vision_error.requests) == 1


@pytest.mark.vision_errors(
    "alibaba_image_search", categories=["throttled", "server", "timeout"], retry=True
)
def test_retry_options_recover_and_honor_retry_after(vision_error: VisionError) -> None:
    """Config.retry_options retries; a throttling response's x-acs-retry-after is waited."""
    response = search(image_search_client(RETRY_OPTIONS))
    assert response.status_code == 200
    assert response.body.auctions[0].product_id == "sku-1001"
    assert len(vision_error.requests) == 2
    (wait,) = vision_error.waits
    expected = vision_error.response.retry_after or 0.2  # x-acs-retry-after, else the backoff
    assert wait == pytest.approx(expected)


# --------------------------------------------------------------------------- traps


def test_advance_methods_ask_openplatform_and_the_plugin_refuses() -> None:
    catalog = builtin_catalog("alibaba_image_search")
    drawn = types.SimpleNamespace(catalog=catalog, response=render(catalog, catalog.entries[0]))
    request = models.SearchImageByPicAdvanceRequest(
        instance_name="demo", pic_content_object=io.BytesIO(b"jpeg bytes")
    )
    with serve(drawn) as exchange, pytest.raises(UnretryableException) as caught:
        image_search_client().search_image_by_pic_advance(request, RuntimeOptions())
    assert type(caught.value.inner_exception) is UnexpectedRequest  # wrapped by the SDK
    (refused,) = exchange.unmatched
    assert refused.url == "https://openplatform.aliyuncs.com/?Product=ImageSearch"
    assert exchange.requests == []
