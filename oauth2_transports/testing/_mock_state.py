"""The mock server's memory: codes, grants, tokens, device authorizations.

Every method here runs with :attr:`MockState.lock` held by the caller (the
HTTP handler holds it for a whole request), so each request sees and leaves a
consistent state.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from oauth2_transports.testing._mock_jose import IdTokenSigner
from oauth2_transports.testing._mock_model import MockClient, MockUser

if TYPE_CHECKING:
    from oauth2_transports.testing._mock_ciba import BackchannelRecord
    from oauth2_transports.testing._mock_login import PendingLogin

__all__ = [
    "DEFAULT_ACR",
    "AccessRecord",
    "CodeRecord",
    "DeviceRecord",
    "Grant",
    "Lifetimes",
    "MockState",
    "PushedRecord",
    "RefreshRecord",
]

#: The authentication context class of a plain sign-in, when no ``acr_values`` were asked.
DEFAULT_ACR = "urn:mock:acr:password"
# RFC 8628 §6.1: a base-20 alphabet without vowels avoids spelling words.
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


@attrs.frozen
class Lifetimes:
    """Lifetimes in seconds; ``refresh_token=None`` means refresh tokens never expire."""

    access_token: float = 3600
    refresh_token: float | None = None
    code: float = 60
    device_code: float = 600
    request_uri: float = 60


@attrs.define(eq=False)
class Grant:
    """One authorization: every token issued from it is revoked with it."""

    client_id: str
    user: str | None
    scope: tuple[str, ...]
    nonce: str | None = None
    revoked: bool = False
    #: RFC 8707 ``resource`` values the tokens are meant for (their audience).
    resources: tuple[str, ...] = ()
    #: How and when the user authenticated for it (RFC 9470 §2: ``acr``, ``auth_time``).
    acr: str | None = None
    auth_time: float | None = None


@attrs.define(eq=False)
class AccessRecord:
    """An issued access token."""

    grant: Grant
    scope: tuple[str, ...]
    issued_at: float
    expires_at: float
    revoked: bool = False
    extra: Mapping[str, object] = attrs.field(factory=dict)
    #: RFC 9449 §6: the JWK SHA-256 thumbprint of the DPoP key it is bound to.
    jkt: str | None = None

    def active(self, now: float) -> bool:
        return not self.revoked and not self.grant.revoked and now < self.expires_at


@attrs.define(eq=False)
class RefreshRecord:
    """An issued refresh token; ``used`` marks a rotated one (single use)."""

    grant: Grant
    scope: tuple[str, ...]
    issued_at: float
    expires_at: float | None
    used: bool = False
    revoked: bool = False
    #: RFC 9449 §5: a public client's refresh token is bound to its DPoP key.
    jkt: str | None = None

    def active(self, now: float) -> bool:
        expired = self.expires_at is not None and now >= self.expires_at
        return not self.revoked and not self.grant.revoked and not self.used and not expired


@attrs.define(eq=False)
class CodeRecord:
    """An authorization code and the request it answers (RFC 6749 §4.1.2)."""

    client_id: str
    redirect_uri: str | None
    user: str
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used: bool = False
    grant: Grant | None = None
    resource: str | None = None  # RFC 8707 §2.1, from the authorization request
    acr: str | None = None  # how the user authenticated (OIDC Core §2)
    auth_time: float | None = None  # when
    dpop_jkt: str | None = None  # RFC 9449 §10: redeemed only with this DPoP key


@attrs.define(eq=False)
class DeviceRecord:
    """A device authorization (RFC 8628 §3.2) and where the user is with it."""

    device_code: str
    user_code: str
    client_id: str
    scope: tuple[str, ...]
    expires_at: float
    status: str = "pending"  # pending | approved | denied | consumed
    user: str | None = None


@attrs.define(eq=False)
class PushedRecord:
    """A pushed authorization request (RFC 9126 §2.2)."""

    client_id: str
    params: tuple[tuple[str, str], ...]
    expires_at: float
    used: bool = False


def new_secret(prefix: str) -> str:
    """An unguessable opaque value; the prefix only helps a human reading logs."""
    return prefix + secrets.token_urlsafe(24)


def normalize_user_code(value: str) -> str:
    """User codes are case-insensitive and punctuation is ignored (RFC 8628 §6.1)."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


