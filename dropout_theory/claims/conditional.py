r"""Conditioning on random variables: ``E(f | m)``, ``Var(f | m)``, ``Cov(f, g | m)``,
``P(A | m)`` and the laws of total expectation and variance they appear in.

``E(f | V)`` is a random variable, a function of the declared random variables ``V``. A
claim's random variables are independent, so it is the expectation over all the others with
``V`` held fixed. The parser builds it as a :class:`Given` node, and this module rewrites every
claim that has one into an ordinary claim over more random variables, so the symbolic route,
exact enumeration and Monte Carlo check it unchanged, each with its own guarantees:

- **Inside an operator** (``E(Var(y | m))``, ``Var(E(y | m))``), the operator's argument must be
  a polynomial in the conditional means. Each factor of each monomial is evaluated on its own
  independent copy of the variables not in ``V`` (the *replicas* ``x'``, ``x''``, ...), with
  ``V`` shared: given every variable, the copies are independent, so

  .. math:: E\Bigl[\prod_j f_j(V_j, X^{(j)}_{-V_j})\Bigr] = E\Bigl[\prod_j E(f_j \mid V_j)\Bigr]

  exactly (the copies are independent of the original variables and of each other). ``Var``
  and ``Cov`` of such arguments become ``E(F^2) - E(F)^2`` and ``E(F G) - E(F) E(G)``, each
  rewritten in the same way. Nothing is approximated: no inner Monte Carlo loop, no bias.
- **Outside any operator** (``E(m*x | m) == m*mu``), the claim compares random variables,
  functions of the variables it conditions on. It states an equality almost surely (relation
  ``==`` only), which holds exactly when :math:`E[(\mathrm{lhs} - \mathrm{rhs})\,\varphi(V)]
  = 0` for every bounded :math:`\varphi`; the routes check one such number, rewritten as
  above (:func:`almost_surely` says which).

A question (no ``rhs``) about a conditional, ``lhs = "E(y | m)"``, gets the engine's closed
form with ``V`` held fixed (:func:`conditional_form`), which is then checked almost surely
like a stated ``rhs``.

Examples
--------
>>> from dropout_theory.claims import claim_from_dict
>>> claim = claim_from_dict({"name": "total variance", "lhs": "Var(m*x)",
...                          "rhs": "E(Var(m*x | m)) + Var(E(m*x | m))",
...                          "symbols": {"q": "keep", "mu": "real"},
...                          "random": {"m": "Bernoulli(q)", "x": "Normal(mu, 1)"}})
>>> sorted(claim.random)
['m', 'x', "x'", "x''"]
>>> claim.rhs  # E(Var(mx | m)) and Var(E(mx | m)), each over copies x', x''
-E(m*x')**2 + E(m**2*x'*x'') + E(m**2*x'**2 - m**2*x'*x'')
"""
from __future__ import annotations

import sympy as sp

from ..symbolic import shortest
from ..symbolic.budget import GAVE_UP, MAX_TERMS, shortest_in_time, symbolic_size, time_limit
from ..symbolic.distributions import RandomSpace
from ..symbolic.operators import OPERATOR_TYPES, Cov, E, Given, P, Var
from ..symbolic.statements import derive_statement
from .limits import escape, excerpt
from .parser import ClaimError

__all__ = ["MAX_REPLICAS", "expand_conditionals", "almost_surely", "conditional_form",
           "has_given", "replica_name", "surely_instead", "top_level_conditioned"]

#: most copies one monomial needs (the total power of conditional means in it): each copy is a
#: whole set of the variables not conditioned on, so the work grows with it
MAX_REPLICAS = 8


def has_given(expr) -> bool:
    """Whether ``expr`` holds a conditional mean ``E(f | m)``."""
    return isinstance(expr, sp.Basic) and expr.has(Given)


def replica_name(name: str, copy: int) -> str:
    """``x'``, ``x''``, ``x'''``, then ``x'4``: names no declared identifier can take."""
    return name + "'" * copy if copy <= 3 else f"{name}'{copy}"


def _base_name(atom) -> str:
    return str(atom.base) if isinstance(atom, sp.Indexed) else str(atom)


