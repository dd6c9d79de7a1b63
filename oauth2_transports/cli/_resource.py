"""``oauth2 token --resource-url URL``: the resource-first chain from a terminal.

The command asks the resource (unauthenticated), reads its 401 challenge, and
runs the chain of ``OAuth2Auth.for_resource`` (RFC 9728 discovery, RFC 7591
registration unless ``--client-id`` is given, PKCE with ``resource=``, RFC
8707) with the browser and a loopback redirect listener (RFC 8252 §7.3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

import oauth2_core as oc
from oauth2_transports._resource_auth import Decision, ResourceAuthorizer
from oauth2_transports._resource_session import ChainSettings
from oauth2_transports._transport import Transport
from oauth2_transports.cli._flows import LoopbackListener
from oauth2_transports.cli._options import terminal_text

__all__ = ["resource_token"]

CLIENT_NAME = "oauth2 command-line client"


def resource_token(
    resource_url: str,
    transport: Transport,
    *,
    open_browser: Callable[[str], bool] | None,
    notice: TextIO,
    client_id: str | None = None,
    issuer: str | None = None,
    allow_insecure_http: bool = False,
    port: int = 0,
    path: str = "/callback",
    timeout: float = 300.0,
) -> oc.Token:
    """A token for ``resource_url``, found from the resource itself.

    Raises:
        OAuth2Error: as ``OAuth2Auth.for_resource`` (and ``CallbackTimeoutError``).
    """
    with LoopbackListener(port, path) as listener:
        redirect = listener.redirect_uri

        def authorize(url: str) -> str:
            listener.expect(parse_qs(urlsplit(url).query).get("state", [""])[0])
            if open_browser is not None:
                notice.write("Opening the authorization page in your browser...\n")
                notice.flush()
            if open_browser is None or not open_browser(url):
                notice.write(
                    f"Open this URL in a browser to authorize:\n\n  {terminal_text(url)}\n\n"
                )
            notice.write(f"Waiting for the redirect to {redirect} ...\n")
            notice.flush()
            return listener.wait(timeout)

        settings = ChainSettings(
            client=None
            if client_id is None
            else oc.Client(client_id, auth_method="none", redirect_uri=redirect),
            client_metadata={"client_name": CLIENT_NAME, "redirect_uris": [redirect]},
            client_id_metadata_url=None,
            redirect_uri=redirect,
            issuer=issuer,
            allow_insecure_http=allow_insecure_http,
        )
        chain = ResourceAuthorizer(settings, authorize, store=None, transport=lambda: transport)
        answer = transport.send(oc.HttpRequest("GET", resource_url))
        decision = chain.decide(
            answer.status, answer.headers.get_all("www-authenticate"), resource_url, None
        )
        if decision is None:  # no 401: the well-known metadata URL still leads the way
            decision = Decision("authorize", None, None)
        token = chain.resolve(decision, resource_url, 0, None)
    assert token is not None  # the first authorization always gives one
    return token
