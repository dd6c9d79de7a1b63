"""``oauth2_transports.httpx.OAuth2Auth.for_resource``: resource-first auth for httpx.

One object serves ``httpx.Client`` and ``httpx.AsyncClient``; see
``_resource_hooks`` for the flow and ``_resource_auth`` for the state.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

import httpx

from oauth2_transports._resource_auth import ResourceAuthorizer
from oauth2_transports._resource_hooks import async_flow, authorizer, sync_flow
from oauth2_transports._resource_session import Session

__all__ = ["ResourceAuth", "for_resource"]


class ResourceAuth(httpx.Auth):
    """The httpx auth of ``OAuth2Auth.for_resource(...)`` (RFC 9728, 7591, 8707, 9470).

    Args:
        authorizer: The shared chain and token state.
    """

    def __init__(self, authorizer: ResourceAuthorizer) -> None:
        self.authorizer = authorizer

    @property
    def session(self) -> Session | None:
        """The current authorization (resource, server, client, registration), or ``None``."""
        return self.authorizer.session

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow for ``httpx.Client``."""
        resendable = isinstance(request.stream, httpx.ByteStream)
        return (yield from sync_flow(self.authorizer, request, resendable))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow for ``httpx.AsyncClient``."""
        resendable = isinstance(request.stream, httpx.ByteStream)
        flow = async_flow(self.authorizer, request, resendable)
        response = None
        try:
            while True:
                try:
                    outgoing = await flow.asend(response)
                except StopAsyncIteration:
                    return
                response = yield outgoing
        finally:
            await flow.aclose()


def for_resource(options: Mapping[str, Any]) -> ResourceAuth:
    """``OAuth2Auth.for_resource(**options)`` for httpx: transports made on first use."""
    from oauth2_transports.httpx import AsyncHttpxTransport, HttpxTransport

    return ResourceAuth(authorizer(options, HttpxTransport, AsyncHttpxTransport))
