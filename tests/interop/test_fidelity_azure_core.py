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

import pytest
from azure.core.pipeline.transport import AioHttpTransport, RequestsTransport
from azure.core.rest import AsyncHttpResponse, HttpRequest, HttpResponse
from fidelity import (
    PATH,
    SHAPES,
    TIMEOUT,
    Client,
    async_outcome,
    body_json,
    from_real_server,
    header_list,
    outcome,
    raised,
    run,
    shape,
    through_plugin,
)

SENT_HEADERS = {"Content-Type": "application/json", "Ocp-Apim-Subscription-Key": "k"}


def _request(base: str) -> HttpRequest:
    return HttpRequest("POST", base + PATH, content=body_json(), headers=SENT_HEADERS)


def _observed(response: HttpResponse | AsyncHttpResponse, body: Any) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "reason": response.reason,
        "headers": header_list(response.headers.items()),
        "body": body,
        "text": outcome(response.text),
        "json": outcome(response.json),
        "raise_for_status": outcome(response.raise_for_status),
    }


def requests_transport(base: str) -> dict[str, Any]:
    with RequestsTransport(use_env_settings=False) as transport:
        try:
            response = transport.send(_request(base), read_timeout=TIMEOUT)
        except Exception as exc:
            return {"request": raised(exc)}
        assert isinstance(response, HttpResponse)
        return _observed(response, outcome(response.read))


def aiohttp_transport(base: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with AioHttpTransport(use_env_settings=False) as transport:
            try:
                response = await transport.send(_request(base), read_timeout=TIMEOUT)
            except Exception as exc:
                return {"request": raised(exc)}
            assert isinstance(response, AsyncHttpResponse)
            body = await async_outcome(response.read)
            observed = _observed(response, body)
            await response.close()
            return observed

    return run(go())


TRANSPORTS: dict[str, Client] = {
    "azure-core-RequestsTransport": requests_transport,
    "azure-core-AioHttpTransport": aiohttp_transport,
}


@pytest.mark.parametrize("shape_name", SHAPES)
@pytest.mark.parametrize("transport_name", TRANSPORTS)
def test_an_azure_transport_observes_what_a_real_server_shows_it(
    transport_name: str, shape_name: str
) -> None:
    client, answer = TRANSPORTS[transport_name], shape(shape_name)
    real = from_real_server(client, answer)
    served = through_plugin(client, answer)
    assert served == real
