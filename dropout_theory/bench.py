r"""``dropout-theory bench``: the Monte Carlo and enumeration workloads next to their baselines,
side by side in one process (the record of the project's speed; no test times anything).

Workload: :math:`\mathrm{Var}[\sum_i w_i x_i m_i / q]` over inverted-dropout masks, ``d``
positions, timed per mask element end to end (masks, the unit, the batch statistics):

- ``jit``: the exact byte sampler and the packed-table unit fused in the compiled kernel
  (:mod:`~dropout_theory.sampling._jit`, optional extra ``fast``: numba), in the 32 seeded
  batches of :func:`~dropout_theory.sampling.batch_statistics`, in process (``jit-1``) and on a
  pool of ``workers`` (``jit-N``); only where the kernel loads;
- ``fast``: the same draws by the NumPy path (:func:`~dropout_theory.sampling.dropout_sum_draw`
  with the kernel switched off), in process and on the pool; its estimates are the kernel's,
  bit for bit;
- ``route``: the Monte Carlo route before the fast sampler: ``network.bernoulli_mask``
  (float64 uniforms against ``q``) and the core's ``Dropout.forward``, the matvec, and the
  same batch statistics, in process;
- ``naive``: ``rng.random(shape) < q``, multiply, matvec;
- ``raw``: the random bytes the sampler reads, one per element, alone: the bit generator's raw
  64-bit words (``random_raw``, ``d / 8`` words per row), in process: the floor of a
  single-process byte sampler;
- ``bytes``: one byte per element from ``Generator.bytes`` alone (which assembles them from
  32-bit draws; the sampler does not use it), in process;
- ``torch``: ``torch.nn.functional.dropout`` and a matvec, when PyTorch is installed.

The ratios are ``time / fastest``, ``fastest`` the quickest of the ``jit`` and ``fast``
paths; the issue's is ``naive / fastest``. Each parallel run starts its pool (forks) inside
the timed run; ``pool_start`` records what starting one that runs nothing costs (about 20 ms
on the 2-core machine: 0.3 ns per element at 2^16 rows of 1024, 0.08 ns at the default 2^18).

Enumeration: the exact mean of a ReLU unit over all ``2**k`` masks by subset doubling
(:func:`~dropout_theory.sampling.unit_mean`) against the mask-matrix enumeration
(:func:`~dropout_theory.sampling.exact_mean`); and the exact average over every sub-network
of a tanh net with two hidden layers (dropout after each) by layer-wise doubling
(:func:`~dropout_theory.sampling.networks.subnetwork_mean`, ``2**k`` sub-networks) against
pushing every mask row through the network core's layers (``2**old_k`` of them).
"""
from __future__ import annotations

import contextlib
import math
import time

import numpy as np

from .network import Dropout, Linear, Sequential, StandardDropout, Tanh
from .network import bernoulli_mask as float_mask
from .sampling import (N_BATCHES, Node, batch_statistics, dropout_sum_draw, enumerate_masks,
                       exact_mean, generator, unit_mean)
from .sampling import _kernels
from .sampling.executor import default_workers, run_tasks, using
from .sampling.networks import subnetwork_mean

__all__ = ["run", "render"]

_CHUNK_ROWS = 256


def _unit(d: int, seed: int):
    rng = generator(seed, "bench.unit")
    return rng.standard_normal(d) / math.sqrt(d), rng.standard_normal(d)


def _rows_loop(rows: int, step):
    """``step(rng, r)`` over ``rows`` rows in chunks; returns the per-row values."""
    rng = generator(0, "bench.baseline")
    return np.concatenate([step(rng, min(_CHUNK_ROWS, rows - s))
                           for s in range(0, rows, _CHUNK_ROWS)])


