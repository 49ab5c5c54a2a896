"""The first served example of a ``@given`` test: does it cost more than the ones after it?

Hypothesis times each example against its deadline (200 ms by default), the first included.
Each run is a fresh process that serves ``EXAMPLES`` examples to a ``requests`` client and
prints the time of each. Two ways of getting ``serve``:

- ``import-serve``: ``from pytest_visioncontract import serve`` at the top of the module, as the
  docs show (vcrpy's start-up is paid at the import, i.e. at collection);
- ``lazy``: what the plugin did before: the replay module (and vcrpy) imported by the first
  call of ``serve``, inside the first example.

The figure is first example / median of the others, per way, interleaved over ``--repeats``.

    .venv/bin/python benchmarks/first_example.py [--repeats K]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

EXAMPLES = 30
TARGET = 3.0  # the first example within 3x a later one (the lazy way is ~100x)

PROGRAM = """
import time
import requests
from pytest_visioncontract.wire import WireResponse
{setup}
URL = "https://myres.cognitiveservices.azure.com/computervision/imageanalysis:analyze"
response = WireResponse(400, "Bad Request", (("Content-Type", "application/json"),), b"{{}}", None)
session = requests.Session()
for _ in range({examples}):
    start = time.perf_counter()
    {serve_expr}
    with serve(response):
        session.post(URL, data=b"jpeg")
    print(time.perf_counter() - start)
"""

WAYS = {
    "import-serve": ("from pytest_visioncontract import serve", "pass"),
    "lazy": ("", "from pytest_visioncontract.replay import serve"),
}


def first_over_rest(way: str) -> tuple[float, float]:
    setup, serve_expr = WAYS[way]
    program = PROGRAM.format(setup=setup, serve_expr=serve_expr, examples=EXAMPLES)
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    times = [float(line) for line in out.split()]
    return times[0], statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ratios: dict[str, list[float]] = {way: [] for way in WAYS}
    firsts: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(args.repeats):
        for way in WAYS:  # interleaved: both ways see the same machine state
            first, rest = first_over_rest(way)
            ratios[way].append(first / rest)
            firsts[way].append(first)
    print(f"first served example vs the median of the next {EXAMPLES - 1} ({args.repeats} runs)")
    for way in WAYS:
        print(
            f"  {way:<13} first {statistics.median(firsts[way]) * 1000:7.1f} ms   "
            f"first/rest {statistics.median(ratios[way]):7.1f}x"
        )
    ok = statistics.median(ratios["import-serve"]) <= TARGET
    print(f"{'PASS' if ok else 'MISS'}: import-serve first example within {TARGET}x of the rest")


if __name__ == "__main__":
    main()
