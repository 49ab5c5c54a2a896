"""Virtual time and flows: which sleeps are waits, whose waits they are, and whose requests.

Unit tests of ``exchange.virtual_sleep`` and ``Exchange`` first, then the retry contract as
users meet it (pytester) with anyio, zero-second yields, background tasks and concurrent calls.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import anyio
import pytest

from pytest_visioncontract.exchange import Exchange, virtual_sleep
from pytest_visioncontract.wire import WireResponse

ERROR = WireResponse(429, "Too Many Requests", (("Retry-After", "1"),), b"{}", 1.0)
OK = WireResponse(200, "OK", (), b"[]", None)


def exchange(script: tuple[WireResponse, ...] = (ERROR, OK)) -> Exchange:
    return Exchange(
        route=lambda method, url, headers: "detect",
        accepts=lambda operation: operation is not None,
        script=script,
        unmatched_message=lambda request: "unexpected",
        cap=10,
    )


def ask(ex: Exchange) -> int:
    return ex.handle("POST", "https://example.test/detect", {}, b"x").status


@pytest.fixture
def ex() -> Iterator[Exchange]:
    served = exchange()
    with virtual_sleep(served):
        yield served


# ------------------------------------------------------------------------------ what is a wait


def test_time_asyncio_and_anyio_sleeps_are_recorded_without_waiting(ex: Exchange) -> None:
    from anyio import sleep as imported_sleep  # bound before the call, as a client module does

    async def client() -> None:
        await asyncio.sleep(2)
        await anyio.sleep(3)
        await imported_sleep(4)
        await anyio.sleep_until(anyio.current_time() + 5)

    start = time.monotonic()
    ask(ex)
    time.sleep(1)
    asyncio.run(client())
    assert time.monotonic() - start < 1.0
    [main] = [f for f in ex.flows if f.requests]
    assert main.waits == [1.0]
    waits = [w for f in ex.flows if not f.requests for w in f.waits]
    assert waits[:3] == [2.0, 3.0, 4.0]
    assert waits[3] == pytest.approx(5.0, abs=0.5)


def test_anyio_sleep_is_virtual_under_anyio_run(ex: Exchange) -> None:
    async def client() -> None:
        ask(ex)
        await anyio.sleep(30)
        ask(ex)

    start = time.monotonic()
    anyio.run(client)
    assert time.monotonic() - start < 1.0
    assert ex.waits == [30.0]


def test_zero_second_sleeps_are_yields_not_waits(ex: Exchange) -> None:
    async def client() -> None:
        ask(ex)
        time.sleep(0)
        await asyncio.sleep(0)
        await anyio.sleep(0)
        await asyncio.sleep(-1)  # asyncio treats a negative delay as zero
        await asyncio.sleep(1)
        ask(ex)

    asyncio.run(client())
    assert ex.waits == [1.0]


@pytest.mark.parametrize("module", ["asyncio", "anyio"])
def test_sleep_zero_still_yields_to_the_loop(ex: Exchange, module: str) -> None:
    async def main() -> list[str]:
        seen: list[str] = []

        async def other() -> None:
            seen.append("other ran")

        task = asyncio.create_task(other())
        await (asyncio.sleep(0) if module == "asyncio" else anyio.sleep(0))  # as patched now
        seen.append("after yield")
        await task
        return seen

    assert asyncio.run(main()) == ["other ran", "after yield"]


def test_a_virtual_wait_gives_the_loop_one_turn(ex: Exchange) -> None:
    async def main() -> list[str]:
        order: list[str] = []

        async def other() -> None:
            order.append("other")

        task = asyncio.create_task(other())
        await asyncio.sleep(10)
        order.append("after sleep")
        await task
        return order

    assert asyncio.run(main()) == ["other", "after sleep"]


def test_sleep_forever_is_not_made_virtual(ex: Exchange) -> None:
    async def main() -> None:
        with anyio.move_on_after(0.01):
            await anyio.sleep_forever()  # would return at once (and record inf) if virtual

    asyncio.run(main())
    assert ex.waits == [] and all(not f.waits for f in ex.flows)


# ---------------------------------------------------------------------------------- leaks


def test_patches_are_restored_and_kept_references_sleep_for_real() -> None:
    from anyio._backends._asyncio import AsyncIOBackend

    real = (time.sleep, asyncio.sleep, AsyncIOBackend.__dict__["sleep"])
    served = exchange()
    with virtual_sleep(served):
        kept_sleep, kept_async_sleep = time.sleep, asyncio.sleep
        assert (time.sleep, asyncio.sleep, AsyncIOBackend.__dict__["sleep"]) != real
    assert (time.sleep, asyncio.sleep, AsyncIOBackend.__dict__["sleep"]) == real

    start = time.monotonic()
    kept_sleep(0.05)
    asyncio.run(kept_async_sleep(0.05))
    assert time.monotonic() - start >= 0.1
    assert served.timeline == []


def test_an_error_inside_restores_the_patches() -> None:
    real = (time.sleep, asyncio.sleep)
    with pytest.raises(KeyError), virtual_sleep(exchange()):
        raise KeyError("boom")
    assert (time.sleep, asyncio.sleep) == real


def test_anyio_backend_imported_during_the_block_is_captured_and_restored(
    pytester: pytest.Pytester,
) -> None:
    """anyio loaded, its asyncio backend not yet: anyio imports it on first use, inside the
    block, where it binds the virtual asyncio.sleep; after the block anyio sleeps for real."""
    script = pytester.makepyfile(
        """
