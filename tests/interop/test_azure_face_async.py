"""Interoperability: the async ``azure.ai.vision.face.aio`` clients against every documented error.

``FaceClient``, ``FaceAdministrationClient`` and ``FaceSessionClient`` from
``azure.ai.vision.face.aio`` run on azure-core's ``AioHttpTransport`` (aiohttp). Each error is
served on its operation and reached with the same calls as the sync test
(``test_azure_face.py``), awaited; routes this SDK release does not model go through
``await client.send_request(...)`` and ``raise_for_status()``. Every error must surface as
``HttpResponseError`` with the documented status, code and message.

Retries: ``AsyncRetryPolicy`` behaves as the sync policy (``retry_total=0`` here: one request per
case); its waits await ``asyncio.sleep``, virtual under the plugin.

Faults: ``LOOPBACK`` is what the aio clients raise when a real server on 127.0.0.1 sends the same
bytes, resets the connection or never answers (``tests/interop/loopback.py``), on each of the
three paths an error takes through the SDK (see docs/sdks/azure-ai-vision-face.md);
``test_plugin_serves_the_loopback_truth`` requires the plugin's ``faults=True`` variants to
raise the same.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from azure.ai.vision.face.aio import FaceAdministrationClient, FaceClient, FaceSessionClient
from azure.ai.vision.face.models import (
    CreateLivenessSessionContent,
    FaceDetectionModel,
    FaceRecognitionModel,
    LivenessOperationMode,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import (
    DecodeError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.rest import HttpRequest
from loopback import KINDS, SHORT_TIMEOUT, Seen, azure_seen, kind_id, served, serving
from test_azure_face import (
    CREDENTIAL,
    ENDPOINT,
    FACE_1,
    FACE_2,
    IMAGE,
    NO_RETRIES,
    assert_surfaces,
    path_of,
    served_on,
)

from pytest_visioncontract import VisionError


async def detect(endpoint: str = ENDPOINT, **kwargs: Any) -> Any:
    async with FaceClient(endpoint, CREDENTIAL, **kwargs) as client:
        return await client.detect(
            IMAGE,
            detection_model=FaceDetectionModel.DETECTION03,
            recognition_model=FaceRecognitionModel.RECOGNITION04,
            return_face_id=True,
        )


async def face(call: Callable[[FaceClient], Awaitable[Any]], endpoint: str, **kwargs: Any) -> Any:
    async with FaceClient(endpoint, CREDENTIAL, **kwargs) as client:
        return await call(client)


async def administration(
    call: Callable[[FaceAdministrationClient], Awaitable[Any]], endpoint: str, **kwargs: Any
) -> Any:
    async with FaceAdministrationClient(endpoint, CREDENTIAL, **kwargs) as client:
        return await call(client)


async def unmodelled(
    method: str, path: str, body: dict[str, Any] | None, endpoint: str, **kwargs: Any
) -> None:
    """A route this SDK release has no method for, through the SDK's own pipeline."""
    async with FaceClient(endpoint, CREDENTIAL, **kwargs) as client:
        response = await client.send_request(HttpRequest(method, path, json=body))
        response.raise_for_status()


async def create_liveness_session(endpoint: str, **kwargs: Any) -> Any:
    content = CreateLivenessSessionContent(liveness_operation_mode=LivenessOperationMode.PASSIVE)
    async with FaceSessionClient(endpoint, CREDENTIAL, **kwargs) as session:
        return await session.create_liveness_session(content)


