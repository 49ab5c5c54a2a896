"""Alibaba Cloud Image Search (RPC style, API 2020-12-14) over ``requests``.

Requests are not really signed here: a production client computes the HMAC-SHA1 ``Signature``
of the canonicalized query (or uses the Alibaba Cloud SDK); this one sends a placeholder.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

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

PROVIDER = "alibaba_image_search"
API_VERSION = "2020-12-14"
#: Codes that describe a passing condition (flow control, a slow transfer): retry later.
TRANSIENT_CODES = frozenset(
    {"DeniedRequest", "Throttling", "SearchTimeout", "TimeoutForTransferImage"}
)


@dataclass(frozen=True)
class Match:
    product_id: str
    pic_name: str
    score: str | None


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> VisionAPIError:
    """Read ``{"RequestId", "HostId", "Code", "Message", "Recommend"}``."""
    document = json_body(body)
    code = text(field(document, "Code")) or str(status)
    return VisionAPIError(
        PROVIDER,
        status,
        code,
        text(field(document, "Message")) or fallback_message(status, body),
        retryable=status in RETRYABLE_STATUSES or code in TRANSIENT_CODES,
        request_id=text(field(document, "RequestId")) or header(headers, "x-acs-request-id"),
        # The Alibaba Cloud SDKs read this header as milliseconds.
        retry_after=retry_after(header(headers, "x-acs-retry-after"), unit=0.001),
    )


class ImageSearchClient:
    def __init__(
        self,
        region: str,
        instance: str,
        access_key_id: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = f"https://imagesearch.{region}.aliyuncs.com/"
        self.instance = instance
        self.access_key_id = access_key_id
        self.session = session or requests.Session()
        self.timeout = timeout

    def search_by_pic(
        self, image: bytes, *, num: int = 10, category_id: int | None = None
    ) -> list[Match]:
        form: dict[str, str | int] = {
            "PicContent": base64.b64encode(image).decode("ascii"),
            "Num": num,
        }
        if category_id is not None:
            form["CategoryId"] = category_id
        document = self._call("SearchImageByPic", form)
        return [
            Match(a.get("ProductId", ""), a.get("PicName", ""), a.get("SortExprValues"))
            for a in document.get("Auctions", [])
        ]

    def add_image(self, product_id: str, pic_name: str, image: bytes) -> None:
        self._call(
            "AddImage",
            {
                "ProductId": product_id,
                "PicName": pic_name,
                "PicContent": base64.b64encode(image).decode("ascii"),
            },
        )

    def delete_image(self, product_id: str, pic_name: str | None = None) -> None:
        form = {"ProductId": product_id} | ({"PicName": pic_name} if pic_name else {})
        self._call("DeleteImage", form)

    def _call(self, action: str, form: Mapping[str, str | int]) -> dict[str, Any]:
        query = {
            "Action": action,
            "Version": API_VERSION,
            "Format": "JSON",
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Signature": "placeholder-not-signed",
        }
        response = self.session.post(
            self.url,
            params=query,
            data={"InstanceName": self.instance, **form},
            timeout=self.timeout,
        )
        if not response.ok:
            raise error_from_response(response.status_code, response.headers, response.content)
        document: dict[str, Any] = response.json()
        if document.get("Success") is False:  # some failures arrive as HTTP 200
            raise VisionAPIError(
                PROVIDER,
                response.status_code,
                text(document.get("Code")) or "Unsuccessful",
                text(document.get("Msg")) or "the request did not succeed",
                request_id=text(document.get("RequestId")),
            )
        return document
