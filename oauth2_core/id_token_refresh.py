"""ID tokens that come back with a refresh (OpenID Connect Core 1.0 §12.2).

§12.2: a refresh answer "might not contain an id_token"; when it does, it is
validated like the first one (§3.1.3.7: signature, ``iss``, ``aud``, ``exp``,
``iat``, through the core's one JWT verifier) and, against the ID token of the
original authentication:

* ``iss`` and ``sub`` "MUST be the same";
* ``aud`` "MUST be the same" (compared as a set of audiences);
* ``azp`` "MUST be the same ...; if no azp Claim was present in the original
  ID Token, one MUST NOT be present in the new ID Token";
* ``auth_time``, when both carry one, "MUST represent the time of the original
  authentication": the two must be equal;
* ``nonce``: errata set 2 says the new token "SHOULD NOT have a nonce Claim
  ... however, if it is present, its value MUST be the same as in the ID Token
  issued at the time of the original authentication". So an absent nonce is
  accepted, and a present one must equal the original's (a nonce where the
  original had none is refused);
* ``iat`` "MUST represent the time that the new ID Token is issued": it may not
  be earlier than the original's (an older token replayed).

When the answer has no ``id_token``, ``process_refresh_response`` keeps the
previous ``id_token`` and its validated claims on the new :class:`Token`.

:func:`refreshed_id_token_flow` does all of this for a token from
``process_refresh_response`` (fetching the JWK set when needed);
:func:`validate_refreshed_id_token` is the pure check.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from oauth2_core._http import Flow
from oauth2_core.client import Client
from oauth2_core.id_token import IdTokenClaims, validate_id_token, validate_id_token_flow
from oauth2_core.jose import parse_compact
from oauth2_core.jwks import JwksCache
from oauth2_core.jws_verify import fail
from oauth2_core.metadata import ServerMetadata
from oauth2_core.token import Token

__all__ = [
    "previous_id_token_claims",
    "refreshed_id_token_flow",
    "validate_refreshed_id_token",
]


def previous_id_token_claims(token: Token) -> Mapping[str, Any] | None:
    """The claims of ``token``'s ID token, for comparing a later answer with it.

    The validated claims when the token carries them (``id_token_claims``);
    else the payload of ``token.id_token`` read without verification — a token
    restored with ``Token.from_dict`` has lost its derived claims, and the
    values serve only to *refuse* a later answer that differs (§12.2, §5.3.2),
    never to accept anything. ``None`` when there is no readable ID token.
    """
    if token.id_token_claims is not None:
        return token.id_token_claims
    if token.id_token is None:
        return None
    try:
        return parse_compact(token.id_token).claims()
    except ValueError:
        return None  # not a compact JWS (an encrypted ID token, say): nothing to compare


def _audiences(value: object) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, (list, tuple)) and all(isinstance(a, str) for a in value):
        return frozenset(value)
    return None


def _same_as_original(new: IdTokenClaims, original: Mapping[str, Any]) -> None:
    """The §12.2 comparisons; raise :class:`IdTokenError` on the first difference."""
    if new.iss != original.get("iss"):
        fail("iss", "the refreshed ID token's iss differs from the original's (OIDC Core §12.2)")
    if new.sub != original.get("sub"):
        fail("sub", "the refreshed ID token's sub differs from the original's (OIDC Core §12.2)")
    if frozenset(new.aud) != _audiences(original.get("aud")):
        fail("aud", "the refreshed ID token's aud differs from the original's (OIDC Core §12.2)")
    if new.azp != original.get("azp"):
        fail("azp", "the refreshed ID token's azp differs from the original's (OIDC Core §12.2)")
    original_auth_time = original.get("auth_time")
    if isinstance(original_auth_time, _dt.datetime):
        original_auth_time = original_auth_time.timestamp()
    if (
        new.auth_time is not None
        and original_auth_time is not None
        and new.auth_time.timestamp() != original_auth_time
    ):
        fail("auth_time", "auth_time must stay the original authentication's (OIDC Core §12.2)")
    if new.nonce is not None and new.nonce != original.get("nonce"):
        fail("nonce", "a refreshed ID token's nonce must be the original's (OIDC Core §12.2)")
    original_iat = original.get("iat")
    if isinstance(original_iat, _dt.datetime):
        original_iat = original_iat.timestamp()
    if isinstance(original_iat, (int, float)) and new.iat.timestamp() < original_iat:
        fail("iat", "the refreshed ID token is older than the original (OIDC Core §12.2)")


def validate_refreshed_id_token(
    id_token: str,
    *,
    previous: Token,
    server: ServerMetadata,
    client: Client,
    jwks: Mapping[str, Any] | None,
    now: _dt.datetime,
    leeway: float = 60,
    access_token: str | None = None,
    algorithms: Iterable[str] | None = None,
) -> IdTokenClaims:
    """Validate the ID token of a refresh answer (OpenID Connect Core §12.2).

    Args:
        id_token: The new ID token.
        previous: The token that was refreshed; its ID token (claims) is the
            original one to compare with. Without one, only the §3.1.3.7 checks run.
        server, client, jwks, now, leeway, algorithms: As ``validate_id_token``.
        access_token: The new access token, to check ``at_hash`` when present.

    Returns:
        The new claims.

    Raises:
        IdTokenError: a failed check (``.check``: as ``validate_id_token``, or
            ``"iss"``, ``"sub"``, ``"aud"``, ``"azp"``, ``"auth_time"``,
            ``"nonce"``, ``"iat"`` for a difference from the original).
        UsageError: a bad argument.
    """
    claims = validate_id_token(
        id_token,
        server=server,
        client=client,
        jwks=jwks,
        nonce=None,  # §12.2: compared with the original's below, not with a sent one
        now=now,
        leeway=leeway,
        access_token=access_token,
        algorithms=algorithms,
    )
    original = previous_id_token_claims(previous)
    if original is not None:
        _same_as_original(claims, original)
    return claims


def refreshed_id_token_flow(
    token: Token,
    *,
    previous: Token,
    server: ServerMetadata,
    client: Client,
    now: _dt.datetime,
    jwks_cache: JwksCache | None = None,
    leeway: float = 60,
) -> Flow[Token]:
    """Validate the ID token a refresh returned and put its claims on the token.

    ``token`` comes from ``process_refresh_response(response, previous=previous)``.
    When the server sent no ID token (or the previous one again, verbatim),
    that function already kept the previous one and its claims: nothing is sent
    and ``token`` is returned. Otherwise the
    new ID token is checked by :func:`validate_refreshed_id_token` (fetching the
    JWK set when it is not cached or lacks the token's ``kid``).

    Returns:
        ``token`` with ``id_token_claims`` set to the new, validated claims.

    Raises:
        IdTokenError: as :func:`validate_refreshed_id_token`; use neither token.
        EndpointError, MalformedResponseError: the JWK set could not be fetched.
    """
    if token.id_token is None or token.id_token == previous.id_token:
        # Not sent (or resent verbatim): process_refresh_response kept the previous
        # ID token and its claims. Nothing new to trust, and an old ID token that
        # has expired since must not fail a refresh that brought no new one.
        return token
    # §3.1.3.7 through the one JWT verifier, fetching keys as needed; then §12.2.
    claims = yield from validate_id_token_flow(
        token.id_token,
        server=server,
        client=client,
        nonce=None,  # §12.2: compared with the original's, not with a sent one
        now=now,
        jwks_cache=jwks_cache,
        leeway=leeway,
        access_token=token.access_token,
    )
    original = previous_id_token_claims(previous)
    if original is not None:
        _same_as_original(claims, original)
    return attrs.evolve(token, id_token_claims=claims)
