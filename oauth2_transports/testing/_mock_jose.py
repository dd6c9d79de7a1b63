"""The mock server's signing key: a JWKS and ID tokens, only when PyJWT is installed.

Without PyJWT (and ``cryptography``) the server publishes an empty key set and
issues no ID tokens; every other endpoint works the same.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

__all__ = ["IdTokenSigner"]


class IdTokenSigner:
    """An EC P-256 key generated at server start, or nothing when it cannot be.

    Args:
        enabled: ``False`` never generates a key; ``None`` (default) generates
            one when PyJWT with ``cryptography`` is importable.
    """

    algorithm = "ES256"

    def __init__(self, enabled: bool | None = None) -> None:
        self._key: Any = None
        self._jwk: dict[str, object] | None = None
        self.kid = "mock-" + secrets.token_hex(4)
        if enabled is False:
            return
        try:
            from cryptography.hazmat.primitives.asymmetric import ec
            from jwt.algorithms import ECAlgorithm
        except ImportError:
            if enabled:
                raise
            return
        self._key = ec.generate_private_key(ec.SECP256R1())
        jwk = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        self._jwk = {**dict(jwk), "kid": self.kid, "use": "sig", "alg": self.algorithm}

    @property
    def available(self) -> bool:
        """Whether ID tokens are signed (a key exists)."""
        return self._key is not None

    def jwks(self) -> dict[str, object]:
        """The JSON Web Key Set (RFC 7517 §5): one public key, or none."""
        return {"keys": [self._jwk] if self._jwk is not None else []}

    def sign(self, claims: dict[str, object], *, typ: str | None = None) -> str | None:
        """Any claims as a JWS with this key (JARM, RFC 9701), or ``None`` without a key."""
        if self._key is None:
            return None
        import jwt

        headers: dict[str, object] = {"kid": self.kid}
        if typ is not None:
            headers["typ"] = typ
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)

    def id_token(
        self,
        *,
        issuer: str,
        subject: str,
        audience: str,
        nonce: str | None,
        now: float,
        lifetime: float,
        access_token: str | None = None,
    ) -> str | None:
        """A signed ID token (OpenID Connect Core §2), or ``None`` without a key."""
        if self._key is None:
            return None
        import jwt

        claims: dict[str, object] = {
            "iss": issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(now),
            "exp": int(now + lifetime),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            # OIDC Core §3.1.3.6: the left half of SHA-256 of the access token (ES256).
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["at_hash"] = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers={"kid": self.kid})

    def access_token(self, claims: dict[str, object]) -> str:
        """A JWT access token (RFC 9068 §2.1: ``typ`` ``at+jwt``) with ``claims``.

        Raises:
            RuntimeError: no signing key (PyJWT is not installed).
        """
        if self._key is None:
            raise RuntimeError("JWT access tokens need PyJWT with cryptography")
        import jwt

        headers = {"kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)
