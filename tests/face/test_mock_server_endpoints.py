"""MockAuthorizationServer: every endpoint, checked with the library and on the raw wire."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from face_helpers import basic, body, call, follow_authorization

import oauth2_core as oc
from oauth2_core.id_token import id_token_flow
from oauth2_transports import run
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer, MockClient
from oauth2_transports.urllib3 import Urllib3Transport

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B


def _code(server: MockAuthorizationServer, **params: str) -> str:
    """Run the authorization endpoint directly and return the redirect's parameters' code."""
    query = {"response_type": "code", "client_id": "cli", "state": "s1"}
    query.update(params)
    url = server.url("/authorize") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    location = follow_authorization(url)
    values = parse_qs(urlsplit(location).query)
    assert "code" in values, values
    return values["code"][0]


# -- discovery and keys ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_discovery_documents(server: MockAuthorizationServer, path: str) -> None:
    doc = body(call("GET", server.url(path)))
    assert doc["issuer"] == server.issuer
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["token_endpoint"] == server.url("/token")
    assert "S256" in doc["code_challenge_methods_supported"]  # type: ignore[operator]


def test_discovery_through_the_client(server: MockAuthorizationServer) -> None:
    c = OAuth2Client.discover(server.issuer, server.client("app"), Urllib3Transport())
    assert c.server.device_authorization_endpoint == server.url("/device_authorization")


def test_id_token_verifies_with_the_served_jwks(
    server: MockAuthorizationServer, app: OAuth2Client
) -> None:
    token = app.password("alice", "wonderland", scope="openid")
    keys = body(call("GET", server.url("/jwks")))["keys"]
    assert isinstance(keys, list)
    assert len(keys) == 1
    key = jwt.PyJWK(keys[0])
    assert token.id_token is not None
    claims = jwt.decode(token.id_token, key.key, algorithms=["ES256"], audience="app")
    assert claims["iss"] == server.issuer
    assert claims["sub"] == "alice"


def test_id_token_passes_the_core_validator(public: OAuth2Client) -> None:
    pending = oc.new_pending_authorization(public.client)
    url = public.authorization_url(pending, scope="openid")
    token = public.exchange_code(pending, follow_authorization(url))
    now = dt.datetime.now(dt.timezone.utc)
    flow = id_token_flow(
        token, server=public.server, client=public.client, pending=pending, now=now
    )
    claims = run(flow, public.transport)
    assert claims["sub"] == "alice"
    assert claims["nonce"] == pending.nonce
    assert "at_hash" in claims


def test_jwks_is_empty_without_signing() -> None:
    with MockAuthorizationServer(sign_id_tokens=False) as server:
        assert body(call("GET", server.url("/jwks"))) == {"keys": []}
        c = OAuth2Client(server.server_metadata(), server.client("app"), Urllib3Transport())
        assert c.password("alice", "wonderland", scope="openid").id_token is None


# -- client authentication (RFC 6749 §2.3) ------------------------------------------


def test_client_secret_basic_and_post(app: OAuth2Client, server: MockAuthorizationServer) -> None:
    assert app.client_credentials(scope="read").scope == ("read",)
    post = OAuth2Client(app.server, server.client("post-app"), app.transport)
    assert post.client_credentials().access_token
    sent = server.requests[-1]
    assert sent.form["client_id"] == "post-app"
    assert "authorization" not in sent.headers


def test_wrong_secret_is_401_with_basic_challenge(server: MockAuthorizationServer) -> None:
    answer = call(
        "POST",
        server.url("/token"),
        form={"grant_type": "client_credentials"},
        headers=basic("app", "nope"),
    )
    assert answer.status == 401
    assert body(answer)["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("form", "headers", "error"),
    [
        ({"client_id": "ghost"}, {}, "invalid_client"),  # unknown client
        ({"client_id": "app"}, {}, "invalid_client"),  # confidential client without secret
        ({"client_id": "app", "client_secret": "app-secret"}, {}, "invalid_client"),  # wrong method
        ({"client_secret": "x"}, basic("app", "app-secret"), "invalid_request"),  # two methods
        ({}, {"Authorization": "Basic !!!"}, "invalid_client"),  # malformed
        ({}, {}, "invalid_client"),  # nothing at all
    ],
)
def test_client_authentication_failures(
    server: MockAuthorizationServer, form: dict[str, str], headers: dict[str, str], error: str
) -> None:
    answer = call(
        "POST",
        server.url("/token"),
        form={"grant_type": "client_credentials", **form},
        headers=headers,
    )
    assert body(answer)["error"] == error


def test_basic_credentials_are_percent_decoded() -> None:
    """RFC 6749 §2.3.1: a secret with ':/+& %' works when form-urlencoded before base64."""
    secret = "p:a/s+s& w%rd"
    registered = MockClient("odd id", secret, auth_method="client_secret_basic")
    with MockAuthorizationServer(clients=[registered]) as server:
        meta = server.server_metadata()
        encoded = OAuth2Client(meta, oc.Client("odd id", secret), Urllib3Transport())
        assert encoded.client_credentials().access_token
        raw = oc.Client("odd id", secret, basic_encoding="raw")
        with pytest.raises(oc.EndpointError) as caught:
            OAuth2Client(meta, raw, Urllib3Transport()).client_credentials()
        # '+' decodes to a space: the raw secret is not the registered one.
        assert caught.value.error == "invalid_client"
        assert caught.value.status == 401


def test_duplicate_parameters_are_refused(server: MockAuthorizationServer) -> None:
    answer = call(
        "POST",
        server.url("/token"),
        form=[("grant_type", "client_credentials"), ("scope", "a"), ("scope", "b")],
        headers=basic("app", "app-secret"),
    )
    assert body(answer)["error"] == "invalid_request"


# -- authorization code + PKCE ----------------------------------------------------------


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_authorization_code_with_pkce(public: OAuth2Client, method: str) -> None:
    pending = oc.new_pending_authorization(public.client, code_challenge_method=method)
    callback = follow_authorization(public.authorization_url(pending, scope="openid profile"))
    params = parse_qs(urlsplit(callback).query)
    assert params["iss"] == [public.server.issuer]
    assert params["state"] == [pending.state]
    token = public.exchange_code(pending, callback)
    assert token.refresh_token
    assert token.scope == ("openid", "profile")


def test_login_hint_picks_the_user(public: OAuth2Client) -> None:
    pending = oc.new_pending_authorization(public.client)
    url = public.authorization_url(pending, scope="openid", login_hint="bob")
    token = public.exchange_code(pending, follow_authorization(url))
    assert public.userinfo(token).sub == "bob"


def test_denials(server: MockAuthorizationServer, public: OAuth2Client) -> None:
    pending = oc.new_pending_authorization(public.client)
    url = public.authorization_url(pending, login_hint="deny")
    with pytest.raises(oc.AuthorizationError) as caught:
        public.exchange_code(pending, follow_authorization(url))
    assert caught.value.error == "access_denied"
    server.deny_next()
    pending = oc.new_pending_authorization(public.client)
    with pytest.raises(oc.AuthorizationError):
        public.exchange_code(pending, follow_authorization(public.authorization_url(pending)))
    pending = oc.new_pending_authorization(public.client)  # the denial was used up
    assert public.exchange_code(pending, follow_authorization(public.authorization_url(pending)))


def _exchange(server: MockAuthorizationServer, **form: str) -> dict[str, object]:
    fields = {"grant_type": "authorization_code", "client_id": "cli", **form}
    return body(call("POST", server.url("/token"), form=fields))


def test_code_exchange_checks(server: MockAuthorizationServer) -> None:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest())
    s256 = {"code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256"}
    redirect = "http://127.0.0.1:5000/callback"
    code = _code(server, redirect_uri=redirect, **s256)
    wrong = "x" * 43
    assert _exchange(server, code=code, redirect_uri=redirect, code_verifier=wrong)["error"] == (
        "invalid_grant"
    )
    # A failed attempt used the code up.
    answer = _exchange(server, code=code, redirect_uri=redirect, code_verifier=VERIFIER)
    assert answer["error"] == "invalid_grant"
    code = _code(server, redirect_uri=redirect, **s256)
    assert _exchange(server, code=code, code_verifier=VERIFIER)["error"] == "invalid_grant"
    code = _code(server, redirect_uri=redirect, **s256)
    assert _exchange(server, code=code, redirect_uri=redirect)["error"] == "invalid_grant"
    code = _code(server, redirect_uri=redirect, **s256)
    token = _exchange(server, code=code, redirect_uri=redirect, code_verifier=VERIFIER)
    assert "access_token" in token
    # Replaying the code fails and revokes what it gave (RFC 6749 §4.1.2).
    again = _exchange(server, code=code, redirect_uri=redirect, code_verifier=VERIFIER)
    assert again["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert call("GET", server.url("/userinfo"), headers=bearer).status == 401


def test_expired_code(server: MockAuthorizationServer, public: OAuth2Client) -> None:
    pending = oc.new_pending_authorization(public.client)
    callback = follow_authorization(public.authorization_url(pending))
    server.advance(61)
    with pytest.raises(oc.EndpointError) as caught:
        public.exchange_code(pending, callback)
    assert caught.value.error == "invalid_grant"


def test_pkce_downgrade_is_refused(server: MockAuthorizationServer) -> None:
    code = _code(server, client_id="app", redirect_uri="https://app.example/cb")
    answer = call(
        "POST",
        server.url("/token"),
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://app.example/cb",
            "code_verifier": VERIFIER,
        },
        headers=basic("app", "app-secret"),
    )
    assert body(answer)["error"] == "invalid_grant"


def test_authorization_request_errors(server: MockAuthorizationServer) -> None:
    base = server.url("/authorize") + "?response_type=code&state=s"
    unregistered = call("GET", base + "&client_id=cli&redirect_uri=https://evil.example/cb")
    assert unregistered.status == 400  # never redirected to an unverified URI
    assert call("GET", base + "&client_id=ghost").status == 400
    loopback = "&client_id=cli&redirect_uri=http://127.0.0.1:9/callback"
    location = follow_authorization(base + loopback)  # a public client without PKCE
    assert parse_qs(urlsplit(location).query)["error"] == ["invalid_request"]
    location = follow_authorization(
        server.url("/authorize") + "?response_type=token&code_challenge=" + VERIFIER + loopback
    )
    assert parse_qs(urlsplit(location).query)["error"] == ["unsupported_response_type"]


def test_pushed_authorization_requests() -> None:
    with MockAuthorizationServer(require_par=True) as server:
        meta = server.server_metadata()
        assert meta.require_pushed_authorization_requests
        client = oc.Client("app", "app-secret", redirect_uri="https://app.example/cb")
        c = OAuth2Client(meta, client, Urllib3Transport())
        pending = oc.new_pending_authorization(client)
        url = c.authorization_url(pending, scope="read")
        assert "request_uri=" in url
        assert c.exchange_code(pending, follow_authorization(url)).scope == ("read",)
        assert call("GET", url).status == 400  # a request_uri is single-use
        plain = oc.authorization_url(meta, client, oc.new_pending_authorization(client))
        error = parse_qs(urlsplit(follow_authorization(plain)).query)["error"]
        assert error == ["invalid_request"]


# -- other grants -------------------------------------------------------------------------


def test_password_grant(app: OAuth2Client) -> None:
    assert app.password("bob", "builder").refresh_token
    with pytest.raises(oc.EndpointError) as caught:
        app.password("alice", "looking-glass")
    assert caught.value.error == "invalid_grant"


def test_public_client_has_no_client_credentials(public: OAuth2Client) -> None:
    with pytest.raises(oc.EndpointError) as caught:
        public.client_credentials()
    assert caught.value.error == "unauthorized_client"


def test_refresh_rotation_and_reuse_detection(app: OAuth2Client) -> None:
    first = app.password("alice", "wonderland", scope="read write")
    second = app.refresh(first)
    assert second.refresh_token not in (None, first.refresh_token)
    with pytest.raises(oc.EndpointError) as caught:
        app.refresh(first)
    assert caught.value.reauthorize
    # Reuse revoked the whole grant (RFC 9700 §4.14.2), the new token included.
    with pytest.raises(oc.EndpointError):
        app.refresh(second)


def test_refresh_without_rotation() -> None:
    with MockAuthorizationServer(rotate_refresh_tokens=False) as server:
        c = OAuth2Client(server.server_metadata(), server.client("app"), Urllib3Transport())
        first = c.password("alice", "wonderland", scope="read write")
        second = c.refresh(first, scope="read")
        raw = call(
            "POST",
            server.url("/token"),
            form={"grant_type": "refresh_token", "refresh_token": first.refresh_token or ""},
            headers=basic("app", "app-secret"),
        )
        assert "refresh_token" not in body(raw)
        assert second.refresh_token == first.refresh_token  # kept by the client
        assert second.scope == ("read",)
        assert c.refresh(first).access_token
        with pytest.raises(oc.EndpointError) as caught:
            c.refresh(first, scope="admin")
        assert caught.value.error == "invalid_scope"


def test_token_exchange(app: OAuth2Client) -> None:
    subject = app.password("alice", "wonderland", scope="read")
    exchanged = app.grant(
        "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token=subject.access_token,
        subject_token_type="urn:ietf:params:oauth:token-type:access_token",
        audience="urn:api",
    )
    assert exchanged.issued_token_type == "urn:ietf:params:oauth:token-type:access_token"
    assert app.introspect(exchanged.access_token).sub == "alice"


def test_unsupported_grant(app: OAuth2Client) -> None:
    with pytest.raises(oc.EndpointError) as caught:
        app.grant("urn:example:nothing")
    assert caught.value.error == "unsupported_grant_type"


# -- revocation, introspection, userinfo ----------------------------------------------------


def test_introspection(app: OAuth2Client, public: OAuth2Client) -> None:
    token = app.password("alice", "wonderland", scope="read")
    info = app.introspect(token.access_token)
    assert (info.active, info.sub, info.client_id, info.scope) == (True, "alice", "app", ("read",))
    assert app.introspect(token.refresh_token or "").active
    assert not app.introspect("unknown").active
    with pytest.raises(oc.EndpointError) as caught:
        public.introspect(token.access_token)
    assert caught.value.status == 401


def test_revocation(app: OAuth2Client, server: MockAuthorizationServer) -> None:
    token = app.password("alice", "wonderland")
    app.revoke(token.access_token, token_type_hint="access_token")
    assert not app.introspect(token.access_token).active
    assert app.introspect(token.refresh_token or "").active
    app.revoke(token.refresh_token or "", token_type_hint="refresh_token")
    assert not app.introspect(token.refresh_token or "").active
    app.revoke("never-issued")  # RFC 7009 §2.2: 200 for an unknown token
    other = OAuth2Client(app.server, server.client("post-app"), app.transport)
    theirs = other.client_credentials()
    with pytest.raises(oc.EndpointError):
        app.revoke(theirs.access_token)  # not issued to this client
    assert app.introspect(theirs.access_token).active


def test_userinfo(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    token = app.password("alice", "wonderland", scope="openid")
    assert app.userinfo(token).claims["email"] == "alice@example.com"
    missing = call("GET", server.url("/userinfo"))
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="mock"'
    unknown = call("GET", server.url("/userinfo"), headers={"Authorization": "Bearer nope"})
    assert unknown.status == 401
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    machine = app.client_credentials()
    with pytest.raises(oc.EndpointError) as caught:
        app.userinfo(machine)
    assert caught.value.status == 403
    server.advance(3601)
    with pytest.raises(oc.EndpointError) as caught:
        app.userinfo(token)
    assert caught.value.error == "invalid_token"


def test_issue_token_without_http(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    minted = server.issue_token("app", user="bob", scope="openid")
    assert app.userinfo(oc.Token(str(minted["access_token"]))).sub == "bob"


# -- routing and life cycle ---------------------------------------------------------------------


def test_unknown_path_and_method(server: MockAuthorizationServer) -> None:
    assert call("GET", server.url("/nowhere")).status == 404
    answer = call("GET", server.url("/token"))
    assert answer.status == 405
    assert answer.headers["Allow"] == "POST"


def test_stop_is_idempotent_and_final() -> None:
    server = MockAuthorizationServer()
    meta = server.server_metadata()
    c = OAuth2Client(meta, server.client("app"), Urllib3Transport(timeout=5))
    assert c.client_credentials().access_token  # leaves a keep-alive connection open
    server.stop()
    server.stop()
    with pytest.raises(oc.OAuth2Error):
        c.client_credentials()


def test_reprs_hide_secrets(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    token = app.password("alice", "wonderland")
    shown = " ".join(
        repr(x)
        for x in (server, *server.requests, MockClient("a", "app-secret"), server.client("app"))
    )
    for secret in ("app-secret", "wonderland", token.access_token, token.refresh_token or "?"):
        assert secret not in shown
