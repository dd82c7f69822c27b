"""Math for the report: presentation MathML from SymPy's printer, pretty text, LaTeX.

SymPy's presentation printer draws only the first limit of a multiple sum
(``Sum(f, (i, 1, d), (j, 1, d))`` came out as a single sum over i, and SymPy folds nested
sums into one), so this printer draws one summation sign per limit, the outermost (last)
first; a Kronecker delta is drawn as the subscripted delta instead of the word
``kroneckerdelta``, a conditional mean as ``E(f | m)``, and functions keep their names' case (``E``, ``Var``, not ``e``, ``var``).
"""
from __future__ import annotations

import html

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import precedence_traditional

__all__ = ["mathml", "MAX_CHARS"]

#: an expression whose plain text is longer than this is shown as text, not typeset
MAX_CHARS = 4000


class _Printer(MathMLPresentationPrinter):
    def mathml_tag(self, e):
        """SymPy lowercases names it does not know (``E``, ``Var`` became ``e``, ``var``):
        a function keeps its own name."""
        tag = super().mathml_tag(e)
        name = type(e).__name__
        return name if isinstance(e, sp.Function) and tag == name.lower() else tag

    def _print_Sum(self, e):
        row = self.dom.createElement("mrow")
        for var, low, high in reversed(e.limits):
            sign = self.dom.createElement("munderover")
            symbol = self.dom.createElement("mo")
            symbol.appendChild(self.dom.createTextNode("\u2211"))
            start = self.dom.createElement("mrow")
            equal = self.dom.createElement("mo")
            equal.appendChild(self.dom.createTextNode("="))
            for node in (self._print(var), equal, self._print(low)):
                start.appendChild(node)
            for node in (symbol, start, self._print(high)):
                sign.appendChild(node)
            row.appendChild(sign)
        row.appendChild(self.parenthesize(e.function, precedence_traditional(e)))
        return row

    def _print_Given(self, e):
        """A conditional mean ``E(f | m)``, the bar between its argument and what it
        conditions on."""
        row = self.dom.createElement("mrow")

        def mo(text):
            node = self.dom.createElement("mo")
            node.appendChild(self.dom.createTextNode(text))
            return node
        name = self.dom.createElement("mi")
        name.appendChild(self.dom.createTextNode("E"))
        parts = [name, mo("("), self._print(e.args[0]), mo("|")]
        for k, variable in enumerate(e.args[1]):
            parts += ([mo(",")] if k else []) + [self._print(variable)]
        for node in parts + [mo(")")]:
            row.appendChild(node)
        return row

    def _print_KroneckerDelta(self, e):
        sub = self.dom.createElement("msub")
        delta = self.dom.createElement("mi")
        delta.appendChild(self.dom.createTextNode("\u03b4"))
        sub.appendChild(delta)
        row = self.dom.createElement("mrow")
        for k, arg in enumerate(e.args):
            if k:
                comma = self.dom.createElement("mo")
                comma.appendChild(self.dom.createTextNode(","))
                row.appendChild(comma)
            row.appendChild(self._print(arg))
        sub.appendChild(row)
        return sub


def mathml(expr, *, display: bool = True) -> str:
    """``<math>`` presentation MathML of ``expr`` (a SymPy object); an expression too long
    to typeset, or one the printer refuses, comes back as escaped plain text in ``<code>``."""
    text = sp.sstr(expr)
    if len(text) > MAX_CHARS:
        return f"<code class='long'>{html.escape(text)}</code>"
    try:
        body = _Printer({"order": None}).doprint(sp.sympify(expr))
    except Exception:  # noqa: BLE001  (a printer gap is shown as text, never hidden)
        return f"<code>{html.escape(text)}</code>"
    mode = "block" if display else "inline"
    return (f"<math xmlns='http://www.w3.org/1998/Math/MathML' display='{mode}'>"
            f"{body}</math>")
