"""pytest fixtures for the interop tests against a real oidc-provider server.

``oidc_server`` (session scope) starts ``node server.mjs`` once per test
session and yields an :class:`oidc_server.OidcServer`, after running ``npm ci``
when node_modules is missing or differs from package-lock.json. ``mtls_server``
(session scope too, started only when a mutual-TLS test runs) is the same server
in its HTTPS mode, with the test PKI ``mtls_pki`` made for the session. If Node.js is
missing the run FAILS (nothing is skipped): one test says what to install, the
others that need the server are not run.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import mtls_pki as _pki  # noqa: E402
import oidc_server as _oidc  # noqa: E402
from interop_api import connect, kind, loop  # noqa: E402, F401  (fixtures for every test here)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "interop: runs against the node oidc-provider authorization server"
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every test collected from tests/interop gets the ``interop`` marker."""
    try:
        Path(item.path).resolve().relative_to(_HERE)
    except ValueError:
        return
    item.add_marker(pytest.mark.interop)


_NODE_MISSING = pytest.StashKey[str]()
_SERVERS = frozenset({"oidc_server", "mtls_server"})


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: only the tests that will run count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Node.js, one test reports it for all: the others that need it are not run.

    Every test would otherwise repeat the same fixture error. The one kept fails (never
    skips) with what to install and how many tests need it.
    """
    needing = [item for item in items if _SERVERS.intersection(item.fixturenames)]
    problem = _oidc.missing_requirement() if needing else None
    if problem is None:
        return
    held_back = set(needing[1:])
    config.stash[_NODE_MISSING] = (
        f"{problem}. {len(needing)} selected tests in tests/interop need it; "
        f"this one reports it, the other {len(held_back)} were not run"
    )
    items[:] = [item for item in items if item not in held_back]
    config.hook.pytest_deselected(items=needing[1:])


def _tell(config: pytest.Config, line: str) -> None:
    """Write ``line`` to the terminal now, past output capturing."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.write_line(line)


def _start(request: pytest.FixtureRequest, tls_dir: Path | None = None) -> _oidc.OidcServer:
    """Start server.mjs (``npm ci`` first when node_modules is due), or fail the test."""
    problem = _oidc.missing_requirement()
    if problem is not None:
        pytest.fail(request.config.stash.get(_NODE_MISSING, problem), pytrace=False)
    if not _oidc.dependencies_installed():
        npm = _oidc.npm_executable()
        assert npm is not None  # missing_requirement() checked
        _tell(request.config, "tests/interop: npm ci (node_modules missing or out of date)")
        try:
            _oidc.install_dependencies(npm)
        except (_oidc.OidcServerError, OSError, subprocess.TimeoutExpired) as exc:
            pytest.fail(str(exc), pytrace=False)
    try:
        return _oidc.start_server(tls_dir=tls_dir)
    except (_oidc.OidcServerError, OSError) as exc:
        pytest.fail(f"could not start the interop OAuth server: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def oidc_server(request: pytest.FixtureRequest) -> Iterator[_oidc.OidcServer]:
    """The node oidc-provider server, started once; ``npm ci`` first when node_modules is due."""
    server = _start(request)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mtls_pki(tmp_path_factory: pytest.TempPathFactory) -> _pki.Pki:
    """A CA, server and client certificates made for this session (no key is committed)."""
    return _pki.make_pki(tmp_path_factory.mktemp("mtls-pki"))


@pytest.fixture(scope="session")
def mtls_server(request: pytest.FixtureRequest, mtls_pki: _pki.Pki) -> Iterator[_oidc.OidcServer]:
    """server.mjs in HTTPS mode (RFC 8705 mTLS), started once, only for the tests that ask."""
    server = _start(request, tls_dir=mtls_pki.folder)
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
        for name in sorted(_SERVERS):
            server = getattr(item, "funcargs", {}).get(name)
            if isinstance(server, _oidc.OidcServer):
                tail = server.logs()[-6000:]
                if tail:
                    rep.sections.append((f"oidc-provider server log (tail, {name})", tail))
