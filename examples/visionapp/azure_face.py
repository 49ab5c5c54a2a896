"""Azure AI Face v1.2 over ``requests``: detection, recognition, and the containers they use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import requests

from visionapp import _azure
from visionapp.errors import VisionAPIError

PROVIDER = "azure_face"
API = "face/v1.2"
RECOGNITION_MODEL = "recognition_04"

#: Conflicts that clear up by themselves: worth retrying later.
TRANSIENT_CODES = frozenset(
    {
        "ConcurrentOperationConflict",
        "PersonGroupTrainingNotFinished",
        "LargePersonGroupTrainingNotFinished",
        "LargeFaceListTrainingNotFinished",
    }
)

Container = Literal["persongroups", "largepersongroups", "facelists", "largefacelists"]


@dataclass(frozen=True)
class DetectedFace:
    face_id: str | None
    rectangle: Mapping[str, int]


@dataclass(frozen=True)
class Verification:
    is_identical: bool
    confidence: float


@dataclass(frozen=True)
class LivenessSession:
    session_id: str
    auth_token: str


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> VisionAPIError:
    return _azure.error_from_response(
        PROVIDER, status, headers, body, transient_codes=TRANSIENT_CODES
    )


class FaceClient:
    def __init__(
        self,
        endpoint: str,
        key: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base = f"{endpoint.rstrip('/')}/{API}"
        self.session = session or requests.Session()
        self.session.headers["Ocp-Apim-Subscription-Key"] = key
        self.timeout = timeout

    # ------------------------------------------------------------------ detection, recognition

    def detect(self, image: bytes | str, *, return_face_id: bool = True) -> list[DetectedFace]:
        """Faces in image bytes or at an image URL (face ids need the approved feature)."""
        params = {
            "detectionModel": "detection_03",
            "recognitionModel": RECOGNITION_MODEL,
            "returnFaceId": str(return_face_id).lower(),
        }
        if isinstance(image, str):
            faces = self._call("POST", "detect", params=params, json={"url": image})
        else:
            faces = self._call("POST", "detect", params=params, data=image)
        return [DetectedFace(f.get("faceId"), f.get("faceRectangle", {})) for f in faces]

    def identify(
        self, face_ids: Sequence[str], *, large_person_group_id: str, max_candidates: int = 1
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            "POST",
            "identify",
            json={
                "faceIds": list(face_ids),
                "largePersonGroupId": large_person_group_id,
                "maxNumOfCandidatesReturned": max_candidates,
            },
        )
        return result

    def verify(self, face_id1: str, face_id2: str) -> Verification:
        result = self._call("POST", "verify", json={"faceId1": face_id1, "faceId2": face_id2})
        return Verification(bool(result["isIdentical"]), float(result["confidence"]))

    def find_similar(
        self, face_id: str, *, large_face_list_id: str, max_candidates: int = 20
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            "POST",
            "findsimilars",
            json={
                "faceId": face_id,
                "largeFaceListId": large_face_list_id,
                "maxNumOfCandidatesReturned": max_candidates,
                "mode": "matchPerson",
            },
        )
        return result

    def group(self, face_ids: Sequence[str]) -> list[list[str]]:
        result = self._call("POST", "group", json={"faceIds": list(face_ids)})
        return [list(g) for g in result.get("groups", [])]

    # ------------------------------------------------------------------ containers

    def create_person_group(self, group_id: str, name: str) -> None:
        self._create("persongroups", group_id, name)

    def get_person_group(self, group_id: str) -> dict[str, Any]:
        return self._get("persongroups", group_id)

    def create_large_person_group(self, group_id: str, name: str) -> None:
        self._create("largepersongroups", group_id, name)

    def get_large_person_group(self, group_id: str) -> dict[str, Any]:
        return self._get("largepersongroups", group_id)

    def create_face_list(self, list_id: str, name: str) -> None:
        self._create("facelists", list_id, name)

    def get_face_list(self, list_id: str) -> dict[str, Any]:
        return self._get("facelists", list_id)

    def create_large_face_list(self, list_id: str, name: str) -> None:
        self._create("largefacelists", list_id, name)

    def get_large_face_list(self, list_id: str) -> dict[str, Any]:
        return self._get("largefacelists", list_id)

    def create_person(self, name: str, *, user_data: str | None = None) -> str:
        """Create a person in the person directory; returns its id (training runs async)."""
        body = {"name": name} | ({"userData": user_data} if user_data else {})
        return str(self._call("POST", "persons", json=body)["personId"])

    def create_liveness_session(
        self, device_correlation_id: str, *, token_ttl_seconds: int = 600
    ) -> LivenessSession:
        result = self._call(
            "POST",
            "detectLiveness-sessions",
            json={
                "livenessOperationMode": "Passive",
                "deviceCorrelationId": device_correlation_id,
                "authTokenTimeToLiveInSeconds": token_ttl_seconds,
            },
        )
        return LivenessSession(result["sessionId"], result["authToken"])

    # ------------------------------------------------------------------ plumbing

    def _create(self, kind: Container, container_id: str, name: str) -> None:
        self._call(
            "PUT",
            f"{kind}/{container_id}",
            json={"name": name, "recognitionModel": RECOGNITION_MODEL},
        )

    def _get(self, kind: Container, container_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"{kind}/{container_id}")
        return result

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
    ) -> Any:
        headers = {"Content-Type": "application/octet-stream"} if data is not None else None
        response = self.session.request(
            method,
            f"{self.base}/{path}",
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=self.timeout,
        )
        if not response.ok:
            raise error_from_response(response.status_code, response.headers, response.content)
        return response.json() if response.content else None
