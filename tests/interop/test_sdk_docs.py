"""The example in each docs/sdks page is the code of an interop test, so the suite runs it.

The page's ``## Example`` section holds one Python block. Every import it makes must be made by
the test module, and every definition in it (decorators to last line) must stand in the module
verbatim.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "azure-ai-vision-imageanalysis.md": "test_azure_image_analysis.py",
    "azure-ai-vision-face.md": "test_azure_face.py",
    "bing-image-search.md": "test_bing_image_search.py",
    "huaweicloudsdkocr.md": "test_huawei_ocr.py",
    "alibabacloud-imagesearch.md": "test_alibaba_image_search.py",
}


def imported(tree: ast.Module) -> set[tuple[str, str, str | None]]:
    names: set[tuple[str, str, str | None]] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            names |= {(node.module or "", a.name, a.asname) for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {("", a.name, a.asname) for a in node.names}
    return names


def assert_example_stands_in(page: str, example: str, module: str, what: str) -> list[ast.stmt]:
    """Every import of ``example`` (the ``what`` of ``docs/sdks/<page>``) is made by the test
    module ``module``, and every definition in it stands in ``module`` verbatim; the definitions."""
    source = (Path(__file__).parent / module).read_text(encoding="utf-8")
    tree = ast.parse(example)
    missing = imported(tree) - imported(ast.parse(source))
    assert not missing, f"docs/sdks/{page}: the {what} imports what {module} does not: {missing}"
    lines = example.splitlines()
    definitions: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        block = "\n".join(lines[first - 1 : node.end_lineno])
        assert block in source, f"docs/sdks/{page}: not in {module} verbatim:\n{block}"
        definitions.append(node)
    return definitions


@pytest.mark.parametrize("page", sorted(PAGES))
def test_doc_example_is_an_interop_test(page: str) -> None:
    text = (ROOT / "docs" / "sdks" / page).read_text(encoding="utf-8")
    section = text.split("\n## Example\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"docs/sdks/{page}: no python block under '## Example'"
    assert_example_stands_in(page, match.group(1), PAGES[page], "example")