def _paths(d: int, q: float, rows: int, workers: int, seed: int) -> dict:
    w, x = _unit(d, seed)
    coef = w * x / q
    n = rows * d
    draw = dropout_sum_draw(w, x, q)
    nodes = [Node("mean", 0), Node("var", 0)]

    def sampler(n_workers, compiled):
        def run():
            with using(workers=n_workers), \
                    (contextlib.nullcontext() if compiled else _kernels.disabled()):
                stats = batch_statistics(draw, nodes, n_samples=rows, root=seed,
                                         name="bench.fast")
            return float(stats.values[:, 1].mean())
        return run

    def route():
        layer = Dropout(1.0 - q)

        def step(rng, r):
            return layer.forward(np.broadcast_to(x, (r, d)), mask=float_mask((r, d), 1 - q,
                                                                             rng)) @ w

        def route_draw(rng, r):
            return np.concatenate([step(rng, min(_CHUNK_ROWS, r - s))
                                   for s in range(0, r, _CHUNK_ROWS)])[:, None], None
        with using(workers=1):
            stats = batch_statistics(route_draw, nodes, n_samples=rows, root=seed,
                                     name="bench.route")
        return float(stats.values[:, 1].mean())

    def naive():
        return float(_rows_loop(rows, lambda rng, r: ((rng.random((r, d)) < q) * coef)
                                @ np.ones(d)).var(ddof=1))

    def raw_words():
        bits = generator(0, "bench.raw").bit_generator
        for s in range(0, rows, _CHUNK_ROWS):
            bits.random_raw((min(_CHUNK_ROWS, rows - s) * d + 7) // 8)
        return math.nan

    def generator_bytes():
        rng = generator(0, "bench.bytes")
        for s in range(0, rows, _CHUNK_ROWS):
            rng.bytes(min(_CHUNK_ROWS, rows - s) * d)
        return math.nan

    paths = {"bytes": generator_bytes, "raw": raw_words, "naive": naive, "route": route,
             "fast-1": sampler(1, False), f"fast-{workers}": sampler(workers, False)}
    if _kernels.load() is not None:
        paths.update({"jit-1": sampler(1, True), f"jit-{workers}": sampler(workers, True)})
    try:
        import torch
        tw, tx = torch.from_numpy(w), torch.from_numpy(x)

        def torch_path():
            torch.manual_seed(seed)
            out = [torch.nn.functional.dropout(tx.expand(min(_CHUNK_ROWS, rows - s), d),
                                               p=1 - q) @ tw
                   for s in range(0, rows, _CHUNK_ROWS)]
            return float(torch.cat(out).var())
        paths["torch"] = torch_path
    except ImportError:
        pass
    return paths, n, float(np.sum((w * x) ** 2) * (1 - q) / q)


def _pool_start(workers: int) -> float:
    """Seconds to start a pool of ``workers`` and run 32 empty tasks on it."""
    start = time.perf_counter()
    with using(workers=workers):
        run_tasks(int, N_BATCHES)
    return time.perf_counter() - start


def run(*, d: int = 1024, rows: int = 1 << 18, repeats: int = 5, q: float = 0.7,
        workers: int | None = None, seed: int = 0, enumerate_bits: int = 24,
        old_bits: int = 20, progress=None) -> dict:
    """Medians over ``repeats`` interleaved runs of every path; returns the JSON record."""
    workers = workers or default_workers()
    if rows % N_BATCHES or rows < 2 * N_BATCHES:
        raise ValueError(f"rows must be a multiple of {N_BATCHES}, at least {2 * N_BATCHES}")
    paths, n, truth = _paths(d, q, rows, workers, seed)
    times = {name: [] for name in paths}
    pool = []
    estimates = {}
    for r in range(repeats):
        for name, path in paths.items():
            if progress:
                progress(f"[bench] run {r + 1}/{repeats}: {name}")
            start = time.perf_counter()
            estimates[name] = path()
            times[name].append((time.perf_counter() - start) / n * 1e9)
        pool.append(_pool_start(workers))
    medians = {name: float(np.median(t)) for name, t in times.items()}
    samplers = [name for name in medians if name.startswith(("jit-", "fast-"))]
    fastest = min(samplers, key=medians.get)
    ratios = {f"{name}/{fastest}": medians[name] / medians[fastest] for name in medians}
    record = {
        "workload": f"Var[sum_i w_i x_i m_i / q], d = {d}, q = {q}, {rows} mask rows per run",
        "mask_elements": n, "repeats": repeats, "workers": workers,
        "ns_per_element": medians, "runs": times, "fastest": fastest, "ratios": ratios,
        "naive_over_fastest": medians["naive"] / medians[fastest],
        "pool_start_seconds": float(np.median(pool)),
        "jit": _kernels.status(),
        "estimates": {k: v for k, v in estimates.items() if math.isfinite(v)},
        "true_variance": truth,
    }
    if enumerate_bits:
        record["enumeration"] = _enumeration(enumerate_bits, old_bits, repeats, seed, progress)
    return record


def _enumeration(k: int, old_k: int, repeats: int, seed: int, progress) -> dict:
    rng = generator(seed, "bench.enumeration")
    a, bias, p = rng.standard_normal(k), 0.1, 0.3
    out = {}
    for name, bits, fn in (
            (f"doubling 2^{k}", k, lambda: unit_mean(a, bias, p)[0]),
            (f"doubling 2^{old_k}", old_k, lambda: unit_mean(a[:old_k], bias, p)[0]),
            (f"mask matrix 2^{old_k}", old_k,
             lambda: exact_mean(lambda m: np.maximum(m @ a[:old_k] + bias, 0.0), old_k, p)[0])):
        runs = []
        for r in range(repeats):
            if progress:
                progress(f"[bench] enumeration {r + 1}/{repeats}: {name}")
            start = time.perf_counter()
            value = fn()
            runs.append(time.perf_counter() - start)
        out[name] = {"seconds": float(np.median(runs)), "runs": runs, "value": value}
    out["ratio mask matrix / doubling"] = (out[f"mask matrix 2^{old_k}"]["seconds"]
                                          / out[f"doubling 2^{old_k}"]["seconds"])
    weights, biases, x, p = _two_layer_net(k, rng)
    for name, fn in ((f"network layered 2^{k - k % 2}",
                      lambda: subnetwork_mean(weights, biases, x, p, activation=np.tanh)),
                     (f"network layered 2^{old_k - old_k % 2}",
                      lambda: subnetwork_mean(*_two_layer_net(old_k, rng, weights), p,
                                              activation=np.tanh)),
                     (f"network mask rows 2^{old_k - old_k % 2}",
                      lambda: _network_rows(*_two_layer_net(old_k, rng, weights), p))):
        runs = []
        for r in range(repeats):
            if progress:
                progress(f"[bench] enumeration {r + 1}/{repeats}: {name}")
            start = time.perf_counter()
            value = float(np.ravel(fn())[0])
            runs.append(time.perf_counter() - start)
        out[name] = {"seconds": float(np.median(runs)), "runs": runs, "value": value}
    small = old_k - old_k % 2
    out["ratio network mask rows / layered"] = (out[f"network mask rows 2^{small}"]["seconds"]
                                               / out[f"network layered 2^{small}"]["seconds"])
    return out


def _two_layer_net(k: int, rng, weights=None):
    """A tanh net 8 -> h -> h -> 1 with ``h = k // 2`` (``2 h`` masked units); ``weights``
    given: the same net cut to that width."""
    h = k // 2
    if weights is None:
        weights = [rng.standard_normal((h, 8)) / math.sqrt(8),
                   rng.standard_normal((h, h)) / math.sqrt(h),
                   rng.standard_normal((1, h)) / math.sqrt(h)]
        biases = [np.full(h, 0.1), np.full(h, 0.1), np.zeros(1)]
        return weights, biases, np.linspace(-1.0, 1.0, 8), 0.5
    cut = [weights[0][:h], weights[1][:h, :h], weights[2][:, :h]]
    return cut, [np.full(h, 0.1), np.full(h, 0.1), np.zeros(1)], np.linspace(-1.0, 1.0, 8)


def _network_rows(weights, biases, x, p):
    """The same average by pushing every mask row through the core's layers, in chunks."""
    h = weights[0].shape[0]
    layers = []
    for k, (w, b) in enumerate(zip(weights, biases)):
        layer = Linear(w.shape[1], w.shape[0], rng=np.random.default_rng(0))
        layer.weight, layer.bias = w, b
        layers.append(layer)
        if k < 2:
            layers += [Tanh(), StandardDropout(p)]
    net = Sequential(*layers)
    total = 0.0
    for masks, probs in enumerate_masks(2 * h, p, chunk_bits=16):
        rows = np.broadcast_to(x, (len(masks), x.size))
        out = net.forward(rows, mask={2: masks[:, :h], 5: masks[:, h:]})
        total = total + probs @ out
    return total


def render(record: dict) -> str:
    fastest = record["fastest"]
    lines = [record["workload"], f"{record['mask_elements']:.3g} mask elements per run, median "
             f"of {record['repeats']} runs, {record['workers']} workers", "",
             f"{'path':12s} {'ns/element':>11s} {'time / ' + fastest:>17s}"]
    for name, ns in record["ns_per_element"].items():
        lines.append(f"{name:12s} {ns:11.3f} {record['ratios'][f'{name}/{fastest}']:17.2f}")
    lines.append(f"naive / fastest ({fastest}): {record['naive_over_fastest']:.2f}x; starting "
                 f"a pool of {record['workers']}: {record['pool_start_seconds'] * 1e3:.0f} ms "
                 f"(inside each parallel run)")
    jit = record["jit"]
    lines.append(f"compiled kernel: {jit['state']}" + (
        f" (loaded in {jit['load_seconds']:.2f} s)" if jit.get("load_seconds") else ""))
    estimates = ", ".join(f"{k} {v:.5g}" for k, v in record["estimates"].items())
    lines.append(f"variance estimates {estimates} (true {record['true_variance']:.5g})")
    if "enumeration" in record:
        lines.append("")
        for name, value in record["enumeration"].items():
            if isinstance(value, dict):
                what = "exact sub-network average," if name.startswith("network") else \
                    "exact ReLU unit,"
                lines.append(f"{what:27s} {name:24s} {value['seconds']:8.3f} s")
            else:
                lines.append(f"{name}: {value:.1f}")
    return "\n".join(lines)