# catalog operation -> an awaitable SDK call, given the endpoint and client keyword arguments
OPERATION_CALLS: dict[str, Callable[..., Awaitable[Any]]] = {
    "detect": detect,
    "identify": lambda endpoint, **kw: face(
        lambda c: c.identify_from_large_person_group(
            face_ids=[FACE_1], large_person_group_id="employees"
        ),
        endpoint,
        **kw,
    ),
    "verify": lambda endpoint, **kw: face(
        lambda c: c.verify_face_to_face(face_id1=FACE_1, face_id2=FACE_2), endpoint, **kw
    ),
    "find_similar": lambda endpoint, **kw: face(
        lambda c: c.find_similar(face_id=FACE_1, face_ids=[FACE_2]), endpoint, **kw
    ),
    "group": lambda endpoint, **kw: face(
        lambda c: c.group(face_ids=[FACE_1, FACE_2]), endpoint, **kw
    ),
    "person_group": lambda endpoint, **kw: unmodelled(
        "PUT", "/persongroups/employees", {"name": "Employees"}, endpoint, **kw
    ),
    "large_person_group": lambda endpoint, **kw: administration(
        lambda c: c.large_person_group.create("employees", name="Employees"), endpoint, **kw
    ),
    "face_list": lambda endpoint, **kw: unmodelled(
        "PUT", "/facelists/visitors", {"name": "Visitors"}, endpoint, **kw
    ),
    "large_face_list": lambda endpoint, **kw: administration(
        lambda c: c.large_face_list.create("visitors", name="Visitors"), endpoint, **kw
    ),
    "person_directory": lambda endpoint, **kw: unmodelled(
        "GET", f"/persons/{FACE_1}", None, endpoint, **kw
    ),
    "liveness_session": create_liveness_session,
}


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_face")
async def test_every_operation_surfaces_status_and_code(vision_error: VisionError) -> None:
    operation = served_on(vision_error)
    with pytest.raises(HttpResponseError) as caught:
        await OPERATION_CALLS[operation](ENDPOINT, **NO_RETRIES)
    assert_surfaces(caught.value, vision_error, operation)


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_face", operations=["detect"])
async def test_detect_async_surfaces_status_and_code(vision_error: VisionError) -> None:
    client = FaceClient(
        "https://myres.cognitiveservices.azure.com",
        AzureKeyCredential("test-key"),
        retry_total=0,  # one request per case: no SDK retries
    )
    async with client:
        with pytest.raises(HttpResponseError) as caught:
            await client.detect(
                b"\xff\xd8\xff\xe0\x00\x10JFIF",
                detection_model=FaceDetectionModel.DETECTION03,
                recognition_model=FaceRecognitionModel.RECOGNITION04,
                return_face_id=True,
            )
    assert caught.value.status_code == vision_error.status
    assert caught.value.error is not None
    assert caught.value.error.code == vision_error.code
    assert caught.value.error.message == vision_error.message


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry=True)
async def test_default_retry_policy_honours_retry_after(vision_error: VisionError) -> None:
    faces = await detect()
    assert faces[0].face_id == FACE_1
    assert vision_error.waits == [1.0]  # the served Retry-After: 1, awaited virtually


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"])
async def test_default_retry_policy_repeats_a_persistent_429(vision_error: VisionError) -> None:
    with pytest.raises(HttpResponseError) as caught:
        await detect()
    assert caught.value.status_code == 429
    assert len(vision_error.requests) == 4  # 1 + retry_status=3
    assert vision_error.waits == [1.0, 1.0, 1.0]


# --------------------------------------------------------------------------- faults

# path -> (operation, catalog entry, status, code). "read": a generated method and a status it
# does not map (it calls response.json()); "mapped": 401/404/409 on a generated method (raised
# before the body is read); "raw": send_request + raise_for_status().
PATHS: dict[str, tuple[str, str, int, str]] = {
    "read": ("detect", "common-400-InvalidImage-decoding-error-image", 400, "InvalidImage"),
    "mapped": (
        "liveness_session",
        "liveness_session-404-SessionNotFound-session-id-is",
        404,
        "SessionNotFound",
    ),
    "raw": (
        "person_group",
        "person_group-409-PersonGroupExists-person-group-already",
        409,
        "PersonGroupExists",
    ),
}


