"""Independent parsers for the providers' error documentation in ``../shared/seeds/``.

Each parser reads one seed document and returns its documented error rows. Nothing here
imports ``pytest_visioncontract`` or reads the catalogs: the rows are the yardstick the
catalogs are checked against.

The seed documents live beside the checkout, not in it, so the parsed rows are also kept in
the project as a snapshot of facts (``tests/data/documented_errors.json``). The catalogs are
checked against the snapshot everywhere; the snapshot is checked against the seeds wherever
they are. After a seed changes, rewrite the snapshot with::

    python tests/seeds.py --write
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

Kind = Literal["wire", "unconfirmed", "client_side"]

#: ``<project>/../shared/seeds``, computed from this file's location (``<project>/tests/``);
#: ``VISIONCONTRACT_SEEDS_DIR`` points elsewhere.
SEEDS_DIR = Path(
    os.environ.get("VISIONCONTRACT_SEEDS_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
)
#: The parsed rows of every seed, kept in the project (facts only: no prose).
SNAPSHOT = Path(__file__).resolve().parent / "data" / "documented_errors.json"
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class SeedRow:
    """One documented error. ``None`` means the seed does not give that field."""

    status: int | None
    code: str | None  # None only for client-side SDK messages, which have no code
    inner_code: str | None
    message: str | None
    section: str
    row: int  # 1-based position within ``section``
    kind: Kind = "wire"
    inner_message: str | None = None

    def describe(self) -> str:
        parts = [
            f"[{self.section} #{self.row}]",
            self.kind,
            f"status={self.status}",
            f"code={self.code}",
        ]
        if self.inner_code is not None:
            parts.append(f"inner_code={self.inner_code}")
        if self.message is not None:
            parts.append(f"message={self.message!r}")
        if self.inner_message is not None:
            parts.append(f"inner_message={self.inner_message!r}")
        return " ".join(parts)


def _unticked(text: str) -> str:
    """Drop markdown code backticks, keeping their content (``<personId>`` stays)."""
    return text.replace("`", "").strip()


def _numbered(rows: list[SeedRow]) -> list[SeedRow]:
    """Number rows 1, 2, ... within each section, in document order."""
    counts: Counter[str] = Counter()
    numbered = []
    for r in rows:
        counts[r.section] += 1
        numbered.append(replace(r, row=counts[r.section]))
    return numbered


# --- Azure AI Vision Image Analysis ---------------------------------------------------------

_IA_STATUS = re.compile(r"^\* `(\d{3})\b[^`]*`")  # * `400 Bad Request`
_IA_CODE = re.compile(r"^`(\w+) - ([^`]*)`")  # `InvalidRequest - message`. prose...
_IA_COMMENTED = re.compile(r"^`(\w+)`(?: - (.*))?$")  # `Timeout` - Image processing timed out.
_SDK_INTRO = "the SDK has a few other error messages"


def parse_azure_image_analysis(text: str) -> list[SeedRow]:
    sdk_tabs, rest = text.split("# [REST API](#tab/rest)", 1)
    rest = rest.split("\n---\n", 1)[0]  # the tab ends at the `---` tab terminator
    visible, commented = rest.split("<!--", 1)
    visible = visible.split("List of common errors:", 1)[1]
    commented = commented.split("-->", 1)[0]
    return _numbered(_ia_visible(visible) + _ia_commented(commented) + _ia_client_side(sdk_tabs))


def _ia_visible(block: str) -> list[SeedRow]:
    """Nested list: `NNN ...` > `Code - message` > optional `InnerCode - inner message`."""
    section = "REST API: List of common errors"
    rows: list[SeedRow] = []
    status: int | None = None
    outer: tuple[str, str] | None = None  # (code, message) of the current code item
    inner_seen = False

    def close_outer() -> None:
        # A code item documented by inner items is not a row of its own.
        if outer is not None and not inner_seen:
            rows.append(SeedRow(status, outer[0], None, outer[1], section, 0))

    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if not item.startswith("* "):
            continue
        body = item[2:]
        if indent == 0:
            close_outer()
            outer, inner_seen = None, False
            m = _IA_STATUS.match(item)
            assert m, f"unexpected status line: {line!r}"
            status = int(m.group(1))
            continue
        m = _IA_CODE.match(body)
        if m is None:
            # Sub-bullets without a `Code - message` span are prose (the Content-Type hints).
            continue
        code, message = m.group(1), m.group(2).strip()
        if indent == 2:
            close_outer()
            outer, inner_seen = (code, message), False
        else:
            assert outer is not None, f"inner item without a code item: {line!r}"
            inner_seen = True
            rows.append(SeedRow(status, outer[0], code, outer[1], section, 0, "wire", message))
    close_outer()
    return rows


def _ia_commented(block: str) -> list[SeedRow]:
    """The ``<!-- Add any of those if/when you have a working example: ... -->`` list.

    It has no code level. The items before the ``500`` line sit at inner-error depth with
    no parent in the comment (and ``BadArgument`` is a documented inner code of
    ``InvalidRequest`` above); the parser reads them as inner codes of ``InvalidRequest``,
    the only code this document gives inner codes for, with no status and no outer message.
    Items under ``500`` hang directly off the status: they are codes. The text after
    `` `Code` - `` is the message at that level.
    """
    section = "REST API: commented-out list"
    rows: list[SeedRow] = []
    status: int | None = None
    for line in block.splitlines()[1:]:  # line 0 is the "Add any of those ..." remark
        item = line.strip()
        if not item:
            continue
        assert item.startswith("* "), f"unexpected line in commented-out list: {line!r}"
        m = _IA_COMMENTED.match(item[2:])
        assert m, f"unexpected item in commented-out list: {line!r}"
        name, text = m.group(1), _unticked(m.group(2)) if m.group(2) else None
        if name.isdigit():
            status = int(name)
        elif status is None:
            rows.append(
                SeedRow(None, "InvalidRequest", name, None, section, 0, "unconfirmed", text)
            )
        else:
            rows.append(SeedRow(status, name, None, text, section, 0, "unconfirmed"))
    return rows


def _ia_client_side(sdk_tabs: str) -> list[SeedRow]:
    """SDK-only messages, repeated in the C#, Python and C++ tabs: each counted once."""
    section = "SDK tabs: other SDK error messages"
    messages: list[str] = []
    tabs = re.split(r"^# \[", sdk_tabs, flags=re.MULTILINE)[1:]
    assert len(tabs) == 3, f"expected the C#, Python and C++ tabs, found {len(tabs)}"
    for tab in tabs:
        after = tab.split(_SDK_INTRO, 1)[1]
        for line in after.splitlines()[1:]:
            m = re.match(r"^\s+\* `([^`]+)`$", line)
            if m is None:
                break  # the bullet list ended
            if m.group(1) not in messages:
                messages.append(m.group(1))
    return [SeedRow(None, None, None, msg, section, 0, "client_side") for msg in messages]


