"""Opt-in faults: every documented case also served broken, each variant its own test id."""

from __future__ import annotations

from typing import Any

import pytest

CLIENT = """
import pytest, requests

URL = "https://ocr.cn-north-4.myhuaweicloud.com/v2/p/ocr/general-text"

class OCRError(Exception):
    pass

def naive():
    r = requests.post(URL, json={"image": "..."})
    if not r.ok:
        body = r.json()                         # JSONDecodeError on an HTML page
        raise OCRError(body["error_code"])
    return r.json()

def careful():
    try:
        r = requests.post(URL, json={"image": "..."}, timeout=5)
    except requests.RequestException as exc:
        raise OCRError("network", str(exc)) from exc
    if not r.ok:
        try:
            body = r.json()
        except ValueError:
            body = {}
        raise OCRError(body.get("error_code") if isinstance(body, dict) else None, r.status_code)
    return r.json()
"""

MARK = '@pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"], faults={faults}, handled=(OCRError,))\n'


def test_each_variant_is_its_own_test_id(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + MARK.format(faults="True") + "def test_it(vision_error):\n    careful()\n")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*test_it[[]huawei_ocr-any-400-AIS.0101[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-truncated[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-empty_body[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-html[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-wrong_content_type[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-no_content_type[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-non_utf8[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-connection_reset[]]",
            "*test_it[[]huawei_ocr-any-400-AIS.0101-as-read_timeout[]]",
            "9 tests collected*",
        ]
    )


def test_a_careful_client_survives_every_variant(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + MARK.format(faults="True") + "def test_it(vision_error):\n    careful()\n")
    pytester.runpytest().assert_outcomes(passed=9)


def test_a_naive_client_is_caught_on_broken_bodies_and_network_faults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + MARK.format(faults="True") + "def test_it(vision_error):\n    naive()\n")
    result = pytester.runpytest()
    # the documented body, the same JSON under a wrong or missing content type, and (requests
    # decodes with replacement characters) the non-UTF-8 body still parse
    result.assert_outcomes(passed=4, failed=5)
    result.stdout.fnmatch_lines(
        [
            "*_ test_it[[]huawei_ocr-any-400-AIS.0101-as-html[]] _*",
            'vision_errors: unhandled documented error of Huawei Cloud OCR (huawei_ocr)',
            '  documented: 400 AIS.0101 "The input parameter is invalid." served as html, operation any',
            "  served:",
            "              HTTP 400 Bad Request",
            "              Content-Type: text/html",
            "*<html>*",
            "  escaped:    requests.exceptions.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_it[[]huawei_ocr-any-400-AIS.0101-as-connection_reset[]] _*",
            "              connection reset by peer (no response)",
            "  escaped:    requests.exceptions.ConnectionError: *Connection reset by peer*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["  escaped:    requests.exceptions.ReadTimeout: *Read timed out*"]
    )


def test_a_subset_of_variants(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + MARK.format(faults='["html", "read_timeout"]') + "def test_it(vision_error):\n    careful()\n")
    pytester.runpytest().assert_outcomes(passed=3)


@pytest.mark.parametrize(
    "client",
    [
        """
import httpx

def call():
    try:
        r = httpx.post(URL, json={})
    except httpx.TransportError as exc:   # what httpx raises for network failures
        raise OCRError(type(exc).__name__) from exc
    raise OCRError(r.status_code)
""",
        """
import aiohttp, asyncio

def call():
    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.post(URL, json={}) as r:
                return r.status
    try:
        status = asyncio.run(go())
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise OCRError(type(exc).__name__) from exc
    raise OCRError(status)
""",
    ],
    ids=["httpx", "aiohttp"],
)
def test_network_faults_look_native_to_each_library(pytester: pytest.Pytester, client: str) -> None:
    pytester.makepyfile(
        CLIENT
        + client
        + MARK.format(faults='["connection_reset", "read_timeout"]')
        + "def test_it(vision_error):\n    call()\n"
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_unknown_variant_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT + MARK.format(faults='["html", "dns"]') + "def test_it(vision_error):\n    careful()\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*vision_errors: faults= must be True, False or a list of variants; known variants: truncated, empty_body, html, wrong_content_type, no_content_type, non_utf8, connection_reset, read_timeout; got [[]'html', 'dns'[]]"]
    )


def test_an_httpx_client_catching_builtins_is_unhandled(pytester: pytest.Pytester) -> None:
    """httpx raises its own ReadTimeout / ReadError, neither a TimeoutError nor an OSError: a client
    catching only the builtins crashes in production, and the plugin says so."""
    pytester.makepyfile(
        CLIENT
        + """
import asyncio, httpx

def call():
    try:
        httpx.post(URL, json={})
    except (asyncio.TimeoutError, ConnectionError) as exc:
        raise OCRError(type(exc).__name__) from exc
"""
        + MARK.format(faults='["connection_reset", "read_timeout"]')
        + "def test_it(vision_error):\n    call()\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=2)  # the documented 400 returns: handled
    result.stdout.fnmatch_lines(
        [
            "  escaped:    httpx.ReadError: Connection reset by peer*",
            "  escaped:    httpx.ReadTimeout: timed out*",
        ],
        consecutive=False,
    )


def test_an_aiohttp_client_meets_content_type_error(pytester: pytest.Pytester) -> None:
    """aiohttp's json() refuses a body whose Content-Type is not JSON (ContentTypeError), also
    under the plugin."""
    pytester.makepyfile(
        CLIENT
        + """
import aiohttp, asyncio

def call():
    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.post(URL, json={}) as r:
                return await r.json()
    asyncio.run(go())
"""
        + MARK.format(faults='["html", "wrong_content_type", "no_content_type"]')
        + "def test_it(vision_error):\n    call()\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(["  escaped:    aiohttp.client_exceptions.ContentTypeError: *"])


@pytest.mark.parametrize(
    ("kind", "library", "context", "expected"),
    [
        ("connection_reset", "socket", {}, ConnectionResetError),
        ("read_timeout", "socket", {}, TimeoutError),
        ("connection_reset", "httpx", {}, "httpx.ReadError"),
        ("read_timeout", "httpx", {}, "httpx.ReadTimeout"),
        ("connection_reset", "aiohttp", {}, "aiohttp.client_exceptions.ClientOSError"),
        ("read_timeout", "aiohttp", {"total": 5.0}, TimeoutError),
        ("read_timeout", "aiohttp", {"total": None, "sock_read": None}, TimeoutError),
        ("read_timeout", "aiohttp", {"total": 5.0, "sock_read": 1.0}, "sock_read"),
        ("read_timeout", "aiohttp", {"total": 1.0, "sock_read": 5.0}, TimeoutError),
    ],
)
def test_fault_exception_is_the_librarys_own(
    kind: str, library: str, context: dict[str, float | None], expected: type | str
) -> None:
    import aiohttp

    from pytest_visioncontract.replay import fault_exception

    extra: dict[str, Any] = {}
    if library == "aiohttp":
        extra["timeout"] = aiohttp.ClientTimeout(
            total=context.get("total"), sock_read=context.get("sock_read")
        )
    error = fault_exception(kind, library, **extra)
    if expected == "sock_read":  # SocketTimeoutError since aiohttp 3.10, ServerTimeoutError before
        expected = getattr(aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError)
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    assert type(error) is expected or name == expected


def test_fault_exception_knows_its_libraries() -> None:
    from pytest_visioncontract.replay import fault_exception

    with pytest.raises(ValueError, match="unknown library 'curl'; known: socket, httpx, aiohttp"):
        fault_exception("read_timeout", "curl")


def test_known_difference_an_application_deadline_shorter_than_the_librarys(
    pytester: pytest.Pytester,
) -> None:
    """Known difference (docs/robustness.md): a real stall trips an application's own shorter
    deadline (``asyncio.timeout`` around the call) first, with ``TimeoutError``; the plugin
    raises the library's read timeout at once. Pinned: this fails the day it changes."""
    pytester.makepyfile(
        """
        import asyncio, httpx, pytest

        URL = "https://ocr.cn-north-4.myhuaweicloud.com/v2/p/ocr/general-text"

        @pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"], faults=["read_timeout"])
        def test_it(vision_error):
            async def call():
                async with httpx.AsyncClient(timeout=30) as client:
                    async with asyncio.timeout(2):
                        await client.post(URL, json={})
            if vision_error.variant == "read_timeout":
                with pytest.raises(httpx.ReadTimeout):  # a real server: TimeoutError, after 2 s
                    asyncio.run(call())
            else:
                asyncio.run(call())
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
