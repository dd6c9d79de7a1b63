"""``oauth2_transports`` writes its public names once (issue 13): ``_EXPORTS``.

``__all__`` is derived from the table, the names import on first use, and the
``TYPE_CHECKING`` block that type checkers read mirrors the table exactly.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import oauth2_transports as ot
from tests.core.test_public_api import type_checking_exports


def test_public_names_are_written_once() -> None:
    table = {module: tuple(sorted(names)) for module, names in ot._EXPORTS.items()}
    assert type_checking_exports(ot) == table
    assert ot.__all__ == sorted(name for names in table.values() for name in names)
    for module, names in table.items():
        defining = importlib.import_module(module)
        assert all(getattr(ot, name) is getattr(defining, name) for name in names)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from oauth2_transports import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(ot.__all__)


def test_import_loads_no_http_library_and_no_submodule() -> None:
    """``import oauth2_transports`` loads neither urllib3 nor a submodule of its own."""
    code = (
        "import sys, oauth2_transports; "
        "print(sorted(m for m in sys.modules if m.startswith(('oauth2_transports.', 'urllib3'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
