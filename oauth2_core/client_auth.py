"""Applying client authentication to a request being built (RFC 6749 §2.3).

:attr:`~oauth2_core.client.Client.auth_method` is the one setting; :func:`authenticate`
is the one place it is applied, the same way for the token, revocation,
introspection, device authorization, CIBA and PAR endpoints:

* ``client_secret_basic`` (RFC 6749 §2.3.1): the ``Authorization: Basic`` header;
* ``client_secret_post`` (RFC 6749 §2.3.1): ``client_id`` and ``client_secret`` in the body;
* ``none`` (RFC 6749 §2.1, public clients) and the mTLS methods (RFC 8705 §2):
  ``client_id`` in the body, the TLS certificate (if any) is the transport's business;
* ``private_key_jwt`` / ``client_secret_jwt`` (RFC 7523 §2.2, OpenID Connect Core §9):
  a signed client assertion built by :func:`oauth2_core.jose.client_assertion`.
"""

from __future__ import annotations

import datetime as _dt

from oauth2_core.client import JWT_AUTH_METHODS, Client, basic_credentials
from oauth2_core.errors import UsageError
from oauth2_core.jose import client_assertion

__all__ = ["CLIENT_ASSERTION_TYPE", "authenticate"]

#: RFC 7523 §2.2: the ``client_assertion_type`` of a JWT client assertion.
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def authenticate(
    client: Client,
    params: list[tuple[str, str]],
    headers: dict[str, str],
    *,
    audience: str,
    now: _dt.datetime | None = None,
) -> None:
    """Add client authentication to a request being built (in place).

    Args:
        client: The client.
        params: The form parameters of the request.
        headers: The header fields of the request.
        audience: The ``aud`` for JWT client assertions.
        now: The time the request is sent, an aware datetime; required by the
            JWT methods (the assertion's ``iat`` / ``exp``), ignored by the others.

    Raises:
        UsageError: a JWT method without ``now``, or without a usable key.
    """
    method = client.auth_method
    if method == "client_secret_basic":
        headers["authorization"] = basic_credentials(client)
    elif method == "client_secret_post":
        params.append(("client_id", client.client_id))
        params.append(("client_secret", client.client_secret or ""))
    elif method in ("none", "tls_client_auth", "self_signed_tls_client_auth"):
        # RFC 8705 §2: with mTLS the certificate authenticates; client_id goes in the body.
        params.append(("client_id", client.client_id))
    elif method in JWT_AUTH_METHODS:
        if now is None:
            raise UsageError(
                f"auth_method {method!r} signs a client assertion: pass now= (an aware UTC "
                "datetime, the time the request is sent) to the request builder"
            )
        signed = client_assertion(client, audience, now=now)
        params.append(("client_id", client.client_id))
        params.append(("client_assertion_type", CLIENT_ASSERTION_TYPE))
        params.append(("client_assertion", signed))
    else:  # pragma: no cover - the validator admits only the methods above
        raise UsageError(f"unknown auth_method {method!r}")
