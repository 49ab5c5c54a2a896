"""``async def`` tests: source="hypothesis", faults= and retry= under pytest-asyncio and anyio.

Each run is a real test file (pytester) with an httpx.AsyncClient or aiohttp client: a correct
one that passes and a buggy one that is caught, with the verdict lines and the coverage table a
sync test gets. For httpx, the same file with the synchronous ``httpx.Client`` is run with the
same seed and must produce the same failures, verdicts and report.
"""

from __future__ import annotations

import re

import pytest

CLIENTS = """
import asyncio, ssl, time
import aiohttp, anyio, httpx, pytest

TLS = ssl.create_default_context()  # made once, as an application does: each costs ~30 ms

ANALYZE = "https://myres.cognitiveservices.azure.com/computervision/imageanalysis:analyze?api-version=2023-10-01"
DETECT = "https://myres.cognitiveservices.azure.com/face/v1.2/detect"

class VisionError(Exception):
    pass

def error_of(status, read):
    try:
        return VisionError(read()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return VisionError(status)

async def call_httpx(url, *, buggy=False):
    # buggy: network errors escape raw, and an error body is trusted to be JSON
    try:
        async with httpx.AsyncClient(verify=TLS) as client:
            r = await client.post(url, content=b"img")
    except httpx.TransportError as exc:
        if buggy:
            raise
        raise VisionError("network") from exc
    if r.status_code >= 400:
        raise VisionError(r.json()["error"]["code"]) if buggy else error_of(r.status_code, r.json)
    return r.json()

def call_httpx_sync(url, *, buggy=False):   # the same client, synchronous
    try:
        with httpx.Client(verify=TLS) as client:
            r = client.post(url, content=b"img")
    except httpx.TransportError as exc:
        if buggy:
            raise
        raise VisionError("network") from exc
    if r.status_code >= 400:
        raise VisionError(r.json()["error"]["code"]) if buggy else error_of(r.status_code, r.json)
    return r.json()

async def call_aiohttp(url, *, buggy=False):
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=b"img") as r:
                if r.status < 400:
                    return await r.json()
                try:
                    code = (await r.json())["error"]["code"]
                except (ValueError, KeyError, TypeError, aiohttp.ContentTypeError):
                    if buggy:
                        raise
                    code = r.status
                raise VisionError(code)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        if buggy:
            raise
        raise VisionError("network") from exc

SLEEPS = {"asyncio": lambda s: asyncio.sleep(s), "anyio": lambda s: anyio.sleep(s)}

async def detect_httpx(*, honour=True, sleep="asyncio", attempts=3):
    async with httpx.AsyncClient(verify=TLS) as client:
        for attempt in range(1, attempts + 1):
            r = await client.post(DETECT, content=b"img")
            if r.status_code < 400:
                return r.json()
            if r.status_code != 429 or attempt == attempts:
                raise VisionError(r.status_code)
            if honour:
                await SLEEPS[sleep](float(r.headers["Retry-After"]) * 60)

async def detect_aiohttp(*, honour=True, sleep="asyncio", attempts=3):
    async with aiohttp.ClientSession() as session:
        for attempt in range(1, attempts + 1):
            async with session.post(DETECT, data=b"img") as r:
                if r.status < 400:
                    return await r.json()
                if r.status != 429 or attempt == attempts:
                    raise VisionError(r.status)
                wait = float(r.headers["Retry-After"]) * 60
            if honour:
                await SLEEPS[sleep](wait)

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""

# {mark} is the runner's marker line (or nothing), {call}/{detect} the client under test.
ASYNC_TESTS = """
{mark}
@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,), max_examples=30)
async def test_property_correct(vision_error):
    await {call}(ANALYZE)

{mark}
@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,), max_examples=30)
async def test_property_buggy(vision_error):
    await {call}(ANALYZE, buggy=True)

{mark}
@pytest.mark.vision_errors("azure_image_analysis", codes=["InvalidImageFormat"], faults=True, handled=(VisionError,))
async def test_faults_correct(vision_error):
    await {call}(ANALYZE)

{mark}
@pytest.mark.vision_errors("azure_image_analysis", codes=["InvalidImageFormat"], faults=True, handled=(VisionError,))
async def test_faults_buggy(vision_error):
    await {call}(ANALYZE, buggy=True)

