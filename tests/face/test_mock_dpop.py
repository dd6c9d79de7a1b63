"""DPoP at the mock server (RFC 9449): the library's clients and hooks end to end, every refusal.

The clients (``OAuth2Client`` / ``AsyncOAuth2Client`` with ``dpop_key=``) get tokens bound to
their key from every grant; the requests and httpx hooks present them at the mock's protected
resource and UserInfo. Raw requests send the proofs the library would never build, each
checked against RFC 9449 §4.3 (token endpoint: 400 ``invalid_dpop_proof``; resources: 401
with a ``WWW-Authenticate: DPoP`` challenge).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
import requests
import urllib3
from face_helpers import basic, body, call, follow_authorization

import oauth2_core as oc
from oauth2_transports import AsyncOAuth2Client, OAuth2Client
from oauth2_transports.httpx import AsyncHttpxTransport
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth
from oauth2_transports.testing import MockAuthorizationServer, MockClient
from oauth2_transports.urllib3 import Urllib3Transport

KEY = oc.generate_dpop_key("ES256")
OTHER = oc.generate_dpop_key("ES256")
REDIRECT = "http://127.0.0.1:8765/callback"
CLIENTS = (
    MockClient("app", "app-secret"),
    MockClient("cli", redirect_uris=[REDIRECT]),
    MockClient("always-dpop", "s3cr3t", dpop_bound_access_tokens=True),
    MockClient("nonce-app", "s3cr3t", require_dpop_nonce=True),
)


@pytest.fixture
def server() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(clients=CLIENTS, device_interval=1) as s:
        yield s


@pytest.fixture
def nonce_server() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(clients=CLIENTS, require_dpop_nonce=True) as s:
        yield s


@pytest.fixture
def transport() -> Iterator[Urllib3Transport]:
    t = Urllib3Transport(timeout=10)
    yield t
    t.close()


def client_of(
    server: MockAuthorizationServer,
    transport: Urllib3Transport,
    client_id: str = "app",
    key: Any = KEY,
) -> OAuth2Client:
    client = (
        oc.Client("cli", redirect_uri=REDIRECT) if client_id == "cli" else server.client(client_id)
    )
    return OAuth2Client(server.server_metadata(), client, transport, dpop_key=key)


def resource_token(c: OAuth2Client, server: MockAuthorizationServer) -> oc.Token:
    return c.client_credentials(scope="resource:read", resource=server.resource_url)


def proof(
    server: MockAuthorizationServer,
    method: str = "POST",
    path: str = "/token",
    *,
    key: Any = KEY,
    alg: str = "ES256",
    header: dict[str, object] | None = None,
    drop: tuple[str, ...] = (),
    **claims: object,
) -> str:
    """A proof signed by hand, so each §4.3 check can be broken on its own."""
    signing = jwt.PyJWK(key, algorithm="ES256").key
    public = {k: v for k, v in key.items() if k not in ("d", "alg")}
    fields: dict[str, object] = {"typ": "dpop+jwt", "jwk": public, **(header or {})}
    body_claims: dict[str, object] = {
        "jti": secrets.token_urlsafe(12),
        "htm": method,
        "htu": server.url(path),
        "iat": int(server.now()),
        **claims,
    }
    body_claims = {k: v for k, v in body_claims.items() if k not in drop}
    if alg == "HS256":
        return jwt.encode(body_claims, "a-shared-secret-of-32-bytes-long!", "HS256", fields)
    return jwt.encode(body_claims, signing, algorithm=alg, headers=fields)


def cc_form() -> dict[str, str]:
    return {"grant_type": "client_credentials"}


# -- the library's clients, end to end --------------------------------------------------


def test_code_flow_with_pkce_and_dpop_jkt_binds_code_access_and_refresh_token(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport, "cli")
    pending = oc.new_pending_authorization(c.client)
    url = c.authorization_url(pending, scope="openid profile")
    assert f"dpop_jkt={oc.dpop_jkt(KEY)}" in url  # RFC 9449 §10
    token = c.exchange_code(pending, follow_authorization(url))
    assert token.token_type == "DPoP"
    exchange = next(r for r in server.requests if r.form.get("grant_type") == "authorization_code")
    assert "dpop" in exchange.headers
    refreshed = c.refresh(token)
    assert refreshed.token_type == "DPoP"
    assert refreshed.refresh_token != token.refresh_token  # rotated, and bound again
    # §5: a public client's refresh token is bound: another key cannot use it.
    thief = client_of(server, transport, "cli", key=OTHER)
    with pytest.raises(oc.EndpointError) as caught:
        thief.refresh(refreshed)
    assert caught.value.error == "invalid_dpop_proof"
    assert c.refresh(refreshed).token_type == "DPoP"  # the refusal did not spend it


def test_a_code_bound_by_dpop_jkt_is_redeemed_only_with_that_key(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport, "cli")
    pending = oc.new_pending_authorization(c.client)
    callback = follow_authorization(c.authorization_url(pending, scope="profile"))
    for other in (
        client_of(server, transport, "cli", key=OTHER),
        client_of(server, transport, "cli", key=None),
    ):
        with pytest.raises(oc.EndpointError) as caught:
            other.exchange_code(pending, callback)
        assert caught.value.error == "invalid_dpop_proof"
    assert c.exchange_code(pending, callback).token_type == "DPoP"


def test_a_pushed_request_with_a_proof_binds_the_code(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport, "cli", key=None)
    pending = oc.new_pending_authorization(c.client)
    form = {
        "client_id": "cli",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": pending.state,
        "code_challenge": oc.code_challenge(pending.code_verifier or ""),
        "code_challenge_method": "S256",
    }
    pushed = call(
        "POST", server.url("/par"), form=form, headers={"DPoP": proof(server, path="/par")}
    )
    assert pushed.status == 201
    request_uri = str(body(pushed)["request_uri"])
    location = follow_authorization(
        server.url(f"/authorize?client_id=cli&request_uri={request_uri}")
    )
    with pytest.raises(oc.EndpointError) as caught:
        c.exchange_code(pending, location)  # no proof: the code is bound to KEY
    assert caught.value.error == "invalid_dpop_proof"
    bound = client_of(server, transport, "cli")
    assert bound.exchange_code(pending, location).token_type == "DPoP"


def test_a_pushed_request_whose_proof_and_dpop_jkt_disagree_is_refused(
    server: MockAuthorizationServer,
) -> None:
    form = {"client_id": "cli", "response_type": "code", "dpop_jkt": oc.dpop_jkt(OTHER)}
    answer = call(
        "POST", server.url("/par"), form=form, headers={"DPoP": proof(server, path="/par")}
    )
    assert answer.status == 400 and body(answer)["error"] == "invalid_dpop_proof"


def test_client_credentials_is_bound_and_introspection_names_the_key(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport)
    token = c.client_credentials(scope="read")
    assert token.token_type == "DPoP"
    plain = OAuth2Client(server.server_metadata(), server.client("app"), transport)
    info = plain.introspect(token.access_token)
    assert info.active and info.token_type == "DPoP"
    assert info.extra["cnf"] == {"jkt": oc.dpop_jkt(KEY)}  # RFC 9449 §6.2
    assert plain.client_credentials().token_type == "Bearer"  # no proof, no binding


def test_the_device_grant_is_bound(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport)
    auth = c.device_authorization(scope="read")
    server.approve_device(auth.user_code)
    token = c.poll_device(auth)
    assert token.token_type == "DPoP"
    polls = [r for r in server.requests if r.form.get("grant_type", "").endswith("device_code")]
    assert polls and all("dpop" in r.headers for r in polls)


def test_the_async_client_gets_bound_tokens_and_refreshes_them(
    server: MockAuthorizationServer,
) -> None:
    async def main() -> tuple[oc.Token, oc.Token]:
        async with AsyncHttpxTransport(timeout=10) as t:
            c = AsyncOAuth2Client(
                server.server_metadata(), oc.Client("cli", redirect_uri=REDIRECT), t, dpop_key=KEY
            )
            pending = oc.new_pending_authorization(c.client)
            url = await c.authorization_url(pending, scope="profile")
            token = await c.exchange_code(pending, follow_authorization(url))
            return token, await c.refresh(token)

    token, refreshed = asyncio.run(main())
    assert token.token_type == refreshed.token_type == "DPoP"


def test_a_client_registered_with_dpop_bound_access_tokens_must_send_a_proof(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    with pytest.raises(oc.EndpointError) as caught:
        client_of(server, transport, "always-dpop", key=None).client_credentials()
    assert caught.value.error == "invalid_dpop_proof"
    assert client_of(server, transport, "always-dpop").client_credentials().token_type == "DPoP"


# -- nonces (RFC 9449 §8, §9) --------------------------------------------------------------


def test_token_endpoint_nonce_challenge_is_answered_once_by_the_client(
    nonce_server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(nonce_server, transport)
    assert c.client_credentials().token_type == "DPoP"
    first, second = nonce_server.requests[-2:]
    assert (first.status, first.error) == (400, "use_dpop_nonce")
    assert second.status == 200
    c.client_credentials()  # the nonce handed out is reused: no second challenge
    assert nonce_server.requests[-1].status == 200 and len(nonce_server.requests) == 3
    nonce_server.rotate_dpop_nonce()
    c.client_credentials()
    assert [r.error for r in nonce_server.requests[-2:]] == ["use_dpop_nonce", None]


def test_a_stale_or_missing_nonce_is_answered_with_the_current_one(
    nonce_server: MockAuthorizationServer,
) -> None:
    answer = call(
        "POST",
        nonce_server.url("/token"),
        form=cc_form(),
        headers={**basic("app", "app-secret"), "DPoP": proof(nonce_server)},
    )
    assert answer.status == 400 and body(answer)["error"] == "use_dpop_nonce"
    nonce = answer.headers["DPoP-Nonce"]
    good = proof(nonce_server, nonce=nonce)
    answer = call(
        "POST",
        nonce_server.url("/token"),
        form=cc_form(),
        headers={**basic("app", "app-secret"), "DPoP": good},
    )
    assert answer.status == 200 and answer.headers["DPoP-Nonce"] == nonce
    nonce_server.rotate_dpop_nonce()
    stale = proof(nonce_server, nonce=nonce)
    answer = call(
        "POST",
        nonce_server.url("/token"),
        form=cc_form(),
        headers={**basic("app", "app-secret"), "DPoP": stale},
    )
    assert body(answer)["error"] == "use_dpop_nonce" and answer.headers["DPoP-Nonce"] != nonce


def test_a_nonce_can_be_required_of_one_client_only(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    client_of(server, transport).client_credentials()
    assert server.requests[-1].status == 200 and len(server.requests) == 1
    assert client_of(server, transport, "nonce-app").client_credentials().token_type == "DPoP"
    assert [r.error for r in server.requests[1:]] == ["use_dpop_nonce", None]


# -- the auth hooks at the mock's resource -----------------------------------------------------


@pytest.mark.parametrize("kind", ["requests", "httpx"])
def test_hooks_present_a_bound_token_and_answer_the_resource_nonce_challenge(
    nonce_server: MockAuthorizationServer, transport: Urllib3Transport, kind: str
) -> None:
    c = client_of(nonce_server, transport)
    token = resource_token(c, nonce_server)
    nonce_server.rotate_dpop_nonce()  # the hook's first proof carries a stale nonce
    if kind == "requests":
        answer = requests.get(
            nonce_server.resource_url, auth=RequestsAuth(token, dpop_key=KEY), timeout=10
        )
        status, data = answer.status_code, answer.json()
    else:
        with httpx.Client(auth=HttpxAuth(token, dpop_key=KEY), timeout=10) as h:
            response = h.get(nonce_server.resource_url)
            status, data = response.status_code, response.json()
    assert status == 200 and data["token_type"] == "DPoP"
    first, second = nonce_server.requests[-2:]
    assert (first.status, first.error) == (401, "use_dpop_nonce")
    assert second.status == 200 and second.headers["authorization"].startswith("DPoP ")


def test_the_async_httpx_hook_presents_a_bound_token(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    token = resource_token(client_of(server, transport), server)

    async def main() -> int:
        async with httpx.AsyncClient(auth=HttpxAuth(token, dpop_key=KEY), timeout=10) as h:
            return (await h.get(server.resource_url)).status_code

    assert asyncio.run(main()) == 200


def test_userinfo_takes_a_bound_token_with_its_proof(
    server: MockAuthorizationServer, transport: Urllib3Transport
) -> None:
    c = client_of(server, transport, "cli")
    pending = oc.new_pending_authorization(c.client)
    token = c.exchange_code(
        pending, follow_authorization(c.authorization_url(pending, scope="openid"))
    )
    assert c.userinfo(token).sub == "alice"
    assert server.requests[-1].headers["authorization"].startswith("DPoP ")


# -- refusals at the resource (RFC 9449 §7) ---------------------------------------------------


def _dpop_challenge(answer: Any) -> str:
    challenge = str(answer.headers["WWW-Authenticate"])
    assert challenge.startswith("DPoP ")
    return challenge


@pytest.mark.parametrize("path", ["/resource", "/userinfo"])
def test_a_bound_token_presented_as_bearer_is_refused(
    server: MockAuthorizationServer, transport: Urllib3Transport, path: str
) -> None:
    token = resource_token(client_of(server, transport), server)
    answer = call(
        "GET", server.url(path), headers={"Authorization": f"Bearer {token.access_token}"}
    )
    assert answer.status == 401 and 'error="invalid_token"' in _dpop_challenge(answer)


@pytest.mark.parametrize("path", ["/resource", "/userinfo"])
def test_a_proof_by_another_key_or_with_a_wrong_ath_is_refused_at_a_resource(
    server: MockAuthorizationServer, transport: Urllib3Transport, path: str
) -> None:
    token = resource_token(client_of(server, transport), server)
    good = oc.dpop_request(
        oc.HttpRequest("GET", server.url(path)),
        KEY,
        now=dt.datetime.now(dt.timezone.utc),
        access_token=token,
    )
    wrong_key = oc.dpop_request(
        oc.HttpRequest("GET", server.url(path)),
        OTHER,
        now=dt.datetime.now(dt.timezone.utc),
        access_token=token,
    )
    wrong_ath = proof(server, "GET", path, ath="not-the-hash")
    auth = f"DPoP {token.access_token}"
    for dpop in (wrong_key.headers["dpop"], wrong_ath):
        answer = call("GET", server.url(path), headers={"Authorization": auth, "DPoP": dpop})
        assert answer.status == 401
        assert 'error="invalid_dpop_proof"' in _dpop_challenge(answer)
    answer = call("GET", server.url(path), headers=dict(good.headers.fields()))
    # The right proof passes: UserInfo then finds no user in a client's own token.
    assert answer.status == (200 if path == "/resource" else 403)


def test_an_unbound_token_presented_with_the_dpop_scheme_is_refused(
    server: MockAuthorizationServer,
) -> None:
    token = str(server.issue_token(scope="resource:read")["access_token"])
    answer = call(
        "GET",
        server.url("/userinfo"),
        headers={"Authorization": f"DPoP {token}", "DPoP": proof(server, "GET", "/userinfo")},
    )
    assert answer.status == 401 and 'error="invalid_token"' in _dpop_challenge(answer)


# -- refusals at the token endpoint (RFC 9449 §4.3) ------------------------------------------


def _broken_proofs(server: MockAuthorizationServer) -> dict[str, tuple[str, str]]:
    """Each proof breaks one check of RFC 9449 §4.3, with the refusal's reason."""
    private = {k: v for k, v in KEY.items() if k != "alg"}
    now = int(server.now())
    tampered = proof(server).rsplit(".", 1)[0] + "." + proof(server, key=OTHER).rsplit(".", 1)[1]
    return {
        "typ": (proof(server, header={"typ": "JWT"}), "typ"),
        "symmetric alg": (proof(server, alg="HS256"), "signed with one of"),
        "private jwk": (proof(server, header={"jwk": private}), "private key"),
        "no jwk": (proof(server, header={"jwk": None}), "no jwk"),
        "signature": (tampered, "signature"),
        "htm": (proof(server, "GET"), "htm"),
        "htu path": (proof(server, path="/introspect"), "htu"),
        "htu query": (proof(server, path="/token?x=1"), "htu"),
        "htu host": (proof(server, htu="http://other.example/token"), "htu"),
        "iat past": (proof(server, iat=now - 3600), "iat"),
        "iat future": (proof(server, iat=now + 3600), "iat"),
        "no jti": (proof(server, drop=("jti",)), "jti"),
        "not a jwt": ("not-a-jwt", "not a JWT"),
    }


