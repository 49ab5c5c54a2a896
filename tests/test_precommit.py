"""The shipped pre-commit hook (``.pre-commit-hooks.yaml``), run by pre-commit as a user runs it.

The working tree (tracked and untracked files, less the ignored ones) is committed to a
temporary git repository: the hook's repository, as unchanged as a clone of the project would
be. A user's repository (another temporary one) names it in its ``.pre-commit-config.yaml``,
``pre-commit install`` makes ``git commit`` run the hook, and the tests commit cassettes.
pre-commit builds the hook's environment as it does for a user (a virtualenv, the project and
its dependencies pip-installed from the package index), once for the module: ``PRE_COMMIT_HOME``
is shared, so only the first test pays for it (about 8 s).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from pytest_visioncontract.cli import main

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "cassettes" / "azure_face" / "common-429-429-rate-limit-is.yaml"
KEY = "0123456789abcdef0123456789abcdef"
# Where the vision_cassette fixture records by default (tests/test_face.py, name "detect"), and
# where `visioncontract synthesize --out cassettes` writes.
DEFAULT_PLACES = ["tests/cassettes/test_face/detect.yaml", "cassettes/azure_face/detect.yaml"]


def run(cwd: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def must(cwd: Path, env: dict[str, str], *command: str) -> str:
    done = run(cwd, env, *command)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def init(repo: Path, env: dict[str, str]) -> None:
    must(repo, env, "git", "init", "-q")
    must(repo, env, "git", "config", "user.name", "A User")
    must(repo, env, "git", "config", "user.email", "user@example.com")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """git and pre-commit apart from the machine's settings, pre-commit's cache shared."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    environ.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
    )
    return environ


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """The project's working tree, committed to a repository of its own: (path, revision)."""
    listed = must(ROOT, env, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the working tree is left out
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    assert (repo / ".pre-commit-hooks.yaml").read_bytes() == (
        ROOT / ".pre-commit-hooks.yaml"
    ).read_bytes()
    init(repo, env)
    must(repo, env, "git", "add", "-A")
    must(repo, env, "git", "commit", "-qm", "the working tree")
    return repo, must(repo, env, "git", "rev-parse", "HEAD").strip()


@pytest.fixture
def user_repo(tmp_path: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> Path:
    """A user's repository using the shipped hook, its pre-commit hook installed."""
    repo = tmp_path / "user"
    repo.mkdir()
    init(repo, env)
    url, rev = hook_repo
    config = {"repos": [{"repo": str(url), "rev": rev, "hooks": [{"id": "visioncontract-lint"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    must(repo, env, "git", "add", ".pre-commit-config.yaml")
    must(repo, env, "git", "commit", "-qm", "pre-commit config")
    must(repo, env, sys.executable, "-m", "pre_commit", "install")
    return repo


def commit(repo: Path, env: dict[str, str], files: dict[str, str]) -> tuple[int, list[str], str]:
    """git commit the files: its exit code, its output's lines (stripped), and the output."""
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    must(repo, env, "git", "add", *files)
    done = run(repo, env, "git", "commit", "-m", "add files")
    out = done.stdout + done.stderr
    return done.returncode, [line.strip() for line in out.splitlines()], out


def hook_said(lines: list[str], status: str) -> bool:
    """The hook's line in pre-commit's summary: ``lint vision cassettes.......Passed``."""
    return any(
        line.startswith("lint vision cassettes.") and line.endswith(status) for line in lines
    )


def unscrubbed() -> str:
    data = yaml.safe_load(CLEAN.read_text(encoding="utf-8"))
    data["interactions"][0]["request"]["headers"]["Ocp-Apim-Subscription-Key"] = [KEY]
    return yaml.safe_dump(data)


def commits(repo: Path, env: dict[str, str]) -> int:
    return int(must(repo, env, "git", "rev-list", "--count", "HEAD"))


@pytest.mark.parametrize("place", DEFAULT_PLACES)
def test_the_hook_rejects_a_commit_of_a_cassette_with_an_unscrubbed_key(
    user_repo: Path, env: dict[str, str], place: str
) -> None:
    code, lines, out = commit(user_repo, env, {place: unscrubbed()})
    assert code != 0 and hook_said(lines, "Failed"), out
    # The lint's finding, naming the file pre-commit passed (its wording is test_cassettes.py's).
    finding = f"{place}: interaction 1: secret: request header Ocp-Apim-Subscription-Key "
    assert [line for line in lines if line.startswith(finding)], out
    assert commits(user_repo, env) == 1, "the commit went through"


@pytest.mark.parametrize("place", DEFAULT_PLACES)
def test_the_hook_lets_a_clean_cassette_through(
    user_repo: Path, env: dict[str, str], place: str
) -> None:
    code, lines, out = commit(user_repo, env, {place: CLEAN.read_text(encoding="utf-8")})
    # "Passed", not "(no files to check)Skipped": the cassette was linted.
    assert code == 0 and hook_said(lines, "Passed"), out
    assert commits(user_repo, env) == 2


def test_the_hook_rejects_a_side_file_holding_a_credential(
    user_repo: Path, env: dict[str, str]
) -> None:
    place = "tests/cassettes/test_face/bodies/" + "ab" * 32 + ".bin"
    code, lines, out = commit(user_repo, env, {place: '{"password": "Hunter2-Hunter2"}'})
    assert code != 0 and hook_said(lines, "Failed"), out
    finding = f"{place}: secret: request body, field password holds a credential"
    assert [line for line in lines if line.startswith(finding)], out
    assert commits(user_repo, env) == 1, "the commit went through"


def test_files_outside_a_cassettes_folder_are_not_passed_to_the_hook(
    user_repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    files = {
        "tests/test_face.py": "def test_detect(vision_cassette):\n    pass\n",
        "config.yaml": "debug: true\n",
        "tests/recordings/detect.yaml": unscrubbed(),  # a cassette, but not in a cassettes/ folder
        "tests/mycassettes/detect.yaml": unscrubbed(),
        "tests/cassettes/README.md": "# Recorded by the vision_cassette fixture\n",
    }
    # Each of them fails the lint when it is given one: skipping them is the pattern's doing.
    for name, text in files.items():
        alone = tmp_path / "alone" / name
        alone.parent.mkdir(parents=True, exist_ok=True)
        alone.write_text(text, encoding="utf-8")
        assert main(["lint", str(alone)]) == 1, name
    code, lines, out = commit(user_repo, env, files)
    assert code == 0 and hook_said(lines, "(no files to check)Skipped"), out
    assert commits(user_repo, env) == 2


def test_the_documented_config_names_the_shipped_hook() -> None:
    """docs/cassettes.md's .pre-commit-config.yaml: this project's URL, release and hook id."""
    page = (ROOT / "docs" / "cassettes.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```yaml\n# \.pre-commit-config\.yaml\n(.*?)```", page, re.S)
    [repo] = yaml.safe_load(block)["repos"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert repo["repo"] == project["urls"]["Source"]
    assert repo["rev"] == f"v{project['version']}"
    shipped = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["id"] for hook in repo["hooks"]] == [hook["id"] for hook in shipped]
