"""visionapp: a small application that calls five cloud vision services.

Each provider has one client module; every error a provider answers with becomes a
:class:`~visionapp.errors.VisionAPIError`, so callers handle one exception type.
"""

from __future__ import annotations

from visionapp.errors import VisionAPIError

__all__ = ["VisionAPIError"]
