"""Lazy package attributes (PEP 562), shared by ``oauth2_core`` and ``oauth2_transports``.

A package lists ``{public name: defining module}``; a name's module is imported on
first access, so ``import oauth2_core`` stays cheaper than ``import attrs`` and the
JOSE, device or async machinery loads only for those who use it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, table: Mapping[str, str], names: Iterable[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: names in ``table`` import on first use.

    Args:
        package: The package's ``__name__``.
        table: Public name -> the module that defines it.
        names: The package's ``__all__`` (what ``dir()`` shows).
    """
    namespace = sys.modules[package].__dict__
    shown = list(names)

    def module_getattr(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # cache: later lookups skip __getattr__
        return value

    def module_dir() -> list[str]:
        return list(shown)

    return module_getattr, module_dir
