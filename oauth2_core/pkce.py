"""Proof Key for Code Exchange (RFC 7636)."""

from __future__ import annotations

import base64
import hashlib
import re

from oauth2_core._random import new_verifier
from oauth2_core.errors import UsageError

__all__ = ["code_challenge", "generate_code_verifier"]

# RFC 7636 §4.1: code-verifier = 43*128unreserved
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def generate_code_verifier() -> str:
    """A fresh high-entropy code verifier (43 unreserved characters, 256 bits).

    Returns:
        The verifier; keep it in the ``PendingAuthorization``. Next: :func:`code_challenge`.
    """
    return new_verifier()


def check_code_verifier(verifier: object) -> str:
    """Return ``verifier`` if it is a valid RFC 7636 §4.1 code verifier.

    Raises:
        UsageError: wrong type, length or characters.
    """
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        raise UsageError("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")
    return verifier


def code_challenge(verifier: str, method: str = "S256") -> str:
    """The code challenge for ``verifier`` (RFC 7636 §4.2).

    Args:
        verifier: The code verifier.
        method: ``"S256"`` (default; BASE64URL(SHA256(verifier)) without padding)
            or ``"plain"`` (the verifier itself; only for servers without S256).

    Raises:
        UsageError: an invalid verifier or an unknown method.
    """
    check_code_verifier(verifier)
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    if method == "plain":
        return verifier
    raise UsageError("code_challenge method must be 'S256' or 'plain'")
