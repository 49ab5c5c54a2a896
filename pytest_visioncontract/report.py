"""Coverage of documented errors: aggregate case records, render terminal, JSON and HTML.

A record is a plain dict made per case on the test report (so it crosses pytest-xdist), see
:func:`record`. Everything here is a pure function of records and catalogs.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_visioncontract.catalog import Registry
from pytest_visioncontract.selection import Case
from pytest_visioncontract.verdict import HANDLED, NOT_EXERCISED, UNHANDLED, Verdict

RECORD_KEY = "visioncontract"
NOT_RUN = "not_run"
_SEVERITY = {HANDLED: 0, NOT_EXERCISED: 1, UNHANDLED: 2}


def record(case: Case, verdict: Verdict, nodeid: str) -> dict[str, Any]:
    e = case.entry
    return {
        "provider": e.provider,
        "operation": case.operation,
        "variant": case.variant or ("drawn" if case.drawn is not None else None),
        "entry": e.id,
        "status": e.status,
        "code": e.code,
        "inner_code": e.inner_code,
        "message": e.filled_message,
        "category": e.category,
        "documented": e.servable,
        "verdict": verdict.outcome,
        "test_id": nodeid,
        "exception": verdict.exception,
        "detail": verdict.message,
        "served": None if verdict.outcome == HANDLED else case.response.describe(limit=2000),
        "drift": case.drift,
    }


@dataclass
class ProviderCoverage:
    provider: str
    title: str
    documented: int
    verdicts: dict[str, str] = field(default_factory=dict)  # entry id -> worst verdict
    cases: list[Mapping[str, Any]] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for v in self.verdicts.values() if v == outcome)

    @property
    def exercised(self) -> int:
        return self.count(HANDLED) + self.count(UNHANDLED)

    @property
    def not_run(self) -> int:
        return self.documented - len(self.verdicts)

    @property
    def handled_pct(self) -> float:
        return 100.0 * self.count(HANDLED) / self.documented if self.documented else 100.0

    def failing(self) -> list[Mapping[str, Any]]:
        """One record per entry whose worst verdict is not handled."""
        seen: dict[str, Mapping[str, Any]] = {}
        for r in self.cases:
            worst = self.verdicts.get(r["entry"])
            if r["documented"] and worst != HANDLED and worst == r["verdict"]:
                seen.setdefault(r["entry"], r)
        return list(seen.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "documented": self.documented,
            "exercised": self.exercised,
            "handled": self.count(HANDLED),
            "unhandled": self.count(UNHANDLED),
            "not_exercised": self.count(NOT_EXERCISED),
            "not_run": self.not_run,
            "handled_pct": round(self.handled_pct, 2),
            "entries": dict(sorted(self.verdicts.items())),
        }


def summarize(records: Iterable[Mapping[str, Any]], registry: Registry) -> list[ProviderCoverage]:
    by_provider: dict[str, ProviderCoverage] = {}
    for r in records:
        cov = by_provider.get(r["provider"])
        if cov is None:
            catalog = registry.get(r["provider"])
            cov = by_provider[r["provider"]] = ProviderCoverage(
                catalog.provider, catalog.title, len(catalog.servable_entries)
            )
        cov.cases.append(r)
        if not r["documented"]:
            continue
        old = cov.verdicts.get(r["entry"])
        if old is None or _SEVERITY[r["verdict"]] > _SEVERITY[old]:
            cov.verdicts[r["entry"]] = r["verdict"]
    return [by_provider[name] for name in sorted(by_provider)]


def total_handled_pct(coverage: Sequence[ProviderCoverage]) -> float:
    documented = sum(c.documented for c in coverage)
    handled = sum(c.count(HANDLED) for c in coverage)
    return 100.0 * handled / documented if documented else 100.0


COLUMNS = ("documented", "exercised", "handled", "unhandled", "not exercised", "not run", "handled")


def terminal_lines(coverage: Sequence[ProviderCoverage]) -> list[str]:
    name_w = max([len("provider"), *(len(c.provider) for c in coverage)])
    head = "provider".ljust(name_w) + "".join(f"  {c:>13}" for c in COLUMNS[:-1]) + "  handled %"
    lines = [head]
    for c in coverage:
        nums = [c.documented, c.exercised, c.count(HANDLED), c.count(UNHANDLED)]
        nums += [c.count(NOT_EXERCISED), c.not_run]
        lines.append(
            c.provider.ljust(name_w)
            + "".join(f"  {n:>13}" for n in nums)
            + f"  {c.handled_pct:>8.1f}%"
        )
    for c in coverage:
        failing = c.failing()
        if failing:
            codes = ", ".join(_short(r) for r in failing[:12])
            more = f" (+{len(failing) - 12} more)" if len(failing) > 12 else ""
            lines.append(f"{c.provider}: not handled: {codes}{more}")
        if c.not_run:
            lines.append(
                f"{c.provider}: {c.not_run} documented error(s) not run by any test "
                "(filtered out or deselected)"
            )
        for drift, test_id in sorted(
            {(r["drift"], r["test_id"]) for r in c.cases if r.get("drift")}
        ):
            lines.append(f"{c.provider}: contract drift: {drift} ({test_id})")
    return lines


def _short(r: Mapping[str, Any]) -> str:
    return f"{r['entry']} [{r['verdict'].replace('_', ' ')}]"


GENERATOR = "pytest-visioncontract"  # marks the files the plugin writes as its reports
HTML_TITLE = "Vision contract coverage"


def is_report(path: Path) -> bool:
    """Whether an existing file is a report this plugin wrote (and may be written over)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4096)
    except OSError:
        return False
    text = head.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):  # JSON: ours name the generator, or have our keys
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return False
        return isinstance(document, dict) and (
            document.get("generator") == GENERATOR or {"providers", "cases"} <= document.keys()
        )
    return f"<title>{HTML_TITLE}</title>" in text