# --- Azure AI Face -----------------------------------------------------------------------------


def parse_azure_face(text: str) -> list[SeedRow]:
    """Markdown tables ``|Http status code|Error code|Error message|Description|``."""
    rows: list[SeedRow] = []
    section = ""
    for line in text.splitlines():
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            continue
        if not line.startswith("|") or line.startswith(("|Http status code|", "|---", "|-")):
            continue
        cells = line.strip()[1:-1].split("|")
        assert len(cells) == 4, f"unexpected Face table row: {line!r}"
        m = re.fullmatch(r"[A-Za-z ]+\((\d{3})\)", cells[0].strip())
        assert m, f"unexpected Face status cell: {cells[0]!r}"
        rows.append(
            SeedRow(int(m.group(1)), cells[1].strip(), None, _unticked(cells[2]), section, 0)
        )
    return _numbered(rows)


# --- Huawei Cloud OCR --------------------------------------------------------------------------


def parse_huawei_ocr(text: str) -> list[SeedRow]:
    """RST grid table: Category | Error Code | Error Message | Description | Solution.

    The seed gives no HTTP status, so every row has ``status=None``.
    """
    lines = [ln for ln in text.splitlines() if ln.startswith(("+", "|"))]
    # Column boundaries are the '+' positions of the border lines.
    cuts = [i for i, ch in enumerate(lines[0]) if ch == "+"]
    blocks: list[list[str]] = []
    for line in lines:
        if line.startswith("+"):
            blocks.append([])
        else:
            blocks[-1].append(line)
    rows: list[SeedRow] = []
    category = ""
    header, *body = [b for b in blocks if b]
    assert "Error Code" in header[0], "the grid table header moved"
    for block in body:
        cells = [
            " ".join(ln[a + 1 : b].strip() for ln in block if ln[a + 1 : b].strip())
            for a, b in pairwise(cuts)
        ]
        category = cells[0] or category  # an empty category cell continues the group above
        code, message = cells[1], cells[2]
        # The "Other" row ("If other error codes cannot be rectified, contact technical
        # support.") is advice written into the code column, not an error: exclude it.
        if category == "Other":
            assert not message, f"the 'Other' row changed: {cells!r}"
            continue
        assert re.fullmatch(r"[A-Za-z]+\.\d{4}", code), f"unexpected Huawei code: {code!r}"
        rows.append(SeedRow(None, code, None, message, f"Error Codes: {category}", 0))
    return _numbered(rows)


