"""Test configuration for the examples (run from the project root: ``pytest examples``).

pytest puts this folder on ``sys.path`` (it holds a conftest and no ``__init__.py``), so the
tests import the app as ``visionapp``. ``buggy/`` shows what a caught bug looks like: it fails
on purpose, so the default run leaves it out; run it with ``pytest examples/buggy``.
"""

from __future__ import annotations

collect_ignore = ["buggy"]
