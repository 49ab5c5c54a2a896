"""The async example in each docs/sdks page is the code of an async interop test.

Each page has a ``## Async client`` section. Where the SDK has an async client, its
``### Async example`` holds one Python block: every import it makes must be made by the async
test module, and every definition in it (decorators to last line) must stand in that module
verbatim, as ``test_sdk_docs.py`` checks the sync ``## Example``. Bing's SDK has no async
client, and its page must say so.
"""

from __future__ import annotations

import ast
import re

import pytest
from test_sdk_docs import ROOT, assert_example_stands_in

ASYNC_PAGES: dict[str, str | None] = {
    "azure-ai-vision-imageanalysis.md": "test_azure_image_analysis_async.py",
    "azure-ai-vision-face.md": "test_azure_face_async.py",
    "bing-image-search.md": None,
    "huaweicloudsdkocr.md": "test_huawei_ocr_async.py",
    "alibabacloud-imagesearch.md": "test_alibaba_image_search_async.py",
}


def async_section(page: str) -> str:
    text = (ROOT / "docs" / "sdks" / page).read_text(encoding="utf-8")
    assert "\n## Async client\n" in text, f"docs/sdks/{page}: no '## Async client' section"
    section = text.split("\n## Async client\n", 1)[1]
    return re.split(r"\n## ", section, maxsplit=1)[0]


@pytest.mark.parametrize("page", sorted(ASYNC_PAGES))
def test_async_example_is_an_async_interop_test(page: str) -> None:
    section = async_section(page)
    module = ASYNC_PAGES[page]
    if module is None:
        assert "no async client" in section
        assert "```python" not in section
        return
    example_part = section.split("\n### Async example\n", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", example_part, re.S)
    assert len(blocks) == 1, f"docs/sdks/{page}: one python block under '### Async example'"
    definitions = assert_example_stands_in(page, blocks[0], module, "async example")
    async_tests = [
        node
        for node in definitions
        if isinstance(node, ast.AsyncFunctionDef) and node.name.startswith("test_")
    ]
    assert len(async_tests) >= 1, f"docs/sdks/{page}: the async example defines no async test"