def as_json(coverage: Sequence[ProviderCoverage]) -> str:
    document = {
        "generator": GENERATOR,
        "handled_pct": round(total_handled_pct(coverage), 2),
        "providers": {c.provider: c.as_json() for c in coverage},
        "drift": sorted({r["drift"] for c in coverage for r in c.cases if r.get("drift")}),
        "cases": [
            {
                k: r[k]
                for k in (
                    "provider",
                    "operation",
                    "variant",
                    "entry",
                    "status",
                    "code",
                    "inner_code",
                    "category",
                    "verdict",
                    "test_id",
                    "exception",
                )
            }
            for c in coverage
            for r in c.cases
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.summary{color:#555}.grid{display:flex;flex-wrap:wrap;gap:4px;margin:.6rem 0}
.cell{width:1.9rem;height:1.9rem;border-radius:4px;font-size:10px;display:flex;
align-items:center;justify-content:center;color:#fff;cursor:default}
.handled{background:#2e9d5b}.unhandled{background:#d33c3c}.not_exercised{background:#e0a100}
.not_run{background:#c5cad3;color:#333}
details{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:.4rem 0;
padding:.4rem .8rem}summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;font-size:12px;background:#f3f4f6;padding:.5rem;border-radius:4px}
.legend span{display:inline-block;padding:0 .5rem;margin-right:.4rem;border-radius:3px;color:#fff}
"""


def as_html(coverage: Sequence[ProviderCoverage], registry: Registry) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta name='generator' content='{GENERATOR}'><title>{HTML_TITLE}</title><style>",
        _CSS,
        "</style></head><body><h1>Vision contract coverage</h1>",
        f"<p class='summary'>Documented errors handled: {total_handled_pct(coverage):.1f}%</p>",
        "<p class='legend'><span class='handled'>handled</span><span class='unhandled'>"
        "unhandled</span><span class='not_exercised'>not exercised</span>"
        "<span class='not_run' style='color:#333'>not run</span></p>",
    ]
    for c in coverage:
        catalog = registry.get(c.provider)
        parts.append(
            f"<h2>{esc(c.title)} <code>{esc(c.provider)}</code></h2><p class='summary'>"
            f"{c.documented} documented, {c.count(HANDLED)} handled, {c.count(UNHANDLED)} "
            f"unhandled, {c.count(NOT_EXERCISED)} not exercised, {c.not_run} not run "
            f"({c.handled_pct:.1f}% handled)</p><div class='grid'>"
        )
        for e in catalog.servable_entries:
            verdict = c.verdicts.get(e.id, NOT_RUN)
            title = f"{e.status} {e.code}{'/' + e.inner_code if e.inner_code else ''}: "
            title += f"{e.filled_message} [{verdict.replace('_', ' ')}]"
            parts.append(
                f"<div class='cell {verdict}' title='{esc(title, quote=True)}'>{e.status}</div>"
            )
        parts.append("</div>")
        for r in c.failing():
            parts.append(
                f"<details><summary>{esc(_short(r))}: {esc(r['message'])}</summary>"
                f"<p>Test: <code>{esc(r['test_id'])}</code></p>"
                f"<p>Served response:</p><pre>{esc(r['served'])}</pre>"
                f"<p>What happened:</p><pre>{esc(r['detail'] or r['exception'] or '')}</pre>"
                "</details>"
            )
    parts.append("</body></html>\n")
    return "".join(parts)