{mark}
@pytest.mark.parametrize("sleep", ["asyncio", "anyio"])
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry=True, handled=(VisionError,))
async def test_retry_correct(vision_error, sleep):
    start = time.monotonic()
    assert await {detect}(sleep=sleep)
    assert vision_error.waits == [60.0]
    assert time.monotonic() - start < 1.0

{mark}
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"], retry=True, handled=(VisionError,))
async def test_retry_buggy(vision_error):
    await {detect}(honour=False)
"""

SYNC_TESTS = """
@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,), max_examples=30)
def test_property_correct(vision_error):
    call_httpx_sync(ANALYZE)

@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,), max_examples=30)
def test_property_buggy(vision_error):
    call_httpx_sync(ANALYZE, buggy=True)

@pytest.mark.vision_errors("azure_image_analysis", codes=["InvalidImageFormat"], faults=True, handled=(VisionError,))
def test_faults_correct(vision_error):
    call_httpx_sync(ANALYZE)

@pytest.mark.vision_errors("azure_image_analysis", codes=["InvalidImageFormat"], faults=True, handled=(VisionError,))
def test_faults_buggy(vision_error):
    call_httpx_sync(ANALYZE, buggy=True)
"""

RUNNERS = {
    "asyncio-strict": ("@pytest.mark.asyncio", ()),
    "asyncio-auto": ("", ("-o", "asyncio_mode=auto")),
    "anyio": ("@pytest.mark.anyio", ()),
}
CLIENT_CALLS = {
    "httpx": ("call_httpx", "detect_httpx"),
    "aiohttp": ("call_aiohttp", "detect_aiohttp"),
}
SEED = "--hypothesis-seed=3"
# faults=True: the documented case and its 8 variants; the buggy client survives the variants
# whose body is still JSON with the documented code (wrong or missing Content-Type, for httpx).
CASES = 9


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_client=CLIENTS + source)
    return pytester.runpytest("-p", "no:cacheprovider", "-v", SEED, *args)


def verdicts(result: pytest.RunResult) -> dict[str, str]:
    """Test id -> PASSED/FAILED, from the -v lines."""
    found = {}
    for line in result.outlines:
        match = re.match(r"test_client\.py::(\S+) (PASSED|FAILED)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def report(result: pytest.RunResult) -> dict[str, list[str]]:
    """What a person reads: each failure (without file positions) and each provider's coverage
    lines, by test id or provider."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in result.outlines:
        header = re.fullmatch(r"_+ (\S+) _+", line)
        if header:
            current = sections.setdefault(header.group(1), [])
        elif line.startswith("=") or line.startswith("FAILED "):
            current = None
        elif line.startswith("azure_"):
            sections.setdefault(line.split()[0].rstrip(":"), []).append(line)
        elif current is not None and not _position(line):
            current.append(line)
    return sections


def _position(line: str) -> bool:
    """A line naming a file position (these differ between the sync and the async file)."""
    return "raised at " in line or line.lstrip().startswith(("test_client.py:", "File "))


