"""Serving through vcrpy: every HTTP client vcrpy patches gets the documented response."""

from __future__ import annotations

import pytest

HEADER = """
import asyncio, json
import pytest

FACE = "https://westeurope.api.cognitive.microsoft.com/face/v1.2/detect?returnFaceId=true"

def check(vision_error, status, body):
    assert status == vision_error.status
    assert json.loads(body) == vision_error.response.json()
    assert len(vision_error.requests) == 1
    assert vision_error.requests[0].operation == "detect"

MARK = pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["InvalidImage", "429"])
"""

CLIENTS = {
    "requests": """
import requests

@MARK
def test_client(vision_error):
    r = requests.post(FACE, data=b"jpeg", headers={"Content-Type": "application/octet-stream"})
    check(vision_error, r.status_code, r.content)
""",
    "httpx_sync": """
import httpx

@MARK
def test_client(vision_error):
    with httpx.Client() as client:
        r = client.post(FACE, content=b"jpeg")
    check(vision_error, r.status_code, r.content)
""",
    "httpx_async": """
import httpx

@MARK
def test_client(vision_error):
    async def call():
        async with httpx.AsyncClient() as client:
            return await client.post(FACE, content=b"jpeg")
    r = asyncio.run(call())
    check(vision_error, r.status_code, r.content)
""",
    "aiohttp": """
import aiohttp

@MARK
def test_client(vision_error):
    async def call():
        async with aiohttp.ClientSession() as session:
            async with session.post(FACE, data=b"jpeg") as r:
                return r.status, await r.read()
    status, body = asyncio.run(call())
    check(vision_error, status, body)
""",
    "urllib3": """
import urllib3

@MARK
def test_client(vision_error):
    r = urllib3.PoolManager().request("POST", FACE, body=b"jpeg")
    check(vision_error, r.status, r.data)
""",
    "http_client": """
import http.client

@MARK
def test_client(vision_error):
    conn = http.client.HTTPSConnection("westeurope.api.cognitive.microsoft.com")
    conn.request("POST", "/face/v1.2/detect?returnFaceId=true", body=b"jpeg")
    r = conn.getresponse()
    check(vision_error, r.status, r.read())
""",
}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_each_http_client_is_served(pytester: pytest.Pytester, client: str) -> None:
    pytester.makepyfile(HEADER + CLIENTS[client])
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)  # 3 InvalidImage rows + the 429


def test_request_to_another_operation_fails_and_says_what_was_expected(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
import pytest, requests

@pytest.mark.vision_errors("azure_face", operations=["verify"], codes=["FaceNotFound"])
def test_verify(vision_error):
    try:
        requests.post("https://r.cognitiveservices.azure.com/face/v1.2/identify", json={})
    except Exception:
        pass  # even a client that swallows the error cannot hide the stray request
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "vision_errors: unexpected request POST https://r.cognitiveservices.azure.com/face/v1.2/identify (operation identify)",
            "  This case serves azure_face operation verify (POST ^/face/v[0-9][^/]*/verify$).",
            "  Restrict the marker to what the test calls, e.g. operations=['identify'].",
        ]
    )


def test_request_to_an_unknown_host_never_reaches_the_network(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest, requests
from pytest_visioncontract.replay import UnexpectedRequest

@pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"])
def test_ocr(vision_error):
    with pytest.raises(UnexpectedRequest):
        requests.get("http://127.0.0.1:9/")  # nothing listens: a real request would fail differently
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "vision_errors: unexpected request GET http://127.0.0.1:9/ (no known operation)",
            "  This case serves any huawei_ocr operation: general_text, general_table, *",
        ]
    )


def test_unmarked_tests_are_not_intercepted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import http.server, threading
import pytest, requests

@pytest.fixture(scope="module")
def local_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(b"real")
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()

def test_before(local_server):
    assert requests.get(local_server).text == "real"

@pytest.mark.vision_errors("bing_image_search", codes=["RateLimitExceeded"])
def test_marked(vision_error):
    assert requests.get("https://api.bing.microsoft.com/v7.0/images/search?q=x").status_code == vision_error.status

def test_after(local_server):
    assert requests.get(local_server).text == "real"
"""
    )
    pytester.runpytest().assert_outcomes(passed=4)


FIRST_SERVE = """
import sys

import httpx, requests
{imports}
from pytest_visioncontract.wire import WireResponse

