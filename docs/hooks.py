"""MkDocs hook: one page per provider, generated from its catalog at build time.

The error tables are rendered by the same code as ``visioncontract catalog --format markdown``,
so the documentation cannot drift from the data the plugin serves.
"""

from __future__ import annotations

import html
from typing import Any

from mkdocs.structure.files import File, Files

from pytest_visioncontract.catalog import Catalog, load_registry
from pytest_visioncontract.cli import RENDERERS
from pytest_visioncontract.scrubbing import (
    CREDENTIAL_PARTS,
    CREDENTIAL_WORDS,
    DESCRIBING_WORDS,
    REDACTED,
    WEAK_NAMES,
    Rules,
)

KINDS = {  # rule kind: how the table names it, what it writes
    "name": ("credential", f"`{REDACTED}`; the value too, wherever else it appears"),
    "query": ("credential in a URL's query", f"`{REDACTED}`; the value too, wherever else"),
    "volatile": ("per request", f"`{REDACTED}`"),
    "pattern": ("shape", f"`{REDACTED}`"),
    "host": ("host", None),
    "path": ("path", None),
    "keep": ("not a credential", "left as it is"),
    "body": ("whole response body", f"`{REDACTED}`"),
}


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
    return "\n".join([*lines, "", *scrubbing_table(catalog)])


def _code(text: str) -> str:
    """Inline code that survives a table cell and Markdown: HTML-escaped, and the characters
    Markdown would read (pipes, emphasis, backslash escapes) as entities."""
    escaped = html.escape(text)
    for char in "|_*\\`[]":
        escaped = escaped.replace(char, f"&#{ord(char)};")
    return f"<code>{escaped}</code>"


def scrubbing_table(catalog: Catalog) -> list[str]:
    """What recording does to this provider's credentials, from the rules in force."""
    lines = [
        "## What recording scrubs",
        "",
        "Generated from the catalog's `scrub` block and the rules every recording gets (every "
        "catalog's rules apply to every recording). A **credential** name is looked for in "
        "request and response headers, query parameters, parameters nested in other values (a "
        "signed URL inside `imgUrl=`, a string-to-sign echoed in a message), JSON, XML, form "
        "and multipart fields and `name: value` lines; besides the names listed, any name with "
        "one of these words in it: "
        + ", ".join(f"`{w}`" for w in sorted(CREDENTIAL_WORDS))
        + ", or with one of these anywhere in it: "
        + ", ".join(f"`{w}`" for w in CREDENTIAL_PARTS)
        + ", unless its last word describes it ("
        + ", ".join(f"`{w}`" for w in sorted(DESCRIBING_WORDS))
        + ": `token_type`, `token_endpoint`, `keyName` are kept). A name that is only "
        + ", ".join(f"`{w}`" for w in sorted(WEAK_NAMES))
        + " is scrubbed when its value looks like a secret (16 or more characters, no spaces), "
        "so OCR key-value results are kept. A **per request** value (a signing time, a nonce) "
        "is made constant in headers and the query so replay still matches. A **shape** is "
        "replaced wherever it is found in text. Passwords in URLs (`https://user:password@`) "
        "are replaced too. After scrubbing, the leak check refuses to write anything still "
        "holding a credential name's value, a shape, or the value of an environment variable "
        "named like a credential ([cassettes.md](../cassettes.md)).",
        "",
        "| name or shape | kind | carries | written as | from |",
        "|---|---|---|---|---|",
    ]
    rules = Rules.build([catalog])
    ordered = sorted(
        rules.rules, key=lambda r: (list(KINDS).index(r.kind), r.origin != catalog.provider)
    )
    for rule in ordered:
        kind, becomes = KINDS[rule.kind]
        name = _code(rule.name)
        if rule.kind == "pattern" and rule.pattern is not None:
            name = f"{rule.name}: {_code(rule.pattern.pattern)}"
        written = becomes or _code(rule.replacement)
        origin = "this catalog" if rule.origin == catalog.provider else rule.origin
        carries = html.escape(rule.carries, quote=False)
        lines.append(f"| {name} | {kind} | {carries} | {written} | {origin} |")
    return lines


def on_files(files: Files, config: Any) -> Files:
    for provider in load_registry().names:
        files.append(File.generated(config, f"providers/{provider}.md", content=page(provider)))
    return files
