"""Signed UserInfo responses (OpenID Connect Core §5.3.2).

A client registered with ``userinfo_signed_response_alg`` gets the claims as a
JWS (``Content-Type: application/jwt``). :func:`userinfo_response_flow`
accepts either form: JSON goes to ``process_userinfo_response``; a JWS is
verified against the server's JWK set (fetched once more on an unknown
``kid``), and its ``iss`` / ``aud``, when present, must name this server and
this client. Encrypted answers (JWE) are not supported.

A JWS that fails a check raises :class:`~oauth2_core.errors.IdTokenError`,
the error of every OpenID Connect JWT check; ``.check`` names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oauth2_core._http import Flow, HttpResponse, Send
from oauth2_core.client import Client
from oauth2_core.errors import IdTokenError, MalformedResponseError, UsageError
from oauth2_core.id_token import _fail, _verify
from oauth2_core.jose import parse_compact
from oauth2_core.jwks import JwksCache, jwks_request, process_jwks_response
from oauth2_core.metadata import ServerMetadata
from oauth2_core.userinfo import UserInfo, process_userinfo_response

__all__ = ["userinfo_response_flow", "validate_signed_userinfo"]


def _allowed(server: ServerMetadata, algorithms: Iterable[str] | None) -> tuple[str, ...] | None:
    if algorithms is not None:
        return tuple(algorithms)
    advertised = server.extra.get("userinfo_signing_alg_values_supported")
    if isinstance(advertised, list) and all(isinstance(a, str) for a in advertised):
        return tuple(advertised)
    return None


def validate_signed_userinfo(
    jws_text: str,
    *,
    server: ServerMetadata,
    client: Client,
    jwks: Mapping[str, Any] | None,
    algorithms: Iterable[str] | None = None,
) -> UserInfo:
    """Verify a signed UserInfo answer and return its claims.

    Args:
        jws_text: The compact JWS (the response body).
        server: The server; ``iss``, when present, must be its issuer.
        client: The client; ``aud``, when present, must include its id.
        jwks: The server's JWK set.
        algorithms: Allowed ``alg`` values; default the server's
            ``userinfo_signing_alg_values_supported``.

    Raises:
        IdTokenError: a failed check (``.check``: ``format``, ``alg``, ``kid``,
            ``signature``, ``iss``, ``aud``, ``sub``); ``"kid"`` means fetch the set again.
        UsageError: an encrypted (JWE) answer, or the ``jwt`` extra missing.
    """
    if jws_text.count(".") == 4:
        raise UsageError("encrypted userinfo answers (JWE) are not supported")
    try:
        jws = parse_compact(jws_text)
    except ValueError:
        _fail("format", "the userinfo answer is not a signed JWT (compact JWS)")
    _verify(jws, client=client, jwks=jwks, allowed=_allowed(server, algorithms))
    try:
        claims = jws.claims()
    except ValueError:
        _fail("format", "the payload is not a JSON object")
    if "iss" in claims and claims["iss"] != server.issuer:
        _fail("iss", "iss is not the server's issuer")
    if "aud" in claims:
        aud = claims["aud"]
        audiences = (aud,) if isinstance(aud, str) else aud
        if not isinstance(audiences, (list, tuple)) or client.client_id not in audiences:
            _fail("aud", "the client is not an audience")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        _fail("sub", "the userinfo claims have no string sub")
    return UserInfo(sub=sub, claims=claims)


def userinfo_response_flow(
    response: HttpResponse,
    *,
    server: ServerMetadata,
    client: Client,
    jwks_cache: JwksCache | None = None,
    algorithms: Iterable[str] | None = None,
) -> Flow[UserInfo]:
    """Read a UserInfo answer, JSON or signed; fetches the JWK set only when needed.

    Returns:
        The claims.

    Raises:
        EndpointError, MalformedResponseError: as ``process_userinfo_response``.
        IdTokenError: a signed answer failed a check.
    """
    if not (200 <= response.status < 300 and response.content_type == "application/jwt"):
        return process_userinfo_response(response)
    try:
        text = response.body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedResponseError(
            "the signed userinfo answer is not ASCII", status=response.status
        ) from None
    cache = jwks_cache if jwks_cache is not None else JwksCache()
    fetched = False
    while True:
        try:
            return validate_signed_userinfo(
                text, server=server, client=client, jwks=cache.jwks, algorithms=algorithms
            )
        except IdTokenError as exc:
            # The answer's own stamp is "now" here: the core reads no clock.
            if exc.check != "kid" or fetched or not cache.may_refetch(response.received_at):
                raise
        jwks = yield Send(jwks_request(server, allow_insecure_http=client.allow_insecure_http))
        cache.update(process_jwks_response(jwks), fetched_at=jwks.received_at)
        fetched = True
