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
from oauth2_core.dpop_nonce import DPOP_NONCE_FIELD
from oauth2_transports._hooks import RetryBudget
from oauth2_transports._resource_auth import ResourceAuthorizer
from oauth2_transports._resource_hooks import (
    authorization_fields,
    authorizer,
    check_request_url,
    next_step,
)
from oauth2_transports._resource_session import Session

__all__ = ["ResourceAuth", "for_resource"]


class ResourceAuth(requests.auth.AuthBase):
    """The requests auth of ``OAuth2Auth.for_resource(...)`` (RFC 9728, 7591, 8707, 9470, 9449).

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
            self._sign(r, url, token)
        hook = functools.partial(self._after, generation, token)
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r

    def _sign(self, r: requests.PreparedRequest, url: str, token: Token) -> None:
        r.headers.pop("DPoP", None)
        r.headers.update(authorization_fields(self.authorizer, str(r.method), url, token))

    def _after(
        self, generation: int, sent: Token | None, response: requests.Response, **kwargs: Any
    ) -> requests.Response:
        budget, resolved = RetryBudget(), False
        while True:
            request = response.request
            url = str(request.url)
            headers = response.raw.headers
            step = next_step(
                self.authorizer,
                budget,
                sent,
                url,
                status=response.status_code,
                www_authenticate=headers.getlist("WWW-Authenticate"),
                nonce_values=headers.getlist(DPOP_NONCE_FIELD),
                # A generator or a file was consumed by the first attempt: never resent.
                resendable=isinstance(request.body, (bytes, str, type(None))),
                resolved=resolved,
            )
            if step is None:
                return response
            if step != "nonce":
                fresh = self.authorizer.resolve(step, url, generation, sent)
                if fresh is None:
                    return response
                sent, resolved = fresh, True
            assert sent is not None
            response.content  # noqa: B018 (read it all, so the connection goes back to the pool)
            response.close()
            retry = request.copy()
            retry.hooks = requests.hooks.default_hooks()  # resent from here
            self._sign(retry, url, sent)
            again = response.connection.send(retry, **kwargs)
            again.history = [*response.history, response]
            again.request = retry
            response = again


def for_resource(options: Mapping[str, Any]) -> ResourceAuth:
    """``OAuth2Auth.for_resource(**options)`` for requests: a ``RequestsTransport`` on first use."""
    from oauth2_transports.requests import RequestsTransport

    return ResourceAuth(authorizer(options, RequestsTransport))
