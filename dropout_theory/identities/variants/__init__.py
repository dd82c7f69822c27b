"""Dropout variants (seeds 001-003): alpha dropout and SELU, Gaussian, spatial, DropConnect,
variational and recurrent masks, targeted dropout, max-norm, DropBlock; each derived and
checked on the network core's layer."""
from . import alpha, concrete, dropblock, masks, noise, recurrent, selu, weights  # noqa: F401,I001
from . import figures  # noqa: F401  (registration on import)
