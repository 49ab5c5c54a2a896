"""MkDocs hook: one page per provider, generated from its catalog at build time.

The error tables are rendered by the same code as ``visioncontract catalog --format markdown``,
so the documentation cannot drift from the data the plugin serves.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from pytest_visioncontract.catalog import load_registry
from pytest_visioncontract.cli import RENDERERS


def page(provider: str) -> str:
    catalog = load_registry().get(provider)
    lines = [
        f"# {catalog.title}",
        "",
        f"Provider id `{catalog.provider}`, wire format `{catalog.wire_format}`, API version "
        f"`{catalog.api_version}`; taken from the provider's documentation "
        f"(`{catalog.seed}`). {len(catalog.entries)} documented rows, "
        f"{len(catalog.servable_entries)} served as wire errors.",
        "",
        "Hosts: " + ", ".join(f"`{h}`" for h in catalog.hosts) + ".",
        "",
        "## Operations",
        "",
        "| operation | requests | success |",
        "|---|---|---|",
    ]
    for op in catalog.operations.values():
        routes = "<br>".join(
            f"`{r.method} {r.path.pattern}`" + (f" Action=`{r.action}`" if r.action else "")
            for r in op.routes
        )
        lines.append(
            f"| `{op.name}` {op.summary} | {routes.replace('|', '&#124;')} | {op.success_status} |"
        )
    lines += ["", "## Documented errors", ""]
    table = RENDERERS["markdown"]([catalog]).split("\n", 2)[2]  # without the heading
    lines += [
        "A status followed by `?` was inferred (the documentation gives none; the reason is in "
        "`visioncontract catalog " + catalog.provider + " --format json`).",
        "",
        table,
    ]
    return "\n".join(lines)


def on_files(files: Files, config: Any) -> Files:
    for provider in load_registry().names:
        files.append(File.generated(config, f"providers/{provider}.md", content=page(provider)))
    return files
