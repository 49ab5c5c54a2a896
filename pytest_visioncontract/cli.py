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


SYNTHETIC_DATE = "2026-01-01T00:00:00+00:00"  # fixed, so regenerated cassettes do not churn


def _cmd_synthesize(args: argparse.Namespace, registry: Registry) -> int:
    from datetime import datetime
    from pathlib import Path

    from pytest_visioncontract.cassettes import synthesize_all

    catalogs = registry.all() if args.provider == "all" else [registry.get(args.provider)]
    when = datetime.fromisoformat(SYNTHETIC_DATE)
    for catalog in catalogs:
        paths = synthesize_all(catalog, Path(args.out), when=when)
        print(f"{catalog.provider}: {len(paths)} cassettes in {Path(args.out) / catalog.provider}")
    return 0


def _cmd_lint(args: argparse.Namespace, registry: Registry) -> int:
    import os
    from pathlib import Path

    from pytest_visioncontract.cassettes import cassette_files, lint_file
    from pytest_visioncontract.scrubbing import Rules, credentials_from_environment

    secrets = credentials_from_environment()
    secrets += [
        (f"the value of ${name} (from the environment)", os.environ[name])
        for name in args.secret_env
        if os.environ.get(name)
    ]
    rules = Rules.build(registry.all())
    files = list(cassette_files(Path(p) for p in args.paths))
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        print(f"visioncontract: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    findings = [f for path in files for f in lint_file(path, registry, secrets, rules)]
    for finding in findings:
        print(finding)
    print(f"{len(files)} cassette(s), {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


def _cmd_serve(args: argparse.Namespace, registry: Registry) -> int:
    from pytest_visioncontract.simulator import serve_forever

    serve_forever(registry, args.host, args.port)
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
    syn = sub.add_parser("synthesize", help="write one cassette per documented error")
    syn.add_argument("provider", help="provider id, or 'all'")
    syn.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    syn.set_defaults(func=_cmd_synthesize)
    lint = sub.add_parser(
        "lint", help="check cassettes: secrets, schema, undocumented codes, provenance"
    )
    lint.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or folders")
    lint.add_argument(
        "--secret-env",
        action="append",
        default=[],
        metavar="NAME",
        help="an environment variable holding a credential that must not appear (repeatable); "
        "variables named like *KEY*, *SECRET*, *TOKEN*, *PASSWORD*, *_AK, *_SK always are",
    )
    lint.set_defaults(func=_cmd_lint)
    serve = sub.add_parser(
        "serve", help="run the loopback simulator: every provider's paths, errors on demand"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    serve.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    serve.set_defaults(func=_cmd_serve)
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
