"""Dropout as an ensemble: weight scaling and normalized geometric means
(:mod:`.averaging`), the gain of an ensemble of sampled sub-networks and path survival
(:mod:`.members`), the weight-scaling gap with depth (:mod:`.depth`)."""
from . import averaging, depth, figures, members  # noqa: F401  (registration on import)