# --- Alibaba Cloud Image Search ----------------------------------------------------------------


def parse_alibaba_image_search(text: str) -> list[SeedRow]:
    """Plain text: per error, a code line, an HTTP status line, a message line, then one or
    more description lines. A "System-level errors" heading starts the second table."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    start = lines.index("Error code")  # header of the first table
    section = "Error codes"
    rows: list[SeedRow] = []
    for i in range(start, len(lines) - 2):
        if lines[i] == "System-level errors":
            section = lines[i]
        if re.fullmatch(r"[A-Z]\w+", lines[i]) and re.fullmatch(r"\d{3}", lines[i + 1]):
            rows.append(SeedRow(int(lines[i + 1]), lines[i], None, lines[i + 2], section, 0))
    return _numbered(rows)


# --- Bing Image Search -------------------------------------------------------------------------


def parse_bing_image_search(text: str) -> list[SeedRow]:
    """The ``|Error code|SubCode|Description`` table; one row per (code, subCode).

    Statuses come from the description paragraphs: a paragraph naming a status applies to
    the sub-codes it names, or to the whole code when it names none of them. A code without
    sub-codes yields one row per status its description names. Messages appear only in the
    JSON examples.
    """
    messages = _bing_example_messages(text)
    table = text.split("|Error code|SubCode|Description", 1)[1]
    rows: list[SeedRow] = []
    for line in table.splitlines():
        if not line.startswith("|") or line.startswith("|-"):
            continue
        code, subs_cell, description = line.strip("|").split("|")
        subs = [] if subs_cell == "No sub-codes" else subs_cell.split("<br/>")
        statuses: dict[str, int] = {}
        code_statuses: list[int] = []
        for paragraph in description.split("<br/><br/>"):
            found = [int(n) for n in re.findall(r"\b[1-5]\d\d\b", paragraph)]
            named = [sub for sub in subs if re.search(rf"\b{sub}\b", paragraph)]
            if found and named:
                assert len(found) == 1, f"several statuses for {named}: {paragraph!r}"
                statuses.update(dict.fromkeys(named, found[0]))
            elif found:
                code_statuses += found
        if subs:
            assert len(code_statuses) <= 1, f"ambiguous status for {code}: {code_statuses}"
            for sub in subs:
                status = statuses.get(sub) or (code_statuses[0] if code_statuses else None)
                rows.append(SeedRow(status, code, sub, messages.get((code, sub)), "Error codes", 0))
        else:
            for status in code_statuses:
                rows.append(
                    SeedRow(status, code, None, messages.get((code, None)), "Error codes", 0)
                )
    return _numbered(rows)


def _bing_example_messages(text: str) -> dict[tuple[str, str | None], str]:
    """``(code, subCode) -> message`` from the ErrorResponse JSON examples."""
    block = text.split("```json", 1)[1].split("```", 1)[0]
    decoder = json.JSONDecoder()
    found: dict[tuple[str, str | None], str] = {}
    pos = 0
    while block[pos:].strip():
        pos += len(block[pos:]) - len(block[pos:].lstrip())
        example, pos = decoder.raw_decode(block, pos)
        for error in example["errors"]:
            found[(error["code"], error.get("subCode"))] = error["message"]
    return found


# --- registry ----------------------------------------------------------------------------------

PARSERS: dict[str, tuple[str, Callable[[str], list[SeedRow]]]] = {
    "azure_image_analysis": ("azure-image-analysis-errors.md", parse_azure_image_analysis),
    "azure_face": ("azure-face-errors.md", parse_azure_face),
    "huawei_ocr": ("huawei-ocr-errors.rst", parse_huawei_ocr),
    "alibaba_image_search": ("alibaba-image-search-errors.txt", parse_alibaba_image_search),
    "bing_image_search": ("bing-image-search-errors.md", parse_bing_image_search),
}
PROVIDERS = tuple(PARSERS)


def seed_rows(provider: str, seeds_dir: Path = SEEDS_DIR) -> list[SeedRow]:
    """Parse ``provider``'s seed document. Raises ``FileNotFoundError`` if it is missing."""
    filename, parse = PARSERS[provider]
    return parse((seeds_dir / filename).read_text(encoding="utf-8"))


