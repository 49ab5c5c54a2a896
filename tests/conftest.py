from __future__ import annotations

import copy
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

# pytester's in-process runs drop the modules a run imported; HTTP clients re-imported half-way
# mix classes from two imports (requests' cookie jar checks fail). Import them once, up front.
import aiohttp  # noqa: F401
import httpx  # noqa: F401
import hypothesis  # noqa: F401  (its pytest plugin imports it at every run's end)
import requests  # noqa: F401
import urllib3  # noqa: F401


def builtin_document(provider: str) -> dict[str, Any]:
    """A fresh copy of a built-in catalog document, to derive users' catalogs from."""
    text = (files("pytest_visioncontract") / "catalogs" / f"{provider}.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return copy.deepcopy(document)


@pytest.fixture
def acme_catalog(tmp_path: Path) -> Path:
    """A user's own catalog: a small provider 'acme_vision' in Azure's wire format."""
    document = {
        "format": 1,
        "provider": "acme_vision",
        "title": "Acme Vision",
        "wire_format": "azure",
        "hosts": ["vision.acme.test"],
        "operations": {
            "tag": {"routes": [{"method": "POST", "path": "^/v1/tag$"}]},
        },
        "entries": [
            {
                "id": "400-BadImage",
                "status": 400,
                "code": "BadImage",
                "message": "The image is bad.",
                "operations": "*",
                "category": "invalid_request",
                "retryable": False,
                "source": {"section": "Acme errors", "row": 1},
            },
            {
                "id": "429-Throttled",
                "status": 429,
                "code": "Throttled",
                "message": "Slow down.",
                "operations": ["tag"],
                "category": "throttled",
                "retryable": True,
                "source": {"section": "Acme errors", "row": 2},
            },
        ],
    }
    path = tmp_path / "acme_vision.json"
    path.write_text(json.dumps(document))
    return path