class _Replicas:
    """Registers the copies of a claim's random variables as they are needed."""

    def __init__(self, claim):
        self.claim = claim

    def variable(self, name: str, copy: int):
        """The SymPy object of copy ``copy`` of random variable ``name`` (registered once)."""
        claim, new = self.claim, replica_name(name, copy)
        names = claim.names
        if new in names.random:
            return names.arrays[new][0] if new in names.arrays else names.scalars[new]
        spec = claim.random[name]
        if spec.shape:
            base, rank = names.arrays[name]
            replica = claim.space.array(new, claim.space.variables[base])
            names.arrays[new] = (replica, rank)
            if name in names.lengths:
                names.lengths[new] = names.lengths[name]
        else:
            replica = claim.space.scalar(new, claim.space.variables[names.scalars[name]])
            names.scalars[new] = replica
        names.random.add(new)
        claim.random[new] = type(spec)(new, spec.kind, spec.params, spec.shape)
        return replica

    def copy(self, given: Given, number: int):
        """``f`` of ``E(f | V)`` with every random variable not in ``V`` replaced by its copy
        ``number``."""
        body, kept = given.args
        kept = {str(v) for v in kept}
        names, mapping = self.claim.names, {}
        for atom in body.atoms(sp.Symbol, sp.Indexed):
            name = _base_name(atom)
            if name not in names.random or name in kept:
                continue
            if isinstance(atom, sp.Indexed):
                mapping[names.arrays[name][0]] = self.variable(name, number)
            elif name in names.scalars:  # not the label of an array's IndexedBase
                mapping[names.scalars[name]] = self.variable(name, number)
        return body.xreplace(mapping)


def _polynomial(expr, atoms, where: str):
    try:
        poly = sp.Poly(expr, *atoms)
        if any(c.has(Given) for c in poly.coeffs()):
            raise sp.PolynomialError("a conditional mean left in a coefficient")
        return poly
    except (sp.PolynomialError, sp.GeneratorsNeeded) as exc:
        raise ClaimError(f"{where}: conditional means such as {atoms[0]} can sit inside E, Var "
                         f"and Cov only as a polynomial in them (E(Var(y | m)), "
                         f"Var(E(y | m)), E(E(y | m)**2)), not inside another function "
                         f"({excerpt(str(exc), 80)})") from None


def _mean(expr, replicas: _Replicas, where: str):
    """``E(expr)`` with every conditional mean in ``expr`` evaluated on its own copy. The
    expansion is estimated first (:func:`~dropout_theory.symbolic.budget.symbolic_size`), so
    a power of a long sum beside a conditional mean is refused, not expanded for minutes."""
    terms = symbolic_size(expr)[1]
    if terms > MAX_TERMS:
        raise ClaimError(f"{where}: rewriting its conditional means expands it into about "
                         f"{terms} terms; at most {MAX_TERMS}")
    expr = sp.expand(expr)  # the conditional means' own arguments expanded too, first
    atoms = sorted(expr.atoms(Given), key=sp.default_sort_key)
    if not atoms:
        return E(expr)
    total = sp.S.Zero
    for powers, coefficient in _polynomial(expr, atoms, where).terms():
        if sum(powers) > MAX_REPLICAS:
            raise ClaimError(f"{where}: a product of {sum(powers)} conditional means needs as "
                             f"many independent copies of the variables; at most "
                             f"{MAX_REPLICAS}")
        term, number = coefficient, 0
        for atom, power in zip(atoms, powers):
            for _ in range(power):
                number += 1
                term *= replicas.copy(atom, number)
        total += term
    return E(total)


def _rewrite(node, replicas: _Replicas, where: str):
    if isinstance(node, E):
        return _mean(node.args[0], replicas, where)
    if isinstance(node, Var):
        f = node.args[0]
        return _mean(f ** 2, replicas, where) - _mean(f, replicas, where) ** 2
    if isinstance(node, Cov):
        f, g = node.args
        return _mean(f * g, replicas, where) - _mean(f, replicas, where) * \
            _mean(g, replicas, where)
    raise ClaimError(f"{where}: P() of an event about a conditional mean is not supported; "
                     f"conditional means can sit inside E, Var and Cov")


