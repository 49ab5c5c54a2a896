"""The ``visioncontract`` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from pytest_visioncontract.catalog import Catalog, Entry, Registry, load_registry
from pytest_visioncontract.errors import VisionContractError

FORMATS = ("table", "json", "markdown")


def _ops(entry: Entry) -> str:
    return "*" if entry.operations is None else ",".join(entry.operations)


def _row(entry: Entry) -> list[str]:
    return [
        str(entry.status) + ("?" if entry.status_inferred else ""),
        entry.code,
        entry.inner_code or "",
        entry.category,
        "yes" if entry.retryable else "no",
        _ops(entry),
        entry.flag or "",
        entry.message,
    ]


HEADER = ["status", "code", "inner", "category", "retry", "operations", "flag", "message"]


def _table(catalogs: Sequence[Catalog]) -> str:
    out: list[str] = []
    for catalog in catalogs:
        servable = len(catalog.servable_entries)
        out.append(
            f"{catalog.provider}: {catalog.title} ({len(catalog.entries)} entries, "
            f"{servable} served; operations: {', '.join(catalog.operations)})"
        )
        rows = [HEADER] + [_row(e) for e in catalog.entries]
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
        for r in rows:
            cells = [c.ljust(w) for c, w in zip(r, widths, strict=False)]
            message = r[-1] if len(r[-1]) <= 80 else r[-1][:77] + "..."
            out.append("  " + "  ".join([*cells, message]).rstrip())
        out.append("")
    out.append("status? = status inferred (the documentation gives none); see --format json")
    return "\n".join(out)


def _markdown(catalogs: Sequence[Catalog]) -> str:
    out: list[str] = []
    for catalog in catalogs:
        out += [f"## {catalog.title} (`{catalog.provider}`)", ""]
        out.append("| " + " | ".join(HEADER) + " |")
        out.append("|" + "---|" * len(HEADER))
        for e in catalog.entries:
            cells = [c.replace("|", "\\|") for c in _row(e)]
            cells[1], cells[2] = f"`{cells[1]}`", f"`{cells[2]}`" if cells[2] else ""
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def _entry_json(entry: Entry) -> dict[str, Any]:
    data = asdict(entry)
    data["operations"] = "*" if entry.operations is None else list(entry.operations)
    data["fill"] = dict(entry.fill)
    return data


def _json(catalogs: Sequence[Catalog]) -> str:
    document = {
        c.provider: {
            "title": c.title,
            "wire_format": c.wire_format,
            "api_version": c.api_version,
            "origin": c.origin,
            "operations": {name: op.summary for name, op in c.operations.items()},
            "entries": [_entry_json(e) for e in c.entries],
        }
        for c in catalogs
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


RENDERERS = {"table": _table, "json": _json, "markdown": _markdown}


def _cmd_catalog(args: argparse.Namespace, registry: Registry) -> int:
    catalogs = [registry.get(args.provider)] if args.provider else registry.all()
    print(RENDERERS[args.format](catalogs))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="visioncontract",
        description="Contract tests for code that calls cloud vision APIs.",
    )
    parser.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="an extra provider catalog (JSON); repeatable",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cat = sub.add_parser("catalog", help="list the documented errors of one or all providers")
    cat.add_argument("provider", nargs="?", help="provider id (default: all)")
    cat.add_argument("--format", choices=FORMATS, default="table")
    cat.set_defaults(func=_cmd_catalog)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        registry = load_registry(tuple(args.catalog))
        code: int = args.func(args, registry)
    except VisionContractError as exc:
        print(f"visioncontract: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
