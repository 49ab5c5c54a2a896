"""The package as pip installs it: the pytest11 entry point, options, marker, third-party catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def test_plugin_loads_from_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest_subprocess()  # no -p: the pytest11 entry point loads it
    result.stdout.fnmatch_lines(
        [
            "visioncontract: documented errors per catalog: alibaba_image_search (52), "
            "azure_face (143), azure_image_analysis (11), bing_image_search (13), huawei_ocr (37)"
        ]
    )
    result.assert_outcomes(passed=1)


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "contract tests for cloud vision errors:",
            "*--vision-report=PATH*",
            "*--vision-report-html=PATH*",
            "*--vision-fail-under=PCT*",
            "*--vision-catalog=FILE*",
        ]
    )


def test_marker_is_registered_with_its_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.vision_errors(provider, *, operations=None, categories=None, codes=None, *"]
    )


def test_third_party_catalog_through_the_entry_point_group(
    pytester: pytest.Pytester, acme_catalog: Path
) -> None:
    shutil.copy(acme_catalog, pytester.path / "acme_vision.json")
    pytester.makepyfile(
        acme_catalogs="from pathlib import Path\nCATALOG = Path(__file__).with_name('acme_vision.json')\n"
    )
    dist = pytester.mkdir("acme_catalogs-1.0.dist-info")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-catalogs\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pytest_visioncontract.catalogs]\nacme_vision = acme_catalogs:CATALOG\n"
    )
    pytester.makepyfile(
        test_acme="""
        import pytest
        import requests

        @pytest.mark.vision_errors("acme_vision", handled=(requests.HTTPError,))
        def test_tag(vision_error):
            requests.post("https://vision.acme.test/v1/tag", data=b"x").raise_for_status()
        """
    )
    result = pytester.runpytest_subprocess("-v")
    result.stdout.fnmatch_lines(
        [
            "visioncontract: documented errors per catalog: acme_vision (2), *",
            "*test_tag?acme_vision-tag-400-BadImage? PASSED*",
            "*test_tag?acme_vision-tag-429-Throttled? PASSED*",
        ]
    )
    result.assert_outcomes(passed=2)


def test_broken_entry_point_is_one_clear_line(pytester: pytest.Pytester) -> None:
    dist = pytester.mkdir("broken_catalogs-1.0.dist-info")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-catalogs\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pytest_visioncontract.catalogs]\nbroken = no_such_module:CATALOG\n"
    )
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: entry point 'broken' in group pytest_visioncontract.catalogs failed to load: "
            "ModuleNotFoundError: No module named 'no_such_module'"
        ]
    )
    assert "Traceback" not in result.stderr.str()
