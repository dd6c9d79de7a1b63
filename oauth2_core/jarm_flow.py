"""The JARM authorization redirect as a flow: fetch the server's keys, then check.

:func:`authorization_response_flow` is ``parse_callback`` for a client that does
IO: a signed response (JARM, :mod:`oauth2_core.jarm`) is verified against the
server's JWK set, fetched when the cache has none and once more (rate-limited
by the cache) for an unknown ``kid``; a plain redirect is checked as always.
"""

from __future__ import annotations

import datetime as _dt

from oauth2_core._http import Flow
from oauth2_core.callback import (
    AuthorizationCode,
    callback_params,
    code_from_params,
    is_signed_callback,
    parse_callback,
)
from oauth2_core.client import Client
from oauth2_core.errors import IdTokenError
from oauth2_core.jarm import failed_check, signed_response, verify_authorization_response
from oauth2_core.jwks import JwksCache, verified_with_keys_flow
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization

__all__ = ["authorization_response_flow"]


def authorization_response_flow(
    callback: object,
    *,
    server: ServerMetadata,
    client: Client,
    pending: PendingAuthorization,
    now: _dt.datetime,
    jwks_cache: JwksCache | None = None,
    require_signed: bool = False,
    leeway: float = 60,
) -> Flow[AuthorizationCode]:
    """Check an authorization redirect, signed (JARM) or plain, fetching keys as needed.

    A callback carrying ``response`` is verified against the server's JWK
    set (fetched when the cache has none, and once more, rate-limited by the
    cache, for an unknown ``kid`` after key rotation); a plain one is checked
    by ``parse_callback`` as always, unless ``require_signed``.

    Args:
        callback: The redirect URL, its query or fragment, or the ``form_post`` body.
        server, client, pending: As for ``parse_callback``.
        now: The current time (aware): the response's ``exp`` is checked against it.
        jwks_cache: The server's JWK set cache (keep one per server).
        require_signed: Refuse a callback that is not a signed response (the
            client asked for a ``*.jwt`` response mode).
        leeway: Allowed clock skew in seconds (0 to 300).

    Returns:
        The checked code. Next: ``authorization_code_grant_request``.

    Raises:
        CallbackValidationError: a failed check (the JWT's, with the
            :class:`IdTokenError` as ``__cause__``, or state / iss).
        AuthorizationError: the (signed) response carries ``error``.
    """
    if not require_signed and not is_signed_callback(callback):
        return parse_callback(callback, server=server, pending=pending)
    # parse_callback's steps, with the JWT verified by the one refetch-on-unknown-kid loop.
    token = signed_response(callback_params(callback))
    try:
        params = yield from verified_with_keys_flow(
            lambda keys: verify_authorization_response(
                token,
                server=server,
                client=client,
                jwks=keys,
                now=now,
                leeway=leeway,
            ),
            server=server,
            cache=jwks_cache,
            now=now,
            allow_insecure_http=client.allow_insecure_http,
        )
    except IdTokenError as exc:
        raise failed_check(exc) from exc
    return code_from_params(params, server=server, pending=pending)
