"""Recording cassettes safely with vcrpy: scrub, hash bodies, check for leaks, write atomically.

Everything is done through vcrpy's own extension points: a ``before_record_request`` /
``before_record_response`` pair that scrubs (vcrpy also runs the request hook on every incoming
request before matching, so a scrubbed recording still matches a live request), and a persister
that adds provenance, refuses a file that still holds a credential, and renames a finished
temporary file over the cassette so an interrupted recording leaves the previous one intact.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pytest_visioncontract.cassettes import (
    SECRET_SHAPES,
    provenance,
    remove_stale_temporaries,
    write_atomic,
)
from pytest_visioncontract.catalog import Catalog, Registry
from pytest_visioncontract.errors import VisionContractError

RECORD_MODES = ("none", "once", "new_episodes", "all")
REDACTED = "REDACTED"
# Per provider family: what carries credentials or is unique to the user's account.
SCRUB_HEADERS = (
    "Ocp-Apim-Subscription-Key",  # Azure AI services, Bing
    "Authorization",  # Bearer (Azure), SDK-HMAC-SHA256 (Huawei), ACS3-HMAC-SHA256 (Alibaba)
    "X-Auth-Token",  # Huawei IAM token
    "X-Security-Token",  # Huawei temporary credentials
    "x-acs-security-token",  # Alibaba STS
    "x-acs-signature-nonce",  # Alibaba: changes per request
    "x-acs-date",
    "X-Sdk-Date",  # Huawei: changes per request
    "Cookie",
    "Set-Cookie",
)
SCRUB_QUERY = ("AccessKeyId", "Signature", "SignatureNonce", "SecurityToken", "Timestamp")
HOST_RULES = (  # the user's resource names
    (
        re.compile(r"^[^.]+\.cognitiveservices\.azure\.com$", re.I),
        "resource.cognitiveservices.azure.com",
    ),
)
PATH_RULES = ((re.compile(r"^/v2/[^/]+/ocr/"), "/v2/PROJECT_ID/ocr/"),)  # Huawei project id
CREDENTIAL_NAME = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|_AK$|_SK$)", re.I)

LEAK = (
    "pytest-visioncontract: refused to write {path}: it would contain {what}. Nothing was "
    "written; add a scrubbing rule (ini vision_scrub_headers / vision_scrub_query) and record again"
)
MALFORMED = "pytest-visioncontract: cannot replay cassette {path}: {problem}"


@dataclass(frozen=True)
class Scrubber:
    headers: tuple[str, ...] = SCRUB_HEADERS
    query: tuple[str, ...] = SCRUB_QUERY
    bodies_dir: Path | None = None  # keep request bodies as side files, by content hash
    # Side files to write with the cassette (content hash -> bytes): checked for leaks and
    # written only when the cassette itself is, never before.
    pending: dict[str, bytes] = field(default_factory=dict, compare=False)

    def uri(self, uri: str) -> str:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        for pattern, replacement in HOST_RULES:
            if pattern.match(host):
                host = replacement
        netloc = host + (f":{parts.port}" if parts.port else "")
        path = parts.path
        for pattern, replacement in PATH_RULES:
            path = pattern.sub(replacement, path)
        wanted = {q.lower() for q in self.query}
        query = urlencode(
            [(k, REDACTED if k.lower() in wanted else v) for k, v in parse_qsl(parts.query, True)]
        )
        return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))

    def _headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        wanted = {h.lower() for h in self.headers}
        out: dict[str, Any] = {}
        for name, value in headers.items():
            if name.lower() in wanted:
                out[name] = [REDACTED] if isinstance(value, list) else REDACTED
            elif name.lower() == "host":
                out[name] = urlsplit(self.uri(f"https://{value}")).netloc
            else:
                out[name] = value
        return out

    def body(self, body: Any) -> str | None:
        """A request body as its content hash (and a side file when configured)."""
        if body is None or body in (b"", ""):
            return None
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        digest = hashlib.sha256(raw).hexdigest()
        if self.bodies_dir is not None:
            self.pending[digest] = raw
        return f"sha256:{digest} ({len(raw)} bytes)"

    def side_files(self) -> dict[Path, bytes]:
        """The side files the next cassette write brings along, by path."""
        if self.bodies_dir is None:
            return {}
        return {self.bodies_dir / f"{digest}.bin": raw for digest, raw in self.pending.items()}

    def write_side_files(self) -> None:
        """Write the pending side files atomically; one already there is kept only if its
        content still has its hash (a file cut short by a killed run is written again)."""
        if self.bodies_dir is None:
            return
        remove_stale_temporaries(self.bodies_dir)
        for digest, raw in self.pending.items():
            side = self.bodies_dir / f"{digest}.bin"
            if side.is_file() and hashlib.sha256(side.read_bytes()).hexdigest() == digest:
                continue
            write_atomic(side, raw)
        self.pending.clear()

    def request(self, request: Any) -> Any:
        scrubbed = copy.copy(request)
        scrubbed.uri = self.uri(request.uri)
        scrubbed.headers = self._headers(dict(request.headers))
        scrubbed.body = self.body(request.body)
        return scrubbed

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        response = dict(response)
        response["headers"] = self._headers(response.get("headers") or {})
        return response


def credentials_from_environment(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Values of environment variables whose names say they hold a credential."""
    return [v for k, v in environ.items() if CREDENTIAL_NAME.search(k) and len(v) >= 8]


