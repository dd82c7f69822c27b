"""Same seed, same bytes: ``verify --json``, ``check --json`` and ``power --json`` print the
same document on a rerun and whatever the number of workers; no chunk size exists that could
change it (a check's randomness comes in blocks keyed by batch and block index, fixed by the
model: ``tests/sampling/test_sampling_routes.py``). Figures:
``test_cli.py::test_figures_are_byte_identical_on_rerun``."""
import pathlib

import pytest

from dropout_theory.cli import main

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


@pytest.mark.parametrize("argv", [VERIFY, CHECK], ids=["verify", "check"])
def test_same_bytes_whatever_the_number_of_workers(argv, capsys):
    # the default run is serial; two forked workers run the 32 batches of every check
    serial = _output(argv, capsys)
    assert _output([*argv, "--workers", "2"], capsys) == serial


def test_same_bytes_on_a_dask_cluster(capsys):
    """``verify --json --scheduler ADDRESS``: the batches run on a Dask cluster (here a
    ``LocalCluster`` of two worker processes) and the document is the serial one, byte for
    byte."""
    distributed = pytest.importorskip(
        "distributed", reason="the optional extra 'dask' (dask, distributed) is not installed")
    serial = _output(VERIFY, capsys)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = _output([*VERIFY, "--scheduler", cluster.scheduler_address], capsys)
    assert remote == serial
