"""Interoperability: the official ``azure-ai-vision-face`` SDK against every documented error.

Each case is served on its operation, and the test calls the SDK method that hits that
operation's route (``OPERATION_CALLS``): ``FaceClient`` for detect, identify, verify,
find_similar and group; ``FaceAdministrationClient`` for large person groups and large face
lists; ``FaceSessionClient`` for liveness sessions. Person groups, face lists and the person
directory have no method in this SDK release (1.0.0b2 models only the "large" variants), so
those cases go through the SDK's own ``send_request`` (the documented way to call a route the
SDK does not model) and ``raise_for_status()``. Errors documented for every operation ("any")
are served on detect.

Every error must surface as an ``azure.core.exceptions.HttpResponseError`` with the documented
status (``.status_code``), code and message (``.error.code``, ``.error.message``).

Retries: azure-core's ``RetryPolicy`` retries 408, 429, 500, 502, 503 and 504, and any error
response that carries ``Retry-After`` (Face's 429), up to 3 times. The clients here are built
with ``retry_total=0`` so every case makes exactly one request;
``test_default_retry_policy_*`` pin what the default policy does (its sleeps are virtual under
the plugin).

``test_fault_variants_pinned`` records what escapes the SDK for each broken response
(``faults=True``); see docs/sdks/azure-ai-vision-face.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from azure.ai.vision.face import FaceAdministrationClient, FaceClient, FaceSessionClient
from azure.ai.vision.face.models import (
    CreateLivenessSessionContent,
    FaceDetectionModel,
    FaceErrorResponse,
    FaceRecognitionModel,
    LivenessOperationMode,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import (
    DecodeError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.rest import HttpRequest

from pytest_visioncontract import VisionError

ENDPOINT = "https://myres.cognitiveservices.azure.com"
CREDENTIAL = AzureKeyCredential("test-key")
IMAGE = b"\xff\xd8\xff\xe0\x00\x10JFIF"
FACE_1 = "c5c24a82-6845-4031-9d5d-978df9175426"
FACE_2 = "015839fb-fbd9-4f79-ace9-7675fc2f1dd9"
NO_RETRIES: dict[str, Any] = {"retry_total": 0}  # one request per case: no SDK retries


def face_client(**kwargs: Any) -> FaceClient:
    return FaceClient(ENDPOINT, CREDENTIAL, **kwargs)


def detect(client: FaceClient) -> Any:
    return client.detect(
        IMAGE,
        detection_model=FaceDetectionModel.DETECTION03,
        recognition_model=FaceRecognitionModel.RECOGNITION04,
        return_face_id=True,
    )


def unmodelled(method: str, path: str, body: dict[str, Any] | None = None) -> None:
    """A route this SDK release has no method for, through the SDK's own pipeline."""
    response = face_client(**NO_RETRIES).send_request(HttpRequest(method, path, json=body))
    response.raise_for_status()


def create_liveness_session() -> Any:
    session = FaceSessionClient(ENDPOINT, CREDENTIAL, **NO_RETRIES)
    content = CreateLivenessSessionContent(liveness_operation_mode=LivenessOperationMode.PASSIVE)
    return session.create_liveness_session(content)


OPERATION_CALLS: dict[str, Callable[[], Any]] = {
    "detect": lambda: detect(face_client(**NO_RETRIES)),
    "identify": lambda: face_client(**NO_RETRIES).identify_from_large_person_group(
        face_ids=[FACE_1], large_person_group_id="employees"
    ),
    "verify": lambda: face_client(**NO_RETRIES).verify_face_to_face(
        face_id1=FACE_1, face_id2=FACE_2
    ),
    "find_similar": lambda: face_client(**NO_RETRIES).find_similar(
        face_id=FACE_1, face_ids=[FACE_2]
    ),
    "group": lambda: face_client(**NO_RETRIES).group(face_ids=[FACE_1, FACE_2]),
    "person_group": lambda: unmodelled("PUT", "/persongroups/employees", {"name": "Employees"}),
    "large_person_group": lambda: FaceAdministrationClient(
        ENDPOINT, CREDENTIAL, **NO_RETRIES
    ).large_person_group.create("employees", name="Employees"),
    "face_list": lambda: unmodelled("PUT", "/facelists/visitors", {"name": "Visitors"}),
    "large_face_list": lambda: FaceAdministrationClient(
        ENDPOINT, CREDENTIAL, **NO_RETRIES
    ).large_face_list.create("visitors", name="Visitors"),
    "person_directory": lambda: unmodelled("GET", f"/persons/{FACE_1}"),
    "liveness_session": create_liveness_session,
}
UNMODELLED = {"person_group", "face_list", "person_directory"}
MAPPED_STATUSES = {401, 404, 409}  # the SDK raises these before reading the body (error_map)


def served_on(vision_error: VisionError) -> str:
    return "detect" if vision_error.operation == "any" else vision_error.operation


def assert_surfaces(error: HttpResponseError, vision_error: VisionError, operation: str) -> None:
    """``error`` carries the documented status, code and message; one request, on ``operation``."""
    assert error.status_code == vision_error.status
    assert error.error is not None
    assert error.error.code == vision_error.code
    assert error.error.message == vision_error.message
    # The generated methods also deserialize a FaceErrorResponse into .model, but only for
    # statuses they do not map to an exception type of their own.
    modelled = operation not in UNMODELLED and vision_error.status not in MAPPED_STATUSES
    assert isinstance(error.model, FaceErrorResponse) is modelled
    if isinstance(error.model, FaceErrorResponse):
        assert error.model.error.code == vision_error.code
    assert [r.operation for r in vision_error.requests] == [operation]


def path_of(vision_error: VisionError) -> str:
    """The path an error takes through the SDK (see ``FAULTS``)."""
    if served_on(vision_error) in UNMODELLED:
        return "raw"
    return "mapped" if vision_error.status in MAPPED_STATUSES else "read"


