"""The application's HTTP clients, made once per process and shared by every service client.

An ``httpx.Client`` builds a TLS context (reading the CA bundle) when it is made: tens of
milliseconds. A real application makes it once, not once per call or per service object.
"""

from __future__ import annotations

import functools

import httpx


@functools.cache
def shared_httpx_client() -> httpx.Client:
    """One connection pool for the app; timeouts are set per request."""
    return httpx.Client()
