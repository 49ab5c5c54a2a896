"""The example in each docs/sdks page is the code of an interop test, so the suite runs it.

The page's ``## Example`` section holds one Python block: imports, then one test. Its imports
must all be made by the test module, and the test (decorator to last line) must appear in the
module verbatim.
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
}


def imported(source: str) -> set[tuple[str, str]]:
    names: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names |= {(node.module or "", alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {("", alias.name) for alias in node.names}
    return names


@pytest.mark.parametrize("page", sorted(PAGES))
def test_doc_example_is_an_interop_test(page: str) -> None:
    text = (ROOT / "docs" / "sdks" / page).read_text()
    section = text.split("\n## Example\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"docs/sdks/{page}: no python block under '## Example'"
    example = match.group(1)
    module = (Path(__file__).parent / PAGES[page]).read_text()
    assert imported(example) <= imported(module)
    test = example[example.index("@pytest.mark.vision_errors") :]
    assert test in module, f"docs/sdks/{page}: the example is not the code of {PAGES[page]}"
