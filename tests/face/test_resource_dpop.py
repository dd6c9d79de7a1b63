"""``OAuth2Auth.for_resource(..., dpop_key=key)`` against the mock server (RFC 9449).

Every hook flavour (requests, httpx sync and async, httpx2 sync and async) runs
the resource-first chain with the key: the authorization names the key's
thumbprint (``dpop_jkt``, §10), the code exchange and the refreshes carry
proofs (§5), and each resource request goes out as ``Authorization: DPoP`` with
a fresh proof whose ``ath`` is the token's hash (§7.1). The mock verifies all of
it and its resource reports ``token_type`` DPoP for a bound token presented
with its proof. Nonce challenges (§9) are answered once, at the token endpoint
and at the resource; step-up and ``store=`` keep working with a bound token.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import requests
from face_helpers import call, follow_authorization

import oauth2_core as oc
from oauth2_transports import FileTokenStore
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth
from oauth2_transports.testing import MockAuthorizationServer

REDIRECT = "http://127.0.0.1:8765/callback"
METADATA = {"client_name": "acme", "redirect_uris": [REDIRECT]}
KEY = oc.generate_dpop_key("ES256")
OTHER = oc.generate_dpop_key("ES256")

#: ``(status, [statuses of the history], JSON body or None)``
Answer = tuple[int, list[int], Any]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _requests(auth: object, url: str) -> Answer:
    answer = requests.get(url, auth=auth, timeout=10)  # type: ignore[arg-type]
    return answer.status_code, [r.status_code for r in answer.history], _json(answer.text)


def _httpx_sync(auth: object, url: str) -> Answer:
    with httpx.Client(auth=auth) as client:  # type: ignore[arg-type]
        answer = client.get(url)
    return answer.status_code, [r.status_code for r in answer.history], _json(answer.text)


def _httpx_async(auth: object, url: str) -> Answer:
    async def main() -> Answer:
        async with httpx.AsyncClient(auth=auth) as client:  # type: ignore[arg-type]
            answer = await client.get(url)
        return answer.status_code, [r.status_code for r in answer.history], _json(answer.text)

    return asyncio.run(main())


def _httpx2_sync(auth: object, url: str) -> Answer:
    httpx2 = pytest.importorskip("httpx2")
    with httpx2.Client(auth=auth) as client:
        answer = client.get(url)
    return answer.status_code, [r.status_code for r in answer.history], _json(answer.text)


def _httpx2_async(auth: object, url: str) -> Answer:
    httpx2 = pytest.importorskip("httpx2")

    async def main() -> Answer:
        async with httpx2.AsyncClient(auth=auth) as client:
            answer = await client.get(url)
        return answer.status_code, [r.status_code for r in answer.history], _json(answer.text)

    return asyncio.run(main())


FLAVOURS = {
    "requests": _requests,
    "httpx-sync": _httpx_sync,
    "httpx-async": _httpx_async,
    "httpx2-sync": _httpx2_sync,
    "httpx2-async": _httpx2_async,
}


def _make(flavour: str, **options: Any) -> Any:
    options = {"client_metadata": METADATA, "dpop_key": KEY, **options}
    options.setdefault("authorize", Browser())
    if flavour == "requests":
        return RequestsAuth.for_resource(**options)
    if flavour.startswith("httpx2"):
        pytest.importorskip("httpx2")
        from oauth2_transports.httpx2 import OAuth2Auth as Httpx2Auth

        return Httpx2Auth.for_resource(**options)
    return HttpxAuth.for_resource(**options)


class Browser:
    """``authorize(url)``: follows the auto-approving mock, remembering each URL."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> str:
        self.urls.append(url)
        return follow_authorization(url)


def no_browser(url: str) -> str:
    raise AssertionError("no authorization expected")


def _counts(server: MockAuthorizationServer) -> dict[str, int]:
    paths = Counter(r.path for r in server.requests)
    return {
        "register": paths["/register"],
        "authorize": paths["/authorize"],
        "token": paths["/token"],
    }


def _resource_requests(server: MockAuthorizationServer) -> list[Any]:
    return [r for r in server.requests if r.path == "/resource"]


