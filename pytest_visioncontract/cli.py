"""The ``visioncontract`` command."""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
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


def _first_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (a dangling symbolic link counts)."""
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def _folder_problem(path: Path, name: str) -> str | None:
    if not path.exists():
        return f"{name} is a dangling symbolic link"
    if path.is_file():
        return f"{name} is a file, not a folder"
    if not path.is_dir():
        return f"{name} is not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{name} is not writable"
    return None


def _unwritable(out: Path, providers: Sequence[str]) -> str | None:
    """Why cassettes cannot be written under ``out`` (into ``out/<provider>/``), or None.

    Checked before anything is written: a refused run leaves every existing file as it was.
    """
    existing = _first_existing(out)
    problem = _folder_problem(existing, "it" if existing == out else str(existing))
    if problem is None and existing == out:
        for sub in (out / p for p in providers):
            if os.path.lexists(sub):
                problem = problem or _folder_problem(sub, str(sub))
    return problem


def _cmd_synthesize(args: argparse.Namespace, registry: Registry) -> int:
    from datetime import datetime

    from pytest_visioncontract.cassettes import synthesize_all

    catalogs = registry.all() if args.provider == "all" else [registry.get(args.provider)]
    when = datetime.fromisoformat(SYNTHETIC_DATE)
    out = Path(args.out)
    problem = _unwritable(out, [c.provider for c in catalogs])
    if problem is not None:
        print(f"visioncontract: cannot write to {args.out}: {problem}", file=sys.stderr)
        return 2
    for catalog in catalogs:
        try:
            paths = synthesize_all(catalog, out, when=when)
        except BrokenPipeError:
            raise
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.filename:
                reason += f": {exc.filename}"
            print(f"visioncontract: cannot write to {args.out}: {reason}", file=sys.stderr)
            return 2
        print(f"{catalog.provider}: {len(paths)} cassettes in {out / catalog.provider}")
    return 0


EMPTY = "the file is empty, not a vcrpy cassette"


def _lint_targets(given: Sequence[str]) -> tuple[list[Path], list[str]]:
    """The files to lint, and one line for each path that cannot be linted."""
    from pytest_visioncontract.cassettes import cassette_files

    files: list[Path] = []
    problems: list[str] = []
    for name in given:
        path = Path(name)
        if not path.exists():
            problems.append(f"no such file: {path}")
        elif path.is_dir():
            found = [p for p in cassette_files([path]) if not p.is_dir()]
            if not found:
                problems.append(f"no cassettes under {path}")
            files += found
        else:
            files.append(path)
    for path in files:
        if not path.is_file():  # reading a FIFO waits for a writer; a device may never end
            problems.append(f"not a regular file: {path}")
            continue
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            problems.append(f"cannot read {path}: {exc.strerror or exc}")
    return files, problems


def _cmd_lint(args: argparse.Namespace, registry: Registry) -> int:
    from pytest_visioncontract.cassettes import SIDE_FILE_SUFFIX, Finding, lint_file
    from pytest_visioncontract.scrubbing import Rules, credentials_from_environment

    files, problems = _lint_targets(args.paths)
    if problems:
        for problem in problems:
            print(f"visioncontract: {problem}", file=sys.stderr)
        return 2
    secrets = credentials_from_environment()
    secrets += [
        (f"the value of ${name} (from the environment)", os.environ[name])
        for name in args.secret_env
        if os.environ.get(name)
    ]
    rules = Rules.build(registry.all())
    findings: list[Finding] = []
    for path in files:
        if path.suffix != SIDE_FILE_SUFFIX and path.stat().st_size == 0:
            findings.append(Finding(path, "", "parse", EMPTY))
        else:
            findings += lint_file(path, registry, secrets, rules)
    if args.format == "json":
        document = {
            "files": len(files),
            "findings": [
                {"path": str(f.path), "where": f.where, "kind": f.kind, "message": f.message}
                for f in findings
            ],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            print(finding)
        print(f"{len(files)} cassette(s), {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


def _serve_problem(host: str, port: int) -> str | None:
    """What is wrong with HOST:PORT before any socket is opened, or None."""
    if not 0 <= port <= 65535:
        return "the port must be between 0 and 65535"
    if host and all(c.isdigit() or c == "." for c in host):
        try:
            socket.inet_aton(host)
        except OSError:
            return "not a valid IPv4 address"
    return None


def _bind_reason(exc: OSError, port: int) -> str:
    if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_FAMILY:
        return f"not an IPv4 host ({exc.strerror}); the simulator listens on IPv4"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host ({exc.strerror})"
    if exc.errno == errno.EADDRINUSE:
        return "the port is already in use"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "the address is not one of this machine's"
    if exc.errno == errno.EACCES and 0 < port < 1024:
        return "permission denied (ports below 1024 need privileges)"
    return exc.strerror or str(exc)


def _cmd_serve(args: argparse.Namespace, registry: Registry) -> int:
    from pytest_visioncontract.simulator import serve_forever

    where = f"visioncontract: cannot serve on {args.host}:{args.port}"
    problem = _serve_problem(args.host, args.port)
    if problem is not None:
        print(f"{where}: {problem}", file=sys.stderr)
        return 2
    try:
        serve_forever(registry, args.host, args.port)
    except BrokenPipeError:
        raise  # the address printed to a closed pipe: main() ends quietly
    except OverflowError as exc:  # the port, had the check above missed it
        print(f"{where}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{where}: {_bind_reason(exc, args.port)}", file=sys.stderr)
        return 2
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-visioncontract")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree, not installed
        return "unknown"


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
    parser.add_argument("--version", action="version", version=f"visioncontract {_version()}")
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
    lint.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one line per finding (default); json: one document on stdout",
    )
    lint.set_defaults(func=_cmd_lint)
    serve = sub.add_parser(
        "serve", help="run the loopback simulator: every provider's paths, errors on demand"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    serve.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    serve.set_defaults(func=_cmd_serve)
    return parser


PIPE_CLOSED = 128 + 13  # what a shell reports for a program ended by SIGPIPE


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - stdout is no file
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        registry = load_registry(tuple(args.catalog))
        code: int = args.func(args, registry)
        sys.stdout.flush()  # a closed pipe is found here, not in the interpreter's exit
    except VisionContractError as exc:
        print(f"visioncontract: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `visioncontract catalog | head`: the reader has had enough
        _stdout_to_devnull()
        return PIPE_CLOSED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