def test_every_broken_proof_is_invalid_dpop_proof_at_the_token_endpoint(
    server: MockAuthorizationServer,
) -> None:
    for name, (dpop, reason) in _broken_proofs(server).items():
        answer = call(
            "POST",
            server.url("/token"),
            form=cc_form(),
            headers={**basic("app", "app-secret"), "DPoP": dpop},
        )
        assert (answer.status, body(answer)["error"]) == (400, "invalid_dpop_proof"), name
        assert reason in str(body(answer)["error_description"]), name
    assert not server._state.access_tokens


def test_a_replayed_proof_and_two_proof_fields_are_refused(server: MockAuthorizationServer) -> None:
    once = proof(server)
    headers = {**basic("app", "app-secret"), "DPoP": once}
    assert call("POST", server.url("/token"), form=cc_form(), headers=headers).status == 200
    again = call("POST", server.url("/token"), form=cc_form(), headers=headers)
    assert (again.status, body(again)["error"]) == (400, "invalid_dpop_proof")  # jti replayed
    # §4.3 item 1: not more than one DPoP field (urllib3 can repeat a field).
    pool_headers = [
        ("Authorization", headers["Authorization"]),
        ("DPoP", proof(server)),
        ("DPoP", proof(server)),
    ]
    answer = urllib3.PoolManager().request(
        "POST",
        server.url("/token"),
        body="grant_type=client_credentials",
        headers=urllib3.HTTPHeaderDict(
            [("Content-Type", "application/x-www-form-urlencoded"), *pool_headers]
        ),
    )
    assert (answer.status, json.loads(answer.data)["error"]) == (400, "invalid_dpop_proof")


