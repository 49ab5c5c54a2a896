"""pytest-visioncontract: contract tests for code that calls cloud vision APIs."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from pytest_visioncontract.selection import Retry, VisionError

if TYPE_CHECKING:
    from pytest_visioncontract.replay import serve

try:
    __version__ = version("pytest-visioncontract")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["Retry", "VisionError", "__version__", "serve"]


def __getattr__(name: str) -> Any:
    """``serve`` is resolved on first use: it imports vcrpy, which the plugin alone does not.

    ``from pytest_visioncontract import serve`` (in a test module, at collection) also pays
    vcrpy's one-time start-up there, so a user's first ``@given`` example served costs what
    the others do and stays inside Hypothesis' deadline.
    """
    if name == "serve":
        from pytest_visioncontract import replay

        replay.warm_up()
        globals()["serve"] = replay.serve
        return replay.serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
