"""What a user gets from the package index: metadata, licence, README, sdist and wheel.

The distributions are built (``python -m build --no-isolation``) from a copy of the files the
build reads, so the checkout is left as it was.
"""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ["pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "pytest_visioncontract"]
PACKAGE_DATA = [
    "pytest_visioncontract/py.typed",
    *(
        f"pytest_visioncontract/catalogs/{p.name}"
        for p in (ROOT / "pytest_visioncontract" / "catalogs").glob("*.json")
    ),
    *(
        f"pytest_visioncontract/schemas/{p.name}"
        for p in (ROOT / "pytest_visioncontract" / "schemas").glob("*.json")
    ),
]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "tests", source / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)]
    done = subprocess.run(build, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def sdist_names(dist: Path) -> list[str]:
    (archive,) = dist.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        return [name.split("/", 1)[1] for name in tar.getnames() if "/" in name]


def wheel_metadata(dist: Path) -> tuple[list[str], Message]:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zipped:
        names = zipped.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        return names, email.message_from_bytes(zipped.read(metadata))


def test_the_sdist_holds_the_package_and_leaves_the_tests_out(dist: Path) -> None:
    names = sdist_names(dist)
    assert {"LICENSE", "README.md", "pyproject.toml", *PACKAGE_DATA} <= set(names)
    assert not [n for n in names if n.startswith("tests/")], "tests shipped without their data"


def test_the_wheel_holds_the_package_data_and_the_licence(dist: Path) -> None:
    names, _ = wheel_metadata(dist)
    assert set(PACKAGE_DATA) <= set(names)
    assert [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert not [n for n in names if n.startswith(("tests/", "examples/", "docs/"))]


def test_metadata_a_user_can_trust(dist: Path) -> None:
    _, metadata = wheel_metadata(dist)
    assert metadata["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    urls = dict(value.split(", ", 1) for value in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    classifiers = metadata.get_all("Classifier") or []
    assert [c for c in classifiers if c.startswith("Development Status :: ")]
    assert "Intended Audience :: Developers" in classifiers
    assert "Framework :: Pytest" in classifiers
    # The Python versions claimed start at the floor pip enforces (requires-python).
    versions = sorted(
        (int(m[1]), int(m[2]))
        for c in classifiers
        if (m := re.fullmatch(r"Programming Language :: Python :: (\d+)\.(\d+)", c))
    )
    floor = re.fullmatch(r">=(\d+)\.(\d+)", metadata["Requires-Python"])
    assert floor and versions[0] == (int(floor[1]), int(floor[2]))


def test_the_readme_reads_well_on_the_package_index(dist: Path) -> None:
    _, metadata = wheel_metadata(dist)
    assert metadata["Description-Content-Type"] == "text/markdown"
    readme = metadata.get_payload()
    assert isinstance(readme, str) and readme.startswith("# pytest-visioncontract\n")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert targets, "no links found: the pattern is wrong"
    relative = [t for t in targets if not t.startswith(("https://", "#"))]
    assert not relative, f"links that break off GitHub: {relative}"
    home = dict(v.split(", ", 1) for v in metadata.get_all("Project-URL") or [])["Source"]
    for target in targets:
        if target.startswith(home + "/blob/main/"):
            path = target.removeprefix(home + "/blob/main/").split("#")[0]
            assert (ROOT / path).exists(), (
                f"the README links to {path}, which is not in the project"
            )


def test_ci_pins_every_declared_floor() -> None:
    """.ci/run installs these pins in its second environment: one per core and test dependency."""
    done = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "floors.py"), "test"],
        capture_output=True,
        text=True,
        check=True,
    )
    pins = dict(line.split("==") for line in done.stdout.split())
    assert {"pytest", "hypothesis", "vcrpy", "jsonschema", "requests"} <= set(pins)
    assert {"pytest-xdist", "pytest-recording", "httpx", "aiohttp", "urllib3"} <= set(pins)
    assert all(re.fullmatch(r"\d+(\.\d+)*", version) for version in pins.values()), pins
    unknown = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "floors.py"), "interop"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert unknown.returncode == 1  # the SDKs are pinned with ==, not floored
    assert "no '>=' floor in: azure-ai-vision-imageanalysis==1.0.0" in unknown.stderr
