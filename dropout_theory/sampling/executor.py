"""Where independent, individually seeded tasks run: in process, on a local process pool, or
on a Dask cluster. The results come back in task order, so a reduction over them is the same
whatever ran them: a run is bit-identical for any worker count.

The pool forks its workers, so a task may be any callable (closures over models included) and
needs no pickling; the callable must depend only on its task index (each task seeds its own
generator). Dask pickles the callable with cloudpickle.

>>> with using(workers=2):
...     run_tasks(lambda b: b * b, 4)
[0, 1, 4, 9]
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
from dataclasses import dataclass

__all__ = ["Executor", "configure", "current", "using", "run_tasks"]


@dataclass(frozen=True)
class Executor:
    """``workers`` local processes (1: in process), or the Dask scheduler at ``scheduler``."""

    workers: int = 1
    scheduler: str | None = None

    def __post_init__(self):
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) \
                or self.workers < 1:
            raise ValueError(f"workers must be a positive integer, got {self.workers!r}")
        if self.scheduler is not None and not isinstance(self.scheduler, str):
            raise ValueError(f"scheduler must be an address string, got {self.scheduler!r}")


_current = Executor()
_task = None  # the callable the forked workers run (inherited, never pickled)
_clients = {}


def configure(workers: int = 1, scheduler: str | None = None) -> Executor:
    """Set where :func:`run_tasks` runs for the rest of the process; returns the old setting."""
    global _current
    old, _current = _current, Executor(workers, scheduler)
    return old


def current() -> Executor:
    return _current


@contextlib.contextmanager
def using(workers: int = 1, scheduler: str | None = None):
    """:func:`configure` for the duration of a ``with`` block."""
    old = configure(workers, scheduler)
    try:
        yield _current
    finally:
        configure(old.workers, old.scheduler)
        if scheduler is not None and scheduler != old.scheduler and scheduler in _clients:
            _clients.pop(scheduler).close()  # the cluster may go away with the block


def _run(index: int):
    return _task(index)


def _client(address: str):
    if address not in _clients:
        try:
            from distributed import Client
        except ImportError as error:  # pragma: no cover - depends on the optional extra
            raise RuntimeError("--scheduler needs the optional extra: pip install "
                               "'dropout-theory[dask]'") from error
        _clients[address] = Client(address)
    return _clients[address]


def run_tasks(task, n_tasks: int) -> list:
    """``[task(0), ..., task(n_tasks - 1)]``, computed where :func:`configure` says."""
    global _task
    if _current.scheduler is not None:
        client = _client(_current.scheduler)
        futures = client.map(task, range(n_tasks), pure=False)
        return client.gather(futures)
    workers = min(_current.workers, n_tasks)
    if workers <= 1 or multiprocessing.current_process().daemon:
        return [task(b) for b in range(n_tasks)]
    _task = task
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            return pool.map(_run, range(n_tasks), chunksize=1)
    finally:
        _task = None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
