"""The error envelope shared by Azure AI services (Face, Image Analysis)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

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


def error_from_response(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    transient_codes: Collection[str] = (),
) -> VisionAPIError:
    """Read ``{"error": {"code", "message", "innererror": {"code", "message"}}}``.

    API Management answers some failures (a bad key, the rate limit) in its own shape,
    ``{"statusCode": 401, "message": "..."}``; that is read too.
    """
    document = json_body(body)
    error = field(document, "error")
    inner = field(error, "innererror") or field(error, "innerError")
    code = (
        text(field(error, "code"))
        or text(field(document, "code"))
        or text(field(document, "statusCode"))
        or str(status)
    )
    inner_code = text(field(inner, "code"))
    message = (
        text(field(error, "message"))
        or text(field(inner, "message"))
        or text(field(document, "message"))
        or fallback_message(status, body)
    )
    return VisionAPIError(
        provider,
        status,
        code,
        message,
        inner_code=inner_code,
        retryable=status in RETRYABLE_STATUSES or code in transient_codes,
        request_id=header(headers, "apim-request-id") or header(headers, "x-ms-request-id"),
        retry_after=retry_after(header(headers, "Retry-After")),
    )
