"""Fixtures for the mock server, CLI and demo tests.

The ``mock_authorization_server`` fixture itself comes from the package's
pytest plugin (``oauth2_transports.testing.plugin``), so using it here tests
the plugin too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import oauth2_core as oc
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer
from oauth2_transports.urllib3 import Urllib3Transport


@pytest.fixture
def transport() -> Iterator[Urllib3Transport]:
    t = Urllib3Transport(timeout=10)
    yield t
    t.close()


@pytest.fixture
def server(mock_authorization_server: MockAuthorizationServer) -> MockAuthorizationServer:
    return mock_authorization_server


@pytest.fixture
def app(server: MockAuthorizationServer, transport: Urllib3Transport) -> OAuth2Client:
    """The confidential client_secret_basic client ``app``."""
    return OAuth2Client(server.server_metadata(), server.client("app"), transport)


@pytest.fixture
def public(server: MockAuthorizationServer, transport: Urllib3Transport) -> OAuth2Client:
    """The public client ``cli`` with a loopback redirect URI."""
    client = oc.Client("cli", redirect_uri="http://127.0.0.1:8765/callback")
    return OAuth2Client(server.server_metadata(), client, transport)
