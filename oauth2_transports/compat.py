"""The original requests-oauth2 (0.2.0) API, as a thin facade over the core.

This is the legacy path, kept so code written against requests-oauth2 keeps
working. It behaves as 0.2.0 did, except where that was unsafe or wrong:

* no ``state`` and no PKCE unless you pass them as keywords (0.2.0 sent
  neither); new code should use :class:`oauth2_transports.OAuth2Client`;
* the client authenticates with ``client_secret_post``, as 0.2.0 did;
* an error answer raises :class:`oauth2_core.EndpointError` (0.2.0 returned it
  as a dict); an HTML page raises :class:`oauth2_core.ResponseError`;
* ``grant_type=authorization_code`` is sent (RFC 6749 §4.1.3 requires it;
  0.2.0 omitted it);
* the token endpoint must be https (or loopback) unless
  ``allow_insecure_http=True``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from oauth2_core import (
    Client,
    HttpResponse,
    ServerMetadata,
    process_token_response,
    token_request,
)
from oauth2_core._parse import parse_body
from oauth2_core.flows import step_flow
from oauth2_transports._driver import run
from oauth2_transports._transport import Transport

__all__ = ["OAuth2"]


def _join(site: str, path: str) -> str:
    if urlsplit(path).scheme:
        return path  # already absolute
    return site.rstrip("/") + "/" + path.lstrip("/")


class OAuth2:
    """``OAuth2(client_id, client_secret, site, redirect_uri, authorization_url, token_url)``.

    Args:
        client_id: The client identifier.
        client_secret: The client secret.
        site: Base URL the two paths join onto; may change between steps.
        redirect_uri: The redirect URI.
        authorization_url: Path (or URL) of the authorization endpoint.
        token_url: Path (or URL) of the token endpoint.
        transport: Sends the token request; default ``Urllib3Transport()``.
        allow_insecure_http: Allow a non-loopback ``http://`` token endpoint.
    """

    authorization_url = "oauth/authorize"
    token_url = "oauth/token"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        site: str,
        redirect_uri: str,
        authorization_url: str | None = None,
        token_url: str | None = None,
        *,
        transport: Transport | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.site = site
        self.redirect_uri = redirect_uri
        if authorization_url is not None:
            self.authorization_url = authorization_url
        if token_url is not None:
            self.token_url = token_url
        self._transport = transport
        self.allow_insecure_http = allow_insecure_http

    def __repr__(self) -> str:
        return f"OAuth2(client_id={self.client_id!r}, client_secret=<redacted>, site={self.site!r})"

    def authorize_url(self, scope: str = "", **kwargs: Any) -> str:
        """The authorization URL: ``client_id``, ``redirect_uri``, ``scope`` and ``kwargs``.

        Keywords override the defaults, as in 0.2.0 (``response_type="code"``,
        ``state=...``, ``code_challenge=...``).
        """
        params: dict[str, Any] = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
        }
        params.update(kwargs)
        endpoint = _join(self.site, self.authorization_url)
        separator = "&" if urlsplit(endpoint).query else "?"
        return endpoint + separator + urlencode(params, doseq=True)

    def get_token(self, code: str, **kwargs: Any) -> dict[str, Any]:
        """Exchange ``code`` and return the answer as a flat dict (JSON or form-encoded).

        Raises:
            EndpointError: the server answered an error (0.2.0 returned it).
            ResponseError: the answer is not a token response (HTML, empty, ...).
            TransportError: the request could not be sent.
        """
        server = ServerMetadata(issuer=self.site, token_endpoint=_join(self.site, self.token_url))
        client = Client(
            self.client_id,
            self.client_secret,
            auth_method="client_secret_post",
            allow_insecure_http=self.allow_insecure_http,
        )
        params: dict[str, Any] = {"redirect_uri": self.redirect_uri, "code": code}
        params.update(kwargs)
        grant_type = str(params.pop("grant_type", "authorization_code"))
        request = token_request(server, client, grant_type, **params)
        transport = self._transport
        if transport is None:
            from oauth2_transports.urllib3 import Urllib3Transport

            transport = self._transport = Urllib3Transport()
        # Checked inside the flow, so the driver masks what an error echoes of the request.
        response = run(step_flow(request, _checked_token_response), transport)
        data = parse_body(response) or {}
        return dict(data)


def _checked_token_response(response: HttpResponse) -> HttpResponse:
    process_token_response(response)  # raises the typed errors
    return response
