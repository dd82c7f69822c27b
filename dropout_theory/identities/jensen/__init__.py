"""Jensen gaps (seed 000; Wang & Manning 2013): how a nonlinear activation turns dropout
noise into a bias, exactly (``gaps``) and under the Gaussian approximation of a
pre-activation (``gaussian``); figures in ``figures``."""
from . import figures, gaps, gaussian  # noqa: F401  (registering the identities)
