"""The README's generated parts agree with the registry and the parser: the identity table
(names in registry order, expected verdicts, the verdict each expects, the sizes the
pipeline plans at the table's seed, declared orders) and the CLI reference. Cheap: no
route runs, only the plan (regenerate both with ``dropout-theory report --update-readme
README.md``)."""
from __future__ import annotations

import re
from pathlib import Path

from dropout_theory.cli import _build
from dropout_theory.identity import Approximation
from dropout_theory.registry import registry
from dropout_theory.reporting.readme import cli_reference, parse_table, section
from dropout_theory.verify import plan

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
STALE = "README is stale: run `dropout-theory report --update-readme README.md`"
WANTED = {"holds": "holds", "refuted": "fails", "approximate": "approximate"}


def _table():
    text = section(README, "identity-table")
    assert text is not None, "README lacks the identity-table markers"
    seed = int(re.search(r"verify --seed (\d+)", text).group(1))
    points = int(re.search(r"(\d+) typical points", text).group(1))
    return parse_table(text), seed, points


def test_identity_table_names_and_verdicts_match_the_registry():
    rows, _, _ = _table()
    known = registry()
    assert [r["name"] for r in rows] == list(known), STALE
    for row in rows:
        identity = known[row["name"]]
        assert row["expected"] == identity.expected, (row["name"], STALE)
        assert row["verdict"] == WANTED[identity.expected], (row["name"], STALE)
        if isinstance(identity.model, Approximation):
            assert row["order"].split(" / ")[0] == f"{identity.model.order:g}", row
        else:
            assert row["order"] == "-", row


def test_identity_table_sizes_are_the_planned_ones():
    rows, seed, points = _table()
    known = registry()
    for row in rows:
        identity = known[row["name"]]
        checks = plan(identity, root=seed, n_points=points, n_samples=1 << 17,
                      proved=row["symbolic"] == "proved")
        sizes = [p.name for p in identity.params if p.integer and not p.shape]
        planned = {name: sorted({int(c.point[name]) for c in checks if c.route != "skipped"})
                   for name in sizes}
        if identity.expected == "refuted":
            # a size is skipped once a smaller one has rejected the claim
            for name, values in row["sizes"].items():
                assert set(values) <= set(planned[name]), (row["name"], STALE)
        else:
            assert row["sizes"] == {k: v for k, v in planned.items()}, (row["name"], STALE)


def test_cli_reference_matches_the_parser():
    assert section(README, "cli-reference") == cli_reference(_build()), STALE
