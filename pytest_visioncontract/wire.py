"""Wire formats: how each provider puts a documented error on the wire.

``render(catalog, entry)`` gives the exact response a client receives (status, reason phrase,
headers, body). ``envelope_schema(wire_format)`` is the JSON Schema of the provider's error
envelope. Pure functions of their inputs: the same entry always renders the same bytes unless the
caller varies the request id or the Retry-After value.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import quote

from pytest_visioncontract.catalog import Catalog, Entry

DEFAULT_RETRY_AFTER = 1  # seconds, on throttling responses


@dataclass(frozen=True)
class WireResponse:
    """An HTTP response as the client receives it."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    retry_after: float | None = None  # the wait the response asks for, in seconds

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)

    def as_vcr(self) -> dict[str, Any]:
        """This response in vcrpy's serialized form (cassettes, and what vcrpy's stubs play)."""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers:
            headers.setdefault(name, []).append(value)
        return {
            "status": {"code": self.status, "message": self.reason},
            "headers": headers,
            "body": {"string": self.body},
        }

    def describe(self, limit: int = 600) -> str:
        """A few readable lines: status line, headers, body."""
        lines = [f"HTTP {self.status} {self.reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        body = self.body.decode("utf-8", "replace")
        if len(body) > limit:
            body = body[:limit] + f"... ({len(self.body)} bytes)"
        lines += ["", body]
        return "\n".join(lines)


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _request_id(entry: Entry) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"visioncontract:{entry.provider}:{entry.id}"))


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# Each builder returns (headers, body document) for an entry; render() adds the common parts.
Builder = Callable[[Catalog, Entry, str, int | None], tuple[list[tuple[str, str]], dict[str, Any]]]


def _azure(
    catalog: Catalog, entry: Entry, request_id: str, retry_after: int | None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    error: dict[str, Any] = {"code": entry.code, "message": entry.filled_message}
    if entry.inner_code:
        inner: dict[str, Any] = {"code": entry.inner_code}
        if entry.inner_message:
            inner["message"] = entry.filled_inner_message
        error["innererror"] = inner
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("apim-request-id", request_id),
        ("x-content-type-options", "nosniff"),
    ]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    return headers, {"error": error}


