"""The README's generated parts: the table of every identity with its status (from one run
of the pipeline), the CLI reference (from argparse) and the variants table (from the
registry). Each lives between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` markers;
``dropout-theory report --update-readme README.md`` rewrites them, and the tests compare
them with the registry and the parser."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..identity import Approximation
from ..registry import registry

__all__ = ["identity_table", "cli_reference", "replace_section", "section", "update_readme",
           "parse_table", "IDENTITY_HEADER"]

IDENTITY_HEADER = ("| identity | status | verdict (expected) | derivation | sizes checked | "
                   "error order (declared / measured) |")


def _sizes(record) -> str:
    return "; ".join(f"{k} = {', '.join(map(str, v))}"
                     for k, v in record["sizes_checked"].items()) or "-"


def _status(record) -> str:
    if record["verdict"] == "holds":
        return "proved" if record["symbolic"] == "proved" else "verified (numbers only)"
    return {"approximate": "approximate", "fails": "refuted",
            "derived": "derived"}.get(record["verdict"], "inconclusive")


def identity_table(document: dict) -> str:
    """One row per statement of a ``verify --json`` document (``report.to_json``), in its
    order: the run's verdict next to the expected one."""
    known = registry()
    rows = [f"Verdicts of `dropout-theory verify --seed {document['seed']}` "
            f"({document['samples']} samples per Monte Carlo check, {document['points']} "
            f"typical points).", "", IDENTITY_HEADER, "|---|---|---|---|---|---|"]
    for record in document["statements"]:
        model = known[record["name"]].model
        measured = record["measured_order"]
        order = "-" if not isinstance(model, Approximation) else \
            f"{model.order:g} / " + ("-" if measured is None else f"{measured:.2f}")
        rows.append(f"| `{record['name']}` | {_status(record)} | {record['verdict']} "
                    f"({record['expected']}) | {record['symbolic']} | {_sizes(record)} | "
                    f"{order} |")
    return "\n".join(rows)


def parse_table(text: str) -> list[dict]:
    """The identity table's rows as dicts (for the test comparing it with the registry)."""
    rows = []
    for line in text.splitlines():
        found = re.match(r"\| `([^`]+)` \| ([^|]+) \| (\w+) \((\w+)\) \| ([\w-]+) \| "
                         r"([^|]+) \| ([^|]+) \|$", line)
        if found:
            name, status, verdict, expected, symbolic, sizes, order = \
                (g.strip() for g in found.groups())
            parsed = {}
            if sizes != "-":
                for part in sizes.split("; "):
                    key, values = part.split(" = ")
                    parsed[key] = [int(x) for x in values.split(", ")] if values else []
            rows.append({"name": name, "status": status, "verdict": verdict,
                         "expected": expected, "symbolic": symbolic, "sizes": parsed,
                         "order": order})
    return rows


def cli_reference(parser: argparse.ArgumentParser, width: int = 100) -> str:
    """Every subcommand's usage and one-line help, from the parser itself."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    lines = ["```"]
    for name, sub in action.choices.items():
        formatter = argparse.HelpFormatter(sub.prog, width=width)
        formatter.add_usage(sub.usage, sub._actions, sub._mutually_exclusive_groups, prefix="")
        lines.append(formatter.format_help().strip())
        lines.append(f"    # {helps.get(name, '')}")
    lines.append("```")
    return "\n".join(lines)


def section(text: str, name: str) -> str | None:
    """The text between the ``name`` markers, or ``None`` when they are missing."""
    found = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", text, re.S)
    return None if found is None else found.group(1).rstrip("\n")


def replace_section(text: str, name: str, body: str) -> str:
    if section(text, name) is None:
        raise ValueError(f"README lacks the <!-- {name}:begin --> / <!-- {name}:end --> markers")
    return re.sub(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)",
                  lambda m: m.group(1) + body + "\n" + m.group(2), text, flags=re.S)


def update_readme(path, document: dict, parser) -> None:
    """Rewrite the generated sections of the README at ``path`` from a ``verify --json``
    document of the whole registry."""
    from ..identities.variants.table import variant_table
    names = [record["name"] for record in document["statements"]]
    if names != list(registry()):
        raise ValueError("the README's identity table needs a run of the whole registry "
                         "(no names on the command line)")
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    text = replace_section(text, "identity-table", identity_table(document))
    text = replace_section(text, "cli-reference", cli_reference(parser))
    text = replace_section(text, "variants-table", variant_table())
    path.write_text(text, encoding="utf-8")
