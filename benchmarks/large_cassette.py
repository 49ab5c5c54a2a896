"""Large cassettes: are they linted and replayed in time and memory proportional to their size?

Builds vcrpy cassettes of a given size in two shapes, in a temporary folder:

- ``small``: many small interactions (about 500 bytes each, as pyyaml dumps vcrpy's
  cassettes): documented errors of the five providers and successes, every request and
  every error body unique (its own request id);
- ``huge``: a few huge bodies: image uploads of 24 MB of base64 each (``!!binary``, as vcrpy
  writes bytes that are not UTF-8), answered with documented errors, and JSON successes
  with 10 MB bodies.

and measures, each in a fresh process (wall time, peak RSS from ``/usr/bin/time``):

- ``lint``: ``visioncontract lint FILE``;
- ``replay``: a pytest run of one test that makes one request the cassette holds, through
  the ``vision_cassette`` fixture (vcrpy);
- ``source``: a pytest run of ``@pytest.mark.vision_errors("huawei_ocr", source="cassettes")``
  over a folder holding the cassette (37 recorded Huawei errors among the others: 37 cases).

Target, for a 200 MB cassette: every path under 60 s and under 4 x the file's size in peak
RSS. Proportionality: the cost per MB at the large size over the cost per MB at the small one.

    .venv/bin/python benchmarks/large_cassette.py [--sizes 20 200] [--shapes small huge]
        [--paths lint replay source] [--timeout 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

import pytest_visioncontract
from pytest_visioncontract.cassettes import example_request, provenance
from pytest_visioncontract.catalog import Catalog, load_registry
from pytest_visioncontract.wire import render

MB = 1_000_000
TARGET_SECONDS = 60.0
TARGET_RSS_X = 4.0  # peak RSS at most this many times the file's size
BIN = Path(sys.executable).parent
TOKEN = "QQNQQ"  # replaced by the interaction's number
HUAWEI_URI = "https://ocr.cn-north-4.myhuaweicloud.com/v2/p1/ocr/general-text"
REPLAY_HOST = "myresource.cognitiveservices.azure.com"

REPLAY_TEST = """
import pytest, requests

@pytest.mark.vision_cassette("big")
def test_replay(vision_cassette):
    r = requests.request({method!r}, {uri!r}, data={body!r})
    assert r.status_code == {status}, r.status_code
    assert len(r.content) == {length}
"""
SOURCE_TEST = """
import pytest, requests

class OCRError(Exception):
    pass

def ocr():
    r = requests.post("https://ocr.cn-north-4.myhuaweicloud.com/v2/p1/ocr/general-text", json={})
    if not r.ok:
        raise OCRError(r.json()["error_code"])

@pytest.mark.vision_errors("huawei_ocr", source="cassettes", handled=(OCRError,))
def test_recorded(vision_error):
    ocr()
