"""The transport interface: one method, ``send``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from oauth2_core import HttpRequest, HttpResponse, OAuth2Error

__all__ = ["AsyncTransport", "TransportError", "Transport"]


class TransportError(OAuth2Error):
    """The request could not be completed: connection refused, timeout, body too large, ...

    The underlying library's exception is chained as ``__cause__``. Messages
    never contain the request body or credentials.
    """


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns the response, whatever its status.

    A transport sends the request verbatim, never follows redirects, never
    retries, caps the body, has a timeout, stamps ``received_at`` and wraps
    its library's errors in :class:`TransportError`.
    ``oauth2_transports.testing.TransportContract`` checks all of it.
    """

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the response."""
        ...


@runtime_checkable
class AsyncTransport(Protocol):
    """The asyncio twin of :class:`Transport`."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the response."""
        ...
