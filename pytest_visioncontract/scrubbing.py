"""Credentials out of recordings: the rules, the scrubber, and the leak check.

The rules come from three places, merged into one :class:`Rules`:

- the generic rules below, true of every HTTP API: a header, query parameter or body field whose
  name holds a credential word (``key``, ``token``, ``secret``, ``signature``, ...), and strings
  whose shape alone gives them away (JSON Web Tokens, bearer tokens, signed ``Authorization``
  values, private keys);
- each catalog's ``scrub`` block: the names the provider and its SDKs carry credentials in, the
  per-request values that would break replay (signing times, nonces), credential shapes (access
  key ids, session tokens), names that look like credentials but are not, and host and path
  rewrites (the user's resource name, project id);
- the user's ini keys ``vision_scrub_names`` and ``vision_scrub_patterns``.

A credential is replaced by ``REDACTED`` wherever it is found: header and query values, a
parameter nested in another value (a SAS URL inside ``imgUrl=``, a string-to-sign echoed in an
error message), JSON, form and multipart fields of request bodies, response headers and bodies.
Every value scrubbed by name is remembered and removed wherever else it appears (a key echoed
in an error message). Replacements are constant, so a scrubbed recording still matches the
scrubbed live request on replay.

The leak check (:func:`find_leaks`) reads what is about to be written, after scrubbing, and
names the place and the shape of anything that still looks like a credential.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from pytest_visioncontract.errors import VisionContractError

REDACTED = "REDACTED"
PLACEHOLDER = re.compile(r"^(<[A-Za-z_]+>|\*+|REDACTED|DUMMY|)$", re.IGNORECASE)
REMEMBER_AT_LEAST = 8  # shorter scrubbed values are not hunted for elsewhere

# A name is a credential's when one of its words is one of these (words split at case changes,
# '-', '_' and '.'): Ocp-Apim-Subscription-Key, AccessKeyId, x-acs-security-token, authToken, ...
CREDENTIAL_WORDS = frozenset(
    {
        "key",
        "apikey",
        "accesskey",
        "accesskeyid",
        "secret",
        "token",
        "password",
        "passwd",
        "pwd",
        "credential",
        "credentials",
        "signature",
        "sig",
        "auth",
        "authorization",
        "cookie",
    }
)
GENERIC_NAMES = {  # name: what it carries (shown in the docs)
    "Authorization": "any scheme: Bearer, Basic, HMAC signatures",
    "Proxy-Authorization": "proxy credentials",
    "Cookie": "session cookies",
    "Set-Cookie": "session cookies set by the service",
}
GENERIC_KEEP = {  # names holding a credential word that are not credentials
    "token_type": "the OAuth token type (Bearer)",
    "tokenType": "the OAuth token type (Bearer)",
}
GENERIC_PATTERNS = {  # name of the shape: regular expression
    "a JSON Web Token": r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "a bearer token": r"(?i:bearer)\s+(?!REDACTED)[A-Za-z0-9\-._~+/]{16,}=*",
    "a signed Authorization value": (
        r"\b[A-Z0-9]+-HMAC-SHA256\s[^\r\n\"']*Signature=(?!REDACTED)[0-9A-Za-z+/=]{16,}"
    ),
    "a private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
}
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# name=value inside any text: a query string, a form body, a URL nested (and percent-encoded,
# once or twice) in another value, a string-to-sign echoed in a message, a JSON string.
_NESTED = re.compile(
    r"(?P<pre>^|[?&\s\"'(,;:]|%26|%3F|%2526|%253F|\\u0026)"
    r"(?P<name>[A-Za-z][A-Za-z0-9_.\-]{0,63})"
    r"(?P<eq>=|%3D|%253D)"
    r"(?P<value>(?:(?!%26|%2526|\\u0026)[^&\s\"'<>\\,;#])+)",
    re.IGNORECASE,
)
_JSON_STRING_FIELD = re.compile(
    r'"(?P<name>[^"\\]{1,64})"\s*:\s*"(?P<value>[^"\\]*(?:\\.[^"\\]*)*)"'  # unrolled: fast on MBs
)
_TEXT_TYPES = ("json", "text/", "xml", "x-www-form-urlencoded", "javascript", "yaml")


def _is_text(raw: bytes) -> bool:
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


@dataclass(frozen=True)
class Rule:
    """One row of the scrubbing table: where a credential travels and what is done to it."""

    kind: str  # name, volatile, pattern, keep, host, path
    name: str  # a field name, a shape's name, or a regular expression
    carries: str
    origin: str  # "every provider" or the provider id
    replacement: str = REDACTED
    pattern: re.Pattern[str] | None = None


class Rules:
    """Every scrubbing rule in force, with fast look-ups by kind."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._by_kind: dict[str, list[Rule]] = {}
        for rule in self.rules:
            self._by_kind.setdefault(rule.kind, []).append(rule)
        self._names = {r.name.lower() for r in self.of("name")}
        self._volatile = {r.name.lower() for r in self.of("volatile")}
        self._keep = {r.name.lower() for r in self.of("keep")}

    @classmethod
    def build(
        cls,
        catalogs: Iterable[Any] = (),
        names: Iterable[str] = (),
        patterns: Iterable[str] = (),
    ) -> Rules:
        """The generic rules, every catalog's ``scrub`` block, and the user's additions."""
        rules = [Rule("name", n, why, "every provider") for n, why in GENERIC_NAMES.items()]
        rules += [Rule("keep", n, why, "every provider") for n, why in GENERIC_KEEP.items()]
        rules += [
            Rule("pattern", shape, shape, "every provider", pattern=re.compile(regex))
            for shape, regex in GENERIC_PATTERNS.items()
        ]
        for catalog in catalogs:
            rules += catalog_rules(catalog.provider, catalog.scrub)
        rules += [Rule("name", n.strip(), "added in the ini", "ini") for n in names if n.strip()]
        rules += [
            Rule("pattern", p.strip(), "added in the ini", "ini", pattern=_compile(p.strip()))
            for p in patterns
            if p.strip()
        ]
        return cls(rules)

    def of(self, kind: str) -> list[Rule]:
        return self._by_kind.get(kind, [])

    def is_credential(self, name: str) -> bool:
        """Whether a header, parameter or field of this name carries a credential."""
        lowered = name.lower()
        if lowered in self._keep:
            return False
        return lowered in self._names or any(w in CREDENTIAL_WORDS for w in words(name))

    def is_volatile(self, name: str) -> bool:
        """Changes per request (a signing time, a nonce): constant in a recording."""
        return name.lower() in self._volatile


