"""The high-level clients close their transport (issue 14, item 4).

``with OAuth2Client(...) as c:`` and ``async with AsyncOAuth2Client(...) as c:``
close the transport's connection pool on the way out, as ``close()`` /
``aclose()`` do; against the mock authorization server on loopback.
"""

from __future__ import annotations

import asyncio

import pytest

import oauth2_core as oc
from oauth2_transports import (
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    HttpxTransport,
    OAuth2Client,
)
from oauth2_transports.testing import MockAuthorizationServer


class Recording:
    """A custom transport (one method) that counts close calls."""

    def __init__(self, inner: HttpxTransport) -> None:
        self.inner = inner
        self.closed = 0

    def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        return self.inner.send(request)

    def close(self) -> None:
        self.closed += 1
        self.inner.close()


def test_with_block_closes_the_transport(
    mock_authorization_server: MockAuthorizationServer,
) -> None:
    server = mock_authorization_server
    transport = Recording(HttpxTransport())
    with OAuth2Client(server.server_metadata(), server.client(), transport=transport) as c:
        assert c.client_credentials(scope="read").access_token
        assert transport.closed == 0
    assert transport.closed == 1
    # The pool is really gone: the transport refuses to send, with a typed error.
    with pytest.raises(oc.OAuth2Error, match="closed"):
        c.client_credentials(scope="read")


def test_close_on_a_transport_without_close_is_a_no_op(
    mock_authorization_server: MockAuthorizationServer,
) -> None:
    server = mock_authorization_server

    class SendOnly:
        def __init__(self) -> None:
            self.inner = HttpxTransport()

        def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
            return self.inner.send(request)

    transport = SendOnly()
    c = OAuth2Client(server.server_metadata(), server.client(), transport=transport)
    c.close()
    assert c.client_credentials(scope="read").access_token  # still usable: nothing closed
    transport.inner.close()


def test_async_with_block_closes_the_transport(
    mock_authorization_server: MockAuthorizationServer,
) -> None:
    server = mock_authorization_server

    async def main() -> None:
        transport = AsyncHttpxTransport()
        client = AsyncOAuth2Client(server.server_metadata(), server.client(), transport)
        async with client as c:
            assert (await c.client_credentials(scope="read")).access_token
        with pytest.raises(oc.OAuth2Error, match="closed"):
            await c.client_credentials(scope="read")

    asyncio.run(main())


def test_every_adapter_refuses_to_send_once_closed(
    mock_authorization_server: MockAuthorizationServer,
) -> None:
    from oauth2_transports import RequestsTransport, Urllib3Transport

    server = mock_authorization_server
    for make in (Urllib3Transport, RequestsTransport, HttpxTransport):
        with OAuth2Client(server.server_metadata(), server.client(), transport=make()) as c:
            assert c.client_credentials(scope="read").access_token
        with pytest.raises(oc.UsageError, match="closed"):
            c.client_credentials(scope="read")
