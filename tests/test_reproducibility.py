"""Same seed, same bytes: ``verify --json``, ``check --json`` and ``power --json`` print the
same document on a rerun, and (the design's promise) whatever the Monte Carlo chunk size.
Figures: ``test_cli.py::test_figures_are_byte_identical_on_rerun``."""
import functools
import pathlib

import pytest

from dropout_theory.cli import main
from dropout_theory.routes import montecarlo

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples" / "claims"
VERIFY = ["verify", "basics", "--json", "--samples", "16384", "--seed", "5"]
CHECK = ["check", str(EXAMPLES / "batchnorm.toml"), "--json", "--samples", "8192",
         "--points", "2", "--seed", "5"]


def _output(argv, capsys) -> str:
    main(argv)
    return capsys.readouterr().out


@pytest.mark.parametrize("argv", [VERIFY, CHECK,
                                  ["power", "--family", "basics.inverted-variance", "--json",
                                   "--samples", "8192"]],
                         ids=["verify", "check", "power"])
def test_same_seed_same_bytes(argv, capsys):
    first = _output(argv, capsys)
    assert first.startswith("{") and len(first) > 1000
    assert _output(argv, capsys) == first


def test_another_seed_other_bytes(capsys):
    """The seed reaches the samples (the test above would pass for a constant output)."""
    other = [*VERIFY[:-1], "6"]
    assert _output(VERIFY, capsys).replace('"seed": 5', "") != \
        _output(other, capsys).replace('"seed": 6', "")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "routes/moments.py and routes/expressions.py draw masks and noise (or several variables) "
    "in turn from one generator per chunk, so the stream they see depends on the chunk size; "
    "a batch is one chunk below 2**15 samples (--samples <= 2**20), so default runs are "
    "unaffected"))
@pytest.mark.parametrize("argv", [VERIFY, CHECK], ids=["verify", "check"])
def test_same_bytes_whatever_the_chunk_size(argv, capsys, monkeypatch):
    whole = _output(argv, capsys)
    # 16384 samples are 32 batches of 512: chunks of 100 split each batch in six
    monkeypatch.setattr(montecarlo, "batch_statistics",
                        functools.partial(montecarlo.batch_statistics, chunk=100))
    assert _output(argv, capsys) == whole