def _claims(proof: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(proof)
    public = jwt.PyJWK.from_dict(header["jwk"])
    # The signature is checked; iat may be on the mock's (advanced) clock.
    claims: dict[str, Any] = jwt.decode(
        proof, public.key, algorithms=[header["alg"]], options={"verify_iat": False}
    )
    return claims


def _ath(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def nonce_server() -> Any:
    with MockAuthorizationServer(require_dpop_nonce=True) as s:
        yield s


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_every_flavour_gets_a_dpop_bound_token(
    server: MockAuthorizationServer, flavour: str
) -> None:
    browser = Browser()
    auth = _make(flavour, authorize=browser)
    get = FLAVOURS[flavour]
    status, history, data = get(auth, server.resource_url)
    assert (status, history) == (200, [401]), data
    assert data["token_type"] == "DPoP"  # the mock checked the proof and its key's binding
    assert get(auth, server.resource_url)[:2] == (200, [])
    assert _counts(server) == {"register": 1, "authorize": 1, "token": 1}
    # RFC 9449 §10: the code is bound to the key's thumbprint.
    assert parse_qs(urlsplit(browser.urls[0]).query)["dpop_jkt"] == [oc.dpop_jkt(KEY)]
    exchange = next(r for r in server.requests if r.path == "/token")
    assert _claims(exchange.headers["dpop"])["htm"] == "POST"
    # §7.1: the scheme is DPoP and each request has its own proof with ath.
    sent = _resource_requests(server)[1:]
    scheme, _, access_token = sent[0].headers["authorization"].partition(" ")
    assert scheme == "DPoP"
    proofs = [_claims(r.headers["dpop"]) for r in sent]
    assert all(p["ath"] == _ath(access_token) for p in proofs)
    assert len({p["jti"] for p in proofs}) == len(proofs)
    assert auth.session is not None and auth.session.token.token_type == "DPoP"


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_nonce_challenges_at_the_token_endpoint_and_the_resource_are_answered_once(
    nonce_server: MockAuthorizationServer, flavour: str
) -> None:
    auth = _make(flavour)
    get = FLAVOURS[flavour]
    status, history, data = get(auth, nonce_server.resource_url)
    assert (status, history) == (200, [401]), data
    assert data["token_type"] == "DPoP"
    # The exchange was challenged once (400 use_dpop_nonce) and sent again with the nonce;
    # the resource shares the token endpoint's origin, so its first proof had the nonce.
    assert _counts(nonce_server) == {"register": 1, "authorize": 1, "token": 2}
    exchanges = [r for r in nonce_server.requests if r.path == "/token"]
    assert "nonce" not in _claims(exchanges[0].headers["dpop"])
    assert "nonce" in _claims(exchanges[1].headers["dpop"])
    # A new nonce: the resource asks for it (401 use_dpop_nonce), the hook resends once.
    nonce_server.rotate_dpop_nonce()
    before = len(_resource_requests(nonce_server))
    status, history, data = get(auth, nonce_server.resource_url)
    assert (status, history) == (200, [401]), data
    assert len(_resource_requests(nonce_server)) == before + 2
    assert _counts(nonce_server) == {"register": 1, "authorize": 1, "token": 2}  # no new token


def test_a_resource_that_keeps_asking_for_a_new_nonce_gets_one_resend(
    nonce_server: MockAuthorizationServer,
) -> None:
    """Two nonce challenges in a row: the second 401 goes to the caller, no loop."""
    auth = _make("httpx-sync")
    assert _httpx_sync(auth, nonce_server.resource_url)[:2] == (200, [401])
    before = len(_resource_requests(nonce_server))

    def rotating(request: httpx.Request) -> None:
        nonce_server.rotate_dpop_nonce()  # every request meets a nonce it does not know

    with httpx.Client(auth=auth, event_hooks={"request": [rotating]}) as client:
        answer = client.get(nonce_server.resource_url)
    assert answer.status_code == 401
    assert 'error="use_dpop_nonce"' in answer.headers["www-authenticate"]
    assert len(_resource_requests(nonce_server)) == before + 2
    assert _counts(nonce_server)["authorize"] == 1


@pytest.mark.parametrize("flavour", ["requests", "httpx-sync", "httpx-async"])
def test_step_up_works_with_dpop(server: MockAuthorizationServer, flavour: str) -> None:
    browser = Browser()
    auth = _make(flavour, authorize=browser)
    get = FLAVOURS[flavour]
    assert get(auth, server.resource_url)[:2] == (200, [401])
    server.set_resource_scopes(["resource:read", "resource:write"])
    status, history, data = get(auth, server.resource_url)
    assert (status, history) == (200, [403]), data
    assert data["token_type"] == "DPoP"
    assert data["scope"] == "resource:read resource:write"
    # Every authorization binds its code to the key.
    assert all(parse_qs(urlsplit(u).query)["dpop_jkt"] == [oc.dpop_jkt(KEY)] for u in browser.urls)
    # As without DPoP: the mock limits the registered scope, so the client registers again.
    assert _counts(server) == {"register": 2, "authorize": 3, "token": 2}


def test_a_dpop_invalid_token_challenge_refreshes_like_a_bearer_one(
    server: MockAuthorizationServer,
) -> None:
    """A revoked bound token: 401 ``DPoP error="invalid_token"``, a refresh, one resend."""
    auth = _make("httpx-sync")
    assert _httpx_sync(auth, server.resource_url)[:2] == (200, [401])
    _, _, access_token = _resource_requests(server)[-1].headers["authorization"].partition(" ")
    client_id = auth.session.client.client_id
    assert (
        call(
            "POST", server.url("/revoke"), form={"token": access_token, "client_id": client_id}
        ).status
        == 200
    )
    status, history, data = _httpx_sync(auth, server.resource_url)
    assert (status, history) == (200, [401]), data
    refused = _resource_requests(server)[-2]
    assert refused.headers["authorization"] == f"DPoP {access_token}"
    assert data["token_type"] == "DPoP"
    refresh = [r for r in server.requests if r.path == "/token"][-1]
    assert refresh.form["grant_type"] == "refresh_token" and "dpop" in refresh.headers
    assert _counts(server) == {"register": 1, "authorize": 1, "token": 2}


@pytest.mark.parametrize("flavour", ["requests", "httpx-async"])
def test_a_restart_with_store_reuses_the_bound_token_with_the_same_key(
    server: MockAuthorizationServer, flavour: str, tmp_path: Path
) -> None:
    path = tmp_path / "token.json"
    get = FLAVOURS[flavour]
    first = _make(flavour, store=FileTokenStore(path))
    assert get(first, server.resource_url)[:2] == (200, [401])
    before = _counts(server)
    saved = path.read_text()
    assert str(KEY["d"]) not in saved and str(KEY["x"]) not in saved  # the key is never stored

    again = _make(flavour, store=FileTokenStore(path), authorize=no_browser)
    status, history, data = get(again, server.resource_url)
    assert (status, history) == (200, []), data
    assert data["token_type"] == "DPoP"
    assert _counts(server) == before

    # Expired: refreshed with a proof of the same key (dated on the server's clock).
    server.advance(7200)

    def clock() -> dt.datetime:
        return dt.datetime.fromtimestamp(server.now(), dt.timezone.utc)

    third = _make(flavour, store=FileTokenStore(path), authorize=no_browser, clock=clock)
    status, history, data = get(third, server.resource_url)
    assert (status, history) == (200, []), data
    assert data["token_type"] == "DPoP"
    assert _counts(server) == {**before, "token": before["token"] + 1}
    refresh = [r for r in server.requests if r.path == "/token"][-1]
    assert refresh.form["grant_type"] == "refresh_token"
    assert _claims(refresh.headers["dpop"])["htm"] == "POST"


def test_a_restart_with_another_key_is_refused_by_the_resource(
    server: MockAuthorizationServer, tmp_path: Path
) -> None:
    """The stored token is bound to the first key: a proof by another is no use (§7.1)."""
    path = tmp_path / "token.json"
    first = _make("httpx-sync", store=FileTokenStore(path))
    assert _httpx_sync(first, server.resource_url)[:2] == (200, [401])
    other = _make("httpx-sync", store=FileTokenStore(path), authorize=no_browser, dpop_key=OTHER)
    status, _, data = _httpx_sync(other, server.resource_url)
    assert status == 401 and data["error"] == "invalid_dpop_proof"


def test_a_bad_dpop_key_is_a_usage_error_at_once() -> None:
    with pytest.raises(oc.UsageError):
        HttpxAuth.for_resource(
            client_metadata=METADATA, authorize=no_browser, dpop_key={"kty": "oct", "k": "c2VjcmV0"}
        )


def test_the_key_never_shows_in_a_repr() -> None:
    auth = HttpxAuth.for_resource(client_metadata=METADATA, authorize=no_browser, dpop_key=KEY)
    shown = repr(auth.authorizer.settings) + repr(auth.authorizer.dpop.nonces)
    assert str(KEY["d"]) not in shown
