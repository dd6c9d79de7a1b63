"""Client authentication (RFC 6749 §2.3) and the https rule (RFC 6749 §3.2, RFC 9700 §2.6)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, unquote_plus

import attrs
import pytest

import oauth2_core as oc

SERVER = oc.ServerMetadata(
    issuer="https://as.example",
    token_endpoint="https://as.example/token",
    revocation_endpoint="https://as.example/revoke",
    introspection_endpoint="https://as.example/introspect",
)
NASTY_SECRET = "s3cr:t/+& %x"

BUILDERS: dict[str, Callable[[oc.ServerMetadata, oc.Client], oc.HttpRequest]] = {
    "token": lambda s, c: oc.client_credentials_grant_request(s, c, scope="read"),
    "password": lambda s, c: oc.password_grant_request(s, c, "alice", "wonderland"),
    "refresh": lambda s, c: oc.refresh_token_grant_request(
        s, c, oc.Token("at", refresh_token="rt")
    ),
    "any grant": lambda s, c: oc.token_request(s, c, "urn:example:grant", foo="bar"),
    "revocation": lambda s, c: oc.revocation_request(s, c, "tok"),
    "introspection": lambda s, c: oc.introspection_request(s, c, "tok"),
}


def _basic_parts(request: oc.HttpRequest) -> tuple[str, str]:
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    user, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    assert sep == ":"
    return user, password


def _form(request: oc.HttpRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)


def test_client_secret_basic_percent_encodes_before_base64() -> None:
    # RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded first.
    client = oc.Client("my id:1", NASTY_SECRET)
    user, password = _basic_parts(oc.client_credentials_grant_request(SERVER, client))
    assert "+" not in password and " " not in password  # space travels as %20
    assert ":" not in user and ":" not in password
    assert unquote(user) == "my id:1" and unquote(password) == NASTY_SECRET
    # Servers that form-decode ("+" is space) read the same values.
    assert unquote_plus(user) == "my id:1" and unquote_plus(password) == NASTY_SECRET


def test_client_secret_basic_raw_encoding_sends_raw() -> None:
    # For servers that do not decode the Basic credentials (DESIGN §6 named option).
    client = oc.Client("app", NASTY_SECRET, basic_encoding="raw")
    assert _basic_parts(oc.client_credentials_grant_request(SERVER, client)) == (
        "app",
        NASTY_SECRET,
    )


def test_client_secret_basic_keeps_credentials_out_of_body() -> None:
    request = oc.client_credentials_grant_request(SERVER, oc.Client("app", "s3cr3t"))
    names = [name for name, _ in _form(request)]
    assert "client_id" not in names and "client_secret" not in names


def test_client_secret_post_puts_both_in_body() -> None:
    client = oc.Client("app", NASTY_SECRET, auth_method="client_secret_post")
    request = oc.client_credentials_grant_request(SERVER, client)
    assert "authorization" not in request.headers
    form = _form(request)
    assert ("client_id", "app") in form and ("client_secret", NASTY_SECRET) in form


def test_none_sends_client_id_only() -> None:
    request = oc.client_credentials_grant_request(SERVER, oc.Client("cli", auth_method="none"))
    assert "authorization" not in request.headers
    form = _form(request)
    assert ("client_id", "cli") in form
    assert "client_secret" not in dict(form)


def test_default_auth_method_follows_the_secret() -> None:
    assert oc.Client("app", "s").auth_method == "client_secret_basic"
    assert oc.Client("app").auth_method == "none"


@pytest.mark.parametrize(
    "client",
    [
        oc.Client("app", NASTY_SECRET),
        oc.Client("app", NASTY_SECRET, basic_encoding="raw"),
        oc.Client("app", NASTY_SECRET, auth_method="client_secret_post"),
        oc.Client("app", auth_method="none"),
    ],
    ids=["basic", "basic-raw", "post", "none"],
)
def test_same_authentication_for_every_endpoint(client: oc.Client) -> None:
    # DESIGN §6: one setting, used the same way for token, refresh, revoke and introspect.
    seen = set()
    for build in BUILDERS.values():
        request = build(SERVER, client)
        auth_header = request.headers.get("authorization")
        auth_fields = tuple(
            (k, v) for k, v in _form(request) if k in ("client_id", "client_secret")
        )
        seen.add((auth_header, auth_fields))
    assert len(seen) == 1


@pytest.mark.parametrize("name", ["client_id", "client_secret", "client_assertion"])
def test_extra_parameter_cannot_override_client_authentication(name: str) -> None:
    with pytest.raises(oc.UsageError, match=name):
        oc.client_credentials_grant_request(SERVER, oc.Client("app", "s"), **{name: "x"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"client_id": ""}, "client_id"),
        ({"client_id": "a", "auth_method": "client_secret_basic"}, "client_secret"),
        ({"client_id": "a", "auth_method": "client_secret_post"}, "client_secret"),
        ({"client_id": "a", "auth_method": "bogus"}, "auth_method"),
        ({"client_id": "a", "client_secret": "s", "basic_encoding": "latin1"}, "basic_encoding"),
        ({"client_id": "a", "assertion_audience": "x"}, "assertion_audience"),
    ],
)
def test_client_rejects_inconsistent_settings(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(oc.UsageError, match=message):
        oc.Client(**kwargs)  # type: ignore[arg-type]


# --- https rule -----------------------------------------------------------------------------

ENDPOINT_FIELDS = {
    "token": "token_endpoint",
    "password": "token_endpoint",
    "refresh": "token_endpoint",
    "any grant": "token_endpoint",
    "revocation": "revocation_endpoint",
    "introspection": "introspection_endpoint",
}


def _server_at(base: str) -> oc.ServerMetadata:
    return oc.ServerMetadata(
        issuer=base,
        token_endpoint=f"{base}/token",
        revocation_endpoint=f"{base}/revoke",
        introspection_endpoint=f"{base}/introspect",
    )


@pytest.mark.parametrize("step", sorted(BUILDERS))
@pytest.mark.parametrize(
    "base",
    ["http://as.example", "http://10.0.0.1:8080", "http://[2001:db8::1]", "http://localhost.evil"],
)
def test_plain_http_endpoint_is_refused(step: str, base: str) -> None:
    client = oc.Client("app", "s3cr3t")
    with pytest.raises(oc.UsageError, match="allow_insecure_http"):
        BUILDERS[step](_server_at(base), client)


@pytest.mark.parametrize("step", sorted(BUILDERS))
def test_plain_http_allowed_with_per_client_opt_out(step: str) -> None:
    client = oc.Client("app", "s3cr3t", allow_insecure_http=True)
    request = BUILDERS[step](_server_at("http://as.example"), client)
    assert request.url.startswith("http://as.example/")


@pytest.mark.parametrize("step", sorted(BUILDERS))
@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1",
        "http://127.5.5.5:9000",
        "http://[::1]",
        "http://[::1]:8080",
        "http://localhost",
        "http://LOCALHOST:1234",
    ],
)
def test_loopback_http_endpoint_is_allowed(step: str, base: str) -> None:
    request = BUILDERS[step](_server_at(base), oc.Client("app", "s3cr3t"))
    assert request.url == getattr(_server_at(base), ENDPOINT_FIELDS[step])


@pytest.mark.parametrize(
    "url",
    [None, "", "/token", "ftp://as.example/token", "https://as.example/token#frag", "http://[::1"],
)
def test_missing_or_malformed_endpoint_is_a_usage_error(url: str | None) -> None:
    server = oc.ServerMetadata("https://as.example", token_endpoint=url)
    with pytest.raises(oc.UsageError):
        oc.client_credentials_grant_request(server, oc.Client("app", "s"))


def test_accepting_an_endpoint_for_one_client_does_not_accept_it_for_another() -> None:
    """The accepted-endpoint memo is keyed by the opt-out: a plain-http endpoint
    one client may use stays refused for a client that did not opt out."""
    server = _server_at("http://memo.example")
    lax = oc.Client("app", "s3cr3t", allow_insecure_http=True)
    strict = oc.Client("app", "s3cr3t")
    for _ in range(2):
        assert oc.client_credentials_grant_request(server, lax).url.startswith("http://")
        with pytest.raises(oc.UsageError, match="allow_insecure_http"):
            oc.client_credentials_grant_request(server, strict)


def test_basic_header_follows_an_evolved_secret() -> None:
    """The header is derived once per Client value; a changed secret is a new value."""
    first = oc.Client("app", "one")
    second = attrs.evolve(first, client_secret="two")
    request = oc.client_credentials_grant_request(SERVER, second)
    assert _basic_parts(request) == ("app", "two")
    assert _basic_parts(oc.client_credentials_grant_request(SERVER, first)) == ("app", "one")
    raw = attrs.evolve(second, basic_encoding="raw", client_secret="a b")
    assert _basic_parts(oc.client_credentials_grant_request(SERVER, raw)) == ("app", "a b")
    assert "two" not in repr(second) and first == oc.Client("app", "one")
