"""Values of the mock authorization server: registrations, records and answers.

A test tool, not a production server: everything lives in memory, nothing is
hardened beyond what a client test needs.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Mapping
from typing import Literal
from urllib.parse import urlencode, urlsplit

import attrs

__all__ = [
    "DEFAULT_CLIENTS",
    "DEFAULT_USERS",
    "Answer",
    "MockClient",
    "PRIVATE_JWK_MEMBERS",
    "MockUser",
    "RecordedRequest",
    "error_answer",
    "html_answer",
    "json_answer",
    "redirect_answer",
]

MockAuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
_SECRET_METHODS = ("client_secret_basic", "client_secret_post")
# Members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1;
# RFC 8037 §2): a client registers its public keys only.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def _to_claims(value: Mapping[str, object]) -> Mapping[str, object]:
    return types.MappingProxyType(dict(value))


def _to_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _to_jwks(value: Mapping[str, object] | None) -> Mapping[str, object] | None:
    if value is None:
        return None
    keys = value.get("keys") if isinstance(value, Mapping) else None
    if not isinstance(keys, (list, tuple)) or not keys:
        raise ValueError("jwks must be a JWK set: {'keys': [public JWK, ...]} (RFC 7517 §5)")
    for key in keys:
        if not isinstance(key, Mapping) or PRIVATE_JWK_MEMBERS & key.keys():
            raise ValueError("jwks must hold public keys only (EC, RSA or OKP JWKs)")
    return types.MappingProxyType({"keys": tuple(dict(k) for k in keys)})


def _default_auth_method(client: MockClient) -> MockAuthMethod:
    if client.client_secret:
        return "client_secret_basic"
    return "private_key_jwt" if client.jwks is not None else "none"


@attrs.frozen(repr=False)
class MockClient:
    """A client registered at the mock server.

    Args:
        client_id: The client identifier.
        client_secret: The secret, or ``None`` for a public client.
        auth_method: The one authentication method the server accepts from this
            client (RFC 8414 names): ``client_secret_basic``,
            ``client_secret_post``, ``private_key_jwt`` or ``none``.
        jwks: The client's public JWK set, ``{"keys": [public JWK, ...]}``
            (RFC 7591 ``jwks``), needed for ``private_key_jwt`` (RFC 7523 §2.2,
            OpenID Connect Core §9: assertions signed with the private half,
            ES256, PS256, RS256 or EdDSA) and for request objects (RFC 9101,
            accepted with any method). Giving it without a secret makes
            ``private_key_jwt`` the default method.
        redirect_uris: Registered redirect URIs. A loopback ``http`` URI matches
            any port (RFC 8252 §7.3), so a CLI may use an ephemeral port.
        dpop_bound_access_tokens: The client always binds its tokens (RFC 9449
            §5.2): a token request without a DPoP proof is ``invalid_dpop_proof``.
        require_dpop_nonce: This client's DPoP proofs must carry the server's
            nonce (RFC 9449 §8), even when the server does not require it of all.
    """

    client_id: str
    client_secret: str | None = None
    jwks: Mapping[str, object] | None = attrs.field(default=None, converter=_to_jwks, kw_only=True)
    auth_method: MockAuthMethod = attrs.field(
        default=attrs.Factory(_default_auth_method, takes_self=True), kw_only=True
    )
    redirect_uris: tuple[str, ...] = attrs.field(
        default=("http://127.0.0.1/callback", "https://app.example/cb"),
        converter=_to_tuple,
        kw_only=True,
    )
    dpop_bound_access_tokens: bool = attrs.field(default=False, kw_only=True)
    require_dpop_nonce: bool = attrs.field(default=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.auth_method not in (*_SECRET_METHODS, "private_key_jwt", "none"):
            raise ValueError(f"unsupported auth_method {self.auth_method!r}")
        if (self.auth_method in _SECRET_METHODS) != (self.client_secret is not None):
            raise ValueError("a client has a secret exactly when it authenticates with one")
        if self.auth_method == "private_key_jwt" and self.jwks is None:
            raise ValueError("auth_method 'private_key_jwt' needs the client's public jwks")

    @property
    def public(self) -> bool:
        """Whether the client has no credentials at all (RFC 6749 §2.1)."""
        return self.auth_method == "none"

    def accepts_redirect_uri(self, uri: str) -> bool:
        """Exact match, except that loopback ports may differ (RFC 8252 §7.3)."""
        if uri in self.redirect_uris:
            return True
        try:
            asked = urlsplit(uri)
            asked_host = asked.hostname
        except ValueError:
            return False
        if asked.scheme != "http" or asked_host is None or asked.fragment:
            return False
        for registered in self.redirect_uris:
            mine = urlsplit(registered)
            if (
                mine.scheme == "http"
                and mine.hostname in _LOOPBACK_HOSTS
                and mine.hostname == asked_host
                and mine.path == asked.path
                and mine.query == asked.query
            ):
                return True
        return False

    def __repr__(self) -> str:
        secret = "<redacted>" if self.client_secret else None
        return (
            f"MockClient(client_id={self.client_id!r}, client_secret={secret}, "
            f"auth_method={self.auth_method!r})"
        )


@attrs.frozen(repr=False)
class MockUser:
    """A resource owner of the mock server.

    Args:
        username: The login name, also the ``sub`` claim.
        password: The password for the password grant.
        claims: UserInfo claims besides ``sub`` (``name``, ``email``, ...).
    """

    username: str
    password: str
    claims: Mapping[str, object] = attrs.field(factory=dict, converter=_to_claims)

    def __repr__(self) -> str:
        return f"MockUser(username={self.username!r}, password=<redacted>)"


DEFAULT_CLIENTS: tuple[MockClient, ...] = (
    MockClient("app", "app-secret", auth_method="client_secret_basic"),
    MockClient("post-app", "post-secret", auth_method="client_secret_post"),
    MockClient("cli", auth_method="none"),
)
"""The clients registered when none are given: a ``client_secret_basic`` client
``app`` (secret ``app-secret``), a ``client_secret_post`` client ``post-app``
(secret ``post-secret``) and a public client ``cli``."""

DEFAULT_USERS: tuple[MockUser, ...] = (
    MockUser(
        "alice",
        "wonderland",
        {"name": "Alice Liddell", "email": "alice@example.com", "email_verified": True},
    ),
    MockUser(
        "bob",
        "builder",
        {"name": "Bob the Builder", "email": "bob@example.com", "email_verified": False},
    ),
)
"""The users when none are given: ``alice`` / ``wonderland`` and ``bob`` / ``builder``."""


@attrs.frozen(repr=False)
class RecordedRequest:
    """One request the mock server received, and what it answered.

    Attributes:
        method: ``GET``, ``POST``, ...
        path: The path, without the query.
        query: Query parameters (first value of each name).
        query_pairs: Every query parameter in order.
        headers: Header fields, names lower-cased (repeated fields joined with ``, ``).
        form: Form body parameters (first value of each name); empty for other bodies.
        form_pairs: Every form parameter in order, repeated ones included
            (RFC 8707 ``resource``).
        body: The raw body.
        status: The status answered, or ``None`` when the connection was dropped.
        error: The RFC 6749 ``error`` code answered, if any.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    form: Mapping[str, str]
    form_pairs: tuple[tuple[str, str], ...]
    body: bytes
    query_pairs: tuple[tuple[str, str], ...] = ()
    status: int | None = None
    error: str | None = None

    def form_list(self, name: str) -> list[str]:
        """Every value of the form parameter ``name``."""
        return [v for k, v in self.form_pairs if k == name]

    def __repr__(self) -> str:
        # A test tool still keeps credentials out of reprs: names only.
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, "
            f"form_names={sorted(self.form)!r}, status={self.status!r}, error={self.error!r})"
        )