import sys, time, asyncio, anyio
assert "anyio._backends._asyncio" not in sys.modules
from pytest_visioncontract.exchange import Exchange, virtual_sleep
from pytest_visioncontract.wire import WireResponse

ex = Exchange(route=lambda *a: "x", accepts=bool, script=[WireResponse(200, "OK", (), b"", None)],
              unmatched_message=str)

async def client():
    ex.handle("GET", "https://example.test/", {}, None)
    await anyio.sleep(60)

with virtual_sleep(ex):
    start = time.monotonic()
    asyncio.run(client())
    assert time.monotonic() - start < 1, "anyio.sleep really slept"
start = time.monotonic()
anyio.run(anyio.sleep, 0.05)
assert time.monotonic() - start >= 0.05, "anyio.sleep is still virtual after the block"
print(ex.waits)
"""
    )
    result = pytester.runpython(script)
    assert result.ret == 0, result.stderr.str()
    assert result.outlines[-1] == "[60.0]"


# ---------------------------------------------------------------------------------- flows


def test_each_flow_is_answered_from_the_start_of_the_script(ex: Exchange) -> None:
    async def call() -> list[int]:
        first = ask(ex)
        await asyncio.sleep(0)  # let the other calls make their first request
        return [first, ask(ex)]

    async def main() -> list[list[int]]:
        return list(await asyncio.gather(call(), call(), call()))

    assert asyncio.run(main()) == [[429, 200]] * 3
    assert len(ex.requests) == 6
    assert [len(f.requests) for f in ex.requesting_flows] == [2, 2, 2]


def test_threads_are_flows(ex: Exchange) -> None:
    answers: list[list[int]] = []
    barrier = threading.Barrier(3)

    def call() -> None:
        first = ask(ex)
        barrier.wait()
        time.sleep(1)
        answers.append([first, ask(ex)])

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [[429, 200]] * 3
    assert ex.waits == [1.0, 1.0, 1.0]
    assert all(f.waits == [1.0] for f in ex.requesting_flows)


def test_sleeps_of_a_flow_without_requests_are_not_waits(ex: Exchange) -> None:
    async def main() -> None:
        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(1)

        beat = asyncio.create_task(heartbeat())
        ask(ex)
        for _ in range(5):
            await asyncio.sleep(0)  # the heartbeat beats
        ask(ex)
        beat.cancel()

    asyncio.run(main())
    assert ex.waits == []
    [heartbeat] = [f for f in ex.flows if not f.requests]
    assert heartbeat.waits and set(heartbeat.waits) == {1.0}
    assert "heartbeat" in heartbeat.name


def test_the_cap_is_per_flow() -> None:
    served = exchange((ERROR,))
    served.cap = 2

    async def call() -> None:
        for _ in range(2):
            ask(served)

    async def main() -> None:
        await asyncio.gather(call(), call())

    asyncio.run(main())
    assert len(served.requests) == 4 and not served.capped


def test_reset_forgets_flows(ex: Exchange) -> None:
    ask(ex)
    time.sleep(1)
    ex.reset((ERROR, OK))
    assert (ex.requests, ex.flows, ex.timeline, ex.waits) == ([], [], [], [])
    assert ask(ex) == 429


# -------------------------------------------------------------------- the retry contract, per flow

CLIENT = """
import asyncio, threading, time
import anyio, httpx, pytest, requests

