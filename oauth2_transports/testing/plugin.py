"""The pytest plugin of oauth2-core: a ``mock_authorization_server`` fixture.

Registered through the ``pytest11`` entry point, so it loads in every pytest
session where oauth2-core is installed. It therefore imports nothing but pytest
at import time; the server module is imported when a test asks for the fixture.

A test (or a module, with ``pytestmark``) configures its server with the
``mock_authorization_server`` marker, whose keywords go to
:class:`~oauth2_transports.testing.MockAuthorizationServer`::

    @pytest.mark.mock_authorization_server(port=8765, login_page=True)
    def test_fixed_port(mock_authorization_server): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from oauth2_transports.testing.mock_server import MockAuthorizationServer

__all__ = ["mock_authorization_server", "pytest_configure"]

MARKER = "mock_authorization_server"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): keywords for the mock_authorization_server fixture's "
        "MockAuthorizationServer (port=, host=, issuer=, login_page=, clients=, ...)",
    )


@pytest.fixture
def mock_authorization_server(request: pytest.FixtureRequest) -> Iterator[MockAuthorizationServer]:
    """A fresh :class:`~oauth2_transports.testing.MockAuthorizationServer` per test.

    A test tool, not a production server: loopback only, auto-approving, with
    demo credentials (``app`` / ``app-secret``, ``alice`` / ``wonderland``).
    Stopped when the test ends. The ``mock_authorization_server`` marker's
    keywords (the closest marker wins) configure it: ``port=8765`` for a fixed
    port, ``login_page=True``, ``issuer=...``.
    """
    from oauth2_transports.testing.mock_server import MockAuthorizationServer

    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    with MockAuthorizationServer(**options) as server:
        yield server
