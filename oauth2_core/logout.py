"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3).

:func:`end_session_url` builds the URL to send the user's browser to, at the
server's ``end_session_endpoint`` (§2.1: discovered as that metadata member).
Nothing is sent by the library: like the authorization request it is a browser
redirect. The server sends the browser back to ``post_logout_redirect_uri``
(with ``state``) when it was registered for the client (§3).
"""

from __future__ import annotations

from oauth2_core._params import Params, add_params, encode_query
from oauth2_core.client import Client
from oauth2_core.errors import UsageError
from oauth2_core.metadata import ServerMetadata
from oauth2_core.token import Token

__all__ = ["end_session_url"]

_OWN = frozenset({"id_token_hint", "client_id", "post_logout_redirect_uri", "state"})


def end_session_url(
    server: ServerMetadata,
    client: Client,
    *,
    id_token_hint: Token | str | None = None,
    post_logout_redirect_uri: str | None = None,
    state: str | None = None,
    **params: object,
) -> str:
    """Where to send the browser to log the user out (RP-Initiated Logout 1.0 §2).

    The query carries ``client_id`` always (§2: it lets the server check
    ``post_logout_redirect_uri`` "when an id_token_hint is not also included"),
    then whichever of ``id_token_hint``, ``post_logout_redirect_uri``, ``state``
    and the extra parameters are given. The endpoint meets the https
    rule (the ID token is a credential of the session), and the redirect URI
    the redirect URI rules (absolute, no fragment, https or loopback http).

    Args:
        server: Metadata with ``end_session_endpoint``.
        client: The client.
        id_token_hint: The ID token last issued to the client for this user
            (RECOMMENDED, §2), or the :class:`Token` holding it.
        post_logout_redirect_uri: Where the server sends the browser afterwards;
            must be registered for the client.
        state: An opaque value the server hands back to ``post_logout_redirect_uri``.
        **params: More query parameters (§2: ``logout_hint``, ``ui_locales``;
            extensions); a list repeats the parameter.

    Returns:
        The URL. Next: redirect the browser there.

    Raises:
        UsageError: no ``end_session_endpoint``, plain http, a token without an
            ID token, ``state`` without ``post_logout_redirect_uri``, a bad
            redirect URI or parameter.
    """
    endpoint = client.check_url(server.end_session_endpoint, what="end_session_endpoint")
    if isinstance(id_token_hint, Token):
        if id_token_hint.id_token is None:
            raise UsageError("the token has no id_token to use as id_token_hint")
        id_token_hint = id_token_hint.id_token
    query: Params = [("client_id", client.client_id)]
    if id_token_hint is not None:
        if not isinstance(id_token_hint, str) or not id_token_hint:
            raise UsageError("id_token_hint must be an ID token (a non-empty string)")
        query.append(("id_token_hint", id_token_hint))
    if post_logout_redirect_uri is not None:
        client.check_url(post_logout_redirect_uri, what="post_logout_redirect_uri", redirect=True)
        query.append(("post_logout_redirect_uri", post_logout_redirect_uri))
    elif state is not None:
        # §3: state is handed back to post_logout_redirect_uri; without one it goes nowhere.
        raise UsageError("state needs post_logout_redirect_uri (RP-Initiated Logout 1.0 §3)")
    if state is not None:
        if not isinstance(state, str):
            raise UsageError("state must be a string")
        query.append(("state", state))
    add_params(query, params, reserved=_OWN)
    # The endpoint may have a query of its own (OIDC Discovery §3 allows it); no fragment.
    separator = "" if endpoint.endswith(("?", "&")) else "&" if "?" in endpoint else "?"
    return endpoint + separator + encode_query(query)
