"""Shared helpers of the interop tests: one calling convention for sync and async clients."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import oauth2_core as oc
from oauth2_transports import AsyncOAuth2Client, OAuth2Client
from oauth2_transports.httpx import AsyncHttpxTransport, HttpxTransport
from oauth2_transports.requests import RequestsTransport
from oauth2_transports.urllib3 import Urllib3Transport

REDIRECT_URI = "http://127.0.0.1/cb"
TRANSPORTS = ["urllib3", "requests", "httpx", "async-httpx"]


class Api:
    """Calls a sync or async client the same way; awaits on a private loop."""

    def __init__(self, client: OAuth2Client | AsyncOAuth2Client, loop: asyncio.AbstractEventLoop):
        self.client = client
        self._loop = loop

    @property
    def transport(self) -> Any:
        return self.client.transport

    def resolve(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            return self._loop.run_until_complete(value)
        return value

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.resolve(method(*args, **kwargs))

        return call

    def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        return self.resolve(self.client.transport.send(request))


@pytest.fixture(params=TRANSPORTS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def connect(
    oidc_server: Any, kind: str, loop: asyncio.AbstractEventLoop
) -> Iterator[Callable[..., Api]]:
    """``connect(client_id, **client_kwargs) -> Api`` for the transport under test."""
    opened: list[Any] = []

    def make(
        client_id: str,
        *,
        secret: str | None = "registered",
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Api:
        info = oidc_server.clients[client_id]
        if secret == "registered":
            secret = info.client_secret
        client = oc.Client(
            client_id, secret, auth_method=info.auth_method, redirect_uri=REDIRECT_URI, **kwargs
        )
        if kind == "async-httpx":
            atransport = AsyncHttpxTransport()
            opened.append(atransport)
            discovered = AsyncOAuth2Client.discover(
                oidc_server.issuer, client, atransport, **(options or {})
            )
            return Api(loop.run_until_complete(discovered), loop)
        transports = {
            "urllib3": Urllib3Transport,
            "requests": RequestsTransport,
            "httpx": HttpxTransport,
        }
        transport = transports[kind]()
        opened.append(transport)
        return Api(
            OAuth2Client.discover(oidc_server.issuer, client, transport, **(options or {})), loop
        )

    yield make
    for transport in opened:
        if isinstance(transport, AsyncHttpxTransport):
            loop.run_until_complete(transport.aclose())
        else:
            transport.close()


def authorize(
    oidc_server: Any, api: Api, *, scope: str = "openid email read", **params: Any
) -> tuple[oc.PendingAuthorization, str]:
    pending = oc.new_pending_authorization(api.client.client)
    url = api.authorization_url(pending, scope=scope, **params)
    return pending, oidc_server.authorize(url)