def test_metadata_lists_the_proof_algorithms(server: MockAuthorizationServer) -> None:
    algs = server.metadata()["dpop_signing_alg_values_supported"]
    assert isinstance(algs, list) and {"ES256", "PS256", "EdDSA"} <= set(algs)
    assert "HS256" not in algs and "none" not in algs
    assert server.server_metadata().dpop_signing_alg_values_supported


def test_rotate_dpop_nonce_is_scriptable_over_http() -> None:
    with MockAuthorizationServer(control=True, require_dpop_nonce=True) as server:
        first = call(
            "POST",
            server.url("/token"),
            form=cc_form(),
            headers={**basic("app", "app-secret"), "DPoP": proof(server)},
        )
        nonce = first.headers["DPoP-Nonce"]
        script = json.dumps({"fault": "rotate_dpop_nonce"}).encode()
        rotated = urllib3.PoolManager().request("POST", server.url("/_mock/faults"), body=script)
        assert rotated.status == 204
        again = call(
            "POST",
            server.url("/token"),
            form=cc_form(),
            headers={**basic("app", "app-secret"), "DPoP": proof(server)},
        )
        assert again.headers["DPoP-Nonce"] != nonce


def test_the_mock_server_command_requires_nonces_when_asked() -> None:
    """``oauth2 mock-server --dpop-require-nonce``; the control endpoint renews the nonce."""
    from test_mock_server_command import READY, free_port, oauth2_process, read_until

    port = free_port()
    proc = oauth2_process("mock-server", "--port", str(port), "--dpop-require-nonce")
    try:
        read_until(proc.stdout, READY)
        base = f"http://127.0.0.1:{port}"
        with Urllib3Transport(timeout=10) as t:
            c = OAuth2Client.discover(base, oc.Client("app", "app-secret"), t, dpop_key=KEY)
            assert c.server.dpop_signing_alg_values_supported
            assert c.client_credentials().token_type == "DPoP"  # after one nonce challenge
            script = json.dumps({"fault": "rotate_dpop_nonce"}).encode()
            rotated = urllib3.PoolManager().request("POST", f"{base}/_mock/faults", body=script)
            assert rotated.status == 204
            assert c.client_credentials().token_type == "DPoP"  # the new nonce, once more
        stale = call(
            "POST",
            f"{base}/token",
            form=cc_form(),
            headers={**basic("app", "app-secret"), "DPoP": "x.y.z"},
        )
        assert body(stale)["error"] == "invalid_dpop_proof"
    finally:
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# -- FAPI 2.0 against a server that does not bind (RFC 9449 §5) ---------------------------


