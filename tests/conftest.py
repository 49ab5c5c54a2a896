from __future__ import annotations

import json
from pathlib import Path

# pytester's in-process runs drop the modules a run imported; HTTP clients re-imported half-way
# mix classes from two imports (requests' cookie jar checks fail). Import them once, up front.
import aiohttp  # noqa: F401
import httpcore  # noqa: F401  (httpx 0.28 imports it lazily; a re-import makes new classes)
import httpx  # noqa: F401
import hypothesis  # its pytest plugin imports it at every run's end
import pytest
import requests  # noqa: F401
import urllib3  # noqa: F401
import vcr.serialize
import vcr.serializers.yamlserializer  # noqa: F401
import yaml  # noqa: F401

# Examples saved by an earlier run (.hypothesis/) are replayed first and can hide a failure a
# fresh clone would see: the suite draws afresh every time, from its seeds alone.
hypothesis.settings.register_profile("visioncontract-tests", database=None)
hypothesis.settings.load_profile("visioncontract-tests")


@pytest.fixture(autouse=True)
def _subprocesses_may_cache_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pytest runs the suite starts in a subprocess keep the compiled, assert-rewritten
    modules of the installed pytest plugins (Hypothesis, anyio, ...) in their ``__pycache__``.

    With ``PYTHONDONTWRITEBYTECODE`` set, each of those runs rewrites them again: about 0.7 s a
    run, 15 s a suite (docs/performance.md). This process is not affected.
    """
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)


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
