"""Helpers shared by the tests (a plain module: conftest names clash across folders)."""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any


def builtin_document(provider: str) -> dict[str, Any]:
    """A fresh copy of a built-in catalog document, to derive users' catalogs from."""
    text = (files("pytest_visioncontract") / "catalogs" / f"{provider}.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return copy.deepcopy(document)
