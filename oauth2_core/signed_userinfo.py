"""Signed UserInfo responses and the UserInfo call as one flow (OpenID Connect Core §5.3).

A client registered with ``userinfo_signed_response_alg`` gets the claims as a
JWS (``Content-Type: application/jwt``). :func:`userinfo_response_flow`
accepts either form: JSON goes to ``process_userinfo_response``; a JWS is
verified by the core's one JWT verifier (``oauth2_core.jws_verify``: header,
``crit``, signature against the server's JWK set, fetched once more on an
unknown ``kid``, and ``exp`` / ``nbf`` / ``iat`` when present), and its
``iss`` / ``aud``, when present, must name this server and this client.
Encrypted answers (JWE) are not supported.

§5.3.2: "The sub Claim in the UserInfo Response MUST be verified to exactly
match the sub Claim in the ID Token; if they do not match, the UserInfo
Response values MUST NOT be used." :func:`userinfo_flow` asks the endpoint
with a token (Bearer or DPoP) and makes that check itself with the token's ID
token, for either form, so no caller has to remember it.

A JWS that fails a check raises :class:`~oauth2_core.errors.IdTokenError`,
the error of every OpenID Connect JWT check; ``.check`` names it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from oauth2_core._http import Flow, HttpResponse, Send
from oauth2_core.client import Client
from oauth2_core.dpop import DPoPKey, dpop_send_flow
from oauth2_core.dpop_nonce import DPoPNonces
from oauth2_core.errors import MalformedResponseError, UsageError
from oauth2_core.id_token_refresh import previous_id_token_claims
from oauth2_core.jwks import JwksCache, verified_with_keys_flow
from oauth2_core.jws_verify import fail, verify_jwt
from oauth2_core.metadata import ServerMetadata
from oauth2_core.token import Token
from oauth2_core.userinfo import (
    UserInfo,
    check_userinfo_subject,
    process_userinfo_response,
    userinfo_request,
)

__all__ = ["userinfo_flow", "userinfo_response_flow", "validate_signed_userinfo"]


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
    now: _dt.datetime,
    leeway: float = 60,
    algorithms: Iterable[str] | None = None,
    expected_sub: str | None = None,
) -> UserInfo:
    """Verify a signed UserInfo answer and return its claims (OIDC Core §5.3.2).

    Args:
        jws_text: The compact JWS (the response body).
        server: The server; ``iss``, when present, must be its issuer.
        client: The client; ``aud``, when present, must include its id.
        jwks: The server's JWK set.
        now: The current time (the answer's ``received_at``): ``exp``,
            ``nbf`` and ``iat`` are checked when present (RFC 7519 §4.1.4-6).
        leeway: Allowed clock skew in seconds (0 to 300).
        algorithms: Allowed ``alg`` values; default the server's
            ``userinfo_signing_alg_values_supported``.
        expected_sub: The ID token's ``sub``; §5.3.2 says the two MUST match.

    Raises:
        IdTokenError: a failed check (``.check``: ``format``, ``alg``, ``crit``,
            ``b64``, ``kid``, ``signature``, ``exp``, ``nbf``, ``iat``, ``iss``,
            ``aud``, ``sub``); ``"kid"`` means fetch the set again.
        MalformedResponseError: ``sub`` is not ``expected_sub`` (field ``"sub"``).
        UsageError: an encrypted (JWE) answer, or the ``jwt`` extra missing.
    """
    if jws_text.count(".") == 4:
        raise UsageError("encrypted userinfo answers (JWE) are not supported")
    claims = verify_jwt(
        jws_text,
        client=client,
        jwks=jwks,
        allowed=_allowed(server, algorithms),
        now=now,
        leeway=leeway,
        required_times=(),  # §5.3.2 requires none; each one present is checked
    ).claims
    if "iss" in claims and claims["iss"] != server.issuer:
        fail("iss", "iss is not the server's issuer")
    if "aud" in claims:
        aud = claims["aud"]
        audiences = (aud,) if isinstance(aud, str) else aud
        if not isinstance(audiences, (list, tuple)) or client.client_id not in audiences:
            fail("aud", "the client is not an audience")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        fail("sub", "the userinfo claims have no string sub")
    return check_userinfo_subject(UserInfo(sub=sub, claims=claims), expected_sub)


def userinfo_response_flow(
    response: HttpResponse,
    *,
    server: ServerMetadata,
    client: Client,
    jwks_cache: JwksCache | None = None,
    algorithms: Iterable[str] | None = None,
    expected_sub: str | None = None,
) -> Flow[UserInfo]:
    """Read a UserInfo answer, JSON or signed; fetches the JWK set only when needed.

    A signed answer's time claims are checked at the answer's ``received_at``.

    Args:
        response: The userinfo endpoint's answer.
        server, client: The server and the client.
        jwks_cache: The server's JWK set cache (keep one per server).
        algorithms: As :func:`validate_signed_userinfo`.
        expected_sub: The ID token's ``sub``; §5.3.2 says the two MUST match.
            :func:`userinfo_flow` passes it from the token.

    Returns:
        The claims.

    Raises:
        EndpointError, MalformedResponseError: as ``process_userinfo_response``
            (a ``sub`` other than ``expected_sub`` included).
        IdTokenError: a signed answer failed a check.
    """
    if not (200 <= response.status < 300 and response.content_type == "application/jwt"):
        return process_userinfo_response(response, expected_sub=expected_sub)
    try:
        text = response.body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedResponseError(
            "the signed userinfo answer is not ASCII", status=response.status
        ) from None
    # The answer's own stamp is "now" here: the core reads no clock.
    return (
        yield from verified_with_keys_flow(
            lambda keys: validate_signed_userinfo(
                text,
                server=server,
                client=client,
                jwks=keys,
                now=response.received_at,
                algorithms=algorithms,
                expected_sub=expected_sub,
            ),
            server=server,
            cache=jwks_cache,
            now=response.received_at,
            allow_insecure_http=client.allow_insecure_http,
        )
    )


def userinfo_flow(
    server: ServerMetadata,
    client: Client,
    token: Token,
    *,
    now: _dt.datetime,
    jwks_cache: JwksCache | None = None,
    dpop_key: DPoPKey | None = None,
    algorithms: Iterable[str] | None = None,
    dpop_nonces: DPoPNonces | None = None,
) -> Flow[UserInfo]:
    """Ask the UserInfo endpoint about ``token``'s user and check the answer (OIDC Core §5.3).

    The request carries the token as Bearer (RFC 6750 §2.1), or with a DPoP
    proof when ``token.token_type`` is ``DPoP`` (RFC 9449 §7.1, one retry with
    the resource server's nonce). The answer is read by
    :func:`userinfo_response_flow` (JSON or signed), and its ``sub`` must be
    the one of the token's ID token (§5.3.2: "if they do not match, the
    UserInfo Response values MUST NOT be used"): the validated
    ``id_token_claims``, or the ``id_token`` itself for a token restored from
    storage. A token without an ID token has nothing to compare with.

    Args:
        server, client: The server and the client.
        token: The token to call with.
        now: When the request is sent (dates a DPoP proof).
        jwks_cache: The server's JWK set cache, for signed answers.
        dpop_key: The DPoP private key; required for a DPoP token.
        algorithms: As :func:`validate_signed_userinfo`.
        dpop_nonces: Your per-origin DPoP nonces (the userinfo endpoint's
            nonce is read from and kept in it, RFC 9449 §9).

    Returns:
        The claims.

    Raises:
        MalformedResponseError: no ``sub``, or a ``sub`` other than the ID
            token's (field ``"sub"``), or another malformed answer.
        EndpointError: the endpoint refused the token.
        IdTokenError: a signed answer failed a check.
        UsageError: no userinfo endpoint, plain http, or a DPoP token without a key.
    """
    if not isinstance(token, Token):
        raise UsageError("userinfo needs the Token to call with")
    insecure = client.allow_insecure_http
    mtls = client.use_mtls_endpoint_aliases  # RFC 8705 §5: a bound token goes to the alias
    if token.token_type == "DPoP":
        if dpop_key is None:
            raise UsageError("a DPoP-bound token needs the client's dpop_key")
        request = userinfo_request(
            server, token.access_token, allow_insecure_http=insecure, mtls=mtls
        )
        response, _ = yield from dpop_send_flow(
            request, dpop_key, now=now, nonces=dpop_nonces, access_token=token
        )
    else:
        response = yield Send(
            userinfo_request(server, token, allow_insecure_http=insecure, mtls=mtls)
        )
    original = previous_id_token_claims(token)
    sub = original.get("sub") if original is not None else None
    return (
        yield from userinfo_response_flow(
            response,
            server=server,
            client=client,
            jwks_cache=jwks_cache,
            algorithms=algorithms,
            expected_sub=sub if isinstance(sub, str) else None,
        )
    )