"""


# --------------------------------------------------------------------------- building


def _block(request: Request, response: dict[str, Any]) -> str:
    """One interaction as vcrpy writes it: the lines from ``- request:`` to its end."""
    text: str = serialize({"requests": [request], "responses": [response]}, yamlserializer)
    start = text.index("\n- request:") + 1
    end = text.index("\nversion: ") + 1
    return text[start:end]


def _tagged(uri: str) -> str:
    return uri + ("&" if "?" in uri else "?") + f"trace={TOKEN}"


def _templates() -> tuple[list[str], list[str]]:
    """(the 37 recorded Huawei errors, then the rest: every other provider's errors and a
    success for every operation) as interaction blocks with TOKEN to replace."""
    registry = load_registry()
    huawei: list[str] = []
    rest: list[str] = []
    headers = {"Content-Type": ["application/json"], "User-Agent": ["python-requests/2.32.3"]}
    for catalog in registry.all():
        for entry in catalog.servable_entries:
            operation = entry.operations[0] if entry.operations else "any"
            raw = example_request(catalog, operation)
            body = json.dumps({"url": f"https://example.com/images/{TOKEN}.jpg"})
            request = Request(raw["method"], _tagged(raw["uri"]), body, headers)
            response = render(catalog, entry, request_id=f"0a1b2c3d-{TOKEN}").as_vcr()
            block = _block(request, response)
            (huawei if catalog.provider == "huawei_ocr" else rest).append(block)
        for operation in catalog.operations:
            raw = example_request(catalog, operation)
            request = Request(raw["method"], _tagged(raw["uri"]), None, headers)
            success = {
                "status": {"code": 200, "message": "OK"},
                "headers": {"Content-Type": ["application/json; charset=utf-8"]},
                "body": {"string": json.dumps({"id": TOKEN, "result": [{"score": 0.93}]})},
            }
            rest.append(_block(request, success))
    return huawei, rest


def _tail(catalog: Catalog) -> str:
    metadata = provenance("live", catalog, "any")
    return yaml_dump({"metadata": metadata, "version": 1})


def yaml_dump(data: Any) -> str:
    text: str = yamlserializer.serialize(data)
    return text


def build_small(path: Path, size: int) -> tuple[int, str, str, int, int]:
    """Many small interactions; returns (interactions, the last request's method and uri, its
    status, its body's length)."""
    huawei, rest = _templates()
    count = 0
    written = 0
    last = ""
    with path.open("w", encoding="utf-8") as out:
        out.write("interactions:\n")
        blocks = itertools.chain(huawei, itertools.cycle(rest))
        for count, template in enumerate(blocks, 1):
            last = template.replace(TOKEN, str(count))
            out.write(last)
            written += len(last)
            if written >= size:
                break
        out.write(_tail(load_registry().get("azure_face")))
    loaded = yamlserializer.deserialize("interactions:\n" + last)["interactions"][0]
    body = loaded["response"]["body"]["string"]
    request, status = loaded["request"], loaded["response"]["status"]["code"]
    return count, request["method"], request["uri"], status, len(body)


def build_huge(path: Path, size: int) -> tuple[int, str, str, int, int]:
    """A few huge bodies: 18 MB uploads (24 MB of !!binary) answered with Azure Face errors,
    one in four a 10 MB JSON success; and the 37 Huawei errors at the start."""
    huawei, _ = _templates()
    face = load_registry().get("azure_face")
    upload = 18 * MB
    rng = random.Random(13)
    count = 0
    written = 0
    last: tuple[str, str, int, int] = ("", "", 0, 0)
    with path.open("w", encoding="utf-8") as out:
        out.write("interactions:\n")
        for count, template in enumerate(huawei, 1):
            block = template.replace(TOKEN, str(count))
            out.write(block)
            written += len(block)
        entries = itertools.cycle(e for e in face.servable_entries if e.status == 400)
        while written < size:
            count += 1
            uri = f"https://{REPLAY_HOST}/face/v1.2/detect?trace={count}"
            headers = {"Content-Type": ["application/octet-stream"]}
            if count % 4 == 0:
                body = json.dumps({"faces": [{"thumbnail": "x" * (10 * MB)}], "n": count})
                response: dict[str, Any] = {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json"]},
                    "body": {"string": body},
                }
                image = b"\xff\xd8\xff\xe0" + rng.randbytes(1000)
            else:
                response = render(face, next(entries), request_id=f"r-{count}").as_vcr()
                image = b"\xff\xd8\xff\xe0" + rng.randbytes(upload)
            request = Request("POST", uri, image, headers)
            block = _block(request, response)
            out.write(block)
            written += len(block)
            body_text = response["body"]["string"]
            last = ("POST", uri, response["status"]["code"], len(body_text))
        out.write(_tail(face))
    return count, *last


def _decode_check(path: Path) -> None:
    """The file is a cassette vcrpy reads (a 1 MB prefix: the builder's blocks are vcrpy's)."""
    head = path.read_text(encoding="utf-8")[: MB // 4]
    head = head[: head.rindex("\n- request:") + 1]
    data = yamlserializer.deserialize(head)
    assert isinstance(data["interactions"], list) and data["interactions"]


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    shape: str
    size_mb: float
    path: str
    seconds: float | None  # None: did not finish in time
    rss_mb: float | None
    ok: bool
    note: str = ""

    @property
    def rss_x(self) -> float | None:
        return None if self.rss_mb is None else self.rss_mb / self.size_mb


def measure(
    command: list[str], cwd: Path, timeout: float
) -> tuple[float | None, float | None, int, str]:
    """Wall seconds and peak RSS (MB) of one fresh process; (None, None) if it timed out."""
    stats = cwd / ".time"
    full = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), *command]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            full, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, None, -1, "timed out"
    wall = time.perf_counter() - started
    fields = stats.read_text().split()[-2:]
    rss_mb = int(fields[1]) * 1024 / MB  # %M is in KiB
    tail = done.stdout.strip().splitlines()[-1:] or done.stderr.strip().splitlines()[-1:] or [""]
    return wall, rss_mb, done.returncode, tail[0]