def catalog_rules(provider: str, block: Mapping[str, Any]) -> list[Rule]:
    rules = []
    for kind in ("names", "volatile", "keep"):
        for item in block.get(kind, ()):
            rules.append(Rule(kind.rstrip("s"), item["name"], item["carries"], provider))
    for item in block.get("patterns", ()):
        rules.append(
            Rule(
                "pattern",
                item["name"],
                item["carries"],
                provider,
                pattern=_compile(item["pattern"]),
            )
        )
    for kind in ("hosts", "paths"):
        for item in block.get(kind, ()):
            rules.append(
                Rule(
                    kind.rstrip("s"),
                    item["pattern"],
                    item["carries"],
                    provider,
                    replacement=item["replacement"],
                    pattern=_compile(item["pattern"]),
                )
            )
    return rules


def _compile(regex: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise VisionContractError(
            f"scrubbing pattern {regex!r} is not a regular expression: {exc}"
        ) from None


# --------------------------------------------------------------------------- scrubbing


@dataclass
class Scrubber:
    """vcrpy's ``before_record_request`` / ``before_record_response`` for one recording."""

    rules: Rules = field(default_factory=Rules.build)
    bodies_dir: Path | None = None  # keep request bodies as side files, by content hash
    # Side files to write with the cassette (content hash -> bytes): checked for leaks and
    # written only when the cassette itself is, never before.
    pending: dict[str, bytes] = field(default_factory=dict)
    # Values scrubbed by name, removed wherever else they appear and looked for by the leak check.
    seen: set[str] = field(default_factory=set)

    # -- values

    def _remember(self, value: str) -> None:
        value = value.strip()
        if len(value) >= REMEMBER_AT_LEAST and not PLACEHOLDER.match(value):
            self.seen.add(value)

    def _remember_header(self, value: str) -> None:
        """The secret parts of a credential header's value, to be removed elsewhere too."""
        self._remember(value)
        scheme, _, rest = value.strip().partition(" ")
        if not rest:
            return
        self._remember(rest)
        for token in re.split(r"[\s,]+", rest):
            key, eq, item = token.partition("=")
            if eq and key.lower() in ("signedheaders", "algorithm"):
                continue
            for part in (item if eq else token).split("/")[0].split(":"):
                self._remember(part)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
            except ValueError:
                return
            self._remember(decoded.partition(":")[2])

    def text(self, text: str) -> str:
        """Scrub credentials from free text: nested parameters, shapes, remembered values."""
        if not text:
            return text

        def nested(match: re.Match[str]) -> str:
            name, value = match["name"], match["value"]
            if PLACEHOLDER.match(value) or not self.rules.is_credential(name):
                return match[0]
            self._remember(unquote_plus(unquote_plus(value)))
            return f"{match['pre']}{name}{match['eq']}{REDACTED}"

        return self._shapes_and_seen(_NESTED.sub(nested, text))

    def _shapes_and_seen(self, text: str) -> str:
        for rule in self.rules.of("pattern"):
            assert rule.pattern is not None
            text = rule.pattern.sub(REDACTED, text)
        for value in sorted(self.seen, key=len, reverse=True):
            for form in {value, quote(value, safe=""), quote_plus(value)}:
                if form in text:
                    text = text.replace(form, REDACTED)
        return text

    def _json_fields(self, text: str) -> str:
        def field_(match: re.Match[str]) -> str:
            if not self.rules.is_credential(match["name"]) or PLACEHOLDER.match(match["value"]):
                return match[0]
            self._remember(match["value"].replace("\\/", "/"))
            start, end = match.span("value")
            whole = match[0]
            return whole[: start - match.start()] + REDACTED + whole[end - match.start() :]

        return _JSON_STRING_FIELD.sub(field_, text)

    def body_bytes(self, raw: bytes, content_type: str) -> bytes:
        """A body with its credentials scrubbed. Text is told by its bytes, whatever the
        Content-Type says (JSON served as octet-stream is still JSON; an image is never UTF-8)."""
        lowered = content_type.lower()
        if "multipart/" in lowered:
            return self._multipart(raw, content_type)
        if not any(t in lowered for t in _TEXT_TYPES) and not _is_text(raw):
            return self._binary(raw)
        text = raw.decode("utf-8", "surrogateescape")
        scrubbed = self.text(self._json_fields(text))
        return raw if scrubbed == text else scrubbed.encode("utf-8", "surrogateescape")

    def _binary(self, raw: bytes) -> bytes:
        """Binary content (an image) keeps every byte but a credential's: only shapes and values
        scrubbed elsewhere are replaced, which random data does not hold."""
        text = raw.decode("latin-1")
        scrubbed = self._shapes_and_seen(text)
        return raw if scrubbed == text else scrubbed.encode("latin-1")

    def _multipart(self, raw: bytes, content_type: str) -> bytes:
        found = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
        if found is None:
            return raw
        delimiter = b"--" + found.group(1).encode("latin-1")
        pieces = raw.split(delimiter)
        for index, piece in enumerate(pieces):
            head, sep, content = piece.partition(b"\r\n\r\n")
            if not sep:
                continue
            headers = head.decode("latin-1")
            name = re.search(r'\bname="([^"]*)"', headers, re.IGNORECASE)
            part_type = re.search(r"content-type:\s*([^\r\n]+)", headers, re.IGNORECASE)
            ending = b"\r\n" if content.endswith(b"\r\n") else b""
            value = content[: len(content) - len(ending)]
            if name is not None and self.rules.is_credential(name.group(1)):
                self._remember(value.decode("utf-8", "replace"))
                value = REDACTED.encode()
            elif "filename=" not in headers.lower() or part_type is not None:
                value = self.body_bytes(value, part_type.group(1) if part_type else "text/plain")
            pieces[index] = head + sep + value + ending
        return delimiter.join(pieces)

    def uri(self, uri: str) -> str:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        for rule in self.rules.of("host"):
            assert rule.pattern is not None
            if rule.pattern.match(host):
                host = rule.replacement
        netloc = host + (f":{parts.port}" if parts.port else "")
        path = parts.path
        for rule in self.rules.of("path"):
            assert rule.pattern is not None
            path = rule.pattern.sub(rule.replacement, path)
        pairs = []
        for pair in parts.query.split("&") if parts.query else []:
            name, eq, value = pair.partition("=")
            decoded = unquote_plus(name)
            if eq and value and self.rules.is_credential(decoded):
                self._remember(unquote_plus(value))
                value = REDACTED
            elif eq and value and self.rules.is_volatile(decoded):
                value = REDACTED
            pairs.append((name, eq, value))
        query = "&".join(
            name + eq + (value if value == REDACTED else self.text(value))
            for name, eq, value in pairs
        )
        return urlunsplit((parts.scheme, netloc, self.text(path), query, parts.fragment))

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        done: set[str] = set()  # scrubbed by name: not searched again
        for name, value in headers.items():
            values = [str(v) for v in (value if isinstance(value, list) else [value])]
            lowered = name.lower()
            if lowered in ("cookie", "set-cookie") and self.rules.is_credential(name):
                values = [self._cookie(lowered, v) for v in values]
                done.add(name)
            elif self.rules.is_credential(name):
                for item in values:
                    self._remember_header(item)
                values = [REDACTED for _ in values]
                done.add(name)
            elif self.rules.is_volatile(name):
                values = [REDACTED for _ in values]
                done.add(name)
            elif lowered == "host":
                values = [urlsplit(self.uri(f"https://{v}")).netloc for v in values]
                done.add(name)
            out[name] = values if isinstance(value, list) else values[0]
        for name, value in out.items():  # values scrubbed by name may be echoed in others
            if name in done:
                continue
            scrubbed = [self.text(v) for v in (value if isinstance(value, list) else [value])]
            out[name] = scrubbed if isinstance(value, list) else scrubbed[0]
        return out

    def _cookie(self, name: str, value: str) -> str:
        """Cookie values become REDACTED; cookie names and Set-Cookie attributes stay."""
        items = value.split(";")
        cookies = len(items) if name == "cookie" else 1
        for index, item in enumerate(items[:cookies]):
            key, eq, secret = item.partition("=")
            if eq and secret.strip():
                self._remember(secret)
                items[index] = f"{key}={REDACTED}"
        return ";".join(items)

    def body(self, body: Any, content_type: str = "") -> str | None:
        """A request body, scrubbed, as its content hash (and a side file when configured)."""
        if hasattr(body, "read"):
            body = body.read()
        elif isinstance(body, Iterator):
            body = b"".join(body)
        if body is None or body in (b"", ""):
            return None
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        raw = self.body_bytes(raw, content_type)
        digest = hashlib.sha256(raw).hexdigest()
        if self.bodies_dir is not None:
            self.pending[digest] = raw
        return f"sha256:{digest} ({len(raw)} bytes)"

    def request(self, request: Any) -> Any:
        scrubbed = copy.copy(request)
        headers = dict(request.headers)
        scrubbed.headers = self.headers(headers)
        content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
        scrubbed.body = self.body(request.body, content_type)
        scrubbed.uri = self.uri(request.uri)
        return scrubbed

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        response = dict(response)
        headers = self.headers(response.get("headers") or {})
        body = response.get("body")
        if isinstance(body, dict) and body.get("string"):
            raw = body["string"]
            raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
            content_type = next(
                (
                    str(v[0] if isinstance(v, list) else v)
                    for k, v in headers.items()
                    if k.lower() == "content-type"
                ),
                "",
            )
            scrubbed = self.body_bytes(raw, content_type)
            if scrubbed != raw:
                response["body"] = {**body, "string": scrubbed}
                for name in headers:
                    if name.lower() == "content-length":
                        headers[name] = [str(len(scrubbed))]
        response["headers"] = headers
        return response

    # -- side files

    def side_files(self) -> dict[Path, bytes]:
        """The side files the next cassette write brings along, by path."""
        if self.bodies_dir is None:
            return {}
        return {self.bodies_dir / f"{digest}.bin": raw for digest, raw in self.pending.items()}


# --------------------------------------------------------------------------- the leak check

CREDENTIAL_VARIABLE = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|_AK$|_SK$)", re.I)