# --- the snapshot ------------------------------------------------------------------------------


def snapshot_document(seeds_dir: Path = SEEDS_DIR) -> dict[str, Any]:
    """Every provider's parsed seed rows, as the snapshot file holds them."""
    return {
        "format": SNAPSHOT_FORMAT,
        "about": "Documented error rows parsed from the providers' error documentation by "
        "tests/seeds.py; rewrite with `python tests/seeds.py --write`.",
        "providers": {
            provider: {
                "seed": PARSERS[provider][0],
                "rows": [asdict(row) for row in seed_rows(provider, seeds_dir)],
            }
            for provider in PROVIDERS
        },
    }


def snapshot_rows(provider: str, path: Path = SNAPSHOT) -> list[SeedRow]:
    """``provider``'s documented rows as the snapshot keeps them."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"{path}: format {document.get('format')!r}, expected {SNAPSHOT_FORMAT}")
    names = {f.name for f in fields(SeedRow)}
    rows = []
    for raw in document["providers"][provider]["rows"]:
        if set(raw) != names:
            raise ValueError(
                f"{path}: {provider} row fields {sorted(raw)}, expected {sorted(names)}"
            )
        rows.append(SeedRow(**raw))
    return rows


def render_snapshot(document: dict[str, Any]) -> str:
    """One row per line, so a seed change reads as a small diff."""
    lines = ["{", f'  "format": {json.dumps(document["format"])},']
    lines.append(f'  "about": {json.dumps(document["about"])},')
    lines.append('  "providers": {')
    providers = list(document["providers"].items())
    for i, (provider, data) in enumerate(providers):
        lines.append(f"    {json.dumps(provider)}: {{")
        lines.append(f'      "seed": {json.dumps(data["seed"])},')
        lines.append('      "rows": [')
        rows = [f"        {json.dumps(row, ensure_ascii=False)}" for row in data["rows"]]
        lines.append(",\n".join(rows))
        lines.append("      ]")
        lines.append("    }" + ("," if i < len(providers) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_snapshot(seeds_dir: Path = SEEDS_DIR, path: Path = SNAPSHOT) -> None:
    """Parse the seeds and replace the snapshot atomically (a parse error writes nothing)."""
    text = render_snapshot(snapshot_document(seeds_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT.name}")
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="the seed documents' folder")
    args = parser.parse_args(argv)
    if not args.seeds.is_dir():
        print(f"seeds.py: {args.seeds} is not a folder of seed documents", file=sys.stderr)
        return 2
    if args.write:
        write_snapshot(args.seeds)
        print(f"wrote {SNAPSHOT}")
        return 0
    current = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    if render_snapshot(snapshot_document(args.seeds)) == current:
        print(f"{SNAPSHOT.name} matches {args.seeds}")
        return 0
    print(f"{SNAPSHOT.name} differs from {args.seeds}; run with --write", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