URL = "https://myres.cognitiveservices.azure.com/face/v1.2/detect"

class VisionError(Exception):
    pass

def detect(*, honour=True, attempts=3):
    for attempt in range(1, attempts + 1):
        r = requests.post(URL, data=b"jpeg")
        if r.ok:
            return r.json()
        if r.status_code != 429 or attempt == attempts:
            raise VisionError(r.status_code)
        if honour:
            time.sleep(float(r.headers["Retry-After"]))

async def detect_async(client, *, honour=True, attempts=3, sleep=None, factor=1):
    for attempt in range(1, attempts + 1):
        r = await client.post(URL, content=b"jpeg")
        if r.status_code < 400:
            return r.json()
        if r.status_code != 429 or attempt == attempts:
            raise VisionError(r.status_code)
        if honour:
            await (sleep or asyncio.sleep)(float(r.headers["Retry-After"]) * factor)

MARK = pytest.mark.vision_errors(
    "azure_face", operations=["detect"], codes=["429"], retry=True, handled=(VisionError,)
)
"""

BROKEN = (
    'vision_errors: retry contract broken for 429 429 "Rate limit is exceeded." '
    "(azure_face, operation detect)"
)


def run(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makepyfile(CLIENT + body)
    return pytester.runpytest("-p", "no:cacheprovider")


@pytest.mark.parametrize("sleep", ["anyio.sleep", "sleep_imported_early"])
def test_anyio_sleep_honours_retry_after_virtually(pytester: pytest.Pytester, sleep: str) -> None:
    result = run(
        pytester,
        f"""
from anyio import sleep as sleep_imported_early

@MARK
def test_it(vision_error):
    async def main():
        async with httpx.AsyncClient() as client:
            return await detect_async(client, sleep={sleep}, factor=30)
    start = time.monotonic()
    assert anyio.run(main)
    assert vision_error.waits == [30.0]
    assert time.monotonic() - start < 1.0
""",
    )
    result.assert_outcomes(passed=1)


def test_azure_style_zero_second_yields_keep_the_documented_pattern(
    pytester: pytest.Pytester,
) -> None:
    """azure-core's aio transport yields with asyncio.sleep(0); the docs' assertion holds."""
    result = run(
        pytester,
        """
async def yielding_sleep(seconds):
    await asyncio.sleep(0)
    time.sleep(0)
    await anyio.sleep(0)
    await asyncio.sleep(seconds)

@MARK
def test_it(vision_error):
    async def main():
        async with httpx.AsyncClient() as client:
            await asyncio.sleep(0)
            return await detect_async(client, sleep=yielding_sleep)
    assert asyncio.run(main())
    assert vision_error.waits == [vision_error.response.retry_after]
""",
    )
    result.assert_outcomes(passed=1)


HEARTBEAT = """
async def heartbeat():
    while True:
        await asyncio.sleep(1)

@MARK
def test_it(vision_error):
    async def main():
        beat = asyncio.create_task(heartbeat())
        try:
            async with httpx.AsyncClient() as client:
                return await detect_async(client, honour={honour})
        finally:
            beat.cancel()
    assert asyncio.run(main())
    assert vision_error.waits == {waits}
