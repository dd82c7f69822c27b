"""Every docstring example in the package runs and prints what it shows."""
import doctest
import importlib
import pkgutil

import pytest

import dropout_theory

# __main__ runs the CLI on import
MODULES = sorted(m.name for m in pkgutil.walk_packages(dropout_theory.__path__,
                                                       prefix="dropout_theory.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
