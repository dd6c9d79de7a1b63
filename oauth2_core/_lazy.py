"""Lazy package attributes (PEP 562), shared by ``oauth2_core`` and ``oauth2_transports``.

A package lists its public names once, as ``{defining module: names}``; a name's
module is imported on first access, so ``import oauth2_core`` stays cheaper than
``import attrs`` and the JOSE, device or async machinery loads only for those who
use it. ``__all__`` is derived from the same table.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, tuple[str, ...]]
) -> tuple[list[str], Callable[[str], object], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` for ``package``, from its one table of names.

    Args:
        package: The package's ``__name__``.
        exports: Defining module -> the public names the package takes from it.

    Returns:
        The sorted ``__all__``, and the module ``__getattr__`` / ``__dir__`` that
        import a name's module on first access (PEP 562).

    Raises:
        ValueError: a name listed under two modules (a mistake in the table).
    """
    namespace = sys.modules[package].__dict__
    table = {name: module for module, names in exports.items() for name in names}
    if len(table) != sum(len(names) for names in exports.values()):
        raise ValueError(f"{package}: a public name is listed twice")
    shown = sorted(table)

    def module_getattr(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # cache: later lookups skip __getattr__
        return value

    def module_dir() -> list[str]:
        return list(shown)

    return list(shown), module_getattr, module_dir
