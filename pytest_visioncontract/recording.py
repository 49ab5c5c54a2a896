"""Recording cassettes safely with vcrpy: scrub, hash bodies, check for leaks, write atomically.

Everything is done through vcrpy's own extension points: a ``before_record_request`` /
``before_record_response`` pair that scrubs (vcrpy also runs the request hook on every incoming
request before matching, so a scrubbed recording still matches a live request), and a persister
that adds provenance, refuses a file that still holds a credential, and renames a finished
temporary file over the cassette so an interrupted recording leaves the previous one intact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pytest_visioncontract.cassettes import provenance, remove_stale_temporaries, write_atomic
from pytest_visioncontract.catalog import Catalog, Registry
from pytest_visioncontract.errors import VisionContractError
from pytest_visioncontract.scrubbing import Recorded, Scrubber, find_leaks, leaks_in_bytes

RECORD_MODES = ("none", "once", "new_episodes", "all")

LEAK = (
    "pytest-visioncontract: refused to write {path}: {leak}. Nothing was written; add a "
    "scrubbing rule (ini vision_scrub_names / vision_scrub_patterns) and record again"
)
MALFORMED = "pytest-visioncontract: cannot replay cassette {path}: {problem}"
SCRUBBED_ELSEWHERE = "a credential scrubbed elsewhere in this recording"


def write_side_files(scrubber: Scrubber) -> None:
    """Write a scrubber's pending side files atomically; one already there is kept only if its
    content still has its hash (a file cut short by a killed run is written again)."""
    if scrubber.bodies_dir is None:
        return
    remove_stale_temporaries(scrubber.bodies_dir)
    for side, raw in scrubber.side_files().items():
        if side.is_file() and hashlib.sha256(side.read_bytes()).hexdigest() == side.stem:
            continue
        write_atomic(side, raw)
    scrubber.pending.clear()


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


@dataclass(frozen=True)
class _Parsed:
    """A vcrpy serializer that hands over a document already parsed."""

    data: dict[str, Any]

    def deserialize(self, _text: str) -> dict[str, Any]:
        return self.data


@dataclass
class SafePersister:
    """vcrpy persister: provenance in, credentials never out, files replaced atomically."""

    registry: Registry
    secrets: Sequence[tuple[str, str]] = field(default_factory=list)  # (description, value)
    scrubber: Scrubber = field(default_factory=Scrubber)  # its side files go with the cassette
    refusal: str | None = None  # why the last save wrote nothing

    def load_cassette(self, cassette_path: str, serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        from pytest_visioncontract.cassettes import Batches

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        try:
            # checked here for one clear line where vcrpy would raise a traceback, and parsed
            # once, a batch at a time: vcrpy builds its requests and responses from each
            # batch's items, and memory never holds the whole file's text or YAML
            reader = Batches(path)
            requests: list[Any] = []
            responses: list[Any] = []
            failure: Exception | None = None  # raised once the whole file has been read
            for items, _ in reader:
                if failure is not None:
                    continue
                try:
                    built = deserialize("", _Parsed({"interactions": items}))
                except Exception as exc:
                    failure = exc
                    continue
                requests += built[0]
                responses += built[1]
            if failure is not None:
                raise failure
            # vcrpy runs its record hooks on every interaction it loads: the scrubber only
            # rewrites these requests' URIs for matching (scrubbing them and their responses
            # again cost most of a large cassette's replay)
            for request in requests:
                request.visioncontract_recorded = True
            responses = [Recorded(response) for response in responses]
            metadata = reader.document.get("metadata")
            return (requests, responses, metadata) if metadata else (requests, responses)
        except Exception as exc:  # yaml and shape errors come in many classes
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise VisionContractError(MALFORMED.format(path=path, problem=first)) from None

    def save_cassette(
        self, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        """Save, or keep the reason not to in ``refusal``: vcrpy saves before it removes its
        patches, so an exception here would leave them in place for later tests."""
        try:
            self._save(Path(cassette_path), cassette_dict, serializer)
        except VisionContractError as exc:
            self.refusal = str(exc)
        except OSError as exc:
            self.refusal = f"pytest-visioncontract: cannot write {cassette_path}: {exc}"

    def _save(self, path: Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        from vcr.serialize import serialize

        requests = cassette_dict.get("requests") or []
        found = route(self.registry, requests[0].method, requests[0].uri) if requests else None
        metadata = dict(cassette_dict.get("metadata") or {})
        if found is not None:
            catalog, operation = found
            host = urlsplit(requests[0].uri).hostname or ""
            kind = "simulator" if host in ("127.0.0.1", "localhost", "::1") else "live"
            metadata.update(provenance(kind, catalog, operation))
        self.scrubber.finish(cassette_dict)
        if self.scrubber.unreadable:
            raise VisionContractError(
                LEAK.format(
                    path=path,
                    leak=f"{self.scrubber.unreadable[0]} could not be decoded to be checked",
                )
            )
        text: str = serialize({**cassette_dict, "metadata": metadata}, serializer)
        # what is checked is what is written: the text read back, not the objects before it
        written = serializer.deserialize(text)
        secrets = [*self.secrets, *((SCRUBBED_ELSEWHERE, v) for v in self.scrubber.seen)]
        rules = self.scrubber.rules
        interactions = [(i["request"], i["response"]) for i in written.get("interactions", [])]
        leaks = [(path, leak) for leak in find_leaks(interactions, rules, secrets)]
        for side, raw in self.scrubber.side_files().items():
            leaks += [(side, leak) for leak in leaks_in_bytes(raw, "request body", rules, secrets)]
        if leaks:
            where, leak = leaks[0]
            raise VisionContractError(LEAK.format(path=where, leak=leak))
        write_side_files(self.scrubber)
        remove_stale_temporaries(path.parent)
        write_atomic(path, text)


def vcr_config(mode: str, persister: SafePersister) -> Any:
    """A vcrpy recorder that scrubs with the persister's scrubber and saves through it."""
    import vcr

    scrubber = persister.scrubber
    recorder = vcr.VCR(
        record_mode=mode,
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=False,  # the scrubber decodes: it must read every body
        match_on=("method", "scheme", "host", "port", "path", "query"),
    )
    recorder.register_persister(persister)
    return recorder
