"""``import oauth2_core`` is embeddable: no IO libraries, no hypothesis, no output, no warnings.

DESIGN §1 and §6: the core is sans-IO and has no import-time side effects. Each
check runs in a fresh interpreter so earlier imports in the test session cannot
hide a regression.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# asyncio: flows are generators; hypothesis: only oauth2_core.testing.strategies;
# jwt: only when a JOSE feature is used. (socket IS imported, by the stdlib's
# email.utils, which errors.py uses for Retry-After dates: that is not IO.)
FORBIDDEN = ("hypothesis", "urllib3", "requests", "httpx", "jwt", "asyncio", "oauth2_transports")

_SCRIPT = """
import importlib, json, pkgutil, sys
import oauth2_core
names = [m.name for m in pkgutil.iter_modules(oauth2_core.__path__, "oauth2_core.")]
{extra}
print(json.dumps(sorted(sys.modules)))
"""


def _run(extra: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", "-I", "-c", _SCRIPT.format(extra=extra)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _modules(result: subprocess.CompletedProcess[str]) -> set[str]:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return set(json.loads(result.stdout))


def _top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_import_oauth2_core_pulls_in_no_io_library() -> None:
    loaded = _top_level(_modules(_run()))
    assert "oauth2_core" in loaded
    assert not loaded & set(FORBIDDEN)


def test_every_core_module_except_testing_pulls_in_no_io_library() -> None:
    # The optional JOSE module imports PyJWT lazily, inside the functions that need it.
    extra = "[importlib.import_module(n) for n in names if n != 'oauth2_core.testing']"
    loaded = _modules(_run(extra))
    assert "oauth2_core.grants" in loaded and "oauth2_core.jose" in loaded
    assert not _top_level(loaded) & set(FORBIDDEN)


def test_import_prints_nothing_and_warns_nothing() -> None:
    # -W error turns any warning into a failure; -X dev adds ResourceWarning etc.
    result = _run()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1  # only the module list the script prints


def test_testing_package_does_not_import_hypothesis() -> None:
    loaded = _top_level(_modules(_run("import oauth2_core.testing")))
    assert "hypothesis" not in loaded


def test_strategies_module_is_the_one_that_imports_hypothesis() -> None:
    loaded = _top_level(_modules(_run("import oauth2_core.testing.strategies")))
    assert "hypothesis" in loaded
    assert not loaded & {"urllib3", "requests", "httpx", "oauth2_transports"}


@pytest.mark.parametrize("name", ["root", "oauth2_core"])
def test_no_logging_handlers_installed(name: str) -> None:
    # DESIGN §6: package loggers only, no handlers configured by the library.
    logger = "logging.getLogger()" if name == "root" else f"logging.getLogger({name!r})"
    extra = (
        "[importlib.import_module(n) for n in names if n != 'oauth2_core.testing']\n"
        f"import logging; assert not {logger}.handlers, {logger}.handlers"
    )
    _modules(_run(extra))
