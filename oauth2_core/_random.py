"""The one place randomness comes from. Every caller also accepts the value as an argument."""

from __future__ import annotations

import secrets

__all__ = ["new_jti", "new_nonce", "new_state", "new_verifier"]


def _token_urlsafe(nbytes: int) -> str:
    return secrets.token_urlsafe(nbytes)


def new_state() -> str:
    """An unguessable ``state`` (RFC 6749 §10.12): 256 bits, URL-safe."""
    return _token_urlsafe(32)


def new_nonce() -> str:
    """An unguessable OpenID Connect ``nonce``: 256 bits, URL-safe."""
    return _token_urlsafe(32)


def new_verifier() -> str:
    """A PKCE code verifier (RFC 7636 §4.1): 43 unreserved characters, 256 bits."""
    return _token_urlsafe(32)


def new_jti() -> str:
    """A unique JWT ID for assertions and DPoP proofs."""
    return _token_urlsafe(24)
