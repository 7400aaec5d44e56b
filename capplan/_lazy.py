"""Names a module re-exports from the core, imported when first used: the front ends reach
the core through capplan's modules without paying for pandas, scipy or MLflow at start-up."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_names(
    module: str, sources: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``module``, whose names come from ``sources``
    (name → core module holding it)."""
    namespace = importlib.import_module(module).__dict__

    def __getattr__(name: str) -> object:
        if name not in sources:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(sources[name]), name)
        namespace[name] = value  # found once, then an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(sources))

    return __getattr__, __dir__
