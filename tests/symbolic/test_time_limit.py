"""The symbolic route's time limit: a SIGPROF timer of CPU time that raises SymbolicTimeout in
the body, restores what it replaced, stays out of another timer's way, does not count time
the process spends waiting (a loaded machine), and a total shared by a run."""
import signal
import threading
import time

import pytest

from dropout_theory.symbolic.budget import (SymbolicTimeout, set_time_limit, time_limit,
                                            total_time_limit)


def _busy(seconds):
    """Spin for ``seconds`` of this process's CPU time (what the limit counts; on a loaded
    machine that takes longer on the wall clock)."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_limit_interrupts_pure_python_and_restores_the_handler():
    before = signal.getsignal(signal.SIGPROF)
    start = time.monotonic()
    with pytest.raises(SymbolicTimeout, match="time limit of 0.2 s of CPU"):
        with time_limit(0.2):
            _busy(5)
    assert time.monotonic() - start < 4  # stopped at 0.2 s of CPU, not after 5
    assert signal.getsignal(signal.SIGPROF) is before
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_a_body_within_the_limit_is_untouched():
    with time_limit(5):
        _busy(0.05)
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_another_running_timer_is_left_alone():
    fired = []
    previous = signal.signal(signal.SIGPROF, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_PROF, 0.3)
        with time_limit(0.05):  # not armed: the running timer is someone else's
            _busy(0.1)
        _busy(0.4)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def test_time_spent_waiting_does_not_count():
    """CPU time, not wall-clock time: a body that waits (as a process does while others
    have the cores) keeps its whole limit."""
    with time_limit(0.1):
        time.sleep(0.3)
        _busy(0.02)


def test_no_limit_outside_the_main_thread():
    done = []

    def work():
        with time_limit(0.05):
            _busy(0.1)
        done.append(1)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert done == [1]


def test_a_total_is_shared_and_then_used_up():
    with total_time_limit(0.3):
        with pytest.raises(SymbolicTimeout):
            with time_limit(10):  # gets only what is left of the total
                _busy(5)
        with pytest.raises(SymbolicTimeout, match="used up their total"):
            with time_limit(10):
                pass
    with time_limit(10):  # outside, the total no longer applies
        pass


def test_a_swallowed_timeout_is_raised_again():
    """SymbolicTimeout is a ValueError; code under the limit that catches ValueError swallows
    one. The timer keeps firing past the limit, so the next timeout leaves the body anyway
    (a single shot let a claim file's expansion run on without any limit)."""
    swallowed = []
    with pytest.raises(SymbolicTimeout):
        with time_limit(0.05):
            try:
                _busy(5)
            except ValueError:  # as an except clause inside SymPy or the engine would
                swallowed.append(1)
            _busy(5)
    assert swallowed == [1]
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_set_time_limit_refuses_nonsense():
    for bad in (0, -1, float("nan"), 1e9, "5"):
        with pytest.raises(ValueError):
            set_time_limit(bad)