RESET = Seen(ServiceRequestError, aiohttp.ClientOSError, False, False)  # sync: ServiceResponseError
TIMEOUT = Seen(ServiceResponseTimeoutError, aiohttp.SocketTimeoutError, False, False)
UTF8 = Seen(UnicodeDecodeError, None, False, False)
TRUNCATED = Seen(DecodeError, json.JSONDecodeError, True, False)
# What the aio clients raise for each variant on each path, observed against a real loopback
# server (aiohttp 3.14, azure-core 1.41.0, azure-ai-vision-face 1.0.0b2; retry_total=0).
LOOPBACK: dict[tuple[str | None, str], Seen] = {
    (None, "read"): Seen(HttpResponseError, None, True, True),
    (None, "mapped"): Seen(ResourceNotFoundError, None, True, True),
    (None, "raw"): Seen(HttpResponseError, None, True, True),
    ("truncated", "read"): TRUNCATED,
    ("truncated", "mapped"): TRUNCATED,
    ("truncated", "raw"): TRUNCATED,
    ("empty_body", "read"): Seen(json.JSONDecodeError, None, False, False),
    ("empty_body", "mapped"): Seen(ResourceNotFoundError, None, True, False),
    ("empty_body", "raw"): Seen(HttpResponseError, None, True, False),
    ("html", "read"): Seen(json.JSONDecodeError, None, False, False),
    ("html", "mapped"): Seen(ResourceNotFoundError, None, True, False),
    ("html", "raw"): Seen(HttpResponseError, None, True, False),
    ("wrong_content_type", "read"): Seen(HttpResponseError, None, True, True),
    ("wrong_content_type", "mapped"): Seen(ResourceNotFoundError, None, True, True),
    ("wrong_content_type", "raw"): Seen(HttpResponseError, None, True, True),
    ("no_content_type", "read"): Seen(HttpResponseError, None, True, True),
    ("no_content_type", "mapped"): Seen(ResourceNotFoundError, None, True, True),
    ("no_content_type", "raw"): Seen(HttpResponseError, None, True, True),
    ("non_utf8", "read"): UTF8,
    ("non_utf8", "mapped"): UTF8,
    ("non_utf8", "raw"): UTF8,
    ("connection_reset", "read"): RESET,
    ("connection_reset", "mapped"): RESET,
    ("connection_reset", "raw"): RESET,
    ("read_timeout", "read"): TIMEOUT,
    ("read_timeout", "mapped"): TIMEOUT,
    ("read_timeout", "raw"): TIMEOUT,
}


def requests_sent(kind: str | None, path: str) -> int:
    """aiohttp itself sends an idempotent request (the raw path's PUT) again after a reset."""
    return 2 if (kind, path) == ("connection_reset", "raw") else 1


@pytest.mark.asyncio
@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
async def test_loopback_truth(kind: str | None, path: str) -> None:
    operation, entry, status, code = PATHS[path]
    with serving(served("azure_face", entry, kind)) as server, pytest.raises(Exception) as caught:
        await OPERATION_CALLS[operation](server.base, retry_total=0, read_timeout=SHORT_TIMEOUT)
    assert len(server.requests) == requests_sent(kind, path)
    assert azure_seen(caught.value, status, code) == LOOPBACK[kind, path]


@pytest.mark.asyncio
@pytest.mark.vision_errors(
    "azure_face", codes=["InvalidImage", "SessionNotFound", "PersonGroupExists"], faults=True
)
async def test_plugin_serves_the_loopback_truth(vision_error: VisionError) -> None:
    with pytest.raises(Exception) as caught:
        await OPERATION_CALLS[served_on(vision_error)](ENDPOINT, **NO_RETRIES)
    got = azure_seen(caught.value, vision_error.status, vision_error.code)
    path = path_of(vision_error)
    truth = LOOPBACK[vision_error.variant, path]
    sent, expected = len(vision_error.requests), requests_sent(vision_error.variant, path)
    assert (got, sent) == (truth, expected), (
        f"through the plugin: {got}, {sent} request(s); "
        f"from a real server: {truth}, {expected} request(s)"
    )


@pytest.mark.asyncio
@pytest.mark.vision_errors(
    "azure_face",
    codes=["InvalidImage", "SessionNotFound", "PersonGroupExists"],
    faults=True,
    handled=(HttpResponseError, ServiceRequestError, ServiceResponseError, ValueError),
)
async def test_recommended_handled_covers_every_variant(vision_error: VisionError) -> None:
    await OPERATION_CALLS[served_on(vision_error)](ENDPOINT, **NO_RETRIES)


@pytest.mark.asyncio
@pytest.mark.vision_errors("azure_face", codes=["InvalidImage"], faults=["connection_reset"])
async def test_the_sync_handled_tuple_misses_the_async_reset(vision_error: VisionError) -> None:
    """``ServiceRequestError`` is not a ``ServiceResponseError``: the sync tuple lets it out."""
    expected = HttpResponseError if vision_error.variant is None else ServiceRequestError
    with pytest.raises(expected) as caught:
        await detect(**NO_RETRIES)
    sync_handled = (HttpResponseError, ServiceResponseError, ValueError)
    assert isinstance(caught.value, sync_handled) is (vision_error.variant is None)
