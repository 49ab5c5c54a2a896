"""Recording against the loopback simulator, then replaying without it: scrubbed, small, atomic."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_visioncontract.scrubbing import Scrubber
import requests

from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.cli import main
from pytest_visioncontract.simulator import running

KEY = "0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]
# an earlier recording of the same test (a synthesized cassette of the same error will do)
PREVIOUS = (
    ROOT / "cassettes" / "azure_face" / "common-400-InvalidImage-decoding-error-image.yaml"
).read_bytes()

CLIENT_TEST = """
import os, pytest, requests

BASE = os.environ.get("SIM", "http://127.0.0.1:9")

@pytest.mark.vision_cassette("detect-invalid-image")
def test_detect_error(vision_cassette):
    r = requests.post(
        BASE + "/face/v1.2/detect?returnFaceId=true",
        data=b"\\xff\\xd8" * 2_000_000,   # a 4 MB "image"
        headers={"Ocp-Apim-Subscription-Key": os.environ["AZURE_FACE_KEY"], "X-Vision-Error": "azure_face:InvalidImage"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "InvalidImage"
"""


@pytest.fixture
def simulator() -> Iterator[str]:
    with running(load_registry()) as base:
        yield base


def run(pytester: pytest.Pytester, *args: str, env: dict[str, str]) -> pytest.RunResult:
    for name, value in env.items():
        pytester._monkeypatch.setenv(name, value)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_the_simulator_serves_success_errors_on_demand_and_a_queue(simulator: str) -> None:
    assert requests.post(simulator + "/face/v1.2/detect").json()[0]["faceRectangle"]["width"] == 162
    r = requests.post(
        simulator + "/face/v1.2/detect", headers={"X-Vision-Error": "azure_face:InvalidImage"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidImage")
    queued = requests.post(
        simulator + "/_vision/queue",
        json={"provider": "huawei_ocr", "code": "APIG.0308", "times": 2},
    )
    assert queued.json() == {"simulator": "queued 429-APIG.0308"}
    statuses = [
        requests.post(simulator + "/v2/p1/ocr/general-text", json={}).status_code for _ in range(3)
    ]
    assert statuses == [429, 429, 200]
    r = requests.post(simulator + "/", headers={"x-acs-action": "AddImage"})
    assert r.json()["Success"] is True
    bad = requests.post(
        simulator + "/_vision/queue", json={"provider": "huawei_ocr", "code": "NOPE"}
    )
    assert bad.status_code == 400 and "huawei_ocr documents no error 'NOPE'" in bad.text


def test_record_through_the_simulator_then_replay_without_it(
    pytester: pytest.Pytester, simulator: str
) -> None:
    pytester.makepyfile(test_face=CLIENT_TEST)
    env = {"AZURE_FACE_KEY": KEY, "SIM": simulator}
    run(pytester, "--vision-record", "once", env=env).assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_face" / "detect-invalid-image.yaml"
    text = cassette.read_text()
    assert KEY not in text and "REDACTED" in text
    assert cassette.stat().st_size < 5_000  # the 4 MB body is stored as its hash
    assert "body: sha256:" in text and "(4000000 bytes)" in text
    assert (
        "provenance: simulator" in text
        and "provider: azure_face" in text
        and "operation: detect" in text
    )
    assert main(["lint", str(cassette)]) == 0

    # the simulator is stopped by now: replay alone serves the recorded error
    run(pytester, env={"AZURE_FACE_KEY": KEY, "SIM": simulator}).assert_outcomes(passed=1)


def test_replay_only_by_default_and_nothing_reaches_the_network(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_face=CLIENT_TEST)
    result = run(pytester, env={"AZURE_FACE_KEY": KEY, "SIM": "http://127.0.0.1:9"})
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CannotOverwriteExistingCassetteException: Can't play back this request: the cassette doesn't exist, and record_mode 'none' doesn't record new ones."
        ]
    )
    assert not (pytester.path / "cassettes" / "test_face" / "detect-invalid-image.yaml").exists()


def test_a_credential_that_survives_scrubbing_fails_the_recording_and_writes_nothing(
    pytester: pytest.Pytester, simulator: str
) -> None:
    pytester.makepyfile(
        test_face=CLIENT_TEST.replace(
            '"X-Vision-Error"', '"X-Tenant-Hint": os.environ["MY_API_TOKEN"], "X-Vision-Error"'
        )
    )
    previous = pytester.path / "cassettes" / "test_face" / "detect-invalid-image.yaml"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(PREVIOUS)
    env = {"AZURE_FACE_KEY": KEY, "SIM": simulator, "MY_API_TOKEN": "tok-9f8e7d6c5b4a"}
    result = run(pytester, "--vision-record", "all", env=env)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"pytest-visioncontract: refused to write {previous}: interaction 2, request header "
            "X-Tenant-Hint holds the value of $MY_API_TOKEN (from the environment). Nothing was "
            "written; add a scrubbing rule (ini vision_scrub_names / vision_scrub_patterns) and "
            "record again"
        ]
    )
    assert previous.read_bytes() == PREVIOUS

    pytester.makeini("[pytest]\nvision_scrub_names = X-Tenant-Hint\n")
    run(pytester, "--vision-record", "all", env=env).assert_outcomes(passed=1)
    assert "tok-9f8e7d6c5b4a" not in previous.read_text()


def test_a_malformed_cassette_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_face=CLIENT_TEST)
    path = pytester.path / "cassettes" / "test_face" / "detect-invalid-image.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("interactions: [")
    result = run(pytester, env={"AZURE_FACE_KEY": KEY})
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"pytest-visioncontract: cannot replay cassette {path}: not a YAML cassette: while "
            "parsing a flow node: did not find expected node content at line 2, column 1"
        ]
    )
    assert path.read_text() == "interactions: ["


RECORD_ALL = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--vision-record", "all"]


def record_killed_mid_write(
    pytester: pytest.Pytester, simulator: str, tmp_path: Path, ini: str = ""
) -> tuple[Path, dict[str, str]]:
    """Record CLIENT_TEST over an earlier cassette and SIGKILL the run in the middle of its
    first file write (an fsync that never returns). Returns the earlier cassette's path and the
    environment a normal recording of the same test needs."""
    pytester.makepyfile(test_face=CLIENT_TEST)
    if ini:
        pytester.makeini(ini)
    started = tmp_path / "writing"
    pytester.makeconftest(
        f"""
import os, pathlib, time
import pytest_visioncontract.cassettes as cassettes

real_fsync = os.fsync

def slow_fsync(fd):
    if os.environ.get("SLOW_WRITES"):
        pathlib.Path({str(started)!r}).write_text("now")
        time.sleep(60)          # the parent kills us here, in the middle of writing
    real_fsync(fd)

cassettes.os.fsync = slow_fsync
"""
    )
    previous = pytester.path / "cassettes" / "test_face" / "detect-invalid-image.yaml"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(PREVIOUS)
    env = dict(os.environ, AZURE_FACE_KEY=KEY, SIM=simulator)
    process = subprocess.Popen(
        RECORD_ALL,
        cwd=pytester.path,
        env=dict(env, SLOW_WRITES="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the recording never reached the write"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return previous, env


def test_a_killed_recording_leaves_the_previous_cassette_intact(
    pytester: pytest.Pytester, simulator: str, tmp_path: Path
) -> None:
    previous, _ = record_killed_mid_write(pytester, simulator, tmp_path)
    assert previous.read_bytes() == PREVIOUS
    # what was being written is a hidden temporary file beside it, never the cassette
    leftovers = [p.name for p in previous.parent.iterdir() if p.name != previous.name]
    assert leftovers and all(name.startswith(".") for name in leftovers)


def test_a_recording_killed_while_writing_a_side_file_leaves_no_partial_file(
    pytester: pytest.Pytester, simulator: str, tmp_path: Path
) -> None:
    """SIGKILL in the middle of a 4 MB side file: no ``bodies/*.bin`` is left short, the
    previous cassette is intact, and the next recording removes the dead run's temporary file
    and writes the side file whole."""
    import hashlib

    previous, env = record_killed_mid_write(
        pytester, simulator, tmp_path, ini="[pytest]\nvision_store_bodies = true\n"
    )
    bodies = previous.parent / "bodies"
    assert previous.read_bytes() == PREVIOUS
    assert [p.name for p in bodies.iterdir() if not p.name.startswith(".")] == []
    assert [p for p in bodies.iterdir() if p.name.startswith(".")], "the write was in progress"

    again = subprocess.run(RECORD_ALL, cwd=pytester.path, env=env, capture_output=True, check=False)
    assert again.returncode == 0, again.stdout.decode()[-2000:]
    sides = list(bodies.iterdir())
    assert not [p.name for p in sides if p.name.startswith(".")]  # the dead run's file is gone
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == p.stem for p in sides)
    assert 4_000_000 in [p.stat().st_size for p in sides]


# pytest-recording's cassette for test_with_pytest_recording (its default place and name). The
# host does not exist: the test passes only if pytest-recording replays this file.
PYTEST_RECORDING_CASSETTE = """\
interactions:
- request:
    body: null
    headers: {}
    method: GET
    uri: http://pytest-recording.invalid/hello
  response:
    body: {string: hello from a pytest-recording cassette}
    headers:
      Content-Type: [text/plain]
    status: {code: 200, message: OK}
version: 1
"""

# Three tests in one run, alternating plugins: this plugin's cassette test (CLIENT_TEST), a
# pytest-recording test, then a vision_errors test.
BOTH_PLUGINS_TEST = (
    CLIENT_TEST
    + """
@pytest.mark.vcr
def test_with_pytest_recording():
    r = requests.get("http://pytest-recording.invalid/hello")
    assert (r.status_code, r.text) == (200, "hello from a pytest-recording cassette")

class OCRError(Exception):
    pass

@pytest.mark.vision_errors("huawei_ocr", codes=["AIS.0101"], handled=(OCRError,))
def test_vision_errors(vision_error):
    r = requests.post("https://ocr.cn-north-4.myhuaweicloud.com/v2/p1/ocr/general-text", json={})
    if not r.ok:
        raise OCRError(r.json()["error_code"])
"""
)


def test_pytest_recording_can_be_installed_too(pytester: pytest.Pytester, simulator: str) -> None:
    pytester.makepyfile(test_both=BOTH_PLUGINS_TEST)
    theirs = pytester.path / "cassettes" / "test_both" / "test_with_pytest_recording.yaml"
    theirs.parent.mkdir(parents=True)
    theirs.write_text(PYTEST_RECORDING_CASSETTE)
    result = run(
        pytester,
        "-p",
        "recording",
        "--strict-markers",
        "-v",
        "--vision-record",
        "once",
        "--vision-report",
        "r.json",
        env={"AZURE_FACE_KEY": KEY, "SIM": simulator},
    )
    result.stdout.fnmatch_lines(
        [
            "*test_detect_error PASSED*",
            "*test_with_pytest_recording PASSED*",
            "*test_vision_errors[[]huawei_ocr-*-400-AIS.0101[]] PASSED*",
        ]
    )
    result.assert_outcomes(passed=3)
    [case] = json.loads((pytester.path / "r.json").read_text())["cases"]
    assert (case["entry"], case["verdict"]) == ("400-AIS.0101", "handled")
    # each plugin wrote or kept its own cassette beside the test file
    assert theirs.read_text() == PYTEST_RECORDING_CASSETTE
    assert (pytester.path / "cassettes" / "test_both" / "detect-invalid-image.yaml").exists()


def test_invalid_record_mode_in_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvision_record = sometimes\n")
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: vision_record: expected one of none, once, new_episodes, all; got 'sometimes'"]
    )


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


def test_source_cassettes_serves_every_recorded_error_and_reports_drift(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.path / "cassettes"
    assert main(["synthesize", "huawei_ocr", "--out", str(folder)]) == 0
    drifted = folder / "huawei_ocr" / "400-AIS.0101.yaml"
    drifted.write_text(
        drifted.read_text().replace('"error_code":"AIS.0101"', '"error_code":"AIS.0199"')
    )
    pytester.makepyfile(test_ocr=SOURCE_TEST)
    result = pytester.runpytest("-v", "--vision-report", "r.json")
    result.assert_outcomes(passed=37)
    result.stdout.fnmatch_lines(
        [
            "*test_recorded[[]huawei_ocr-general_text-429-APIG.0308-429-APIG.0308-1[]] PASSED*",
            "huawei_ocr *37 *36 *36 *0 *0 *1 *97.3%",
            'huawei_ocr: contract drift: undocumented huawei_ocr error 400 AIS.0199; suggested catalog entry: {"status": 400, "code": "AIS.0199", "message": "...", "operations": "*", "category": "...", "retryable": false, "source": {"section": "recorded in 400-AIS.0101.yaml"}} (test_ocr.py::test_recorded[[]huawei_ocr-general_text-400-AIS.0199-400-AIS.0101-1[]])',
        ]
    )
    [drift] = json.loads((pytester.path / "r.json").read_text())["drift"]
    assert drift.startswith("undocumented huawei_ocr error 400 AIS.0199; suggested catalog entry: ")


def test_source_cassettes_without_recordings_says_how_to_make_some(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_ocr=SOURCE_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    folder = pytester.path / "cassettes"
    assert (
        f"test_ocr.py::test_recorded: vision_errors: source='cassettes' found no recorded huawei_ocr "
        f"error in {folder}; record some with --vision-record, or synthesize them: visioncontract "
        f"synthesize huawei_ocr --out {folder}"
    ) in result.stdout.lines


def test_source_cassettes_with_a_malformed_file(pytester: pytest.Pytester) -> None:
    broken = pytester.path / "cassettes" / "broken.yaml"
    broken.parent.mkdir()
    broken.write_text("just: text\n")
    pytester.makepyfile(test_ocr=SOURCE_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        f"test_ocr.py::test_recorded: malformed cassette {broken}: not a vcrpy cassette: no "
        "'interactions' list"
    ) in result.stdout.lines


def test_bodies_as_side_files(tmp_path: Path) -> None:
    from vcr.request import Request

    from pytest_visioncontract.recording import write_side_files
    from pytest_visioncontract.scrubbing import Scrubber

    scrubber = Scrubber(bodies_dir=tmp_path / "bodies")
    scrubbed = scrubber.request(
        Request("POST", "https://api.bing.microsoft.com/v7.0/images/details", b"\x89PNG image", {})
    )
    digest = scrubbed.body.decode().split()[0].removeprefix("sha256:")
    assert not (tmp_path / "bodies").exists()  # written with the cassette, never before
    write_side_files(scrubber)
    assert (tmp_path / "bodies" / f"{digest}.bin").read_bytes() == b"\x89PNG image"


def save(scrubber: Scrubber, folder: Path, secrets: list[tuple[str, str]]) -> str | None:
    """Save an empty cassette with the scrubber's side files: why it was refused, or None."""
    from vcr.serializers import yamlserializer

    from pytest_visioncontract.catalog import load_registry
    from pytest_visioncontract.recording import SafePersister

    persister = SafePersister(load_registry(), secrets, scrubber)
    persister.save_cassette(str(folder / "c.yaml"), {"requests": [], "responses": []}, yamlserializer)
    return persister.refusal


def test_a_side_file_with_a_secret_refuses_the_recording_and_writes_nothing(tmp_path: Path) -> None:
    from pytest_visioncontract.scrubbing import Scrubber

    scrubber = Scrubber(bodies_dir=tmp_path / "bodies")
    scrubber.body(b"clean image bytes")
    scrubber.body(b"\xff\xd8 an image that holds my-real-key-id-0042 in its metadata")
    refusal = save(scrubber, tmp_path, [("the value of $MY_KEY (from the environment)", "my-real-key-id-0042")])
    assert refusal is not None and re.fullmatch(
        r"pytest-visioncontract: refused to write .*bodies/[0-9a-f]{64}\.bin: request body holds "
        r"the value of \$MY_KEY \(from the environment\)\. Nothing was written; .*",
        refusal,
    )
    assert list(tmp_path.iterdir()) == []  # neither the cassette nor any side file


def test_a_side_file_cut_short_is_written_again(tmp_path: Path) -> None:
    from pytest_visioncontract.scrubbing import Scrubber

    scrubber = Scrubber(bodies_dir=tmp_path / "bodies")
    described = scrubber.body(b"a large image" * 1000)
    assert described is not None
    digest = described.split()[0].removeprefix("sha256:")
    side = tmp_path / "bodies" / f"{digest}.bin"
    side.parent.mkdir()
    side.write_bytes(b"a large im")  # what a killed write would have left under the old code
    assert save(scrubber, tmp_path, []) is None
    assert side.read_bytes() == b"a large image" * 1000
    assert (tmp_path / "c.yaml").is_file()


def test_stale_temporaries_of_killed_runs_are_removed(tmp_path: Path) -> None:
    from pytest_visioncontract.cassettes import remove_stale_temporaries, write_atomic

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = int(finished.stdout)
    stale = tmp_path / f".abc.bin.{dead}.k2j4.vctmp"
    ours = tmp_path / f".abc.bin.{os.getpid()}.x9q1.vctmp"  # a write in progress, live process
    users = [tmp_path / f".README.{dead}.md", tmp_path / f".notes.{dead}.k2j4"]  # not ours
    for path in users:
        path.write_text("the user's")
    stale.write_bytes(b"half")
    ours.write_bytes(b"half")
    write_atomic(tmp_path / "abc.bin", b"whole")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [ours.name, "abc.bin", *(p.name for p in users)]
    )


def test_visioncontract_serve_speaks_http_to_any_client(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_visioncontract.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("visioncontract simulator on http://127.0.0.1:")
        base = line.split(" on ")[1].strip()
        done = subprocess.run(  # another language's client: curl
            [
                "curl",
                "-s",
                "-i",
                "-H",
                "X-Vision-Error: bing_image_search:RateLimitExceeded",
                base + "/v7.0/images/search?q=x",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        assert done.stdout.startswith("HTTP/1.1 429 Too Many Requests")
        assert '"_type":"ErrorResponse"' in done.stdout
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_credential_in_the_cassette_name_refuses_the_recording(
    pytester: pytest.Pytester, simulator: str
) -> None:
    pytester.makepyfile(
        test_param="""
import os, pytest, requests

@pytest.mark.parametrize("key", [os.environ["AZURE_FACE_KEY"]])
def test_detect(vision_cassette, key):
    requests.post(os.environ["SIM"] + "/face/v1.2/detect",
                  headers={"Ocp-Apim-Subscription-Key": key})
"""
    )
    result = run(pytester, "--vision-record", "once", env={"AZURE_FACE_KEY": KEY, "SIM": simulator})
    result.assert_outcomes(errors=1)
    folder = pytester.path / "cassettes" / "test_param"
    result.stdout.fnmatch_lines(
        [
            f"pytest-visioncontract: refused to record this test's cassette in {folder}: its file "
            "name holds the value of $AZURE_FACE_KEY (from the environment). Nothing was "
            "written; name the cassette: @pytest.mark.vision_cassette('name')"
        ]
    )
    assert not folder.exists() or not any(folder.rglob("*"))


def test_a_cassette_that_cannot_be_written_is_one_line_and_the_next_test_records(
    pytester: pytest.Pytester, simulator: str
) -> None:
    """A write that fails (here the cassette's path is a folder; a read-only folder fails the
    same way for a user who is not root) is one line, and vcrpy's patches are still removed."""
    pytester.makepyfile(
        test_face="""
import os, pytest, requests

@pytest.mark.vision_cassette("blocked")
def test_blocked(vision_cassette):
    requests.post(os.environ["SIM"] + "/face/v1.2/detect")

def test_after(vision_cassette):
    requests.post(os.environ["SIM"] + "/face/v1.2/detect")
"""
    )
    blocked = pytester.path / "cassettes" / "test_face" / "blocked.yaml"
    blocked.mkdir(parents=True)
    result = run(pytester, "--vision-record", "once", env={"SIM": simulator})
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [f"pytest-visioncontract: cannot write {blocked}: [[]Errno 21[]] Is a directory: *"]
    )
    assert (pytester.path / "cassettes" / "test_face" / "test_after.yaml").is_file()


def test_interactions_read_from_a_cassette_are_kept_as_recorded(
    pytester: pytest.Pytester, simulator: str
) -> None:
    """vcrpy runs the record hooks on what it loads; the scrubber lets those through (they were
    scrubbed when recorded), and a new_episodes run writes them back unchanged."""
    test = """
import os, requests

def test_two(vision_cassette):
    requests.post(os.environ["SIM"] + "/face/v1.2/detect",
                  headers={"Ocp-Apim-Subscription-Key": os.environ["AZURE_FACE_KEY"]})
    if os.environ.get("SECOND"):
        requests.post(os.environ["SIM"] + "/face/v1.2/detect?returnFaceId=true")
"""
    pytester.makepyfile(test_face=test)
    env = {"AZURE_FACE_KEY": KEY, "SIM": simulator}
    run(pytester, "--vision-record", "once", env=env).assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_face" / "test_two.yaml"
    first = cassette.read_text().split("metadata:")[0]
    env["SECOND"] = "1"
    run(pytester, "--vision-record", "new_episodes", env=env).assert_outcomes(passed=1)
    text = cassette.read_text()
    assert text.startswith(first) and text.count("- request:") == 2 and KEY not in text
    run(pytester, env=env).assert_outcomes(passed=1)  # and both replay


def test_a_synthesized_cassette_replays_through_vision_cassette(pytester: pytest.Pytester) -> None:
    """A cassette not written by the recorder (synthesized, hand-written, recorded elsewhere)
    holds the host as it was: loaded requests are matched after the same rewrite as live ones."""
    pytester.makepyfile(
        test_face="""
import requests

def test_synth(vision_cassette):
    r = requests.post("https://myresource.cognitiveservices.azure.com/face/v1.2/detect")
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidImage"
"""
    )
    target = pytester.path / "cassettes" / "test_face" / "test_synth.yaml"
    target.parent.mkdir(parents=True)
    target.write_bytes(PREVIOUS)
    run(pytester, env={}).assert_outcomes(passed=1)
