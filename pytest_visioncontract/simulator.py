"""A loopback HTTP server that speaks every catalog's paths (``visioncontract serve``).

It answers each provider operation with the catalog's success body, and any documented error on
demand: a request header ``X-Vision-Error: <provider>:<code or entry id>`` answers that request
with the error, and ``POST /_vision/queue`` with ``{"provider", "code" or "entry", "times"}``
queues it for the next requests to that provider. Used to record cassettes end to end, and by
clients written in other languages. Standard library only.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from pytest_visioncontract.catalog import Catalog, Entry, Registry
from pytest_visioncontract.wire import WireResponse, render, success

ERROR_HEADER = "X-Vision-Error"
QUEUE_PATH = "/_vision/queue"


class Simulator:
    """The routing and the queue, independent of the HTTP server around them."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.queues: dict[str, deque[Entry]] = {}
        self.lock = threading.Lock()

    def find(self, provider: str, wanted: str) -> tuple[Catalog, Entry]:
        catalog = self.registry.get(provider)
        for entry in catalog.servable_entries:
            if wanted in (entry.id, entry.code, entry.inner_code):
                return catalog, entry
        known = sorted({e.code for e in catalog.servable_entries})
        raise KeyError(f"{provider} documents no error {wanted!r}; codes: {', '.join(known)}")

    def route(
        self, method: str, target: str, headers: dict[str, str]
    ) -> tuple[Catalog, str] | None:
        """The provider and operation a request addresses, by path (any host: this is loopback)."""
        path = urlsplit(target)
        for catalog in self.registry.all():
            local = Catalog(**{**catalog.__dict__, "hosts": ("*",)})
            operation = local.operation_for(
                method, f"http://loopback{path.path}?{path.query}", headers
            )
            if operation is not None:
                return catalog, operation
        return None

    def queue(self, document: dict[str, Any]) -> str:
        provider = str(document.get("provider", ""))
        wanted = str(document.get("entry") or document.get("code") or "")
        times = int(document.get("times", 1))
        catalog, entry = self.find(provider, wanted)
        with self.lock:
            self.queues.setdefault(catalog.provider, deque()).extend([entry] * times)
        return entry.id

    def respond(self, method: str, target: str, headers: dict[str, str]) -> WireResponse:
        found = self.route(method, target, headers)
        if found is None:
            return _plain(404, f"no catalog route for {method} {urlsplit(target).path}")
        catalog, operation = found
        asked = headers.get(ERROR_HEADER.lower())
        if asked:
            provider, _, wanted = asked.partition(":")
            try:
                catalog, entry = self.find(provider or catalog.provider, wanted)
            except KeyError as exc:
                return _plain(400, str(exc.args[0]))
            return render(catalog, entry)
        with self.lock:
            pending = self.queues.get(catalog.provider)
            queued = pending.popleft() if pending else None
        if queued is not None:
            return render(catalog, queued)
        return success(catalog, operation)


def _plain(status: int, text: str) -> WireResponse:
    from pytest_visioncontract.wire import reason_phrase

    body = json.dumps({"simulator": text}).encode()
    return WireResponse(
        status, reason_phrase(status), (("Content-Type", "application/json"),), body
    )


def _handler(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, response: WireResponse) -> None:
            self.send_response(response.status, response.reason)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        def _handle(self) -> None:
            body = self._body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path.startswith(QUEUE_PATH) and self.command == "POST":
                try:
                    entry_id = simulator.queue(json.loads(body or b"{}"))
                except (KeyError, ValueError) as exc:
                    self._send(_plain(400, str(exc.args[0] if exc.args else exc)))
                    return
                self._send(_plain(200, f"queued {entry_id}"))
                return
            self._send(simulator.respond(self.command, self.path, headers))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

    return Handler


@contextmanager
def running(registry: Registry, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the simulator in a thread; yields its base URL (port 0 picks a free port)."""
    server = ThreadingHTTPServer((host, port), _handler(Simulator(registry)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve_forever(registry: Registry, host: str, port: int) -> None:
    server = ThreadingHTTPServer((host, port), _handler(Simulator(registry)))
    print(f"visioncontract simulator on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
