"""Bing Image Search v7 over ``httpx``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

PROVIDER = "bing_image_search"
ENDPOINT = "https://api.bing.microsoft.com/v7.0"
PERMANENT_SUBCODES = frozenset({"NotImplemented"})  # a 5xx that retrying will not fix


@dataclass(frozen=True)
class ImageResult:
    name: str
    content_url: str
    thumbnail_url: str | None


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> VisionAPIError:
    """Read the first error of ``{"_type": "ErrorResponse", "errors": [{code, subCode, ...}]}``.

    The API Management gateway in front of Bing answers key problems in Azure's shape,
    ``{"error": {"code": "401", "message": "..."}}``; that is read too.
    """
    document = json_body(body)
    error = field(document, "errors", 0)
    if not isinstance(error, dict):
        error = field(document, "error")
    code = text(field(error, "code")) or str(status)
    sub_code = text(field(error, "subCode"))
    retryable = status in RETRYABLE_STATUSES and sub_code not in PERMANENT_SUBCODES
    return VisionAPIError(
        PROVIDER,
        status,
        code,
        text(field(error, "message")) or fallback_message(status, body),
        inner_code=sub_code,
        retryable=retryable,
        request_id=header(headers, "BingAPIs-TraceId"),
        retry_after=retry_after(header(headers, "Retry-After")),
    )


class ImageSearchClient:
    def __init__(
        self, key: str, *, endpoint: str = ENDPOINT, client: httpx.Client | None = None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.client = client or shared_httpx_client()
        self.key = key

    def search(
        self, query: str, *, count: int = 20, market: str = "en-US", safe_search: str = "Strict"
    ) -> list[ImageResult]:
        params: dict[str, str | int] = {
            "q": query,
            "count": count,
            "mkt": market,
            "safeSearch": safe_search,
        }
        return [_image(v) for v in self._get("images/search", params).get("value", [])]

    def trending(self, *, market: str = "en-US") -> list[str]:
        """The trending search queries (the text of every tile in every category)."""
        document = self._get("images/trending", {"mkt": market})
        return [
            tile.get("query", {}).get("text", "")
            for category in document.get("categories", [])
            for tile in category.get("tiles", [])
        ]

    def _get(self, path: str, params: Mapping[str, str | int]) -> dict[str, Any]:
        response = self.client.get(
            f"{self.endpoint}/{path}",
            params=params,
            headers={"Ocp-Apim-Subscription-Key": self.key},
            timeout=10.0,
        )
        if response.is_error:
            raise error_from_response(response.status_code, response.headers, response.content)
        document: dict[str, Any] = response.json()
        return document


def _image(value: Mapping[str, Any]) -> ImageResult:
    return ImageResult(
        name=value.get("name", ""),
        content_url=value.get("contentUrl", ""),
        thumbnail_url=value.get("thumbnailUrl"),
    )