def _huawei(
    catalog: Catalog, entry: Entry, request_id: str, retry_after: int | None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    headers = [
        ("Content-Type", "application/json;charset=UTF-8"),
        ("X-Request-Id", request_id.replace("-", "")),
    ]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    return headers, {"error_code": entry.code, "error_msg": entry.filled_message}


def _alibaba(
    catalog: Catalog, entry: Entry, request_id: str, retry_after: int | None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    request_id = request_id.upper()
    host = "imagesearch.cn-shanghai.aliyuncs.com"
    body = {
        "RequestId": request_id,
        "HostId": host,
        "Code": entry.code,
        "Message": entry.filled_message,
        "Recommend": (
            "https://api.aliyun.com/troubleshoot"
            f"?q={quote(entry.code)}&product=ImageSearch&requestId={request_id}"
        ),
    }
    headers = [
        ("Content-Type", "application/json;charset=utf-8"),
        ("x-acs-request-id", request_id),
    ]
    if retry_after is not None:  # the Alibaba Cloud SDKs read milliseconds from this header
        headers.append(("x-acs-retry-after", str(retry_after * 1000)))
    return headers, body


def _bing(
    catalog: Catalog, entry: Entry, request_id: str, retry_after: int | None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    error: dict[str, Any] = {"code": entry.code}
    if entry.inner_code:
        error["subCode"] = entry.inner_code
    error["message"] = entry.filled_message
    if entry.more_details:
        error["moreDetails"] = entry.more_details
    if entry.parameter:
        error["parameter"] = entry.parameter
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("BingAPIs-TraceId", request_id.replace("-", "").upper()),
    ]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    return headers, {"_type": "ErrorResponse", "errors": [error]}


WIRE_FORMATS: Mapping[str, Builder] = {
    "azure": _azure,
    "huawei": _huawei,
    "alibaba": _alibaba,
    "bing": _bing,
}


def render(
    catalog: Catalog,
    entry: Entry,
    *,
    request_id: str | None = None,
    retry_after: int | None = None,
) -> WireResponse:
    """The response a client receives for a documented error.

    Throttling entries carry the provider's retry header (``DEFAULT_RETRY_AFTER`` seconds unless
    ``retry_after`` says otherwise); other entries carry none unless ``retry_after`` is given.
    """
    if retry_after is None and entry.category == "throttled":
        retry_after = DEFAULT_RETRY_AFTER
    build = WIRE_FORMATS[catalog.wire_format]
    headers, document = build(catalog, entry, request_id or _request_id(entry), retry_after)
    return WireResponse(
        status=entry.status,
        reason=reason_phrase(entry.status),
        headers=tuple(headers),
        body=_json_bytes(document),
        retry_after=None if retry_after is None else float(retry_after),
    )


SUCCESS_HEADERS: Mapping[str, str] = {
    "azure": "apim-request-id",
    "huawei": "X-Request-Id",
    "alibaba": "x-acs-request-id",
    "bing": "BingAPIs-TraceId",
}


def success(catalog: Catalog, operation: str) -> WireResponse:
    """The operation's documented-style success response (the end of a retry sequence).

    Operations without a success body in the catalog answer with an empty 200 (or the catalog's
    status); ``operation`` may be ``any``, which takes the catalog's first operation.
    """
    op = catalog.operations.get(operation) or next(iter(catalog.operations.values()))
    headers = [(SUCCESS_HEADERS[catalog.wire_format], f"success-{catalog.provider}-{op.name}")]
    body = b""
    if op.success_body is not None:
        headers.insert(0, ("Content-Type", "application/json; charset=utf-8"))
        body = _json_bytes(op.success_body)
    return WireResponse(op.success_status, reason_phrase(op.success_status), tuple(headers), body)


@functools.cache
def envelope_schema(wire_format: str) -> Mapping[str, Any]:
    """The JSON Schema of a wire format's error envelope."""
    text = (
        resources.files("pytest_visioncontract")
        .joinpath(f"schemas/envelope-{wire_format}.json")
        .read_text()
    )
    schema: Mapping[str, Any] = json.loads(text)
    return schema


@functools.cache
def _envelope_validator(wire_format: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(envelope_schema(wire_format))


def envelope_problems(wire_format: str, body: bytes) -> list[str]:
    """Why a body is not a valid error envelope of the format (empty when it is)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return [f"body is not JSON: {exc}"]
    validator = _envelope_validator(wire_format)
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in validator.iter_errors(document)
    ]


# --------------------------------------------------------------------------- faults

MALFORMED_KINDS = (
    "truncated",
    "empty_body",
    "html",
    "wrong_content_type",
    "no_content_type",
    "non_utf8",
)
FAULT_KINDS = ("connection_reset", "read_timeout")
VARIANTS = MALFORMED_KINDS + FAULT_KINDS

GATEWAY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>{server}</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Fault:
    """A network failure served instead of a response: the client's socket call raises."""

    kind: str  # one of FAULT_KINDS

    def describe(self, limit: int = 0) -> str:
        return {
            "connection_reset": "connection reset by peer (no response)",
            "read_timeout": "read timed out (no response)",
        }[self.kind]


def _replace_header(
    headers: tuple[tuple[str, str], ...], name: str, value: str | None
) -> tuple[tuple[str, str], ...]:
    kept = tuple((k, v) for k, v in headers if k.lower() != name.lower())
    return kept if value is None else ((name, value), *kept)


def malformed(
    response: WireResponse,
    kind: str,
    *,
    cut: float = 0.5,
    status: int | None = None,
    server: str = "nginx",
) -> WireResponse:
    """A broken variant of a response, as gateways and proxies produce them.

    ``truncated`` cuts the body (at ``cut``, a fraction); ``empty_body`` drops it;
    ``html`` is a gateway's HTML error page (``status`` defaults to the response's own);
    ``wrong_content_type`` keeps the JSON body under ``text/plain`` and ``no_content_type``
    without any Content-Type; ``non_utf8`` puts a Latin-1 byte into the first string value,
    so the body is no longer valid UTF-8.
    """
    if kind == "truncated":
        body = response.body[: max(1, int(len(response.body) * cut))]
        return WireResponse(response.status, response.reason, response.headers, body)
    if kind == "empty_body":
        return WireResponse(response.status, response.reason, response.headers, b"")
    if kind == "html":
        code = status or response.status
        reason = reason_phrase(code)
        page = GATEWAY_PAGE.format(status=code, reason=reason, server=server).encode()
        headers = _replace_header(response.headers, "Content-Type", "text/html")
        return WireResponse(code, reason, headers, page, response.retry_after)
    if kind == "wrong_content_type":
        headers = _replace_header(response.headers, "Content-Type", "text/plain")
        return WireResponse(response.status, response.reason, headers, response.body)
    if kind == "no_content_type":
        headers = _replace_header(response.headers, "Content-Type", None)
        return WireResponse(response.status, response.reason, headers, response.body)
    if kind == "non_utf8":
        # a Latin-1 "é" at the start of the first string value: invalid as UTF-8
        match = re.search(rb'":\s*"', response.body)
        at = match.end() if match else 0
        body = response.body[:at] + b"\xe9" + response.body[at:]
        return WireResponse(response.status, response.reason, response.headers, body)
    raise ValueError(f"unknown malformed kind {kind!r}; known: {', '.join(MALFORMED_KINDS)}")


def variant(response: WireResponse, kind: str) -> WireResponse | Fault:
    """A documented response served as one of ``VARIANTS``."""
    return Fault(kind) if kind in FAULT_KINDS else malformed(response, kind)
