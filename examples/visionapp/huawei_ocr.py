"""Huawei Cloud OCR (general text recognition) over ``httpx``."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from visionapp._http import shared_httpx_client
from visionapp.errors import (
    RETRYABLE_STATUSES,
    VisionAPIError,
    fallback_message,
    field,
    header,
    json_body,
    retry_after,
    text,
)

PROVIDER = "huawei_ocr"


@dataclass(frozen=True)
class TextBlock:
    words: str
    confidence: float | None


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> VisionAPIError:
    """Read ``{"error_code": "AIS.0103", "error_msg": "..."}``.

    Some gateway answers nest it as ``{"error": {"code", "message"}}``; that is read too.
    """
    document = json_body(body)
    code = (
        text(field(document, "error_code")) or text(field(document, "error", "code")) or str(status)
    )
    message = (
        text(field(document, "error_msg"))
        or text(field(document, "error", "message"))
        or fallback_message(status, body)
    )
    return VisionAPIError(
        PROVIDER,
        status,
        code,
        message,
        retryable=status in RETRYABLE_STATUSES,
        request_id=header(headers, "X-Request-Id") or text(field(document, "request_id")),
        retry_after=retry_after(header(headers, "Retry-After")),
    )


class OCRClient:
    def __init__(
        self,
        region: str,
        project_id: str,
        token: str,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        self.base = f"https://ocr.{region}.myhuaweicloud.com/v2/{project_id}/ocr"
        self.client = client or shared_httpx_client()
        self.token = token

    def general_text(self, image: bytes, *, detect_direction: bool = True) -> list[TextBlock]:
        """The text blocks recognized in an image (JPG, PNG, BMP or TIFF bytes)."""
        response = self.client.post(
            f"{self.base}/general-text",
            headers={"X-Auth-Token": self.token},
            json={
                "image": base64.b64encode(image).decode("ascii"),
                "detect_direction": detect_direction,
            },
            timeout=30.0,
        )
        if response.is_error:
            raise error_from_response(response.status_code, response.headers, response.content)
        blocks = response.json().get("result", {}).get("words_block_list", [])
        return [TextBlock(b.get("words", ""), b.get("confidence")) for b in blocks]