"""


def test_a_background_tasks_sleep_is_not_the_clients_wait(pytester: pytest.Pytester) -> None:
    result = run(pytester, HEARTBEAT.format(honour=False, waits="[]"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            BROKEN,
            "  happened:   request 1 -> 429, request 2 -> 200",
            "  The client waited 0s before retry 1; the response asked for Retry-After 1s.",
        ]
    )


def test_a_background_tasks_sleep_does_not_break_a_correct_client(
    pytester: pytest.Pytester,
) -> None:
    run(pytester, HEARTBEAT.format(honour=True, waits="[1.0]")).assert_outcomes(passed=1)


GATHER = """
@MARK
def test_it(vision_error):
    async def main():
        async with httpx.AsyncClient() as client:
            return await asyncio.gather(
                detect_async(client), detect_async(client, honour={honour}), detect_async(client)
            )
    assert len(asyncio.run(main())) == 3
    assert len(vision_error.requests) == 6
    assert vision_error.waits == {waits}
"""


def test_concurrent_tasks_each_retrying_correctly_pass(pytester: pytest.Pytester) -> None:
    run(pytester, GATHER.format(honour=True, waits="[1.0] * 3")).assert_outcomes(passed=1)


def test_the_concurrent_task_that_does_not_wait_is_named(pytester: pytest.Pytester) -> None:
    result = run(pytester, GATHER.format(honour=False, waits="[1.0] * 2"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            BROKEN,
            "  served:     the error 1 time(s), then the success response; budget 3 requests, "
            "Retry-After 1s to honour",
            "  flow:       asyncio task 'Task-*' running detect_async(), flow 2 of 3 that made "
            "requests (concurrent tasks or threads are each served the script and judged on "
            "their own requests and waits)",
            "  happened:   request 1 -> 429, request 2 -> 200",
            "  The client waited 0s before retry 1; the response asked for Retry-After 1s.",
        ]
    )


THREADS = """
@MARK
def test_it(vision_error):
    results = []
    def call(honour):
        results.append(detect(honour=honour))
    threads = [
        threading.Thread(target=call, args=(honour,), name=f"caller-{{i}}")
        for i, honour in enumerate([True, {honour}, True])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
"""


def test_concurrent_threads_each_retrying_correctly_pass(pytester: pytest.Pytester) -> None:
    run(pytester, THREADS.format(honour=True)).assert_outcomes(passed=1)


def test_the_thread_that_does_not_wait_is_named(pytester: pytest.Pytester) -> None:
    result = run(pytester, THREADS.format(honour=False))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  flow:       thread 'caller-1', flow * of 3 that made requests *",
            "  happened:   request 1 -> 429, request 2 -> 200",
            "  The client waited 0s before retry 1; the response asked for Retry-After 1s.",
        ]
    )


def test_a_flow_over_its_budget_is_still_caught(pytester: pytest.Pytester) -> None:
    """Per-flow numbering must not hide one flow calling twice (two scripts' worth)."""
    result = run(
        pytester,
        """
@pytest.mark.vision_errors("azure_face", operations=["detect"], codes=["429"],
                           retry=dict(times=2, attempts=3), handled=(VisionError,))
def test_it(vision_error):
    async def twice(client):
        await detect_async(client)
        await detect_async(client)
    async def main():
        async with httpx.AsyncClient() as client:
            await asyncio.gather(detect_async(client), twice(client))
    asyncio.run(main())
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  flow:       asyncio task 'Task-*' running *twice(), flow 2 of 2 *",
            "  The client recovered only after 4 requests; the budget is 3.",
        ]
    )


def test_a_suite_of_long_retry_afters_takes_milliseconds(pytester: pytest.Pytester) -> None:
    """Throttling served 3 times, each answered with a 30 s wait (time.sleep, asyncio.sleep,
    anyio.sleep): 270 s of waiting, no real sleeping."""
    result = run(
        pytester,
        """
SLEEPS = {"time": None, "asyncio": lambda s: asyncio.sleep(s), "anyio": anyio.sleep}

@pytest.mark.parametrize("how", list(SLEEPS))
@pytest.mark.vision_errors("azure_face", categories=["throttled"],
                           retry=dict(times=3, attempts=4))
def test_it(vision_error, how):
    start = time.monotonic()
    async def client():
        async with httpx.AsyncClient() as client:
            for _ in range(3):
                await client.post(URL, content=b"x")
                await SLEEPS[how](30)
            await client.post(URL, content=b"x")
    if how == "time":
        for _ in range(3):
            requests.post(URL, data=b"x")
            time.sleep(30)
        requests.post(URL, data=b"x")
    else:
        asyncio.run(client())
    assert vision_error.waits == [30.0] * 3
    assert time.monotonic() - start < 1.0
""",
    )
    result.assert_outcomes(passed=3)
    assert result.duration < 30


def test_the_concurrent_task_that_gives_up_is_named(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@MARK
def test_it(vision_error):
    async def main():
        async with httpx.AsyncClient() as client:
            await asyncio.gather(detect_async(client), detect_async(client, attempts=1))
    asyncio.run(main())
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            BROKEN,
            "*",
            "  flow:       asyncio task 'Task-*' running detect_async(), flow 2 of 2 *",
            "  happened:   request 1 -> 429",
            "  The client did not recover: *VisionError: 429 escaped after 1 request(s); "
            "request 2 would have succeeded.",
        ]
    )


def test_the_concurrent_task_that_never_stops_is_named(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@MARK
def test_it(vision_error):
    async def forever(client):
        while True:
            try:
                await client.post(URL, content=b"jpeg")
            except Exception:
                return
            await asyncio.sleep(1)
    async def main():
        async with httpx.AsyncClient() as client:
            await asyncio.gather(detect_async(client), forever(client))
    asyncio.run(main())
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            'vision_errors: the client kept sending requests for 429 429 "Rate limit is exceeded." '
            "(azure_face): the plugin refused request 21 (cap 20) to asyncio task 'Task-*' running "
            "*forever().",
        ]
    )


DELEGATING = """
async def detect_delegating(client, *, how, honour=True, attempts=3):
    # One call whose attempts or waits run in helper tasks: wait_for (a task of its own on
    # Python 3.11), create_task, or shield. The helpers belong to the call's flow.
    for attempt in range(1, attempts + 1):
        post = client.post(URL, content=b"jpeg")
        if how == "wait_for":
            r = await asyncio.wait_for(post, timeout=10)
        else:
            r = await asyncio.create_task(post)
        if r.status_code < 400:
            return r.json()
        if r.status_code != 429 or attempt == attempts:
            raise VisionError(r.status_code)
        if honour:
            pause = asyncio.sleep(float(r.headers["Retry-After"]))
            await (asyncio.shield(pause) if how == "create_task" else asyncio.wait_for(pause, 60))

@MARK
@pytest.mark.parametrize("how", ["wait_for", "create_task"])
def test_it(vision_error, how):
    async def main():
        async with httpx.AsyncClient() as client:
            {body}
    asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ("assert await detect_delegating(client, how=how)", {"passed": 2}),
        (
            "assert len(await asyncio.gather(*(detect_delegating(client, how=how) "
            "for _ in range(3)))) == 3\n            assert vision_error.waits == [1.0] * 3",
            {"passed": 2},
        ),
        (
            "beat = asyncio.create_task(heartbeat())\n"
            "            await detect_delegating(client, how=how, honour=False)",
            {"failed": 2},
        ),
    ],
    ids=["one-call", "three-concurrent-calls", "heartbeat-next-to-a-call-that-does-not-wait"],
)
def test_a_calls_helper_tasks_belong_to_its_flow(
    pytester: pytest.Pytester, body: str, outcome: dict[str, int]
) -> None:
    """A retry loop whose attempts or waits run in helper tasks is one flow: its second request
    gets the success response and its helpers' waits are its waits; concurrent calls stay
    separate flows, and a heartbeat's sleeps still count for nobody."""
    heartbeat = "\nasync def heartbeat():\n    while True:\n        await asyncio.sleep(1)\n"
    result = run(pytester, heartbeat + DELEGATING.format(body=body))
    result.assert_outcomes(**outcome)
    if "failed" in outcome:
        result.stdout.fnmatch_lines(
            ["*The client waited 0s before retry 1; the response asked for Retry-After 1s."]
        )
