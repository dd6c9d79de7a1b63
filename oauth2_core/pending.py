"""A pending authorization: the secrets of one attempt (RFC 6749 §4.1.1, RFC 7636 §4.1).

:func:`new_pending_authorization` creates the per-attempt secrets (``state``,
PKCE verifier, OpenID ``nonce``) as a :class:`PendingAuthorization`, which the
client keeps (``to_dict`` / ``from_dict``, e.g. in a web session) between the
redirect out (:func:`~oauth2_core.authorization_url`) and the redirect back
(:func:`~oauth2_core.parse_callback`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core._params import scope_string
from oauth2_core._random import new_nonce, new_state
from oauth2_core.client import Client
from oauth2_core.errors import UsageError
from oauth2_core.pkce import check_code_verifier, generate_code_verifier

__all__ = ["PendingAuthorization", "new_pending_authorization"]


@attrs.frozen(repr=False)
class PendingAuthorization:
    """What a client must remember between the redirect out and the redirect back.

    Keep it in the user's session (:meth:`to_dict` is JSON-safe); it holds
    secrets (the PKCE verifier), so keep it server-side or encrypted.

    Attributes:
        state: The ``state`` value sent (RFC 6749 §10.12).
        code_verifier: The PKCE verifier (RFC 7636), or ``None`` when PKCE was
            turned off with ``pkce=False``.
        nonce: The OpenID Connect nonce; sent only when ``openid`` is in scope.
        redirect_uri: The redirect URI used, or ``None`` for the client's default.
        code_challenge_method: ``"S256"`` or ``"plain"``.
        scope: The scope to request, when fixed at creation.
        client_id: The client that started it (a signed response's ``aud``
            is checked against it, JARM §2.4), or ``None`` for one saved
            before it was recorded.
    """

    state: str
    code_verifier: str | None
    nonce: str
    redirect_uri: str | None = None
    code_challenge_method: str = "S256"
    scope: str | None = None
    client_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict for :meth:`from_dict` (contains the secrets)."""
        return {
            "state": self.state,
            "code_verifier": self.code_verifier,
            "nonce": self.nonce,
            "redirect_uri": self.redirect_uri,
            "code_challenge_method": self.code_challenge_method,
            "scope": self.scope,
            "client_id": self.client_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingAuthorization:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            UsageError: the mapping is not a saved pending authorization.
        """
        if not isinstance(data, Mapping):
            raise UsageError("PendingAuthorization.from_dict needs a mapping")
        for name in ("state", "nonce"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise UsageError(f"saved authorization has no string {name!r}")
        for name in ("code_verifier", "redirect_uri", "scope", "client_id"):
            if data.get(name) is not None and not isinstance(data.get(name), str):
                raise UsageError(f"saved authorization has an invalid {name!r}")
        method = data.get("code_challenge_method", "S256")
        if method not in ("S256", "plain"):
            raise UsageError("saved authorization has an invalid 'code_challenge_method'")
        return cls(
            state=data["state"],
            code_verifier=data.get("code_verifier"),
            nonce=data["nonce"],
            redirect_uri=data.get("redirect_uri"),
            code_challenge_method=method,
            scope=data.get("scope"),
            client_id=data.get("client_id"),
        )

    def __repr__(self) -> str:
        return (
            f"PendingAuthorization(state=<redacted>, code_verifier=<redacted>, nonce=<redacted>, "
            f"redirect_uri={self.redirect_uri!r}, scope={self.scope!r})"
        )

    __str__ = __repr__


def new_pending_authorization(
    client: Client,
    *,
    state: str | None = None,
    code_verifier: str | None = None,
    nonce: str | None = None,
    redirect_uri: str | None = None,
    scope: object = None,
    pkce: bool = True,
    code_challenge_method: str = "S256",
) -> PendingAuthorization:
    """Start an authorization: fresh ``state``, PKCE verifier and ``nonce``.

    Args:
        client: The client (its ``redirect_uri`` is the default).
        state: Use this state instead of a random one (tests, or your own scheme).
        code_verifier: Use this PKCE verifier (RFC 7636 §4.1) instead of a random one.
        nonce: Use this nonce instead of a random one.
        redirect_uri: The redirect URI for this attempt.
        scope: The scope to request; may also be given to :func:`authorization_url`.
        pkce: ``False`` turns PKCE off, for servers that reject it. Do not,
            unless you must (RFC 9700 §2.1.1).
        code_challenge_method: ``"S256"`` (default) or ``"plain"``.

    Returns:
        The pending authorization. Next: :func:`authorization_url`.
    """
    if code_challenge_method not in ("S256", "plain"):
        raise UsageError("code_challenge_method must be 'S256' or 'plain'")
    for name, value in (("state", state), ("nonce", nonce), ("redirect_uri", redirect_uri)):
        if value is not None and (not isinstance(value, str) or not value):
            raise UsageError(f"{name} must be a non-empty string")
    verifier: str | None = None
    if pkce:
        verifier = (
            check_code_verifier(code_verifier)
            if code_verifier is not None
            else generate_code_verifier()
        )
    elif code_verifier is not None:
        raise UsageError("code_verifier given with pkce=False")
    redirect = redirect_uri if redirect_uri is not None else client.redirect_uri
    if redirect:
        client.check_url(redirect, what="redirect_uri", redirect=True)
    return PendingAuthorization(
        state=state if state is not None else new_state(),
        code_verifier=verifier,
        nonce=nonce if nonce is not None else new_nonce(),
        redirect_uri=redirect,
        code_challenge_method=code_challenge_method,
        scope=scope_string(scope),
        client_id=client.client_id,
    )