def leaks(text: str, secrets: Iterable[str]) -> str | None:
    for value in secrets:
        if value in text:
            return "the value of a credential from the environment"
    for name, shape in SECRET_SHAPES.items():
        if shape.search(text):
            return f"what looks like {name}"
    return None


def route(registry: Registry, method: str, uri: str) -> tuple[Catalog, str] | None:
    """Provider and operation of a recorded request: by host and path, else by path alone
    (recordings against the simulator are on a loopback host)."""
    for catalog in sorted(registry.all(), key=lambda c: "*" in c.hosts):
        operation = catalog.operation_for(method, uri, {})
        if operation is not None:
            return catalog, operation
    parts = urlsplit(uri)
    for catalog in registry.all():
        for op in catalog.operations.values():
            if any(
                r.matches(method, parts.path or "/", dict(parse_qsl(parts.query)).get("Action"))
                for r in op.routes
            ):
                return catalog, op.name
    return None


@dataclass
class SafePersister:
    """vcrpy persister: provenance in, credentials never out, files replaced atomically."""

    registry: Registry
    secrets: Sequence[str] = field(default_factory=list)
    scrubber: Scrubber | None = None  # its side files are written with the cassette

    def load_cassette(self, cassette_path: str, serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        from pytest_visioncontract.cassettes import read

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        try:
            read(path)  # one clear line for what vcrpy would report as a traceback
            return deserialize(path.read_text(encoding="utf-8"), serializer)
        except Exception as exc:  # yaml and shape errors come in many classes
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise VisionContractError(MALFORMED.format(path=path, problem=first)) from None

    def save_cassette(
        self, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        from vcr.serialize import serialize

        path = Path(cassette_path)
        requests = cassette_dict.get("requests") or []
        found = route(self.registry, requests[0].method, requests[0].uri) if requests else None
        metadata = dict(cassette_dict.get("metadata") or {})
        if found is not None:
            catalog, operation = found
            host = urlsplit(requests[0].uri).hostname or ""
            kind = "simulator" if host in ("127.0.0.1", "localhost", "::1") else "live"
            metadata.update(provenance(kind, catalog, operation))
        text: str = serialize({**cassette_dict, "metadata": metadata}, serializer)
        what = leaks(text, self.secrets)
        if what is not None:
            raise VisionContractError(LEAK.format(path=path, what=what))
        sides = self.scrubber.side_files() if self.scrubber is not None else {}
        for side, raw in sides.items():
            what = leaks(raw.decode("utf-8", "replace"), self.secrets)
            if what is not None:
                raise VisionContractError(LEAK.format(path=side, what=what))
        if self.scrubber is not None:
            self.scrubber.write_side_files()
        remove_stale_temporaries(path.parent)
        write_atomic(path, text)


def vcr_config(
    registry: Registry,
    mode: str,
    scrubber: Scrubber,
    secrets: Sequence[str],
) -> Any:
    import vcr

    recorder = vcr.VCR(
        record_mode=mode,
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
        match_on=("method", "scheme", "host", "port", "path", "query"),
    )
    recorder.register_persister(SafePersister(registry, list(secrets), scrubber))
    return recorder