def commands(root: Path, path: str) -> tuple[list[str], Path]:
    if path == "lint":
        return [str(BIN / "visioncontract"), "lint", "cassettes/test_big/big.yaml"], root
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    if path == "replay":
        return [*pytest, "test_big.py"], root
    return [*pytest, "test_source.py"], root / "source"


def prepare(root: Path, shape: str, size: int) -> int:
    """The cassette at root/cassettes/test_big/big.yaml, the replay test beside it, and a
    folder root/source whose cassettes/ holds the same file (a hard link) for source=...;
    returns the file's size."""
    cassette = root / "cassettes" / "test_big" / "big.yaml"
    cassette.parent.mkdir(parents=True)
    build = build_small if shape == "small" else build_huge
    count, method, uri, status, length = build(cassette, size)
    _decode_check(cassette)
    body = json.dumps({"url": "https://example.com/images/1.jpg"})
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "test_big.py").write_text(
        REPLAY_TEST.format(method=method, uri=uri, body=body, status=status, length=length)
    )
    (root / "source" / "cassettes").mkdir(parents=True)
    os.link(cassette, root / "source" / "cassettes" / "big.yaml")
    (root / "source" / "pytest.ini").write_text("[pytest]\n")
    (root / "source" / "test_source.py").write_text(SOURCE_TEST)
    print(
        f"  built {shape} {cassette.stat().st_size / MB:.1f} MB: {count} interactions", flush=True
    )
    return cassette.stat().st_size


def expected(path: str, code: int, tail: str) -> bool:
    if path == "lint":
        return code == 0
    if path == "replay":
        return code == 0 and " 1 passed" in f" {tail}"
    return code == 0 and " 37 passed" in f" {tail}"


def run(args: argparse.Namespace) -> list[Result]:
    results = []
    for shape in args.shapes:
        for size_mb in args.sizes:
            with contextlib.ExitStack() as stack:
                if args.keep:  # built once, kept and used again by later runs
                    root = Path(args.keep) / f"{shape}-{size_mb:g}MB"
                    if not (root / "built").exists():
                        shutil.rmtree(root, ignore_errors=True)
                        root.mkdir(parents=True)
                        (root / "built").write_text(str(prepare(root, shape, int(size_mb * MB))))
                    size = int((root / "built").read_text())
                else:
                    root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vc-")))
                    size = prepare(root, shape, int(size_mb * MB))
                for path in args.paths:
                    command, cwd = commands(root, path)
                    seconds, rss, code, tail = measure(command, cwd, args.timeout)
                    ok = seconds is not None and expected(path, code, tail)
                    result = Result(shape, size / MB, path, seconds, rss, ok, tail)
                    results.append(result)
                    print(f"  {line(result)}", flush=True)
    return results


def line(r: Result) -> str:
    seconds = "> timeout" if r.seconds is None else f"{r.seconds:.2f} s"
    rss = "-" if r.rss_mb is None else f"{r.rss_mb:.0f} MB ({r.rss_x:.2f} x)"
    status = "" if r.ok else f"  FAILED: {r.note}"
    return f"{r.shape:5} {r.size_mb:6.1f} MB {r.path:6} {seconds:>10} {rss:>18}{status}"