def credentials_from_environment(environ: Mapping[str, str] = os.environ) -> list[tuple[str, str]]:
    """Values of environment variables whose names say they hold a credential."""
    return [
        (f"the value of ${k} (from the environment)", v)
        for k, v in environ.items()
        if CREDENTIAL_VARIABLE.search(k) and len(v) >= 8
    ]


@dataclass(frozen=True)
class Leak:
    place: str  # "response body", "request header Authorization", "side file ...", ...
    what: str  # "what looks like a JSON Web Token", "the value of $AZURE_FACE_KEY ...", ...
    interaction: int | None = None

    @property
    def description(self) -> str:
        return f"{self.place} holds {self.what}"

    def __str__(self) -> str:
        where = f"interaction {self.interaction}, " if self.interaction else ""
        return where + self.description


def find_leaks(
    interactions: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    rules: Rules,
    secrets: Sequence[tuple[str, str]] = (),
) -> list[Leak]:
    """Everything in a cassette's interactions (as written) that still looks like a credential."""
    found: list[Leak] = []
    for index, (request, response) in enumerate(interactions, 1):
        for place, name, value, shapes in _places(request, response):
            found += [
                Leak(place, what, index)
                for what in _suspicions(name, value, rules, secrets, shapes)
            ]
    return found


def leaks_in_bytes(
    raw: bytes, place: str, rules: Rules, secrets: Sequence[tuple[str, str]] = ()
) -> list[Leak]:
    """What looks like a credential in a side file (a request body, as written): the whole
    text for secrets and shapes, its fields and parameters by name."""
    text = raw.decode("utf-8", "replace")
    found = [Leak(place, what) for what in _suspicions(None, text, rules, secrets)]
    for match in _JSON_STRING_FIELD.finditer(text):
        found += [
            Leak(f"{place}, field {match['name']}", what)
            for what in _suspicions(match["name"], match["value"], rules, (), shapes=False)
        ]
    for match in _NESTED.finditer(text):
        found += [
            Leak(f"{place}, field {match['name']}", what)
            for what in _suspicions(match["name"], match["value"], rules, (), shapes=False)
        ]
    return found


