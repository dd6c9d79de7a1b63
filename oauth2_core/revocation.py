"""Token revocation (RFC 7009)."""

from __future__ import annotations

import datetime as _dt

from oauth2_core._http import HttpRequest, HttpResponse
from oauth2_core._parse import parse_body, raise_for_error
from oauth2_core.client import Client
from oauth2_core.errors import UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.metadata import ServerMetadata

__all__ = ["process_revocation_response", "revocation_request"]


def revocation_request(
    server: ServerMetadata,
    client: Client,
    token: str,
    *,
    token_type_hint: str | None = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Ask the server to revoke ``token`` (RFC 7009 §2.1).

    Args:
        server: Server metadata with ``revocation_endpoint``.
        client: The client (authenticated like at the token endpoint).
        token: The access or refresh token to revoke.
        token_type_hint: ``"access_token"`` or ``"refresh_token"``, to speed the lookup.
        now: When the request is sent; required for JWT client authentication.

    Returns:
        The request. Next: :func:`process_revocation_response`.
    """
    if not isinstance(token, str) or not token:
        raise UsageError("token must be a non-empty string")
    body = [("token", token)]
    if token_type_hint is not None:
        body.append(("token_type_hint", token_type_hint))
    return endpoint_request(
        server, client, endpoint="revocation_endpoint", params=body, extra=params, now=now
    )


def process_revocation_response(response: HttpResponse) -> None:
    """Check a revocation answer (RFC 7009 §2.2).

    HTTP 200 means revoked, or the token was already invalid: both are success.

    Raises:
        EndpointError: an error object (``unsupported_token_type``, ...) or an
            error status; HTTP 503 is ``retryable`` (§2.2.1).
    """
    data = parse_body(response) if response.status != 200 or response.body else None
    raise_for_error(response, data, endpoint="revocation")