def table(results: list[Result]) -> str:
    rows = [
        "| shape | file MB | path | wall s | peak RSS MB | RSS / file | s per MB | ok |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        seconds = "timeout" if r.seconds is None else f"{r.seconds:.2f}"
        rss = "-" if r.rss_mb is None else f"{r.rss_mb:.0f}"
        rss_x = "-" if r.rss_x is None else f"{r.rss_x:.2f}"
        per = "-" if r.seconds is None else f"{r.seconds / r.size_mb:.3f}"
        rows.append(
            f"| {r.shape} | {r.size_mb:.1f} | {r.path} | {seconds} | {rss} | {rss_x} | {per} | "
            f"{'yes' if r.ok else 'NO'} |"
        )
    return "\n".join(rows)


def verdicts(results: list[Result]) -> Iterator[str]:
    """PASS/MISS at each shape's largest size; then how cost grows with size, per shape and
    path: time per MB at the largest size over time per MB at the smallest (1.00: linear;
    below: a start-up cost spread over more MB), and the peak RSS each added MB of file adds
    (the interpreter and plugin's own, about 80 MB, paid once)."""
    for shape in dict.fromkeys(r.shape for r in results):
        largest = max(r.size_mb for r in results if r.shape == shape)
        for r in results:
            if r.shape != shape or r.size_mb != largest:
                continue
            within = (
                r.ok
                and r.seconds is not None
                and r.rss_x is not None
                and r.seconds < TARGET_SECONDS
                and r.rss_x < TARGET_RSS_X
            )
            seconds = "did not finish" if r.seconds is None else f"{r.seconds:.1f} s"
            rss = "-" if r.rss_x is None else f"{r.rss_x:.2f} x file size"
            verdict = ("PASS" if within else "MISS") if r.size_mb >= 150 else "(target at 200 MB)"
            yield (
                f"- {verdict}: {r.shape} {r.size_mb:.0f} MB {r.path}: "
                f"{seconds}, peak RSS {rss} (target < {TARGET_SECONDS:.0f} s, "
                f"< {TARGET_RSS_X:.0f} x)"
            )
    for shape, path in itertools.product(
        dict.fromkeys(r.shape for r in results), dict.fromkeys(r.path for r in results)
    ):
        pair = [r for r in results if (r.shape, r.path) == (shape, path) and r.seconds]
        if len({r.size_mb for r in pair}) < 2:
            continue
        small, large = min(pair, key=lambda r: r.size_mb), max(pair, key=lambda r: r.size_mb)
        assert small.seconds and large.seconds and small.rss_mb and large.rss_mb
        time_ratio = (large.seconds / large.size_mb) / (small.seconds / small.size_mb)
        added = (large.rss_mb - small.rss_mb) / (large.size_mb - small.size_mb)
        yield (
            f"- growth, {shape} {path}: s per MB at {large.size_mb:.0f} MB / at "
            f"{small.size_mb:.0f} MB = {time_ratio:.2f}; peak RSS per added MB of file: "
            f"{added:.2f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[20, 200], help="MB")
    parser.add_argument("--shapes", nargs="+", default=["small", "huge"])
    parser.add_argument("--paths", nargs="+", default=["lint", "replay", "source"])
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run")
    parser.add_argument(
        "--keep", default=None, help="build the cassettes in this folder, keep them, reuse them"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}; {platform.python_implementation()} "
        f"{platform.python_version()}; {os.cpu_count()} CPUs; "
        f"{time.strftime('%Y-%m-%d %H:%M')}\nplugin: {Path(pytest_visioncontract.__file__).parent}",
        flush=True,
    )
    results = run(args)
    print()
    print(table(results))
    print()
    for verdict in verdicts(results):
        print(verdict)


if __name__ == "__main__":
    main()