@pytest.mark.vision_errors("azure_face")
def test_every_operation_surfaces_status_and_code(vision_error: VisionError) -> None:
    operation = served_on(vision_error)
    with pytest.raises(HttpResponseError) as caught:
        OPERATION_CALLS[operation]()
    assert_surfaces(caught.value, vision_error, operation)


@pytest.mark.vision_errors("azure_face", operations=["detect"])
def test_detect_surfaces_status_and_code(vision_error: VisionError) -> None:
    client = FaceClient(
        "https://myres.cognitiveservices.azure.com",
        AzureKeyCredential("test-key"),
        retry_total=0,  # one request per case: no SDK retries
    )
    with pytest.raises(HttpResponseError) as caught:
        client.detect(
            b"\xff\xd8\xff\xe0\x00\x10JFIF",
            detection_model=FaceDetectionModel.DETECTION03,
            recognition_model=FaceRecognitionModel.RECOGNITION04,
            return_face_id=True,
        )
    assert caught.value.status_code == vision_error.status
    assert caught.value.error is not None
    assert caught.value.error.code == vision_error.code
    assert caught.value.error.message == vision_error.message


@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry=True)
def test_default_retry_policy_honours_retry_after(vision_error: VisionError) -> None:
    faces = detect(face_client())
    assert faces[0].face_id == FACE_1
    assert vision_error.waits == [1.0]  # the served Retry-After: 1, slept virtually


@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"])
def test_default_retry_policy_repeats_a_persistent_429(vision_error: VisionError) -> None:
    with pytest.raises(HttpResponseError) as caught:
        detect(face_client())
    assert caught.value.status_code == 429
    assert caught.value.error is not None
    assert caught.value.error.code == "429"
    assert len(vision_error.requests) == 4  # 1 + retry_status=3
    assert vision_error.waits == [1.0, 1.0, 1.0]


@pytest.mark.vision_errors(
    "azure_face", operations=["identify"], codes=["PersonGroupTrainingNotFinished"]
)
def test_default_retry_policy_does_not_retry_a_409(vision_error: VisionError) -> None:
    # The catalog marks "under training" conflicts retryable; azure-core does not retry a 409.
    with pytest.raises(ResourceExistsError):
        face_client().identify_from_large_person_group(
            face_ids=[FACE_1], large_person_group_id="employees"
        )
    assert len(vision_error.requests) == 1


FAULT_CODES = [
    "InvalidImage",  # 400 on detect: the generated code reads the body (response.json())
    "SessionNotFound",  # 404 on liveness_session: in the error_map, raised before reading
    "PersonGroupExists",  # 409 on person_group: send_request + raise_for_status()
]
# (variant, path) -> (exception type that escapes, status kept, code kept); path is "read"
# (status not in the error map, generated method: it calls response.json() on the body),
# "mapped" (401/404/409 on a generated method) or "raw" (send_request + raise_for_status).
FAULTS: dict[tuple[str | None, str], tuple[type[BaseException], bool, bool]] = {
    (None, "read"): (HttpResponseError, True, True),
    (None, "mapped"): (ResourceNotFoundError, True, True),
    (None, "raw"): (HttpResponseError, True, True),
    ("truncated", "read"): (DecodeError, True, False),
    ("truncated", "mapped"): (DecodeError, True, False),
    ("truncated", "raw"): (DecodeError, True, False),
    ("empty_body", "read"): (json.JSONDecodeError, False, False),
    ("empty_body", "mapped"): (ResourceNotFoundError, True, False),
    ("empty_body", "raw"): (HttpResponseError, True, False),
    ("html", "read"): (json.JSONDecodeError, False, False),
    ("html", "mapped"): (ResourceNotFoundError, True, False),
    ("html", "raw"): (HttpResponseError, True, False),
    ("wrong_content_type", "read"): (HttpResponseError, True, True),
    ("wrong_content_type", "mapped"): (ResourceNotFoundError, True, True),
    ("wrong_content_type", "raw"): (HttpResponseError, True, True),
    ("no_content_type", "read"): (HttpResponseError, True, True),
    ("no_content_type", "mapped"): (ResourceNotFoundError, True, True),
    ("no_content_type", "raw"): (HttpResponseError, True, True),
    ("non_utf8", "read"): (UnicodeDecodeError, False, False),
    ("non_utf8", "mapped"): (UnicodeDecodeError, False, False),
    ("non_utf8", "raw"): (UnicodeDecodeError, False, False),
    ("connection_reset", "read"): (ServiceResponseError, False, False),
    ("connection_reset", "mapped"): (ServiceResponseError, False, False),
    ("connection_reset", "raw"): (ServiceResponseError, False, False),
    ("read_timeout", "read"): (ServiceResponseTimeoutError, False, False),
    ("read_timeout", "mapped"): (ServiceResponseTimeoutError, False, False),
    ("read_timeout", "raw"): (ServiceResponseTimeoutError, False, False),
}


@pytest.mark.vision_errors(
    "azure_face",
    codes=FAULT_CODES,
    faults=True,
    handled=(HttpResponseError, ServiceResponseError, ValueError),
)
def test_fault_variants_pinned(vision_error: VisionError) -> None:
    exception_type, status_kept, code_kept = FAULTS[vision_error.variant, path_of(vision_error)]
    with pytest.raises(exception_type) as caught:
        OPERATION_CALLS[served_on(vision_error)]()
    error = caught.value
    assert type(error) is exception_type
    status = getattr(error, "status_code", None)
    assert status == (vision_error.status if status_kept else None)
    odata = getattr(error, "error", None)
    assert (getattr(odata, "code", None) == vision_error.code) is code_kept