@attrs.frozen(repr=False)
class Answer:
    """What the mock server sends back for one request."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    error: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of the header ``name``, or ``None``."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def __repr__(self) -> str:
        return f"Answer(status={self.status}, error={self.error!r}, body=<{len(self.body)} bytes>)"


_NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def json_answer(
    status: int, data: Mapping[str, object], headers: Iterable[tuple[str, str]] = ()
) -> Answer:
    """A JSON answer; token-bearing answers are never cacheable (RFC 6749 §5.1)."""
    error = data.get("error")
    return Answer(
        status=status,
        headers=(("Content-Type", "application/json"), *_NO_STORE, *headers),
        body=json.dumps(dict(data)).encode("utf-8"),
        error=error if isinstance(error, str) else None,
    )


def error_answer(
    status: int,
    error: str,
    description: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Answer:
    """An RFC 6749 §5.2 error object."""
    data: dict[str, object] = {"error": error}
    if description:
        data["error_description"] = description
    return json_answer(status, data, headers)


def html_answer(status: int, title: str, text: str) -> Answer:
    """A small HTML page (the device verification page, error pages)."""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{text}</body></html>"
    )
    return Answer(
        status=status,
        headers=(("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")),
        body=page.encode("utf-8"),
    )


def redirect_answer(uri: str, params: Iterable[tuple[str, str]]) -> Answer:
    """A 302 to ``uri`` with ``params`` added to its query (RFC 6749 §4.1.2)."""
    pairs = list(params)
    separator = "&" if urlsplit(uri).query else "?"
    location = uri + separator + urlencode(pairs)
    error = next((v for k, v in pairs if k == "error"), None)
    return Answer(
        status=302,
        headers=(("Location", location), ("Cache-Control", "no-store")),
        error=error,
    )
