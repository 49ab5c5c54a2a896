"""pytest-visioncontract: contract tests for code that calls cloud vision APIs."""

from __future__ import annotations

from contextlib import AbstractContextManager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pytest_visioncontract.selection import Retry, VisionError

try:
    __version__ = version("pytest-visioncontract")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["Retry", "VisionError", "__version__", "serve"]


def serve(drawn: Any, *, cap: int = 50) -> AbstractContextManager[Any]:
    """Serve one response to every request inside the block (see ``replay.serve``)."""
    from pytest_visioncontract import replay  # imports vcrpy: only when used

    return replay.serve(drawn, cap=cap)
