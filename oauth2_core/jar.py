"""JWT-secured authorization requests: the request object (RFC 9101).

:func:`request_object` signs every parameter of an authorization request into
a JWT, the *request object* (RFC 9101 §4): ``iss`` = ``client_id`` and ``aud`` =
the issuer (§4: "the value of aud should be the value of the authorization
server (AS) issuer"), ``iat`` / ``nbf`` / ``exp`` from ``now`` and a fresh
``jti``, header ``typ`` ``oauth-authz-req+jwt`` (§4: "it is RECOMMENDED that
[typ] be set to oauth-authz-req+jwt"). The object holds ``client_id`` too
(§5: "the client_id ... MUST be present ... [and] MUST match"), and
:func:`request_object_params` is all that goes next to it: ``client_id`` and
``request`` (§5). Pushed authorization (RFC 9126 §3) sends the same two in the
PAR body.

The key is the client's one signing key (``Client(signing_key=...)``: a
private key, or a KMS / HSM key from ``external_signing_key``); the ``alg`` is
the key's, or the client's registered ``request_object_signing_alg`` when that
fits the key. A server that lists ``request_object_signing_alg_values_supported``
must list the ``alg`` (RFC 9101 §10.5), or the request is refused before the
browser opens. Symmetric request objects (§6.1 with the client secret) are not
offered: they would need a key the server also holds.

The core never reads the clock: the builders take ``now``. Next:
``authorization_url(..., request_object=True, now=...)`` or
``pushed_authorization_request(..., request_object=True, now=...)``.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import attrs

from oauth2_core._params import JSON_PARAMS, Params
from oauth2_core._random import new_jti
from oauth2_core.client import Client
from oauth2_core.errors import UsageError
from oauth2_core.jose import SigningKey, load_signing_key, numeric_date, sign_jwt
from oauth2_core.jwks import jwk_fits_alg
from oauth2_core.metadata import ServerMetadata

__all__ = [
    "REQUEST_OBJECT_LIFETIME",
    "REQUEST_OBJECT_TYPE",
    "request_object",
    "request_object_params",
]

#: The ``typ`` header of a request object (RFC 9101 §4, §10.8 media type).
REQUEST_OBJECT_TYPE = "oauth-authz-req+jwt"
#: Seconds a request object is valid. FAPI 2.0 (§5.3.2.1) wants ``exp - nbf`` at
#: most 60 minutes; a browser round trip needs a few minutes at most.
REQUEST_OBJECT_LIFETIME = 300
# Numbers in OpenID Connect Core §3.1.2.1 / §6.1: a request object carries them as JSON.
_NUMBER_PARAMS = frozenset({"max_age"})
# A request object never carries these (RFC 9101 §4: "request and request_uri
# parameters MUST NOT be included in Request Objects").
_FORBIDDEN = frozenset({"request", "request_uri"})


def _signing_key(server: ServerMetadata, client: Client) -> SigningKey:
    if client.signing_key is None:
        raise UsageError(
            "request_object=True signs the request with the client's key: "
            "set Client(signing_key=...) (RFC 9101 §4)"
        )
    key = load_signing_key(client.signing_key, purpose="request_object")
    wanted = client.request_object_signing_alg
    if wanted is not None and wanted != key.alg:
        if not jwk_fits_alg(key.public_jwk(), wanted):
            raise UsageError("request_object_signing_alg does not fit the client's signing_key")
        key = attrs.evolve(key, alg=wanted)
    supported = server.request_object_signing_alg_values_supported
    if supported is not None and key.alg not in supported:
        raise UsageError(
            f"the server does not accept request objects signed with {key.alg!r} "
            "(request_object_signing_alg_values_supported, RFC 9101 §10.5)"
        )
    return key


def _claim_value(name: str, values: list[str]) -> object:
    if len(values) > 1:
        return values  # a repeated parameter (RFC 8707 resource) as a JSON array
    value = values[0]
    if name in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise UsageError(f"parameter {name!r} must be JSON") from None
    if name in _NUMBER_PARAMS and value.isascii() and value.isdigit():
        return int(value)
    return value


def _claims(params: Params) -> dict[str, Any]:
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        if name in _FORBIDDEN:
            raise UsageError(f"parameter {name!r} cannot go inside a request object (RFC 9101 §4)")
        grouped.setdefault(name, []).append(value)
    return {name: _claim_value(name, values) for name, values in grouped.items()}


def request_object(
    server: ServerMetadata,
    client: Client,
    params: Params,
    *,
    now: _dt.datetime,
    jti: str | None = None,
    lifetime: int = REQUEST_OBJECT_LIFETIME,
) -> str:
    """Sign the authorization request ``params`` into a request object (RFC 9101 §4).

    Args:
        server: The server; its ``issuer`` is the ``aud``.
        client: The client; its ``client_id`` is the ``iss`` and its
            ``signing_key`` signs.
        params: The authorization request's parameters (``client_id`` among
            them, as ``authorization_url`` builds them). ``claims`` and
            ``authorization_details`` become JSON values, ``max_age`` a number,
            a repeated parameter an array.
        now: The signing time, an aware datetime (the core reads no clock).
        jti: The JWT ID; a fresh random one by default.
        lifetime: Seconds until ``exp`` (1 to 3600).

    Returns:
        The compact JWS. Next: :func:`request_object_params`, or let
        ``authorization_url(..., request_object=True)`` do both.

    Raises:
        UsageError: no ``signing_key``, an ``alg`` the key or the server does
            not accept, ``now`` missing or naive, or ``request`` / ``request_uri``
            among ``params``.
    """
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 0 < lifetime <= 3600:
        raise UsageError("lifetime must be 1 to 3600 seconds")
    iat = numeric_date(now)
    claims = _claims(params)
    claims["client_id"] = client.client_id  # RFC 9101 §5: and it MUST match the query's
    claims.update(
        {
            "iss": client.client_id,
            "aud": server.issuer,
            "iat": iat,
            "nbf": iat,
            "exp": iat + lifetime,
            "jti": jti if jti is not None else new_jti(),
        }
    )
    headers = {"typ": REQUEST_OBJECT_TYPE}
    if client.signer is not None and client.signing_key is None:
        # The whole-JWT adapter of Client(signer=...), as for client assertions.
        signed = client.signer.sign(claims, headers)
        if not isinstance(signed, str) or signed.count(".") != 2:
            raise UsageError("Client.signer.sign must return a compact JWS string")
        return signed
    return sign_jwt(_signing_key(server, client), claims, headers)


def request_object_params(
    server: ServerMetadata,
    client: Client,
    params: Params,
    *,
    now: _dt.datetime | None,
    jti: str | None = None,
) -> Params:
    """What replaces ``params`` on the wire: ``client_id`` and ``request`` (RFC 9101 §5).

    Args:
        server, client, params, jti: As :func:`request_object`.
        now: The signing time; required.

    Returns:
        ``[("client_id", ...), ("request", <JWT>)]``, for the query of the
        authorization URL or the PAR body (RFC 9126 §3).

    Raises:
        UsageError: ``now`` missing, or as :func:`request_object`.
    """
    if now is None:
        raise UsageError(
            "request_object=True signs a JWT: pass now= (an aware UTC datetime; "
            "the core reads no clock)"
        )
    signed = request_object(server, client, params, now=now, jti=jti)
    return [("client_id", client.client_id), ("request", signed)]
