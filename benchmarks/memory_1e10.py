"""10^10 mask elements of the bench workload (Var[sum_i w_i x_i m_i / q], d = 1024) through the
fast path's 32 seeded batches on two workers: run it under ``/usr/bin/time -v`` and read the
peak resident set (memory is bounded by a block of rows, not by the sample count). The draws
go through the compiled kernel where it loads (extra ``fast``), through NumPy with
``DROPOUT_THEORY_NO_JIT=1``; the estimate is the same bit for bit."""
import math
import sys
import time

import numpy as np

from dropout_theory.sampling import (N_BATCHES, Node, _kernels, batch_statistics, dropout_sum_draw,
                                     generator)
from dropout_theory.sampling.executor import using

d, q = 1024, 0.7
elements = float(sys.argv[1]) if len(sys.argv) > 1 else 1e10
rows = int(elements // d) // N_BATCHES * N_BATCHES
rng = generator(0, "bench.unit")
w, x = rng.standard_normal(d) / math.sqrt(d), rng.standard_normal(d)
start = time.perf_counter()
with using(workers=2):
    stats = batch_statistics(dropout_sum_draw(w, x, q), [Node("var", 0)], n_samples=rows,
                             root=0, name="memory")
values = stats.values[:, 0]
print(f"{rows * d:.4g} mask elements in {time.perf_counter() - start:.1f} s: Var estimate "
      f"{values.mean():.5g} +- {values.std(ddof=1) / np.sqrt(N_BATCHES):.2g}, true "
      f"{np.sum((w * x) ** 2) * (1 - q) / q:.5g}; compiled kernel: {_kernels.status()['state']}")
