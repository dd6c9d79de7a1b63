"""JOSE features that need the optional extra ``oauth2-core[jwt]`` (PyJWT).

Client assertions for ``private_key_jwt`` / ``client_secret_jwt``
(RFC 7523 §2.2, OpenID Connect Core §9). Importing this module never requires
PyJWT; using a feature without it raises :class:`UsageError` naming the extra.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oauth2_core._random import new_jti
from oauth2_core.errors import UsageError

if TYPE_CHECKING:
    from oauth2_core.client import Client

__all__ = ["client_assertion", "require_jwt"]

ASSERTION_LIFETIME = 60


def require_jwt() -> Any:
    """Import PyJWT, or explain which extra to install."""
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise UsageError("this feature needs PyJWT: pip install 'oauth2-core[jwt]'") from exc
    return jwt


def _key_and_alg(client: Client) -> tuple[Any, str, str | None]:
    jwt = require_jwt()
    if client.auth_method == "client_secret_jwt":
        return (client.client_secret or "").encode("utf-8"), "HS256", None
    key = client.signing_key
    if key is None:
        raise UsageError("private_key_jwt needs signing_key= or signer=")
    if isinstance(key, Mapping):
        jwk = dict(key)
        alg = str(
            jwk.get("alg")
            or {"EC": "ES256", "RSA": "RS256", "OKP": "EdDSA"}.get(str(jwk.get("kty")), "RS256")
        )
        kid = jwk.get("kid")
        return (
            jwt.PyJWK.from_json(json.dumps(jwk), algorithm=alg).key,
            alg,
            (str(kid) if kid else None),
        )
    if isinstance(key, (str, bytes)):
        text = key.decode() if isinstance(key, bytes) else key
        alg = "ES256" if "EC PRIVATE" in text else "RS256"
        return key, alg, None
    raise UsageError("signing_key must be a JWK dict or a PEM string")


def client_assertion(
    client: Client, audience: str, *, now: _dt.datetime | None = None, jti: str | None = None
) -> str:
    """A signed client assertion JWT (RFC 7523 §3).

    Claims: ``iss`` = ``sub`` = client_id, ``aud``, ``jti`` (unique), ``iat``
    and ``exp`` (60 s later). ``now`` is the signing time; the JOSE helpers are
    the one place where the core may be given the wall clock by its caller.
    """
    if now is None:
        # A client assertion must carry the real signing time; the caller (a
        # transport-side flow) normally passes it. Fall back to the system clock.
        now = _dt.datetime.now(_dt.timezone.utc)  # noqa: TID251
    iat = int(now.timestamp())
    claims: dict[str, object] = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": audience,
        "jti": jti or new_jti(),
        "iat": iat,
        "exp": iat + ASSERTION_LIFETIME,
    }
    if client.signer is not None:
        return client.signer.sign(claims, {"typ": "JWT"})
    jwt = require_jwt()
    key, alg, kid = _key_and_alg(client)
    headers: dict[str, object] = {"typ": "JWT"}
    if kid:
        headers["kid"] = kid
    token = jwt.encode(claims, key, algorithm=alg, headers=headers)
    return str(token)
