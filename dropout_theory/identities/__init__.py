"""Content: one module per family; importing this package fills the registry.

Every public module of this package is imported, so adding a family is adding a module.
"""
import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")
