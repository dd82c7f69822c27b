"""The README's table of the seeds' dropout variants, generated from the registry.

``variant_table()`` is the Markdown the README carries between its ``variants-table``
markers; a test fails when the two differ, and when a ``variants`` identity is in no row.
"""
from __future__ import annotations

from ...identity import Approximation, registered
from ...plotting import registered_figures
from ...routes import run

__all__ = ["VARIANTS", "variant_table"]

#: (variant, seeds naming it, the core's layer, identities about it)
VARIANTS = [
    ("standard (inverted / Srivastava)", "000-003", "`Dropout`, `StandardDropout`",
     ("basics.inverted-mean", "basics.inverted-variance", "basics.standard-scaling",
      "basics.backprop-mask")),
    ("spatial (Dropout1d/2d)", "002", "`SpatialDropout`", ("variants.spatial-correlation",)),
    ("DropConnect", "001, 002", "`DropConnect` (vs `Dropout` + `Linear`)",
     ("variants.dropconnect-mean", "variants.dropconnect-moments",
      "variants.dropconnect-covariance", "variants.unit-dropout-covariance")),
    ("variational (one mask over time)", "002", "`Dropout` + `Linear`, unrolled",
     ("variants.recurrent-masks-variational", "variants.recurrent-masks-variational-second")),
    ("recurrent (a mask per step)", "002", "`Dropout` + `Linear`, unrolled",
     ("variants.recurrent-masks", "variants.recurrent-masks-second")),
    ("alpha (SELU networks)", "002", "`AlphaDropout`, `SELU`",
     ("variants.alpha-constants", "variants.alpha-constants-mean",
      "variants.alpha-constant-input", "variants.alpha-constant-input-variance",
      "variants.selu-fixed-point", "variants.selu-fixed-point-mean")),
    ("concrete", "002", "`ConcreteDropout`, `ConcreteRegularizer`",
     ("variants.concrete-threshold",)),
    ("targeted", "002", "`TargetedDropout`", ("variants.targeted-rate",)),
    ("Gaussian", "001, 003 (per the issue)", "`GaussianDropout` (vs `Dropout`)",
     ("variants.gaussian-moments", "variants.gaussian-fourth-moment",
      "variants.bernoulli-fourth-moment", "variants.gaussian-matches-bernoulli")),
    ("DropBlock", "001", "`DropBlock`", ("variants.dropblock-rate",)),
    ("max-norm", "003", "`max_norm`",
     ("variants.max-norm", "variants.max-norm-distance", "variants.max-norm-inside")),
]

_HEADER = ("| variant | seeds | layer (network core) | identities | derived | expected verdicts "
           "| figure |\n|---|---|---|---|---|---|---|")


def _derived(identities) -> str:
    """How many are derived symbolically: proved, or refuted/approximated by a derivation."""
    statuses = [run("symbolic", i, None, i.rhs).status for i in identities]
    proved = sum(s == "proved" for s in statuses)
    other = sum(isinstance(i.model, Approximation) or i.expected == "refuted"
                for i in identities)
    return f"{proved} proved" + (f", {other} approx./refuted" if other else "")


def _verdicts(identities) -> str:
    counts = {}
    for identity in identities:
        counts[identity.expected] = counts.get(identity.expected, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _figures(identities) -> str:
    """The dedicated figures (one file per figure function), or the default sweeps."""
    custom = registered_figures()
    files, seen = [], set()
    for stem in (i.name.replace(".", "-") for i in identities):
        if stem in custom and custom[stem] not in seen:
            seen.add(custom[stem])
            files.append(f"`{stem}.png`")
    return ", ".join(files) if files else "default sweeps"


def variant_table() -> str:
    """The Markdown table: one row per variant the seeds name, status from the registry."""
    known = registered()
    rows = [_HEADER]
    for variant, seeds, layer, names in VARIANTS:
        identities = [known[name] for name in names]
        if not identities:
            rows.append(f"| {variant} | {seeds} | {layer} | none yet | no | - | none |")
            continue
        listed = " ".join(f"`{n.split('.', 1)[1]}`" for n in names)
        rows.append(f"| {variant} | {seeds} | {layer} | {listed} | {_derived(identities)} | "
                    f"{_verdicts(identities)} | {_figures(identities)} |")
    return "\n".join(rows)
