"""A hand-rolled Image Analysis client with a typical bug, for pytest-visioncontract to catch.

The developer wrote the error handling from the one example in the documentation, an
``InvalidImageFormat`` error, and so reads ``error.innererror.code`` unconditionally. Most
documented errors (a bad key, a missing resource, most bad requests) carry no ``innererror``:
those escape as ``KeyError: 'innererror'`` instead of the app's ``VisionAPIError``.
"""

from __future__ import annotations

import requests

from visionapp.errors import VisionAPIError

PROVIDER = "azure_image_analysis"


class ImageAnalysisClient:
    def __init__(self, endpoint: str, key: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.key = key

    def caption(self, image: bytes) -> str:
        response = requests.post(
            f"{self.endpoint}/computervision/imageanalysis:analyze",
            params={"api-version": "2023-10-01", "features": "caption,read"},
            headers={
                "Ocp-Apim-Subscription-Key": self.key,
                "Content-Type": "application/octet-stream",
            },
            data=image,
            timeout=30,
        )
        if response.status_code != 200:
            error = response.json()["error"]
            raise VisionAPIError(
                PROVIDER,
                response.status_code,
                error["code"],
                error["message"],
                inner_code=error["innererror"]["code"],  # BUG: innererror is optional
                request_id=response.headers.get("apim-request-id"),
            )
        return str(response.json()["captionResult"]["text"])
