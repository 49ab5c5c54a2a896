"""Print the declared minimum versions as pip constraints (``name==floor``), one per line.

Reads ``pyproject.toml``: the core dependencies and the extras named on the command line. Every
one of them must declare a floor with ``>=``; a requirement without one is an error, since
"the oldest version we allow" would then be whatever pip finds.

    python .ci/floors.py test > floors.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
FLOOR = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)$")


def main(extras: list[str]) -> int:
    project = PROJECT["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    lines, problems = [], []
    for requirement in requirements:
        spec = requirement.split(";")[0].strip()
        if spec.startswith(project["name"]):  # the project's own extras
            continue
        match = FLOOR.match(spec)
        if match is None:
            problems.append(requirement)
        else:
            lines.append(f"{match[1]}=={match[2]}")
    if problems:
        print(f"floors.py: no '>=' floor in: {', '.join(problems)}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