class MockState:
    """All the mock server remembers, behind one lock."""

    def __init__(
        self,
        *,
        issuer: str,
        clients: Iterable[MockClient],
        users: Iterable[MockUser],
        lifetimes: Lifetimes,
        rotate_refresh_tokens: bool,
        device_interval: int,
        require_pkce: bool,
        require_par: bool,
        scopes_supported: tuple[str, ...] | None,
        clock: Callable[[], float],
        signer: IdTokenSigner,
        login_page: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.issuer = issuer
        self.clients: dict[str, MockClient] = {c.client_id: c for c in clients}
        self.users: dict[str, MockUser] = {u.username: u for u in users}
        self.lifetimes = lifetimes
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.device_interval = device_interval
        self.require_pkce = require_pkce
        self.require_par = require_par
        self.scopes_supported = scopes_supported
        self.signer = signer
        self._clock = clock
        self.clock_offset = 0.0
        self.codes: dict[str, CodeRecord] = {}
        self.access_tokens: dict[str, AccessRecord] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.devices: dict[str, DeviceRecord] = {}  # by device_code
        self.pushed: dict[str, PushedRecord] = {}  # by request_uri
        self.backchannel: dict[str, BackchannelRecord] = {}  # CIBA, by auth_req_id
        self.login_page = login_page
        self.logins: dict[str, PendingLogin] = {}  # by the login form's hidden value
        self.deny_authorizations = 0  # deny_next()
        self.slow_downs = 0  # slow_down_next()
        self.default_user = next(iter(self.users), "alice")
        # RFC 7523 JWT bearer grant: {issuer: public JWK}, and the used (iss, jti) -> exp.
        self.trusted_issuers: dict[str, dict[str, object]] = {}
        self.assertion_ids: dict[tuple[str, str], float] = {}
        # RFC 7591 registrations: client_id -> (registration access token, metadata).
        self.registrations: dict[str, tuple[str, dict[str, object]]] = {}
        # The protected test resource (RFC 9728): the scopes it demands.
        self.resource_scopes: tuple[str, ...] = ("resource:read",)
        # RFC 9470: the acr values and the max_age the test resource demands.
        self.resource_acr_values: tuple[str, ...] = ()
        self.resource_max_age: int | None = None
        # Client ID Metadata Documents: on?, loopback http URLs too?, and url -> the
        # client the last fetched document describes, or why it was refused.
        self.client_id_metadata_documents = False
        self.allow_http_client_id_urls = False
        self.metadata_clients: dict[str, MockClient | str] = {}
        # The user's sign-in session at the authorization endpoint: user -> (auth_time, acr).
        self.sign_ins: dict[str, tuple[float, str]] = {}
        # DPoP (RFC 9449, in _mock_dpop): the nonce rule and nonce, used (jkt, jti) -> until.
        self.dpop = True  # False: proofs are ignored, tokens stay Bearer (RFC 9449 §5)
        self.require_dpop_nonce = False
        self.dpop_nonce: str | None = None
        self.dpop_nonce_expires_at = 0.0
        self.dpop_jtis: dict[tuple[str, str], float] = {}

    def now(self) -> float:
        """The server's clock: the injected clock plus any :meth:`advance`."""
        return self._clock() + self.clock_offset

    def client(self, client_id: str) -> MockClient | str | None:
        """A registered client, one a Client ID Metadata Document describes, or why not.

        Returns:
            The client; a string saying why a client_id URL's document was
            refused; ``None`` for an unknown client.
        """
        known = self.clients.get(client_id)
        if known is not None or not self.client_id_metadata_documents:
            return known
        return self.metadata_clients.get(client_id)

    def sign_in(
        self, user: str, *, acr_values: tuple[str, ...], max_age: int | None, login: bool
    ) -> tuple[float, str]:
        """The user's ``(auth_time, acr)`` for an authorization (OIDC Core §3.1.2.1).

        An existing sign-in is reused unless ``login`` (``prompt=login``), it is
        older than ``max_age`` seconds, or its ``acr`` is not among
        ``acr_values``; then the user signs in again, now, at the first
        ``acr_values`` asked (the mock meets every request for a stronger
        authentication), else at :data:`DEFAULT_ACR`.
        """
        now = self.now()
        known = self.sign_ins.get(user)
        if (
            known is not None
            and not login
            and (max_age is None or now - known[0] <= max_age)
            and (not acr_values or known[1] in acr_values)
        ):
            return known
        fresh = (now, acr_values[0] if acr_values else DEFAULT_ACR)
        self.sign_ins[user] = fresh
        return fresh

    def issue_tokens(
        self,
        grant: Grant,
        *,
        scope: tuple[str, ...],
        refresh: bool,
        extra: Mapping[str, object] | None = None,
        refreshing: bool = False,
    ) -> dict[str, object]:
        """Issue an access token (and a refresh token) and build the RFC 6749 §5.1 answer.

        ``refreshing``: the answer to a refresh; its ID token keeps ``iss``, ``sub``
        and ``aud`` and carries no ``nonce`` (OpenID Connect Core §12.2: it "SHOULD
        NOT have a nonce Claim").
        """
        now = self.now()
        access = new_secret("mock_at_")
        self.access_tokens[access] = AccessRecord(
            grant=grant,
            scope=scope,
            issued_at=now,
            expires_at=now + self.lifetimes.access_token,
            extra=dict(extra or {}),
        )
        answer: dict[str, object] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.lifetimes.access_token),
        }
        if scope:
            answer["scope"] = " ".join(scope)
        if refresh:
            refresh_token = new_secret("mock_rt_")
            lifetime = self.lifetimes.refresh_token
            self.refresh_tokens[refresh_token] = RefreshRecord(
                grant=grant,
                scope=scope,
                issued_at=now,
                expires_at=None if lifetime is None else now + lifetime,
            )
            answer["refresh_token"] = refresh_token
        if grant.user is not None and "openid" in scope:
            id_token = self.signer.id_token(
                issuer=self.issuer,
                subject=grant.user,
                audience=grant.client_id,
                nonce=None if refreshing else grant.nonce,
                now=now,
                lifetime=self.lifetimes.access_token,
                access_token=access,
            )
            if id_token is not None:
                answer["id_token"] = id_token
        if extra:
            answer.update(extra)
        return answer

    def new_device(self, client_id: str, scope: tuple[str, ...]) -> DeviceRecord:
        """Start a device authorization with fresh codes (RFC 8628 §3.2)."""
        taken = {d.user_code for d in self.devices.values()}
        while True:
            raw = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
            if raw not in taken:
                break
        record = DeviceRecord(
            device_code=new_secret("mock_dc_"),
            user_code=raw,
            client_id=client_id,
            scope=scope,
            expires_at=self.now() + self.lifetimes.device_code,
        )
        self.devices[record.device_code] = record
        return record

    def device_by_user_code(self, user_code: str) -> DeviceRecord | None:
        """The device authorization for ``user_code`` (any spelling), or ``None``."""
        wanted = normalize_user_code(user_code)
        for record in self.devices.values():
            if record.user_code == wanted:
                return record
        return None

    def revoke_grant(self, grant: Grant) -> None:
        """Revoke a grant and so every token issued from it."""
        grant.revoked = True


def default_clock() -> float:
    """Wall-clock seconds; tests inject their own clock or call ``advance``."""
    return time.time()


def format_user_code(code: str) -> str:
    """``BCDFGHJK`` shown as ``BCDF-GHJK`` for humans."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code