URL = "https://myres.cognitiveservices.azure.com/computervision/imageanalysis:analyze"
response = WireResponse(400, "Bad Request", (("Content-Type", "application/json"),), b"{{}}", None)
session, client = requests.Session(), httpx.Client()  # an application's clients, made once
before = set(sys.modules)
with {serve}(response) as exchange:
    session.get(URL)
    client.get(URL)
assert len(exchange.requests) == 2, exchange.requests
print(sorted(set(sys.modules) - before))
"""


@pytest.mark.parametrize(
    ("imports", "serve"),
    [
        ("from pytest_visioncontract import serve", "serve"),
        (
            "import pytest_visioncontract\n"
            "from pytest_visioncontract.strategies import error_responses\n"
            "error_responses('azure_image_analysis')",
            "pytest_visioncontract.serve",  # resolved inside the example, as a test may
        ),
    ],
    ids=["import-serve", "build-a-strategy"],
)
def test_the_first_served_example_does_no_one_time_work(
    pytester: pytest.Pytester, imports: str, serve: str
) -> None:
    """vcrpy's start-up (importing itself and its stubs) happens when ``serve`` is imported or a
    strategy is built, at collection, not inside the first example, where it would count
    against Hypothesis' deadline. Measured as the modules the first serve imports: none."""
    script = pytester.makepyfile(first_serve=FIRST_SERVE.format(imports=imports, serve=serve))
    result = pytester.runpython(script)
    assert result.ret == 0, result.stderr.str()
    assert result.outlines[-1] == "[]", f"the first serve imported {result.outlines[-1]}"


def test_nothing_leaves_the_machine_during_a_case(pytester: pytest.Pytester) -> None:
    """A client that goes around vcrpy's patches (raw sockets here) is refused before a name is
    looked up or a connection made; loopback goes through, and the verdict says what happened.

    The real socket functions are replaced by recording stubs before the case starts (in a
    subprocess), so even a broken guard would send nothing anywhere."""
    pytester.makepyfile(
        """
        import socket
        import pytest

        reached = []

        def connect(self, address):
            reached.append(address[0])
            raise OSError("stub")

        def getaddrinfo(host, *args, **kwargs):
            reached.append(host)
            raise socket.gaierror("stub")

        socket.socket.connect = connect
        socket.getaddrinfo = getaddrinfo

        @pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"])
        def test_raw_socket(vision_error):
            with pytest.raises(socket.gaierror, match="was blocked"):
                socket.getaddrinfo("ocr.cn-north-4.myhuaweicloud.com", 443)
            with pytest.raises(ConnectionRefusedError, match="was blocked"):
                socket.socket().connect(("203.0.113.7", 443))
            for loopback in ("127.0.0.1", "localhost", "::1"):
                with pytest.raises((OSError, socket.gaierror), match="stub"):
                    socket.getaddrinfo(loopback, 80)
            with pytest.raises(OSError, match="stub"):
                socket.socket().connect(("127.0.0.1", 80))
            assert reached == ["127.0.0.1", "localhost", "::1", "127.0.0.1"]

        def test_after_the_case():
            assert socket.socket.connect is connect and socket.getaddrinfo is getaddrinfo
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "vision_errors: not exercised: the test made no request to huawei_ocr*",
            "  The plugin blocked looking up 'ocr.cn-north-4.myhuaweicloud.com': the client went "
            "around vcrpy's patches*",
        ]
    )


THREADS_CONNECTING = """
import sys, threading
import pytest, requests

sys.setswitchinterval(1e-6)  # switch threads as often as possible: open every race window


@pytest.mark.vision_errors("azure_face", codes=["InvalidImage"], operations=["detect"],
                           handled=(requests.HTTPError,))
def test_threads(vision_error):
    escaped = []

    def call():
        for _ in range(25):
            try:
                with requests.Session() as session:  # a new pool, so a new connection
                    session.post("https://myres.cognitiveservices.azure.com/face/v1.2/detect",
                                 data=b"x", headers={"Ocp-Apim-Subscription-Key": "k"})
            except requests.ConnectionError as exc:  # what went around the cassette
                escaped.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not escaped, escaped[0]
    raise requests.HTTPError("handled")
"""


def test_threads_opening_connections_at_once_all_stay_on_the_cassette(
    pytester: pytest.Pytester,
) -> None:
    """vcrpy restores the real classes while it builds each connection; another thread opening
    one at that moment used to get a real connection (and a blocked network). Only http.client's
    names are restored now (replay._quick_resets); the old code failed this every time."""
    pytester.makepyfile(test_threads=THREADS_CONNECTING)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=3)
