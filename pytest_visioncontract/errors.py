"""The one exception the plugin raises for a user's mistake."""

from __future__ import annotations


class VisionContractError(Exception):
    """A problem with the user's input, said in one line: what was wrong and what is accepted.

    The pytest layer turns it into a usage error or a collection error; the CLI prints it and
    exits 2. It never carries a traceback to the user.
    """
