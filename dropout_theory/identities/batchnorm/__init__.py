"""Dropout and BatchNorm: variance inflation, the learned running variance, the test shift,
the two orders, and the remedies (see :mod:`.identities`)."""
from . import figures, identities  # noqa: F401  (registration on import)
