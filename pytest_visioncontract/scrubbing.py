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
import gzip
import hashlib
import importlib
import json
import os
import re
import zlib
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
    {"key", "secret", "token", "password", "passwd", "pwd", "credential", "credentials"}
    | {"signature", "sig", "auth", "authorization", "cookie"}
)
# ... or when it holds one of these anywhere, words glued together: X-HW-APPKEY, securitytoken
CREDENTIAL_PARTS = (
    "token", "secret", "password", "passwd", "credential", "signature", "apikey", "appkey",
    "accesskey",
)  # fmt: skip
# ... but not when its last word says it describes one: token_type, token_endpoint, keyName
DESCRIBING_WORDS = frozenset(
    {"type", "types", "endpoint", "endpoints", "uri", "url", "name", "names", "supported"}
    | {"length", "count", "expiry", "expires", "expiration", "ttl", "seconds", "method"}
    | {"methods", "version", "algorithm", "alg", "format", "hint", "scope", "scopes"}
    | {"date", "time", "created", "updated"}
)
# A name that is only one of these words is common in data too ({"key": "Invoice Number"} in
# an OCR result): its value is scrubbed only when it looks like a secret (no spaces, 16+ chars).
WEAK_NAMES = frozenset({"key", "sig", "auth"})
SECRET_LOOKING = re.compile(r"^[A-Za-z0-9+/=_.~%:-]{16,}$")
GENERIC_NAMES = {  # name: what it carries (shown in the docs)
    "Authorization": "any scheme: Bearer, Basic, HMAC signatures",
    "Proxy-Authorization": "proxy credentials",
    "Cookie": "session cookies",
    "Set-Cookie": "session cookies set by the service",
    "device_code": "an OAuth device code (polled for a token)",
}
GENERIC_QUERY_NAMES = {  # credentials in URL query strings only ("code" is data elsewhere)
    "code": "an OAuth authorization code, an Azure Functions key",
}
GENERIC_PATTERNS = {  # name of the shape: regular expression
    "a JSON Web Token": r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "a bearer token": (  # with a digit, not a challenge's parameter (Bearer realm="...")
        r"Bearer\s+(?!REDACTED)(?=[A-Za-z0-9\-._~+/]*[0-9])[A-Za-z0-9\-._~+/]{16,}=*(?!\w)"
    ),
    "a signed Authorization value": (
        r"\b[A-Z0-9]+-HMAC-SHA256\s[^\r\n\"']*Signature=(?!REDACTED)[0-9A-Za-z+/=]{16,}"
    ),
    "a private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
}
# user:password@ in a URL, also percent-encoded once (a URL nested in a query value)
_USERINFO = re.compile(
    r"(?P<pre>://|%3A%2F%2F)(?P<user>[^/\s:@%\"'<>]{1,64})(?P<colon>:|%3A)"
    r"(?P<password>(?!REDACTED)[^/\s@\"'<>]{1,128}?)(?P<at>@|%40)",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# name=value in a URL inside any text (a query string, a URL nested and percent-encoded once or
# twice in another value, a string-to-sign echoed in a message, a Location header, a JSON
# string): only after ?, & or # (plain, encoded or JSON-escaped), so prose such as OCR text
# ("token=abc" read off a document) is left alone. A form body also starts with one.
_URL_PARAM_START = r"[?&#]|%26|%3F|%23|%2526|%253F|\\u0026"
_PARAM = (
    r"(?P<name>[A-Za-z][A-Za-z0-9_.\-]{0,63})"
    r"(?P<eq>=|%3D|%253D|\\u003d)"
    r"(?P<value>(?:(?!%26|%2526|\\u0026)[^&\s\"'<>\\,;#])+)"
)
_NESTED = re.compile(f"(?P<pre>{_URL_PARAM_START})" + _PARAM, re.IGNORECASE)
_FORM = re.compile(f"(?P<pre>^|{_URL_PARAM_START})" + _PARAM, re.IGNORECASE)
_FORM_BODY = re.compile(r"^[A-Za-z][\w.\-%]*=[^\s&]*(?:&[\w.\-%]+=[^\s&]*)*$")
_JSON_STRING_FIELD = re.compile(
    r'"(?P<name>[^"\\]{1,64})"\s*:\s*"(?P<value>[^"\\]*(?:\\.[^"\\]*)*)"'  # unrolled: fast on MBs
)
_XML_ELEMENT = re.compile(
    r"<(?P<name>[A-Za-z][\w.:-]{0,63})(?P<attributes>\s[^<>]*)?>(?P<value>[^<]{1,4096})</(?P=name)>"
)
_COLON_LINE = re.compile(
    r"^(?P<lead>[ \t-]*[\"']?)(?P<name>[A-Za-z][\w.-]{0,63})(?P<sep>[\"']?[ \t]*:[ \t]*)"
    r"(?P<value>[^\s\"'{\[][^\r\n]*?)(?P<end>[\"',]?[ \t]*\r?)$",
    re.MULTILINE,
)
_TEXT_TYPES = ("json", "text/", "xml", "x-www-form-urlencoded", "javascript", "yaml")


def _wide_charset(raw: bytes, content_type: str) -> str | None:
    """The codec of a UTF-16 or UTF-32 body, by its charset or its byte order mark."""
    found = re.search(r"charset=\"?(utf-?(?:16|32)(?:-?[lb]e)?)", content_type)
    if found is not None:
        return found.group(1)
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32")):
        if raw.startswith(bom):
            return codec
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


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

    kind: str  # name, volatile, pattern, keep, body, host, path
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
        self._query = {r.name.lower() for r in self.of("query")}

    @classmethod
    def build(
        cls,
        catalogs: Iterable[Any] = (),
        names: Iterable[str] = (),
        patterns: Iterable[str] = (),
    ) -> Rules:
        """The generic rules, every catalog's ``scrub`` block, and the user's additions."""
        rules = [Rule("name", n, why, "every provider") for n, why in GENERIC_NAMES.items()]
        rules += [Rule("query", n, w, "every provider") for n, w in GENERIC_QUERY_NAMES.items()]
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
        if lowered in self._names:
            return True
        parts = words(name)
        if not parts or parts[-1] in DESCRIBING_WORDS:
            return False
        glued = "".join(parts)
        return any(w in CREDENTIAL_WORDS for w in parts) or any(
            p in glued for p in CREDENTIAL_PARTS
        )

    def scrubs(self, name: str, value: str, *, query: bool = False, data: bool = False) -> bool:
        """Whether this value, under this name, is a credential to replace. ``query``: the name
        is a URL's query parameter; ``data``: a field of a response body (where a bare "key" is
        an OCR form's key, never a credential)."""
        if PLACEHOLDER.match(value.strip()):
            return False
        lowered = name.lower()
        if query and lowered in self._query:
            return True
        if not self.is_credential(name):
            return False
        if lowered in WEAK_NAMES and lowered not in self._names:
            return not data and SECRET_LOOKING.match(value.strip()) is not None
        return True

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
    for item in block.get("bodies", ()):
        rules.append(
            Rule(
                "body",
                item["pattern"],
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


class Recorded(dict[str, Any]):
    """A response read from a cassette: scrubbed when it was recorded, not scrubbed again."""


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
    # Bodies that could not be read to be scrubbed (an encoding nothing here decodes).
    unreadable: list[str] = field(default_factory=list)
    _path: str = ""  # the path of the request whose response comes next (vcrpy records in pairs)

    # -- values

    def _remember(self, value: str) -> None:
        """Hunt this scrubbed value elsewhere, if it is specific enough: a common word
        ("application", from OCR'd "token=application") must not be cut out of Content-Type."""
        value = value.strip()
        if len(value) < REMEMBER_AT_LEAST or PLACEHOLDER.match(value) or re.search(r"\s", value):
            return
        mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
        if len(value) >= 16 or mixed or any(not c.isalpha() for c in value):
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

    def _replace(self, match: re.Match[str], group: str = "value") -> str:
        """The match with its ``group`` replaced by REDACTED (the value remembered)."""
        self._remember(unquote_plus(unquote_plus(match[group])).replace("\\/", "/"))
        start, end = match.span(group)
        return match[0][: start - match.start()] + REDACTED + match[0][end - match.start() :]

    def text(self, text: str, form: bool = False) -> str:
        """Scrub credentials from free text: parameters of URLs in it (``form``: the text is a
        form body, its first pair at the start), passwords in URLs, shapes, and values scrubbed
        elsewhere."""
        if not text:
            return text

        def nested(match: re.Match[str]) -> str:
            value = unquote_plus(match["value"])
            if not self.rules.scrubs(match["name"], value, query=True):
                return match[0]
            return self._replace(match)

        text = (_FORM if form else _NESTED).sub(nested, text)
        text = _USERINFO.sub(lambda m: self._replace(m, "password"), text)
        return self._shapes_and_seen(text)

    def _shapes_and_seen(self, text: str) -> str:
        for rule in self.rules.of("pattern"):
            assert rule.pattern is not None
            text = rule.pattern.sub(REDACTED, text)
        for value in sorted(self.seen, key=len, reverse=True):
            for form in {value, quote(value, safe=""), quote_plus(value)}:
                if form in text:
                    text = text.replace(form, REDACTED)
        return text

    def _fields(self, text: str, data: bool = False) -> str:
        """Credential-named fields of a text body: JSON strings, XML elements, name: value."""

        def by_name(match: re.Match[str]) -> str:
            if not self.rules.scrubs(match["name"], match["value"], data=data):
                return match[0]
            return self._replace(match)

        text = _JSON_STRING_FIELD.sub(by_name, text)
        text = _XML_ELEMENT.sub(by_name, text)
        return _COLON_LINE.sub(by_name, text)

    def body_bytes(self, raw: bytes, content_type: str, data: bool = False) -> bytes:
        """A body with its credentials scrubbed (``data``: a response's, where OCR results and
        other data live). Text is told by its bytes, whatever the Content-Type says (JSON
        served as octet-stream is still JSON; an image is never UTF-8)."""
        lowered = content_type.lower()
        if "multipart/" in lowered:
            return self._multipart(raw, content_type)
        codec = _wide_charset(raw, lowered)
        if codec is None and not any(t in lowered for t in _TEXT_TYPES) and not _is_text(raw):
            return self._binary(raw)
        try:
            text = raw.decode(codec or "utf-8", "surrogateescape" if codec is None else "strict")
        except UnicodeDecodeError:
            return self._binary(raw)
        form = "x-www-form-urlencoded" in lowered or _FORM_BODY.match(text) is not None
        scrubbed = self.text(self._fields(text, data), form=form)
        if scrubbed == text:
            return raw
        return scrubbed.encode(codec or "utf-8", "surrogateescape" if codec is None else "strict")

    def _binary(self, raw: bytes) -> bytes:
        """Binary content (an image) keeps every byte but a credential's: only shapes and values
        scrubbed elsewhere are replaced, which random data does not hold."""
        text = raw.decode("latin-1")
        scrubbed = self._shapes_and_seen(text)
        return raw if scrubbed == text else scrubbed.encode("latin-1", "replace")

    def _multipart(self, raw: bytes, content_type: str) -> bytes:
        found = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
        if found is None:
            return self._binary(raw)
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
            text = value.decode("utf-8", "replace")
            if name is not None and self.rules.scrubs(name.group(1), text):
                self._remember(text)
                value = REDACTED.encode()
            else:
                value = self.body_bytes(value, part_type.group(1) if part_type else "")
            pieces[index] = head + sep + value + ending
        return delimiter.join(pieces)

    def uri(self, uri: str) -> str:
        parts = urlsplit(uri)
        host, port = _host_and_port(parts.netloc)
        for rule in self.rules.of("host"):
            assert rule.pattern is not None
            if rule.pattern.match(host):
                host = rule.replacement
        host = f"[{host}]" if ":" in host else host  # an IPv6 address
        netloc = host + (f":{port}" if port else "")
        path = parts.path
        for rule in self.rules.of("path"):
            assert rule.pattern is not None
            path = rule.pattern.sub(rule.replacement, path)
        pairs = []
        for pair in parts.query.split("&") if parts.query else []:
            name, eq, value = pair.partition("=")
            decoded = unquote_plus(name)
            if eq and self.rules.scrubs(decoded, unquote_plus(value), query=True):
                self._remember(unquote_plus(value))
                value = REDACTED
            elif eq and value and self.rules.is_volatile(decoded):
                value = REDACTED
            pairs.append((name, eq, value))
        query = "&".join(
            name + eq + (value if value == REDACTED else self.text(value))
            for name, eq, value in pairs
        )
        fragment = self.text(parts.fragment)
        return urlunsplit((parts.scheme, netloc, self.text(path), query, fragment))

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        done: set[str] = set()  # scrubbed by name: not searched again
        for name, value in headers.items():
            values = [_header_text(v) for v in (value if isinstance(value, list) else [value])]
            lowered = name.lower()
            if lowered in ("cookie", "set-cookie") and self.rules.is_credential(name):
                values = [self._cookie(lowered, v) for v in values]
                done.add(name)
            elif any(self.rules.scrubs(name, v) for v in values):
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
        raw = _body_bytes(body)
        if not raw:
            return None
        raw = self.body_bytes(raw, content_type)
        digest = hashlib.sha256(raw).hexdigest()
        if self.bodies_dir is not None:
            self.pending[digest] = raw
        return f"sha256:{digest} ({len(raw)} bytes)"

    def request(self, request: Any) -> Any:
        """A scrubbed copy of a vcrpy request, its body a plain string (a file or generator
        body would otherwise be written with Python-only YAML tags)."""
        from vcr.request import Request

        if getattr(request, "visioncontract_recorded", False):  # read from a cassette
            # matched on its URI only: rewritten the way a live request's is (a cassette
            # written elsewhere may hold the user's host); its body is not matched
            request.uri = self.uri(request.uri)
            return request
        headers = dict(request.headers)
        scrubbed_headers = self.headers(headers)
        content_type = next(
            (_header_text(v) for k, v in headers.items() if k.lower() == "content-type"), ""
        )
        body = self.body(request.body, content_type)
        uri = self.uri(request.uri)
        self._path = urlsplit(request.uri).path
        return Request(request.method, uri, body, scrubbed_headers)

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        if isinstance(response, Recorded):  # read from a cassette
            return dict(response)
        response = dict(response)
        headers = self.headers(response.get("headers") or {})
        body = response.get("body")
        if isinstance(body, dict) and body.get("string"):
            raw = body["string"]
            raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
            raw = self._decoded(raw, headers)
            content_type = _first(headers, "content-type")
            if any(r.pattern and r.pattern.search(self._path) for r in self.rules.of("body")):
                self._remember(raw.decode("utf-8", "replace"))
                scrubbed = REDACTED.encode()
            else:
                scrubbed = self.body_bytes(raw, content_type, data=True)
            if scrubbed != body["string"]:
                response["body"] = {**body, "string": scrubbed}
                for name in headers:
                    if name.lower() == "content-length":
                        headers[name] = [str(len(scrubbed))]
        response["headers"] = headers
        return response

    def _decoded(self, raw: bytes, headers: dict[str, Any]) -> bytes:
        """The body without its Content-Encoding (then dropped from the headers), so it can be
        scrubbed and replayed as what the client reads. A body that does not decode was already
        decoded on the way in (urllib3 does so for vcrpy's stubs) and is kept as it is; one in
        an encoding nothing here reads is marked unreadable (the recording is refused)."""
        name = next((k for k in headers if k.lower() == "content-encoding"), None)
        if name is None:
            return raw
        encoding = _first(headers, name.lower()).strip().lower()
        if encoding in ("", "identity"):
            return raw
        decoded = _decode(raw, encoding)
        if decoded is _UNSUPPORTED:
            self.unreadable.append(f"a response body in Content-Encoding {encoding!r}")
            return raw
        del headers[name]
        return raw if decoded is None else decoded

    def finish(self, cassette: Mapping[str, Any]) -> None:
        """Before a cassette is written: remove from every interaction the values scrubbed
        anywhere in the recording (a token learned in a later interaction, echoed earlier)."""
        if not self.seen:
            return
        for request in cassette.get("requests") or []:
            request.uri = self._shapes_and_seen(request.uri)
            request.headers = {
                k: self._shapes_and_seen(_header_text(v)) for k, v in request.headers.items()
            }
        for response in cassette.get("responses") or []:
            response["headers"] = {
                k: [self._shapes_and_seen(_header_text(v)) for v in values]
                if isinstance(values, list)
                else self._shapes_and_seen(_header_text(values))
                for k, values in (response.get("headers") or {}).items()
            }
            body = response.get("body")
            if isinstance(body, dict) and body.get("string"):
                raw = body["string"]
                raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
                response["body"] = {**body, "string": self._binary(raw)}
        self.pending = (
            {
                hashlib.sha256(scrubbed).hexdigest(): scrubbed
                for scrubbed in (self._binary(raw) for raw in self.pending.values())
            }
            if self.bodies_dir is not None
            else self.pending
        )

    # -- side files

    def side_files(self) -> dict[Path, bytes]:
        """The side files the next cassette write brings along, by path."""
        if self.bodies_dir is None:
            return {}
        return {self.bodies_dir / f"{digest}.bin": raw for digest, raw in self.pending.items()}


def _host_and_port(netloc: str) -> tuple[str, str]:
    """Host and port of a URL's netloc, user info dropped; an IPv6 host with or without its
    brackets (vcrpy writes ``http://::1:8080/`` for a connection to ``[::1]:8080``)."""
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        return host.lower(), rest.lstrip(":")
    if hostport.count(":") > 1:  # a bare IPv6 address, maybe with a port
        host, _, port = hostport.rpartition(":")
        return (host.lower(), port) if port.isdigit() and ":" in host else (hostport.lower(), "")
    host, _, port = hostport.partition(":")
    return host.lower(), port


def _first(headers: Mapping[str, Any], wanted: str) -> str:
    for name, value in headers.items():
        if name.lower() == wanted:
            return _header_text(value[0] if isinstance(value, list) and value else value)
    return ""


def _header_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return str(value)


def _body_bytes(body: Any) -> bytes:
    """A request body as bytes, however the client handed it to vcrpy."""
    if body is None:
        return b""
    if hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, Iterator):
        body = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    fields = getattr(body, "_fields", None)  # aiohttp's FormData, kept as given by its stubs
    if isinstance(fields, list):
        body = [_form_field(field) for field in fields]
    try:  # aiohttp's stubs may keep json= and data= as the objects given
        return json.dumps(body, default=_unnamed, sort_keys=True).encode("utf-8")
    except (TypeError, ValueError):
        return _unnamed(body).encode("utf-8")


def _form_field(field: Any) -> Any:
    """One field of an aiohttp FormData as ``{name: value}`` (so a credential's name is seen
    by the scrubber), described without reading a file (a file is read when the request is
    sent: reading it here would send it empty)."""
    try:
        options, _, value = field
        name, filename = str(options.get("name")), options.get("filename")
    except (TypeError, ValueError, AttributeError):
        return _unnamed(field)
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("latin-1")
    elif not isinstance(value, str):
        value = _unnamed(value)
    return {name: value} if filename is None else {name: {"filename": filename, "value": value}}


def _unnamed(value: Any) -> str:
    """A stand-in for an object that is not data, the same in every run (no address)."""
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


_UNSUPPORTED = b"unsupported"  # what _decode answers for an encoding it cannot read


def _decode(raw: bytes, encoding: str) -> bytes | None:
    """Undo Content-Encodings (the last applied is listed last): the body, None if it does not
    decode, or ``_UNSUPPORTED`` for an encoding no decoder here reads."""
    decoders: dict[str, Any] = {
        "gzip": gzip.decompress,
        "x-gzip": gzip.decompress,
        "deflate": _inflate,
        "br": getattr(_optional("brotli") or _optional("brotlicffi"), "decompress", None),
        "zstd": _unzstd if _optional("zstandard") else None,
        "identity": lambda data: data,
    }
    for step in reversed([e.strip() for e in encoding.split(",") if e.strip()]):
        decoder = decoders.get(step)
        if decoder is None:
            return _UNSUPPORTED
        try:
            raw = decoder(raw)
        except Exception:  # each decoder raises its own error class
            return None
    return raw


def _inflate(raw: bytes) -> bytes:
    try:
        return zlib.decompress(raw)
    except zlib.error:
        return zlib.decompress(raw, -zlib.MAX_WBITS)  # raw deflate, without zlib's header


def _unzstd(raw: bytes) -> bytes:
    data: bytes = (
        importlib.import_module("zstandard").ZstdDecompressor().decompressobj().decompress(raw)
    )
    return data


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


# --------------------------------------------------------------------------- the leak check

CREDENTIAL_VARIABLE = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|_AK$|_SK$|^IDENTITY_HEADER$)", re.I)


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
        for place, name, value, shapes, where in _places(request, response):
            found += [
                Leak(place, what, index)
                for what in _suspicions(name, value, rules, secrets, shapes, where)
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
    for match in _FORM.finditer(text):  # a form body's first pair starts the text
        found += [
            Leak(f"{place}, field {match['name']}", what)
            for what in _suspicions(match["name"], match["value"], rules, (), shapes=False)
        ]
    return found


def _places(
    request: Mapping[str, Any], response: Mapping[str, Any]
) -> Iterator[tuple[str, str | None, str, bool, str]]:
    """Each place of an interaction: its label, its name when it has one (a header, parameter
    or field, looked at by name too), its value, whether to look for shapes in it (not in a
    body's fields: the whole body is looked at), and where the name is (query, data)."""
    uri = str(request.get("uri", ""))
    yield "request URI", None, uri.partition("?")[0], True, ""
    for pair in urlsplit(uri).query.split("&"):
        name, eq, value = pair.partition("=")
        if eq:
            place = f"request query parameter {unquote_plus(name)}"
            yield place, unquote_plus(name), unquote_plus(value), True, "query"
    for side, message in (("request", request), ("response", response)):
        headers = message.get("headers") or {}
        if isinstance(headers, Mapping):
            for name, values in headers.items():
                for value in values if isinstance(values, list) else [values]:
                    label = f"{side} header {name}"
                    for header_place in _header_places(label, str(name), str(value)):
                        yield (*header_place, "")
    body = request.get("body")
    if body is not None:
        yield "request body", None, _as_text(body), True, ""
    body = response.get("body")
    if isinstance(body, Mapping):
        text = _as_text(body.get("string"))
        yield "response body", None, text, True, ""
        for pattern in (_JSON_STRING_FIELD, _XML_ELEMENT):
            for match in pattern.finditer(text):
                place = f"response body field {match['name']}"
                yield place, match["name"], match["value"], False, "data"


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
    where: str = "",
) -> Iterator[str]:
    for description, secret in secrets:
        if any(form in value for form in {secret, quote(secret, safe=""), quote_plus(secret)}):
            yield description
    if name is not None and rules.scrubs(name, value, query=where == "query", data=where == "data"):
        yield "a credential that was not scrubbed"
    if not shapes:
        return
    for rule in rules.of("pattern"):
        assert rule.pattern is not None
        if rule.pattern.search(value):
            yield f"what looks like {rule.name}"
