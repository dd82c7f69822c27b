"""dropout_theory: derive dropout identities with SymPy and check them by simulation.

Conventions: ``p`` is the drop probability (as in ``torch.nn.Dropout(p)``), ``q = 1 - p`` the
keep probability.
"""
__version__ = "0.1.0"