@pytest.mark.parametrize("client", list(CLIENT_CALLS))
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_async_tests_get_the_verdicts_of_sync_ones(
    pytester: pytest.Pytester, runner: str, client: str
) -> None:
    mark, args = RUNNERS[runner]
    call, detect = CLIENT_CALLS[client]
    result = run(pytester, ASYNC_TESTS.format(mark=mark, call=call, detect=detect), *args)
    found = verdicts(result)
    assert "was never awaited" not in result.stdout.str()

    # source="hypothesis": the correct client passes, the buggy one is caught and shrunk.
    assert found["test_property_correct[azure_image_analysis-hypothesis]"] == "PASSED"
    assert found["test_property_buggy[azure_image_analysis-hypothesis]"] == "FAILED"
    result.stdout.fnmatch_lines(
        [
            "*_ test_property_buggy[[]azure_image_analysis-hypothesis[]] _*",
            "vision_errors: unhandled documented error of Azure AI Vision Image Analysis 4.0 "
            "(azure_image_analysis)",
            "  escaped:    *",
            "  The exception escaped the test and is not one of handled=(VisionError). *",
            "Hypothesis' minimal failing response (seed 3):",
            "    drawn=DrawnError(azure_image_analysis * on any, *):",
        ]
    )

    # faults=: every case of the correct client passes; the buggy one fails the network faults.
    faults = {k: v for k, v in found.items() if k.startswith("test_faults_")}
    assert len(faults) == 2 * CASES
    assert {k: v for k, v in faults.items() if "correct" in k} == {
        k.replace("buggy", "correct"): "PASSED" for k in faults if "buggy" in k
    }
    for kind in ("connection_reset", "read_timeout"):
        key = f"test_faults_buggy[azure_image_analysis-analyze-400-InvalidRequest-InvalidImageFormat-image-format-is-as-{kind}]"
        assert found[key] == "FAILED"
    result.stdout.fnmatch_lines(
        [
            "*_ test_faults_buggy[[]*-as-connection_reset[]] _*",
            "vision_errors: unhandled documented error of Azure AI Vision Image Analysis 4.0 "
            "(azure_image_analysis)",
            "  served:",
            "              connection reset by peer (no response)",
            "  escaped:    *",
        ]
    )

    # retry=: waits (asyncio.sleep and anyio.sleep, 60 s each) are virtual and judged.
    retry = {k: v for k, v in found.items() if k.startswith("test_retry_")}
    assert retry == {
        "test_retry_correct[azure_face-detect-429-429-rate-limit-is-asyncio]": "PASSED",
        "test_retry_correct[azure_face-detect-429-429-rate-limit-is-anyio]": "PASSED",
        "test_retry_buggy[azure_face-detect-429-429-rate-limit-is]": "FAILED",
    }
    result.stdout.fnmatch_lines(
        [
            'vision_errors: retry contract broken for 429 429 "Rate limit is exceeded." '
            "(azure_face, operation detect)",
            "  served:     the error 1 time(s), then the success response; budget 3 requests, "
            "Retry-After 1s to honour",
            "  happened:   request 1 -> 429, request 2 -> 200",
            "  The client waited 0s before retry 1; the response asked for Retry-After 1s.",
        ]
    )
    # The coverage table counts every case of both providers.
    result.stdout.fnmatch_lines(
        [
            "*= vision contract: documented errors =*",
            "provider *documented *exercised *handled *unhandled *not exercised *not run *handled %",
            "azure_face *143 *1 *0 *1 *0 *142 *0.0%",
            "azure_image_analysis *11 *",
        ]
    )

    if client == "httpx":  # the same client, synchronous: the same failures and report
        sync = run(pytester, SYNC_TESTS)
        async_only = {k: v for k, v in found.items() if not k.startswith("test_retry_")}
        assert verdicts(sync) == async_only
        async_report = report(result)
        del (
            async_report["azure_face"],
            async_report["test_retry_buggy[azure_face-detect-429-429-rate-limit-is]"],
        )
        assert (
            "Hypothesis' minimal failing response (seed 3):"
            in (async_report["test_property_buggy[azure_image_analysis-hypothesis]"])
        )
        assert async_report["azure_image_analysis"][0].split()[1:2] == ["11"]  # the table row
        assert report(sync) == async_report


def test_an_async_test_no_plugin_runs_gets_one_clear_line(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,), max_examples=5)
async def test_unmarked(vision_error):
    await call_httpx(ANALYZE)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "vision_errors: test_unmarked[[]azure_image_analysis-hypothesis[]] is an async def "
            "test and no plugin runs it: mark it @pytest.mark.asyncio (pytest-asyncio, or its "
            "asyncio_mode = auto) or @pytest.mark.anyio (anyio)"
        ]
    )
    assert "was never awaited" not in result.stdout.str()


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_async_fixtures_share_the_tests_event_loop(pytester: pytest.Pytester, runner: str) -> None:
    """Every example runs where the plugin runs the test, so a client made by an async fixture
    (bound to that loop) serves every example."""
    mark, args = RUNNERS[runner]
    fixture = {
        "asyncio-strict": "@pytest_asyncio.fixture",
        "asyncio-auto": "@pytest.fixture",
        "anyio": "@pytest.fixture",
    }[runner]
    result = run(
        pytester,
        f"""
import pytest_asyncio

{fixture}
async def session():
    async with aiohttp.ClientSession() as session:
        yield session

{mark}
@pytest.mark.vision_errors("azure_image_analysis", source="hypothesis", handled=(VisionError,), max_examples=20)
async def test_it(vision_error, session):
    try:
        async with session.post(ANALYZE, data=b"img") as r:
            if r.status >= 400:
                raise VisionError(r.status)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise VisionError("network") from exc
""",
        *args,
    )
    result.assert_outcomes(passed=1)
