"""Content: one module per family; importing this package fills the registry."""
from . import basics, bias_variance  # noqa: F401
