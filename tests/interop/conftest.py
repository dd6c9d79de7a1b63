"""pytest fixtures for the interop tests against a real oidc-provider server.

``oidc_server`` (session scope) starts ``node server.mjs`` once per test
session and yields an :class:`oidc_server.OidcServer`. If Node.js is missing
the tests FAIL (they are not skipped): the interop suite is part of CI.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import oidc_server as _oidc  # noqa: E402
from interop_api import connect, kind, loop  # noqa: E402, F401  (fixtures for every test here)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "interop: runs against the node oidc-provider authorization server"
    )


def pytest_collection_modifyitems(config, items) -> None:
    """Every test collected from tests/interop gets the ``interop`` marker."""
    for item in items:
        try:
            Path(item.path).resolve().relative_to(_HERE)
        except ValueError:
            continue
        item.add_marker(pytest.mark.interop)


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[_oidc.OidcServer]:
    node = _oidc.node_executable()
    if not node:
        pytest.fail(
            "Node.js (`node`, version 20 or newer) is required for the interop tests "
            "but was not found on PATH. Install Node.js and npm, then run "
            "`npm ci` in tests/interop.",
            pytrace=False,
        )
    if not _oidc.dependencies_installed():
        npm = _oidc.npm_executable()
        if not npm:
            pytest.fail(
                "tests/interop/node_modules is missing and `npm` was not found on PATH; "
                "install npm and run `npm ci` in tests/interop.",
                pytrace=False,
            )
        try:
            _oidc.install_dependencies(npm)
        except (_oidc.OidcServerError, OSError) as exc:
            pytest.fail(str(exc), pytrace=False)

    try:
        server = _oidc.start_server(node=node)
    except (_oidc.OidcServerError, OSError) as exc:
        pytest.fail(f"could not start the interop OAuth server: {exc}", pytrace=False)

    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of the server's stderr to failing tests that used it."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        server = getattr(item, "funcargs", {}).get("oidc_server")
        if isinstance(server, _oidc.OidcServer):
            tail = server.logs()[-6000:]
            if tail:
                rep.sections.append(("oidc-provider server log (tail)", tail))
