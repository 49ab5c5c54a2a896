"""Interoperability: the official ``azure-cognitiveservices-search-imagesearch`` SDK (msrest).

``ImageSearchClient`` appends ``/bing/v7.0`` to the endpoint it is given, so with
``https://api.bing.microsoft.com`` it calls ``GET /bing/v7.0/images/search`` (``/details``,
``/trending``): the catalog's routes accept the path with and without the ``/bing`` prefix.
Every documented error must surface as the SDK's ``ErrorResponseException`` with the documented
status (``.response.status_code``) and code, sub-code and message
(``.error.errors[0].code`` / ``.sub_code`` / ``.message``).

Retries: msrest mounts a urllib3 ``Retry`` on its requests session
(``client.config.retry_policy``): 3 retries on 408 and on 5xx other than 501 and 505, and on 413,
429 and 503 when ``Retry-After`` is present. When the retries on a 5xx run out, urllib3 raises
and msrest turns it into ``msrest.exceptions.ClientRequestError``: the status, code and sub-code
are gone (``test_default_retry_policy_loses_a_persistent_500`` pins this). ``retries = 0``
alone does not help (urllib3 still raises ``MaxRetryError`` on the first 5xx), so the clients
here also set ``raise_on_status = False`` on the urllib3 policy: urllib3 then hands the last
response to msrest, which raises ``ErrorResponseException``. Sleeps are virtual under the plugin.

``test_fault_variants_pinned`` records what escapes the SDK for each broken response
(``faults=True``); see docs/sdks/bing-image-search.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from azure.cognitiveservices.search.imagesearch.models import ErrorResponse, ErrorResponseException
from msrest.authentication import CognitiveServicesCredentials
from msrest.exceptions import ClientRequestError
from requests.exceptions import ConnectionError, RetryError

from pytest_visioncontract import VisionError

ENDPOINT = "https://api.bing.microsoft.com"


def image_search_client(*, retries: bool = False) -> ImageSearchClient:
    client = ImageSearchClient(ENDPOINT, CognitiveServicesCredentials("test-key"))
    if not retries:
        client.config.retry_policy.retries = 0
        client.config.retry_policy.policy.raise_on_status = False  # keep the 5xx response
    return client


@pytest.mark.vision_errors("bing_image_search", operations=["search"])
def test_search_surfaces_status_and_code(vision_error: VisionError) -> None:
    client = ImageSearchClient(
        "https://api.bing.microsoft.com", CognitiveServicesCredentials("test-key")
    )
    client.config.retry_policy.retries = 0  # one request per case: no SDK retries ...
    client.config.retry_policy.policy.raise_on_status = False  # ... and keep a 5xx response
    with pytest.raises(ErrorResponseException) as caught:
        client.images.search(query="red bicycle")
    assert vision_error.requests[0].url.startswith(
        "https://api.bing.microsoft.com/bing/v7.0/images/search?"
    )
    assert caught.value.response.status_code == vision_error.status
    assert isinstance(caught.value.error, ErrorResponse)
    error = caught.value.error.errors[0]
    assert error.code == vision_error.code
    assert error.sub_code == vision_error.inner_code
    assert error.message == vision_error.message


OPERATION_CALLS: dict[str, Callable[[ImageSearchClient], Any]] = {
    "search": lambda client: client.images.search(query="red bicycle"),
    "details": lambda client: client.images.details(query="red bicycle", insights_token="ccid_x"),
    "trending": lambda client: client.images.trending(),
}


@pytest.mark.vision_errors("bing_image_search", operations=["details", "trending"])
def test_details_and_trending_surface_status_and_code(vision_error: VisionError) -> None:
    with pytest.raises(ErrorResponseException) as caught:
        OPERATION_CALLS[vision_error.operation](image_search_client())
    assert caught.value.response.status_code == vision_error.status
    assert isinstance(caught.value.error, ErrorResponse)
    error = caught.value.error.errors[0]
    assert (error.code, error.sub_code) == (vision_error.code, vision_error.inner_code)
    assert [r.operation for r in vision_error.requests] == [vision_error.operation]


@pytest.mark.vision_errors("bing_image_search", categories=["server"])
def test_default_retry_policy_loses_a_persistent_500(vision_error: VisionError) -> None:
    with pytest.raises(ClientRequestError) as caught:
        image_search_client(retries=True).images.search(query="red bicycle")
    assert isinstance(caught.value.inner_exception, RetryError)  # no status, no code
    assert len(vision_error.requests) == 4  # 1 + 3 retries
    assert vision_error.waits == [1.6, 3.2]  # urllib3 backoff, 0.8 s factor (virtual)


@pytest.mark.vision_errors("bing_image_search", codes=["RateLimitExceeded"])
def test_default_retry_policy_keeps_a_persistent_429(vision_error: VisionError) -> None:
    with pytest.raises(ErrorResponseException) as caught:
        image_search_client(retries=True).images.search(query="red bicycle")
    assert caught.value.response.status_code == vision_error.status
    retried = vision_error.status == 429  # Retry-After on a 429: urllib3 retries it
    assert len(vision_error.requests) == (4 if retried else 1)
    assert vision_error.waits == ([1.0, 1.0, 1.0] if retried else [])


@pytest.mark.vision_errors(
    "bing_image_search",
    categories=["server", "throttled"],
    exclude=["NotImplemented"],
    retry=True,
)
def test_default_retry_policy_recovers(vision_error: VisionError) -> None:
    images = image_search_client(retries=True).images.search(query="red bicycle")
    assert images.value[0].content_url == "https://images.example.com/red-bicycle.jpg"
    assert vision_error.waits == ([1.0] if vision_error.status == 429 else [])


# variant -> (exception type that escapes images.search(), status kept, code kept)
FAULTS: dict[str | None, tuple[type[BaseException], bool, bool]] = {
    None: (ErrorResponseException, True, True),
    "truncated": (ErrorResponseException, True, False),
    "empty_body": (TypeError, False, False),
    "html": (ErrorResponseException, True, False),
    "wrong_content_type": (ErrorResponseException, True, False),
    "no_content_type": (ErrorResponseException, True, True),
    "non_utf8": (ErrorResponseException, True, True),
    "connection_reset": (ClientRequestError, False, False),
    "read_timeout": (ClientRequestError, False, False),
}


@pytest.mark.vision_errors(
    "bing_image_search",
    codes=["ParameterMissing", "UnexpectedError"],
    faults=True,
    handled=(ErrorResponseException, ClientRequestError, TypeError),
)
def test_fault_variants_pinned(vision_error: VisionError) -> None:
    exception_type, status_kept, code_kept = FAULTS[vision_error.variant]
    with pytest.raises(exception_type) as caught:
        image_search_client().images.search(query="red bicycle")
    error = caught.value
    assert type(error) is exception_type
    response = getattr(error, "response", None)
    assert getattr(response, "status_code", None) == (vision_error.status if status_kept else None)
    model = getattr(error, "error", None)
    assert isinstance(model, ErrorResponse) is code_kept
    if isinstance(error, ClientRequestError):
        assert isinstance(error.inner_exception, ConnectionError)
