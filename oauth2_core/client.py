"""The client's registration and how it authenticates (RFC 6749 §2.3).

One setting, :attr:`Client.auth_method`, decides client authentication for every
endpoint that takes it: token, revocation, introspection, device authorization
and PAR. :func:`authenticate` is the one place it is applied.
"""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Literal, Protocol

import attrs

from oauth2_core._params import percent_encode
from oauth2_core.endpoints import check_endpoint, check_redirect_uri, is_loopback_host
from oauth2_core.errors import UsageError

__all__ = [
    "AUTH_METHODS",
    "Client",
    "JWT_AUTH_METHODS",
    "MTLS_AUTH_METHODS",
    "Signer",
    "authenticate",
    "basic_credentials",
    "check_endpoint",
    "is_loopback_host",
]

AuthMethod = Literal[
    "client_secret_basic",
    "client_secret_post",
    "none",
    "private_key_jwt",
    "client_secret_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
]
AUTH_METHODS: frozenset[str] = frozenset(
    {
        "client_secret_basic",
        "client_secret_post",
        "none",
        "private_key_jwt",
        "client_secret_jwt",
        "tls_client_auth",
        "self_signed_tls_client_auth",
    }
)
_APPROVED_MAX = 64
_SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post", "client_secret_jwt"})
#: Methods that sign a client assertion, so their requests need ``now`` (RFC 7523 §3).
JWT_AUTH_METHODS = frozenset({"private_key_jwt", "client_secret_jwt"})
#: Methods where the TLS client certificate authenticates (RFC 8705 §2).
MTLS_AUTH_METHODS = frozenset({"tls_client_auth", "self_signed_tls_client_auth"})


class Signer(Protocol):
    """Signs JWT claims into a compact JWS (a KMS or HSM may implement it)."""

    def sign(self, claims: Mapping[str, object], headers: Mapping[str, object]) -> str:
        """Return the compact serialization of the signed JWT."""
        ...


#: Builds the client assertion for JWT client authentication (RFC 7523 §2.2).
#: Called with (client, audience, now); default: ``oauth2_core.jose.client_assertion``.
AssertionFactory = Callable[["Client", str, _dt.datetime], str]


def _check_auth_method(instance: Client, _attr: object, value: str) -> None:
    if value not in AUTH_METHODS:
        raise UsageError(f"unknown auth_method {value!r}; expected one of {sorted(AUTH_METHODS)}")


