"""The pytest plugin of oauth2-core: a ``mock_authorization_server`` fixture.

Registered through the ``pytest11`` entry point, so it loads in every pytest
session where oauth2-core is installed. It therefore imports nothing but pytest
at import time; the server module is imported when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from oauth2_transports.testing.mock_server import MockAuthorizationServer

__all__ = ["mock_authorization_server"]


@pytest.fixture
def mock_authorization_server() -> Iterator[MockAuthorizationServer]:
    """A fresh :class:`~oauth2_transports.testing.MockAuthorizationServer` per test.

    A test tool, not a production server: loopback only, auto-approving, with
    demo credentials (``app`` / ``app-secret``, ``alice`` / ``wonderland``).
    Stopped when the test ends.
    """
    from oauth2_transports.testing.mock_server import MockAuthorizationServer

    with MockAuthorizationServer() as server:
        yield server
