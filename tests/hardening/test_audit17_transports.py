"""Audit of issue 17 over real transports: the JWK set refetch bound, echoed CIBA secrets.

Against the mock authorization server on loopback, with each of the four adapters
(the sync verifier and client over urllib3, requests and httpx, the async ones
over httpx).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import secrets
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

import oauth2_core as oc
from oauth2_transports import (
    AccessTokenVerifier,
    AsyncAccessTokenVerifier,
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    HttpxTransport,
    OAuth2Client,
    RequestsTransport,
    Urllib3Transport,
)
from oauth2_transports.testing import MockAuthorizationServer

KINDS = ["urllib3", "requests", "httpx", "async-httpx"]
SYNC = {"urllib3": Urllib3Transport, "requests": RequestsTransport, "httpx": HttpxTransport}
RS = "https://rs.example"
FORGED_TOKENS = 50


@pytest.fixture(scope="module")
def mock() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer() as server:
        yield server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def call(loop: asyncio.AbstractEventLoop, value: Any) -> Any:
    return loop.run_until_complete(value) if inspect.isawaitable(value) else value


def verifier(kind: str, mock: MockAuthorizationServer) -> Any:
    if kind == "async-httpx":
        return AsyncAccessTokenVerifier(mock.issuer, audience=RS, server=mock.server_metadata())
    transport = SYNC[kind]()
    return AccessTokenVerifier(
        mock.issuer, audience=RS, server=mock.server_metadata(), transport=transport
    )


def close(loop: asyncio.AbstractEventLoop, closable: Any) -> None:
    if hasattr(closable, "aclose"):
        call(loop, closable.aclose())
    else:
        closable.close()


def with_random_kid(token: str) -> str:
    """The token's payload and signature under a header naming a key nobody has."""
    _, payload, signature = token.split(".")
    header = {"alg": "ES256", "typ": "at+jwt", "kid": secrets.token_hex(8)}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{signature}"


def jwks_fetches(mock: MockAuthorizationServer) -> int:
    return sum(1 for r in mock.requests if r.path.endswith("/jwks"))


@pytest.mark.parametrize("endpoint", ["working", "failing"])
def test_made_up_key_ids_cost_at_most_one_jwk_set_fetch(
    kind: str, mock: MockAuthorizationServer, endpoint: str
) -> None:
    """*audit*: with a failing JWK set endpoint every forged token cost one fetch (50 of 50).

    A resource server under a flood of tokens naming random ``kid`` values asks the
    issuer for its keys at most once per ``min_refetch_interval`` (30 s), whether the
    JWK set endpoint answers or fails.
    """
    loop = asyncio.new_event_loop()
    check = verifier(kind, mock)
    mock.clear_faults()
    mock.clear_requests()
    if endpoint == "failing":
        mock.fail_next(FORGED_TOKENS + 5, status=500, error="server_error", path="/jwks")
    genuine = mock.issue_jwt_access_token(audience=RS, scope="read")
    refused: set[type[BaseException]] = set()
    for _ in range(FORGED_TOKENS):
        with pytest.raises(oc.OAuth2Error) as info:
            call(loop, check.verify(with_random_kid(genuine)))
        refused.add(type(info.value))
    assert jwks_fetches(mock) == 1, jwks_fetches(mock)
    if endpoint == "working":
        assert refused == {oc.InvalidTokenError}
        assert call(loop, check.verify(genuine, scope="read")).sub == "alice"
        assert jwks_fetches(mock) == 1  # the genuine key was fetched with the first try
    else:
        # The first forged token saw the failure; the others were refused at once.
        assert oc.EndpointError in refused and oc.InvalidTokenError in refused
    mock.clear_faults()
    close(loop, check)
    loop.close()


def auth_req_forms(secret: str) -> set[str]:
    """The forms an echo may give the ``auth_req_id``: raw, percent, form, JSON, cut off."""
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        secret[:10],
    }


def test_an_echoed_auth_req_id_never_reaches_an_error(
    kind: str, mock: MockAuthorizationServer
) -> None:
    """The driver masks the ``auth_req_id`` a CIBA poll sent, whatever the server echoes."""
    loop = asyncio.new_event_loop()
    server, client = mock.server_metadata(), mock.client("app")
    if kind == "async-httpx":
        transport: Any = AsyncHttpxTransport()
        api: Any = AsyncOAuth2Client(server, client, transport)
    else:
        transport = SYNC[kind]()
        api = OAuth2Client(server, client, transport)
    mock.clear_faults()
    req = call(loop, api.backchannel_authentication(login_hint="alice", scope="openid"))
    assert req.auth_req_id not in repr(req) and req.auth_req_id not in str(req)
    mock.echo_next(path="/token")
    with pytest.raises(oc.EndpointError) as info:
        call(loop, api.poll_backchannel(req))
    texts = [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]
    texts += [repr(value) for value in vars(info.value).values()]
    forms = auth_req_forms(req.auth_req_id)
    leaks = [form for text in texts for form in forms if form in text]
    assert not leaks, leaks
    close(loop, transport)
    loop.close()