@attrs.frozen(repr=False)
class Client:
    """An OAuth 2.0 client registration.

    Args:
        client_id: The client identifier.
        client_secret: The secret of a confidential client, or ``None``.
        auth_method: How the client authenticates (RFC 8414
            ``token_endpoint_auth_method`` names). Default: ``client_secret_basic``
            when there is a secret, else ``none``.
        redirect_uri: The registered redirect URI used by default.
        allow_insecure_http: Explicit opt-out of the https rule for this client
            only. Loopback endpoints (127.0.0.0/8, ``[::1]``, ``localhost``) never
            need it.
        basic_encoding: ``"urlencoded"`` (default) percent-encodes id and secret
            before base64 as RFC 6749 §2.3.1 asks; ``"raw"`` sends them as they
            are, for servers that do not decode.
        signer: Signs client assertions for ``private_key_jwt`` (RFC 7523),
            e.g. with a KMS or HSM; it wins over ``signing_key``.
        signing_key: A private key for ``private_key_jwt``: a JWK dict (its
            ``alg`` and ``kid`` are used), an unencrypted PEM, or a
            ``cryptography`` private key. Needs the ``oauth2-core[jwt]`` extra.
        assertion_audience: ``"issuer"`` (default) or ``"token_endpoint"``.
        use_mtls_endpoint_aliases: Send to the server's
            ``mtls_endpoint_aliases`` (RFC 8705 §5) when it has them. Default:
            true for ``tls_client_auth`` / ``self_signed_tls_client_auth``; set
            it for a public client that wants certificate-bound tokens. The
            certificate itself is the transport's business.

    Requests of the JWT methods carry a signed assertion, so their builders
    need ``now=`` (the core never reads the clock).
    """

    client_id: str
    client_secret: str | None = None
    auth_method: str = attrs.field(
        default=attrs.Factory(
            lambda self: "client_secret_basic" if self.client_secret else "none",
            takes_self=True,
        ),
        validator=_check_auth_method,
        kw_only=True,
    )
    redirect_uri: str | None = attrs.field(default=None, kw_only=True)
    allow_insecure_http: bool = attrs.field(default=False, kw_only=True)
    basic_encoding: Literal["urlencoded", "raw"] = attrs.field(default="urlencoded", kw_only=True)
    signer: Signer | None = attrs.field(default=None, kw_only=True)
    signing_key: object = attrs.field(default=None, kw_only=True)
    assertion_audience: Literal["issuer", "token_endpoint"] = attrs.field(
        default="issuer", kw_only=True
    )
    use_mtls_endpoint_aliases: bool = attrs.field(
        default=attrs.Factory(lambda self: self.auth_method in MTLS_AUTH_METHODS, takes_self=True),
        kw_only=True,
    )
    # Derived once (the client is immutable): the client_secret_basic header value.
    _basic: str | None = attrs.field(default=None, init=False, eq=False, repr=False)
    # URLs this client already found acceptable (the client is immutable, so the
    # verdict cannot change): URL checks are most of a request builder's cost.
    _approved: dict[tuple[str, bool], None] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.client_id, str) or not self.client_id:
            raise UsageError("client_id must be a non-empty string")
        if self.client_secret is not None and not isinstance(self.client_secret, str):
            raise UsageError("client_secret must be a string")
        if self.auth_method in _SECRET_METHODS and not self.client_secret:
            raise UsageError(f"auth_method {self.auth_method!r} needs a client_secret")
        if self.basic_encoding not in ("urlencoded", "raw"):
            raise UsageError("basic_encoding must be 'urlencoded' or 'raw'")
        if self.assertion_audience not in ("issuer", "token_endpoint"):
            raise UsageError("assertion_audience must be 'issuer' or 'token_endpoint'")
        if (
            self.auth_method == "private_key_jwt"
            and self.signer is None
            and self.signing_key is None
        ):
            raise UsageError("auth_method 'private_key_jwt' needs signing_key= or signer=")
        if self.auth_method == "client_secret_basic":
            object.__setattr__(self, "_basic", _basic_header(self))

    def check_url(self, url: object, *, what: str, redirect: bool = False) -> str:
        """Refuse a URL this client must not use; the verdict is kept per client.

        Endpoints go through :func:`~oauth2_core.endpoints.check_endpoint` (https,
        or loopback http, or this client's ``allow_insecure_http``), redirect URIs
        through :func:`~oauth2_core.endpoints.check_redirect_uri`.

        Args:
            url: The URL.
            what: How a refusal names it (``"token_endpoint"``).
            redirect: Check it as a redirect URI rather than an endpoint.

        Returns:
            ``url``, unchanged.

        Raises:
            UsageError: the URL is refused.
        """
        approved = self._approved
        if isinstance(url, str) and (url, redirect) in approved:
            return url
        if redirect:
            check_redirect_uri(url, allow_insecure_http=self.allow_insecure_http)
        else:
            check_endpoint(url, what=what, allow_insecure_http=self.allow_insecure_http)
        assert isinstance(url, str)  # both checks refuse anything else
        if len(approved) >= _APPROVED_MAX:
            approved.clear()
        approved[(url, redirect)] = None
        return url

    def __repr__(self) -> str:
        secret = "<redacted>" if self.client_secret else None
        return (
            f"Client(client_id={self.client_id!r}, client_secret={secret}, "
            f"auth_method={self.auth_method!r}, redirect_uri={self.redirect_uri!r})"
        )

    __str__ = __repr__


def basic_credentials(client: Client) -> str:
    """The ``Authorization`` value for ``client_secret_basic``.

    RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. We encode
    space as ``%20`` (not ``+``), which servers that form-decode and servers that
    only percent-decode both read back correctly.
    """
    return client._basic or _basic_header(client)


def _basic_header(client: Client) -> str:
    secret = client.client_secret or ""
    if client.basic_encoding == "raw":
        user, password = client.client_id, secret
    else:
        user, password = percent_encode(client.client_id), percent_encode(secret)
    raw = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def authenticate(
    client: Client,
    params: list[tuple[str, str]],
    headers: dict[str, str],
    *,
    audience: str,
    assertion: AssertionFactory | None = None,
    now: _dt.datetime | None = None,
) -> None:
    """Add client authentication to a request being built (in place).

    Args:
        client: The client.
        params: The form parameters of the request.
        headers: The header fields of the request.
        audience: The ``aud`` for JWT client assertions.
        assertion: Builds JWT assertions; defaults to the JOSE module's.
        now: The time the request is sent, an aware datetime; required by the
            JWT methods (the assertion's ``iat`` / ``exp``), ignored by the others.

    Raises:
        UsageError: a JWT method without ``now``.
    """
    method = client.auth_method
    if method == "client_secret_basic":
        headers["authorization"] = basic_credentials(client)
    elif method == "client_secret_post":
        params.append(("client_id", client.client_id))
        params.append(("client_secret", client.client_secret or ""))
    elif method in ("none", "tls_client_auth", "self_signed_tls_client_auth"):
        # RFC 8705 §2: with mTLS the certificate authenticates; client_id goes in the body.
        params.append(("client_id", client.client_id))
    elif method in JWT_AUTH_METHODS:
        if now is None:
            raise UsageError(
                f"auth_method {method!r} signs a client assertion: pass now= (an aware UTC "
                "datetime, the time the request is sent) to the request builder"
            )
        if assertion is None:
            from oauth2_core.jose import client_assertion

            signed = client_assertion(client, audience, now=now)
        else:
            signed = assertion(client, audience, now)
        params.append(("client_id", client.client_id))
        params.append(
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        )
        params.append(("client_assertion", signed))
    else:  # pragma: no cover - the validator admits only the methods above
        raise UsageError(f"unknown auth_method {method!r}")
