"""Fidelity through azure-core's transports (the official Azure SDKs' HTTP layer).

The cells of ``tests/test_fidelity.py`` for ``RequestsTransport`` and ``AioHttpTransport``
(azure-core comes with the interop extra only): every response shape the plugin serves, once
through the plugin and once from a real loopback server sending the same bytes (with a real TCP
reset and a real stall against the transport's 0.2 s ``read_timeout``); the observations must
be equal. The exceptions are azure-core's (``ServiceRequestError``, ``ServiceResponseError``,
...), mapped by azure-core from what requests and aiohttp raise underneath.
"""

from __future__ import annotations

from typing import Any

import fidelity
import pytest
from azure.core.pipeline.transport import AioHttpTransport, RequestsTransport
from azure.core.rest import AsyncHttpResponse, HttpRequest, HttpResponse


def _request(base: str) -> HttpRequest:
    content, headers = fidelity.body_json(), fidelity.SENT_HEADERS
    return HttpRequest("POST", base + fidelity.PATH, content=content, headers=headers)


def _observed(response: HttpResponse | AsyncHttpResponse, body: Any) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "reason": response.reason,
        "headers": fidelity.header_list(response.headers.items()),
        "body": body,
        "text": fidelity.outcome(response.text),
        "json": fidelity.outcome(response.json),
        "raise_for_status": fidelity.outcome(response.raise_for_status),
    }


def requests_transport(base: str) -> dict[str, Any]:
    with RequestsTransport(use_env_settings=False) as transport:
        try:
            response = transport.send(_request(base), read_timeout=fidelity.TIMEOUT)
        except Exception as exc:
            return {"request": fidelity.raised(exc)}
        assert isinstance(response, HttpResponse)
        return _observed(response, fidelity.outcome(response.read))


def aiohttp_transport(base: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with AioHttpTransport(use_env_settings=False) as transport:
            try:
                response = await transport.send(_request(base), read_timeout=fidelity.TIMEOUT)
            except Exception as exc:
                return {"request": fidelity.raised(exc)}
            assert isinstance(response, AsyncHttpResponse)
            body = await fidelity.async_outcome(response.read)
            observed = _observed(response, body)
            await response.close()
            return observed

    return fidelity.run(go())


TRANSPORTS: dict[str, fidelity.Client] = {
    "azure-core-RequestsTransport": requests_transport,
    "azure-core-AioHttpTransport": aiohttp_transport,
}


@pytest.mark.parametrize("shape_name", fidelity.SHAPES)
@pytest.mark.parametrize("transport_name", TRANSPORTS)
def test_an_azure_transport_observes_what_a_real_server_shows_it(
    transport_name: str, shape_name: str
) -> None:
    client, answer = TRANSPORTS[transport_name], fidelity.shape(shape_name)
    real = fidelity.from_real_server(client, answer)
    served = fidelity.through_plugin(client, answer)
    assert served == real