def _public(private: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in private.items() if k != "d"}


SIGNING = oc.generate_dpop_key("ES256")
FAPI_APP = MockClient("fapi-app", jwks={"keys": [_public(SIGNING)]}, redirect_uris=[REDIRECT])


def _fapi(server: MockAuthorizationServer, transport: Urllib3Transport) -> OAuth2Client:
    client = oc.Client(
        "fapi-app", auth_method="private_key_jwt", signing_key=SIGNING, redirect_uri=REDIRECT
    )
    return OAuth2Client(server.server_metadata(), client, transport, profile="fapi2", dpop_key=KEY)


def test_fapi2_gets_a_bound_token_from_the_mock_and_refreshes_it(
    transport: Urllib3Transport,
) -> None:
    with MockAuthorizationServer(clients=[FAPI_APP]) as server:
        c = _fapi(server, transport)
        pending = oc.new_pending_authorization(c.client)
        token = c.exchange_code(pending, follow_authorization(c.authorization_url(pending)))
        assert token.token_type == "DPoP"
        assert c.refresh(token).token_type == "DPoP"


def test_fapi2_refuses_a_bearer_answer_before_anyone_uses_it(
    transport: Urllib3Transport,
) -> None:
    """A server that ignores the proof answers Bearer: the code exchange is refused."""
    with MockAuthorizationServer(clients=[FAPI_APP], dpop=False) as server:
        assert "dpop_signing_alg_values_supported" not in server.metadata()
        c = _fapi(server, transport)
        pending = oc.new_pending_authorization(c.client)
        callback = follow_authorization(c.authorization_url(pending))
        with pytest.raises(oc.TokenBindingError) as caught:
            c.exchange_code(pending, callback)
        assert caught.value.token_type == "Bearer"
        plain = OAuth2Client(
            server.server_metadata(),
            server.client("fapi-app", signing_key=SIGNING),
            transport,
            dpop_key=KEY,
        )
        assert plain.client_credentials().token_type == "Bearer"  # outside fapi2: accepted
        strict = OAuth2Client(
            server.server_metadata(),
            server.client("fapi-app", signing_key=SIGNING),
            transport,
            dpop_key=KEY,
            require_dpop_binding=True,
        )
        with pytest.raises(oc.TokenBindingError):
            strict.client_credentials()
        bearer = plain.refresh(
            oc.Token("x", refresh_token=str(server.issue_token("fapi-app")["refresh_token"]))
        )
        assert bearer.token_type == "Bearer"
        fapi_refresh = _fapi(server, transport)
        with pytest.raises(oc.TokenBindingError):
            fapi_refresh.refresh(
                oc.Token("x", refresh_token=str(server.issue_token("fapi-app")["refresh_token"]))
            )


def test_require_dpop_binding_covers_device_and_ciba_polling(
    transport: Urllib3Transport,
) -> None:
    """A server that ignores the proof answers Bearer to the polls: refused like the others.

    ``poll_device`` and ``poll_backchannel`` run the one poll loop
    (``oauth2_core.polling.poll_flow``), which checks the binding before the token
    is returned.
    """
    with MockAuthorizationServer(clients=[FAPI_APP], device_interval=1, dpop=False) as server:
        strict = OAuth2Client(
            server.server_metadata(),
            server.client("fapi-app", signing_key=SIGNING),
            transport,
            dpop_key=KEY,
            require_dpop_binding=True,
        )
        auth = strict.device_authorization(scope="read")
        server.approve_device(auth.user_code)
        with pytest.raises(oc.TokenBindingError) as caught:
            strict.poll_device(auth)
        assert caught.value.token_type == "Bearer"
        req = strict.backchannel_authentication(scope="openid", login_hint="alice")
        server.approve_backchannel(req.auth_req_id)
        with pytest.raises(oc.TokenBindingError):
            strict.poll_backchannel(req)
