"""Every documented error of every provider, served to the app's clients.

One marked test per provider: pytest-visioncontract runs it once per documented error, serves
that error to whichever operation the case is about, and the test checks that the client turned
it into a VisionAPIError that says what the provider said.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from visionapp import VisionAPIError
from visionapp.alibaba_image_search import ImageSearchClient as AlibabaClient
from visionapp.azure_face import FaceClient
from visionapp.azure_image_analysis import ImageAnalysisClient
from visionapp.bing_image_search import ImageSearchClient as BingClient
from visionapp.huawei_ocr import OCRClient

if TYPE_CHECKING:
    from pytest_visioncontract import VisionError

C = TypeVar("C")
Calls = dict[str, Callable[[C], object]]

IMAGE = b"\xff\xd8\xff\xe0 not really a jpeg"
IMAGE_URL = "https://images.example.com/team-photo.jpg"
FACE_ID = "c5c24a82-6845-4031-9d5d-978df9175426"
OTHER_FACE_ID = "015839fb-fbd9-4f79-ace9-7675fc2f1dd9"

FACE_CALLS: Calls[FaceClient] = {
    "detect": lambda c: c.detect(IMAGE_URL),
    "identify": lambda c: c.identify([FACE_ID], large_person_group_id="employees"),
    "verify": lambda c: c.verify(FACE_ID, OTHER_FACE_ID),
    "find_similar": lambda c: c.find_similar(FACE_ID, large_face_list_id="visitors"),
    "group": lambda c: c.group([FACE_ID, OTHER_FACE_ID]),
    "person_group": lambda c: c.create_person_group("employees", "Employees"),
    "large_person_group": lambda c: c.get_large_person_group("employees"),
    "face_list": lambda c: c.create_face_list("visitors", "Visitors"),
    "large_face_list": lambda c: c.get_large_face_list("visitors"),
    "person_directory": lambda c: c.create_person("Ada Lovelace", user_data="badge 1815"),
    "liveness_session": lambda c: c.create_liveness_session("device-7f3a"),
}
IMAGE_ANALYSIS_CALLS: Calls[ImageAnalysisClient] = {
    "analyze": lambda c: c.analyze(IMAGE),
}
HUAWEI_CALLS: Calls[OCRClient] = {
    "general_text": lambda c: c.general_text(IMAGE),
}
ALIBABA_CALLS: Calls[AlibabaClient] = {
    "search_image_by_pic": lambda c: c.search_by_pic(IMAGE, num=5),
    "add_image": lambda c: c.add_image("sku-1001", "front.jpg", IMAGE),
    "delete_image": lambda c: c.delete_image("sku-1001"),
}
BING_CALLS: Calls[BingClient] = {
    "search": lambda c: c.search("red bicycle"),
    "trending": lambda c: c.trending(),
}


def call_for(calls: Calls[C], vision_error: VisionError, default: str) -> Callable[[C], object]:
    """The client call a case is about; errors documented for every operation use ``default``."""
    return calls[default if vision_error.operation == "any" else vision_error.operation]


def raised(err: VisionAPIError) -> dict[str, Any]:
    return {
        "status": err.status,
        "code": err.code,
        "inner_code": err.inner_code,
        "message": err.message,
        "retryable": err.retryable,
        "retry_after": err.retry_after,
    }


def documented(vision_error: VisionError) -> dict[str, Any]:
    return {
        "status": vision_error.status,
        "code": vision_error.code,
        "inner_code": vision_error.inner_code,
        "message": vision_error.message,
        "retryable": vision_error.retryable,
        "retry_after": vision_error.response.retry_after,
    }


@pytest.mark.vision_errors("azure_face", handled=(VisionAPIError,))
def test_face_errors(vision_error: VisionError) -> None:
    client = FaceClient("https://contoso-face.cognitiveservices.azure.com", "face-key")
    with pytest.raises(VisionAPIError) as caught:
        call_for(FACE_CALLS, vision_error, default="detect")(client)
    assert raised(caught.value) == documented(vision_error)
    assert caught.value.request_id == vision_error.response.header("apim-request-id")


@pytest.mark.vision_errors("azure_image_analysis", handled=(VisionAPIError,))
def test_image_analysis_errors(vision_error: VisionError) -> None:
    client = ImageAnalysisClient("https://contoso-vision.cognitiveservices.azure.com", "key")
    with pytest.raises(VisionAPIError) as caught:
        call_for(IMAGE_ANALYSIS_CALLS, vision_error, default="analyze")(client)
    assert raised(caught.value) == documented(vision_error)
    assert caught.value.request_id == vision_error.response.header("apim-request-id")


@pytest.mark.vision_errors("huawei_ocr", handled=(VisionAPIError,))
def test_huawei_ocr_errors(vision_error: VisionError) -> None:
    client = OCRClient("ap-southeast-1", "0b5a1f2e3d4c", "iam-token")
    with pytest.raises(VisionAPIError) as caught:
        call_for(HUAWEI_CALLS, vision_error, default="general_text")(client)
    assert raised(caught.value) == documented(vision_error)
    assert caught.value.request_id == vision_error.response.header("X-Request-Id")


@pytest.mark.vision_errors("alibaba_image_search", handled=(VisionAPIError,))
def test_alibaba_image_search_errors(vision_error: VisionError) -> None:
    client = AlibabaClient("cn-shanghai", "catalog-search", "access-key-id")
    with pytest.raises(VisionAPIError) as caught:
        call_for(ALIBABA_CALLS, vision_error, default="search_image_by_pic")(client)
    assert raised(caught.value) == documented(vision_error)
    assert caught.value.request_id == vision_error.response.json()["RequestId"]


@pytest.mark.vision_errors("bing_image_search", handled=(VisionAPIError,))
def test_bing_image_search_errors(vision_error: VisionError) -> None:
    client = BingClient("bing-key")
    with pytest.raises(VisionAPIError) as caught:
        call_for(BING_CALLS, vision_error, default="search")(client)
    assert raised(caught.value) == documented(vision_error)
    assert caught.value.request_id == vision_error.response.header("BingAPIs-TraceId")
