"""Azure AI Vision Image Analysis 4.0: caption and read (OCR) an image, over ``requests``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from visionapp import _azure
from visionapp.errors import VisionAPIError

PROVIDER = "azure_image_analysis"
API_VERSION = "2023-10-01"


@dataclass(frozen=True)
class ImageAnalysis:
    caption: str | None
    caption_confidence: float | None
    lines: list[str] = field(default_factory=list)  # text read from the image, line by line


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> VisionAPIError:
    return _azure.error_from_response(PROVIDER, status, headers, body)


class ImageAnalysisClient:
    def __init__(
        self,
        endpoint: str,
        key: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers["Ocp-Apim-Subscription-Key"] = key
        self.timeout = timeout

    def analyze(
        self,
        image: bytes | str,
        *,
        features: Sequence[str] = ("caption", "read"),
        language: str = "en",
    ) -> ImageAnalysis:
        """Analyze image bytes, or the image at a URL."""
        params = {"api-version": API_VERSION, "features": ",".join(features), "language": language}
        url = f"{self.endpoint}/computervision/imageanalysis:analyze"
        if isinstance(image, str):
            response = self.session.post(
                url, params=params, json={"url": image}, timeout=self.timeout
            )
        else:
            response = self.session.post(
                url,
                params=params,
                data=image,
                headers={"Content-Type": "application/octet-stream"},
                timeout=self.timeout,
            )
        if not response.ok:
            raise error_from_response(response.status_code, response.headers, response.content)
        return _analysis(response.json())


def _analysis(document: dict[str, Any]) -> ImageAnalysis:
    caption = document.get("captionResult") or {}
    blocks = (document.get("readResult") or {}).get("blocks") or []
    return ImageAnalysis(
        caption=caption.get("text"),
        caption_confidence=caption.get("confidence"),
        lines=[line.get("text", "") for block in blocks for line in block.get("lines") or []],
    )
