"""``oauth2_transports.requests.OAuth2Auth.for_resource``: resource-first auth for requests.

See ``_resource_hooks`` for what happens on a 401 or 403 and ``_resource_auth``
for the state. The resend goes through the same connection adapter, with the
first answer kept in ``response.history``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import requests
import requests.auth
import requests.hooks

from oauth2_core import Token
from oauth2_transports._resource_auth import ResourceAuthorizer
from oauth2_transports._resource_hooks import authorizer, bearer, check_request_url
from oauth2_transports._resource_session import Session

__all__ = ["ResourceAuth", "for_resource"]


class ResourceAuth(requests.auth.AuthBase):
    """The requests auth of ``OAuth2Auth.for_resource(...)`` (RFC 9728, 7591, 8707, 9470).

    Args:
        authorizer: The shared chain and token state.
    """

    def __init__(self, authorizer: ResourceAuthorizer) -> None:
        self.authorizer = authorizer

    @property
    def session(self) -> Session | None:
        """The current authorization (resource, server, client, registration), or ``None``."""
        return self.authorizer.session

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = str(r.url)
        check_request_url(url, allow_insecure_http=self.authorizer.settings.allow_insecure_http)
        generation, token = self.authorizer.token_for(url)
        if token is not None:
            r.headers["Authorization"] = self._header(url, token)
        hook = functools.partial(self._after, generation, token)
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r

    def _header(self, url: str, token: Token) -> str:
        return bearer(url, token, allow_insecure_http=self.authorizer.settings.allow_insecure_http)

    def _after(
        self, generation: int, sent: Token | None, response: requests.Response, **kwargs: Any
    ) -> requests.Response:
        request = response.request
        url = str(request.url)
        decision = self.authorizer.decide(
            response.status_code, response.raw.headers.getlist("WWW-Authenticate"), url, sent
        )
        # A generator or a file was consumed by the first attempt: never resent.
        if decision is None or not isinstance(request.body, (bytes, str, type(None))):
            return response
        fresh = self.authorizer.resolve(decision, url, generation, sent)
        if fresh is None:
            return response
        response.content  # noqa: B018 (read it all, so the connection goes back to the pool)
        response.close()
        retry = request.copy()
        retry.hooks = requests.hooks.default_hooks()  # resent once, from here
        retry.headers["Authorization"] = self._header(url, fresh)
        again = response.connection.send(retry, **kwargs)
        again.history = [*response.history, response]
        again.request = retry
        return again


def for_resource(options: Mapping[str, Any]) -> ResourceAuth:
    """``OAuth2Auth.for_resource(**options)`` for requests: a ``RequestsTransport`` on first use."""
    from oauth2_transports.requests import RequestsTransport

    return ResourceAuth(authorizer(options, RequestsTransport))