def expand_conditionals(claim, expr, where: str):
    """``expr`` with every E/Var/Cov/P whose argument holds a conditional mean rewritten over
    independent copies (the module's docstring); conditional means outside any operator are
    left for :func:`almost_surely`."""
    if not has_given(expr):
        return expr
    replicas = _Replicas(claim)
    mapping = {node: _rewrite(node, replicas, where) for node in expr.atoms(*OPERATOR_TYPES)
               if has_given(node)}
    return expr.xreplace(mapping)


def top_level_conditioned(expr) -> set:
    """Names of the variables conditioned on by conditional means outside any operator."""
    if isinstance(expr, Given):
        return {_base_name(v) for v in expr.args[1]}
    if isinstance(expr, OPERATOR_TYPES):
        return set()
    found = set()
    for arg in expr.args:
        found |= top_level_conditioned(arg)
    return found


def _derived(claim, expr):
    """``(form, reason)``: :func:`conditional_form` under the symbolic time limit (and the
    file's total), or ``None`` and why there is none."""
    try:
        with time_limit():
            form = conditional_form(claim, expr)
    except GAVE_UP as exc:
        return None, excerpt(str(exc), 160)
    return form, "the engine left an operator in it"


def almost_surely(claim) -> None:
    r"""Make ``claim``, a statement ``L == R`` between random variables (functions of the
    variables ``V`` it conditions on), compare numbers. ``L = R`` almost surely exactly when
    :math:`E[(L - R)\,\varphi(V)] = 0` for every bounded :math:`\varphi`; two choices:

    - where the engine derives ``L``'s closed form ``L~`` (:func:`conditional_form`) and
      ``L~ - R`` is not 0, the *probe* :math:`\varphi = \tilde L - R`: the claim states
      :math:`E[(L - R)(\tilde L - R)] = 0`, first order in the error, so the numeric routes
      confirm a refutation as readily as any claim's. Whatever ``L~`` is, a true statement
      gives exactly 0 (``L - R`` vanishes), so the probe only chooses the power, never the
      false-alarm rate;
    - otherwise (no closed form, or ``L~ = R``, a claim the symbolic route will prove), it
      states :math:`E[(L - R)^2] = 0`, second order, checked over two copies: the numeric
      routes then check the proof's conclusion on their own.

    A question (no rhs) gets ``R = L~``."""
    if claim.relation != "==":
        raise ClaimError(f"claim {escape(claim.name)!r}: a statement about conditional means "
                         f"outside E/Var/Cov (a random variable, a function of what it "
                         f"conditions on) is checked as an equality almost surely; relation "
                         f"{claim.relation!r} is not supported there (take E() of both sides "
                         f"to compare numbers)")
    form, reason = _derived(claim, claim.lhs)
    if claim.question:
        if form is None:
            raise ClaimError(f"claim {escape(claim.name)!r}: no rhs given and the engine derives "
                             f"no closed form of lhs with what it conditions on held fixed "
                             f"({reason}); state the rhs to check")
        claim.rhs = form
        claim.written = (claim.written[0], form)
    claim.surely = True
    probe = None if form is None else shortest_in_time(form - claim.rhs)
    difference, replicas = claim.lhs - claim.rhs, _Replicas(claim)
    if probe is None or probe == 0:
        claim.lhs = _mean(difference ** 2, replicas, "the statement")
    else:
        claim.probe = probe
        claim.lhs = _mean(difference * probe, replicas, "the statement")
    claim.rhs = sp.S.Zero


def surely_instead(claim):
    """What the left side of a statement between random variables is (its conditional means'
    closed forms), for "what is true instead"; ``None`` when the engine has none in time."""
    return _derived(claim, claim.written[0])[0]


def conditional_form(claim, expr):
    """``expr`` with each conditional mean ``E(f | V)`` replaced by the engine's closed form
    of ``E(f)`` with ``V`` held fixed (the variables in ``V`` taken out of the random space),
    or ``None`` when one has no closed form."""
    mapping = {}
    for given in expr.atoms(Given):
        body, kept = given.args
        space = RandomSpace({key: law for key, law in claim.space.variables.items()
                             if key not in set(kept)})
        form = derive_statement(E(body), space).result
        if form.has(*OPERATOR_TYPES, Given, P):
            return None
        mapping[given] = form
    return shortest(expr.xreplace(mapping))
