"""The client's registration (RFC 6749 §2): the :class:`Client` value.

One setting, :attr:`Client.auth_method`, decides client authentication (RFC 6749
§2.3) for every endpoint that takes it: token, revocation, introspection, device
authorization and PAR. Applying it to a request is
:func:`oauth2_core.client_auth.authenticate`'s job; the endpoint URL rules live in
:mod:`oauth2_core.endpoints`. This module holds the value only.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
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
    """Signs JWT claims into a whole compact JWS (RFC 7515 §7.1) for ``Client(signer=...)``.

    A thin adapter kept for signers that build the whole JWT themselves. The one way
    to keep a private key in a KMS or HSM is
    :func:`~oauth2_core.external_key.external_signing_key`: it serves client
    assertions (RFC 7523 §2.2, ``Client(signing_key=...)``) and DPoP proofs
    (RFC 9449 §4.2, ``dpop_key=``) alike.
    """

    def sign(self, claims: Mapping[str, object], headers: Mapping[str, object]) -> str:
        """Return the compact serialization of the signed JWT."""
        ...


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
        signer: A :class:`Signer` that returns whole client assertion JWTs for
            ``private_key_jwt`` (RFC 7523); it wins over ``signing_key``. An
            adapter for such signers: a KMS or HSM key is better given as
            ``signing_key=external_signing_key(...)``, which DPoP takes too.
        signing_key: A private key for ``private_key_jwt``: a JWK dict (its
            ``alg`` and ``kid`` are used), an unencrypted PEM, a
            ``cryptography`` private key, or a key that stays in a KMS or HSM
            (:func:`~oauth2_core.external_key.external_signing_key`). Needs the
            ``oauth2-core[jwt]`` extra except for an external key.
        assertion_audience: ``"issuer"`` (default) or ``"token_endpoint"``.
        use_mtls_endpoint_aliases: Send to the server's
            ``mtls_endpoint_aliases`` (RFC 8705 §5) when it has them. Default:
            true for ``tls_client_auth`` / ``self_signed_tls_client_auth``; set
            it for a public client that wants certificate-bound tokens. The
            certificate itself is the transport's business.
        request_object_signing_alg: The ``alg`` the client registered for its
            request objects (RFC 9101 §10.1, RFC 7591 client metadata); default:
            the ``alg`` of ``signing_key``. It must fit the key.
        authorization_signed_response_alg: The ``alg`` the client registered
            for signed authorization responses (JARM §3 client metadata). Set,
            every authorization request asks for ``response_mode=jwt`` unless a
            JARM mode is given, and a callback that is not a response JWT signed
            with this ``alg`` is refused: an attacker cannot downgrade the
            client to a plain redirect. Unset, a signed response is verified
            when one arrives and a plain one is accepted.

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
    request_object_signing_alg: str | None = attrs.field(default=None, kw_only=True)
    authorization_signed_response_alg: str | None = attrs.field(default=None, kw_only=True)
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
        for name in ("request_object_signing_alg", "authorization_signed_response_alg"):
            alg = getattr(self, name)
            if alg is not None and (not isinstance(alg, str) or alg.lower() in ("", "none")):
                raise UsageError(f"{name} must name a JWS algorithm (not 'none')")
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
    """The ``Authorization`` value for ``client_secret_basic`` (RFC 6749 §2.3.1).

    RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. We encode
    space as ``%20`` (not ``+``), which servers that form-decode and servers that
    only percent-decode both read back correctly. ``basic_encoding="raw"`` sends
    them as they are. Derived once per client (the client is immutable).
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