def _places(
    request: Mapping[str, Any], response: Mapping[str, Any]
) -> Iterator[tuple[str, str | None, str, bool]]:
    """Each place of an interaction: its label, its name when it has one (a header, parameter
    or field, looked at by name too), its value, and whether to look for shapes in it (not in
    a body's fields: the whole body is looked at)."""
    uri = str(request.get("uri", ""))
    yield "request URI", None, uri.partition("?")[0], True
    for pair in urlsplit(uri).query.split("&"):
        name, eq, value = pair.partition("=")
        if eq:
            yield f"request query parameter {unquote_plus(name)}", unquote_plus(name), value, True
    for side, message in (("request", request), ("response", response)):
        headers = message.get("headers") or {}
        if isinstance(headers, Mapping):
            for name, values in headers.items():
                for value in values if isinstance(values, list) else [values]:
                    yield from _header_places(f"{side} header {name}", str(name), str(value))
    body = request.get("body")
    if body is not None:
        yield "request body", None, _as_text(body), True
    body = response.get("body")
    if isinstance(body, Mapping):
        text = _as_text(body.get("string"))
        yield "response body", None, text, True
        for match in _JSON_STRING_FIELD.finditer(text):
            yield f"response body field {match['name']}", match["name"], match["value"], False


def _header_places(
    place: str, name: str, value: str
) -> Iterator[tuple[str, str | None, str, bool]]:
    lowered = name.lower()
    if lowered not in ("cookie", "set-cookie"):
        yield place, name, value, True
        return
    items = value.split(";")
    for item in items if lowered == "cookie" else items[:1]:  # the rest are attributes
        key, _, secret = item.partition("=")
        yield f"{place} (cookie {key.strip()})", name, secret.strip(), True


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def _suspicions(
    name: str | None,
    value: str,
    rules: Rules,
    secrets: Sequence[tuple[str, str]],
    shapes: bool = True,
) -> Iterator[str]:
    for description, secret in secrets:
        if any(form in value for form in {secret, quote(secret, safe=""), quote_plus(secret)}):
            yield description
    if name is not None and rules.is_credential(name) and not PLACEHOLDER.match(value.strip()):
        yield "a credential that was not scrubbed"
    if not shapes:
        return
    for rule in rules.of("pattern"):
        assert rule.pattern is not None
        if rule.pattern.search(value):
            yield f"what looks like {rule.name}"
