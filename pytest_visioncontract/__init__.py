"""pytest-visioncontract: contract tests for code that calls cloud vision APIs."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pytest_visioncontract.selection import VisionError

try:
    __version__ = version("pytest-visioncontract")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["VisionError", "__version__"]
