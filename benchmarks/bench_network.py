"""Batched sample axis against a Python loop over mask draws (not a test).

One forward + backward pass of an MLP with dropout for S independent mask draws, done as
one computation on an ``(S, N, features)`` array and as S calls on ``(N, features)``.
Both routes are first checked to agree when given the same masks; then the best of a few
timings of each is printed with their ratio. Runs in a few seconds::

    python benchmarks/bench_network.py      # package installed, or PYTHONPATH=.
"""
from __future__ import annotations

import time

import numpy as np

from dropout_theory.network import Dropout, Linear, ReLU, Sequential, bernoulli_mask

N_SAMPLES, N_INPUTS, P = 1000, 20, 0.5
# (batch, width): a small network like the Monte Carlo routes use, and a wider one.
CONFIGS = [(4, 16), (16, 64)]


def network(width: int, *, seed: int) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(Linear(N_INPUTS, width, rng=rng), ReLU(), Dropout(P),
                      Linear(width, width, rng=rng), ReLU(), Dropout(P), Linear(width, 1, rng=rng))


def batched(net, x, masks):
    y = net.forward(np.broadcast_to(x, (N_SAMPLES,) + x.shape), mask=masks)
    net.backward(np.ones_like(y))
    return y


def looped(net, x, masks):
    ys = []
    for s in range(N_SAMPLES):
        ys.append(net.forward(x, mask={k: m[s] for k, m in masks.items()}))
        net.backward(np.ones_like(ys[-1]))
    return np.stack(ys)


def best_time(fn, *args, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def run(batch: int, width: int) -> float:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, N_INPUTS))
    masks = {i: bernoulli_mask((N_SAMPLES, batch, width), P, rng) for i in (2, 5)}
    net = network(width, seed=1)
    agree = np.allclose(batched(net, x, masks), looped(net, x, masks), rtol=1e-12, atol=1e-12)
    t_batched, t_loop = best_time(batched, net, x, masks), best_time(looped, net, x, masks)
    print(f"S={N_SAMPLES} draws, batch {batch}, width {width} (routes agree: {agree})")
    print(f"  batched sample axis: {t_batched * 1e3:8.1f} ms")
    print(f"  python loop:         {t_loop * 1e3:8.1f} ms")
    print(f"  speed-up (loop / batched): {t_loop / t_batched:.1f}x")
    return t_loop / t_batched


if __name__ == "__main__":
    for batch, width in CONFIGS:
        run(batch, width)
