"""Random symbols and their moments, the only facts the expectation engine uses.

A :class:`RandomSpace` maps SymPy symbols or ``IndexedBase`` objects to distributions; all
registered variables are mutually independent, and the entries of an indexed variable are
i.i.d. The engine never enumerates outcomes: it uses raw moments ``E[X^k]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from math import comb, inf

import sympy as sp
from sympy.functions.combinatorial.numbers import stirling

__all__ = ["Distribution", "Bernoulli", "Normal", "Uniform", "Exponential", "Gamma", "Beta",
           "Poisson", "Binomial", "MultivariateNormal", "Moments", "RandomSpace", "SUPPORT",
           "UNIT", "MAX_GAUSSIAN_FACTORS", "symmetric_entry"]

#: the entry a per-unit parameter is read at: ``m ~ Bernoulli(r)[d]`` (a keep rate per unit,
#: Baldi & Sadowski 2013) is stored as ``Bernoulli(r[_unit1])``, and entry ``m[i]`` has the
#: law ``Bernoulli(r[i])`` (:meth:`Distribution.at`); no user name starts with ``_``
UNIT = sp.symbols("_unit1:5", integer=True, positive=True)


class Distribution:
    """Base class: a distribution known through its raw moments."""

    def moment(self, k: int) -> sp.Expr:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _parameters(self):
        return [f.name for f in fields(self) if isinstance(getattr(self, f.name), sp.Basic)]

    @cached_property  # asked for every random atom the engine meets
    def per_unit(self) -> bool:
        """True when a parameter is read per entry (``Bernoulli(r[_unit1])``)."""
        return any(getattr(self, name).has(*UNIT) for name in self._parameters())

    def at(self, indices) -> "Distribution":
        """The law of the entry at ``indices``: per-unit parameters read there."""
        if not self.per_unit:
            return self
        where = dict(zip(UNIT, indices))
        return replace(self, **{name: getattr(self, name).xreplace(where)
                                for name in self._parameters()})


@dataclass(frozen=True)
class Bernoulli(Distribution):
    r"""``Bernoulli(q)`` with ``q`` the probability of 1 (a keep probability for masks).

    .. math:: E[m^k] = q \quad (k \ge 1), \text{ because } m^k = m.

    Examples
    --------
    >>> Bernoulli(sp.Symbol("q")).moment(3)
    q
    """

    q: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        return sp.Integer(1) if k == 0 else sp.sympify(self.q)

    def describe(self) -> str:
        return f"Bernoulli({self.q})"


@dataclass(frozen=True)
class Normal(Distribution):
    r"""``Normal(mu, sigma)`` with mean ``mu`` and standard deviation ``sigma``.

    .. math:: E[x^k] = \sum_{j \le k/2} \binom{k}{2j} (2j-1)!!\, \sigma^{2j} \mu^{k-2j}

    Examples
    --------
    >>> mu, s = sp.symbols("mu sigma")
    >>> sp.expand(Normal(mu, s).moment(2))
    mu**2 + sigma**2
    """

    mu: sp.Expr
    sigma: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        mu, sigma = sp.sympify(self.mu), sp.sympify(self.sigma)
        return sp.Add(*[comb(k, 2 * j) * sp.factorial2(2 * j - 1) * sigma ** (2 * j)
                        * mu ** (k - 2 * j) for j in range(k // 2 + 1)])

    def describe(self) -> str:
        return f"Normal({self.mu}, {self.sigma})"


@dataclass(frozen=True)
class Uniform(Distribution):
    r"""``Uniform(a, b)``: :math:`E[x^k] = (b^{k+1} - a^{k+1}) / ((k+1)(b-a))`."""

    a: sp.Expr
    b: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        a, b = sp.sympify(self.a), sp.sympify(self.b)
        return sp.factor(sp.cancel((b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a))))

    def describe(self) -> str:
        return f"Uniform({self.a}, {self.b})"


@dataclass(frozen=True)
class Exponential(Distribution):
    r"""``Exponential(rate)``: density :math:`\lambda e^{-\lambda x}` on :math:`x \ge 0`
    (SciPy's ``expon(scale=1/rate)``); :math:`E[x^k] = k!/\lambda^k`."""

    rate: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        return sp.factorial(k) / sp.sympify(self.rate) ** k

    def describe(self) -> str:
        return f"Exponential({self.rate})"


@dataclass(frozen=True)
class Gamma(Distribution):
    r"""``Gamma(a, theta)``: shape ``a`` and SCALE ``theta`` (SciPy's ``gamma(a,
    scale=theta)``, mean :math:`a\theta`); :math:`E[x^k] = \theta^k a (a+1) \cdots (a+k-1)`."""

    a: sp.Expr
    theta: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        return sp.sympify(self.theta) ** k * sp.rf(sp.sympify(self.a), k)

    def describe(self) -> str:
        return f"Gamma({self.a}, {self.theta})"


@dataclass(frozen=True)
class Beta(Distribution):
    r"""``Beta(a, b)`` on [0, 1] (SciPy's ``beta(a, b)``, mean :math:`a/(a+b)`);
    :math:`E[x^k] = \prod_{r<k} (a+r)/(a+b+r)`."""

    a: sp.Expr
    b: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        a, b = sp.sympify(self.a), sp.sympify(self.b)
        return sp.Mul(*[(a + r) / (a + b + r) for r in range(k)])

    def describe(self) -> str:
        return f"Beta({self.a}, {self.b})"


@dataclass(frozen=True)
class Poisson(Distribution):
    r"""``Poisson(lam)`` on 0, 1, 2, ... (SciPy's ``poisson(mu=lam)``); raw moments are
    Touchard polynomials :math:`\sum_j S(k, j) \lambda^j`."""

    lam: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        lam = sp.sympify(self.lam)
        return sp.Add(*[stirling(k, j) * lam ** j for j in range(k + 1)]) if k else sp.Integer(1)

    def describe(self) -> str:
        return f"Poisson({self.lam})"


@dataclass(frozen=True)
class Binomial(Distribution):
    r"""``Binomial(n, q)``: successes in ``n`` (a positive integer) trials of probability
    ``q`` (SciPy's ``binom(n, p=q)``); :math:`E[x^k] = \sum_j S(k, j) n^{\underline j} q^j`."""

    n: sp.Expr
    q: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        n, q = sp.sympify(self.n), sp.sympify(self.q)
        return sp.Add(*[stirling(k, j) * sp.ff(n, j) * q ** j for j in range(k + 1)]) \
            if k else sp.Integer(1)

    def describe(self) -> str:
        return f"Binomial({self.n}, {self.q})"


#: each distribution's support as (lower, upper) functions of its parameters (floats): the
#: one place that says where a declared random variable's values lie
SUPPORT = {"Bernoulli": lambda q: (0.0, 1.0),
           "Normal": lambda mu, sigma: (-inf, inf) if sigma > 0 else (mu, mu),
           "Uniform": lambda a, b: (a, b),
           "Exponential": lambda rate: (0.0, inf),
           "Gamma": lambda a, theta: (0.0, inf),
           "Beta": lambda a, b: (0.0, 1.0),
           "Poisson": lambda lam: (0.0, inf),
           "Binomial": lambda n, q: (0.0, n),
           "MultivariateNormal": lambda mean, cov: (-inf, inf)}


#: most factors of a product of jointly normal entries the engine expands (Isserlis: 10 factors
#: have 9496 pairings with singletons, 12 have 140152)
MAX_GAUSSIAN_FACTORS = 10


def symmetric_entry(cov, a, b) -> sp.Expr:
    """Entry ``(a, b)`` of a symmetric matrix written ``(cov[a, b] + cov[b, a])/2``: both
    orientations, so that ``S[i, j]`` and ``S[j, i]`` meet in one canonical form whatever the
    indices' names (the claims' covariances and the engine's pairings alike)."""
    return (cov[a, b] + cov[b, a]) / 2


@dataclass(frozen=True)
class MultivariateNormal(Distribution):
    r"""A vector of jointly normal entries: ``x ~ MultivariateNormal(mu, S)`` with mean vector
    ``mu`` and covariance matrix ``S`` (declared arrays; SciPy's
    ``multivariate_normal(mean=mu, cov=S)``); its entries are correlated.

    .. math:: E\Big[\prod_a x_{i_a}\Big] = \sum_{\pi} \prod_{\{a\} \in \pi} \mu_{i_a}
              \prod_{\{a, b\} \in \pi} S_{i_a i_b}

    over the partitions of the factors into singletons and pairs (the cumulants of a normal
    vector vanish beyond order 2; Isserlis' theorem for the centred part).

    Examples
    --------
    >>> mu, S = sp.IndexedBase("mu"), sp.IndexedBase("S")
    >>> MultivariateNormal(mu, S).product_moment([1, 2])
    S[1, 2]/2 + S[2, 1]/2 + mu[1]*mu[2]
    """

    mean: sp.Expr
    cov: sp.Expr

    def moment(self, k: int) -> sp.Expr:
        raise NotImplementedError("entries of a normal vector are not independent: use "
                                  "product_moment")

    def product_moment(self, indices: list) -> sp.Expr:
        """``E[x[i_1] ... x[i_n]]`` (indices with repeats for powers)."""
        if len(indices) > MAX_GAUSSIAN_FACTORS:
            raise ValueError(f"a product of {len(indices)} jointly normal entries (at most "
                             f"{MAX_GAUSSIAN_FACTORS})")
        return sp.expand(self._pairings(tuple(indices)))

    def _pairings(self, rest: tuple) -> sp.Expr:
        if not rest:
            return sp.Integer(1)
        first, others = rest[0], rest[1:]
        total = self.mean[first] * self._pairings(others)
        for k, other in enumerate(others):
            total += symmetric_entry(self.cov, first, other) * \
                self._pairings(others[:k] + others[k + 1:])
        return total

    def describe(self) -> str:
        return f"MultivariateNormal({self.mean}, {self.cov})"


@dataclass(frozen=True)
class Moments(Distribution):
    r"""Any distribution with mean ``mean`` and variance ``variance``.

    Higher raw moments stay unknown symbols ``E[name^k]``, so a result that needs them cannot
    be mistaken for one that holds for every distribution with these two moments.

    Examples
    --------
    >>> mu, s = sp.symbols("mu sigma")
    >>> Moments(mu, s**2, "x").moment(2)
    mu**2 + sigma**2
    """

    mean: sp.Expr
    variance: sp.Expr
    name: str = "x"

    def moment(self, k: int) -> sp.Expr:
        if k == 0:
            return sp.Integer(1)
        if k == 1:
            return sp.sympify(self.mean)
        if k == 2:
            return sp.sympify(self.variance) + sp.sympify(self.mean) ** 2
        return sp.Symbol(f"E[{self.name}^{k}]")

    def describe(self) -> str:
        return f"any distribution with mean {self.mean} and variance {self.variance}"


@dataclass
class RandomSpace:
    """Independent random variables: scalars (``Symbol``) and i.i.d. arrays (``IndexedBase``).

    Examples
    --------
    >>> q = sp.Symbol("q", positive=True)
    >>> space = RandomSpace()
    >>> m = space.array("m", Bernoulli(q))
    >>> space.is_random(m[1])
    True
    """

    variables: dict = field(default_factory=dict)

    def scalar(self, name: str, dist: Distribution, **assumptions) -> sp.Symbol:
        """Register and return a scalar random symbol."""
        symbol = sp.Symbol(name, real=True, **assumptions)
        self.variables[symbol] = dist
        return symbol

    def array(self, name: str, dist: Distribution) -> sp.IndexedBase:
        """Register and return an i.i.d. random array, indexed like ``m[i]`` or ``m[i, j]``."""
        base = sp.IndexedBase(name, real=True)
        self.variables[base] = dist
        return base

    def distribution(self, atom: sp.Expr) -> Distribution | None:
        """The distribution of a random atom (``x`` or ``m[i]``), or ``None`` if not random."""
        key = atom.base if isinstance(atom, sp.Indexed) else atom
        dist = self.variables.get(key)
        return dist.at(atom.indices) if dist is not None and isinstance(atom, sp.Indexed) \
            else dist

    def is_random(self, atom: sp.Expr) -> bool:
        """True when ``atom`` is a registered scalar or an entry of a registered array."""
        return self.distribution(atom) is not None

    def contains_random(self, expr: sp.Expr) -> bool:
        """True when ``expr`` mentions any registered random variable."""
        atoms = expr.atoms(sp.Symbol, sp.Indexed)
        return any(self.is_random(a) for a in atoms)

    def describe(self) -> list[str]:
        """One line per variable: ``m[...] ~ Bernoulli(q), i.i.d.``."""
        lines = []
        for key, dist in self.variables.items():
            label = f"{key}[...]" if isinstance(key, sp.IndexedBase) else str(key)
            suffix = ", i.i.d. entries" if isinstance(key, sp.IndexedBase) else ""
            if isinstance(dist, MultivariateNormal):
                suffix = ", jointly normal (correlated) entries"
            if dist.per_unit:
                shown = sp.symbols("i j k l")
                dist, label, suffix = dist.at(shown), str(key[shown[:_rank(dist)]]), \
                    ", independent entries"
            lines.append(f"{label} ~ {dist.describe()}{suffix}")
        return lines


def _rank(dist: Distribution) -> int:
    """How many indices a per-unit law reads (``r[_unit1, _unit2]``: 2)."""
    return max(k + 1 for k, u in enumerate(UNIT)
               if any(getattr(dist, n).has(u) for n in dist._parameters()))
