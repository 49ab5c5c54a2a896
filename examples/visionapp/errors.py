"""The app's one exception type for a failed vision call, and helpers to build it.

Providers' error envelopes are parsed defensively: a gateway can answer with an HTML page, an
empty body, or a JSON document with fields missing, null or of another type. Whatever arrives,
the client raises a :class:`VisionAPIError` carrying what could be read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

#: Statuses worth retrying whatever the provider says in the body.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class VisionAPIError(Exception):
    """A vision provider answered a request with an error."""

    def __init__(
        self,
        provider: str,
        status: int,
        code: str,
        message: str,
        *,
        inner_code: str | None = None,
        retryable: bool = False,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, status, code, message)
        self.provider = provider
        self.status = status
        self.code = code
        self.message = message
        self.inner_code = inner_code
        self.retryable = retryable
        self.request_id = request_id
        self.retry_after = retry_after  # seconds the provider asks us to wait, if it says

    def __str__(self) -> str:
        code = self.code + (f"/{self.inner_code}" if self.inner_code else "")
        request = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.provider}: HTTP {self.status} {code}: {self.message}{request}"


def json_body(body: bytes) -> Any:
    """The decoded JSON body, or None when it is not JSON (an HTML error page, nothing)."""
    try:
        return json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return None


def field(document: Any, *path: str | int) -> Any:
    """``document[path[0]][path[1]]...``, or None as soon as a step is missing or mistyped."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(document, list) or not 0 <= key < len(document):
                return None
        elif not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    return document


def text(value: Any) -> str | None:
    """A field as a non-empty string (numbers are accepted: some gateways send ``401``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, str)) and str(value).strip():
        return str(value).strip()
    return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the letter case of its name in ``headers``."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def retry_after(value: str | None, *, unit: float = 1.0) -> float | None:
    """Seconds to wait from a numeric retry header (``unit`` seconds per count)."""
    if not value:
        return None
    try:
        seconds = float(value) * unit
    except ValueError:  # an HTTP-date: rare from these providers; no hint then
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def fallback_message(status: int, body: bytes) -> str:
    """Something readable for an error whose body says nothing usable."""
    snippet = body[:200].decode("utf-8", "replace").strip()
    return f"HTTP {status}" + (f": {snippet}" if snippet else "")
