"""Fault injection on loopback: every adapter, through the clients and through ``retry_flow``.

A :class:`FaultServer` refuses, resets, hangs, truncates, floods, answers HTML
error pages, rate-limits and redirects; each adapter must turn that into the
typed error the docs promise, never follow a redirect, and (with a
``RetryPolicy`` driven by ``run`` / ``arun``) recover with exactly the delays
the policy computes. No real sleeping: ``sleep`` is injected and records.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

import oauth2_core as oc
from oauth2_core.flows import token_flow
from oauth2_transports import (
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    FileTokenStore,
    HttpxTransport,
    OAuth2Client,
    RequestsTransport,
    TokenManager,
    TokenRefreshError,
    TransportError,
    Urllib3Transport,
    arun,
    run,
)

from ._fault_server import Fault, FaultServer, Recorded, closed_port

SECRET = "fault-secret-9f1c"
ADAPTERS = ["urllib3", "requests", "httpx", "async-httpx"]
_SYNC: dict[str, Callable[..., Any]] = {
    "urllib3": Urllib3Transport,
    "requests": RequestsTransport,
    "httpx": HttpxTransport,
}
#: Short enough that a hanging server ends a test quickly; only "hang" ever waits for it.
TIMEOUT = 0.5


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # A transport given its own session may read proxies from the environment.
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def target() -> Iterator[FaultServer]:
    """Where redirects point: a second loopback server that records whether it was hit."""
    with FaultServer() as running:
        yield running


def metadata(token_endpoint: str) -> oc.ServerMetadata:
    issuer = token_endpoint.rsplit("/", 1)[0]
    return oc.ServerMetadata(issuer=issuer, token_endpoint=token_endpoint)


def client(auth_method: str = "client_secret_basic") -> oc.Client:
    return oc.Client("fault-app", SECRET, auth_method=auth_method)


def client_credentials(adapter: str, server: oc.ServerMetadata, app: oc.Client) -> oc.Token:
    """``client_credentials(scope="read")`` through the adapter's client."""
    if adapter == "async-httpx":

        async def go() -> oc.Token:
            async with AsyncHttpxTransport(timeout=TIMEOUT) as transport:
                return await AsyncOAuth2Client(server, app, transport).client_credentials(
                    scope="read"
                )

        return asyncio.run(go())
    with _SYNC[adapter](timeout=TIMEOUT) as transport:
        return OAuth2Client(server, app, transport).client_credentials(scope="read")


def retried(
    adapter: str, server: oc.ServerMetadata, policy: oc.RetryPolicy
) -> tuple[oc.Token | BaseException, list[float]]:
    """A client-credentials ``retry_flow`` driven by ``run`` / ``arun``: (outcome, delays slept)."""
    slept: list[float] = []

    def make() -> oc.Flow[oc.Token]:
        return token_flow(oc.client_credentials_grant_request(server, client(), scope="read"))

    try:
        if adapter == "async-httpx":

            async def record(delay: float) -> None:
                slept.append(delay)

            async def go() -> oc.Token:
                async with AsyncHttpxTransport(timeout=TIMEOUT) as transport:
                    return await arun(oc.retry_flow(make, policy), transport, sleep=record)

            return asyncio.run(go()), slept
        with _SYNC[adapter](timeout=TIMEOUT) as transport:
            return run(oc.retry_flow(make, policy), transport, sleep=slept.append), slept
    except oc.OAuth2Error as exc:
        return exc, slept


def failure(adapter: str, server: oc.ServerMetadata, app: oc.Client | None = None) -> Exception:
    with pytest.raises(oc.OAuth2Error) as info:
        client_credentials(adapter, server, app or client())
    return info.value


# -- network failures: TransportError with the library's error as __cause__ ---------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_refused_connection_is_a_transport_error(adapter: str) -> None:
    exc = failure(adapter, metadata(f"http://127.0.0.1:{closed_port()}/token"))
    assert isinstance(exc, TransportError)
    assert exc.__cause__ is not None
    assert SECRET not in str(exc)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("kind", ["reset", "truncated", "hang"])
def test_broken_exchanges_are_transport_errors(
    adapter: str, kind: str, server: FaultServer
) -> None:
    server.script(Fault(kind))
    exc = failure(adapter, metadata(server.url()))
    assert isinstance(exc, TransportError)
    assert exc.__cause__ is not None
    assert SECRET not in str(exc)
    assert len(server.requests) == 1  # never retried by the adapter
    if kind == "hang":
        assert "timed out" in str(exc)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_oversize_body_is_cut_off_at_the_cap(adapter: str, server: FaultServer) -> None:
    server.script(Fault("oversize"))
    exc = failure(adapter, metadata(server.url()))
    assert isinstance(exc, TransportError)
    assert "exceeds" in str(exc)


# -- error answers: EndpointError / MalformedResponseError -----------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("status", [500, 503])
def test_html_error_pages_are_retryable_endpoint_errors(
    adapter: str, status: int, server: FaultServer
) -> None:
    server.script(Fault.html(status))
    exc = failure(adapter, metadata(server.url()))
    assert isinstance(exc, oc.EndpointError)
    assert (exc.status, exc.error, exc.retryable) == (status, None, True)
    assert "text/html" in str(exc)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_429_carries_retry_after(adapter: str, server: FaultServer) -> None:
    server.script(Fault.html(429, ("Retry-After", "2")))
    exc = failure(adapter, metadata(server.url()))
    assert isinstance(exc, oc.EndpointError)
    assert (exc.status, exc.retryable, exc.retry_after) == (429, True, 2.0)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_html_with_200_is_a_malformed_response(adapter: str, server: FaultServer) -> None:
    server.script(Fault.html(200))
    exc = failure(adapter, metadata(server.url()))
    assert isinstance(exc, oc.MalformedResponseError)
    assert not isinstance(exc, oc.EndpointError)
    assert "text/html" in str(exc)


# -- redirects: returned, never followed, credentials never leave for the target --------------


def _leaked(requests: list[Recorded]) -> list[str]:
    found = []
    for r in requests:
        if r.header("authorization") is not None:
            found.append("authorization header")
        if SECRET.encode() in r.body or "client_secret" in parse_qs(r.body.decode("latin-1")):
            found.append("client_secret in body")
    return found


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_redirects_on_the_token_endpoint_are_not_followed(
    adapter: str, status: int, auth_method: str, server: FaultServer, target: FaultServer
) -> None:
    server.script(Fault.redirect(status, target.url("/stolen")))
    exc = failure(adapter, metadata(server.url()), client(auth_method))
    assert isinstance(exc, oc.EndpointError)
    assert (exc.status, exc.retryable) == (status, False)
    assert target.requests == []
    assert _leaked(target.requests) == []
    # The original request did carry the credentials, so the check above means something.
    assert _leaked(server.requests) != []


@pytest.mark.parametrize("adapter", ["urllib3", "requests", "httpx"])
def test_a_redirect_is_returned_as_a_response(
    adapter: str, server: FaultServer, target: FaultServer
) -> None:
    server.script(Fault.redirect(307, target.url("/stolen")))
    with _SYNC[adapter](timeout=TIMEOUT) as transport:
        response = transport.send(oc.HttpRequest("POST", server.url(), body=b"x=1"))
    assert response.status == 307
    assert response.headers["location"] == target.url("/stolen")
    assert target.requests == []


# -- recovery with a RetryPolicy, driven by run / arun --------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_503_then_200_succeeds_after_the_backoff(adapter: str, server: FaultServer) -> None:
    server.script(Fault.html(503), Fault.ok("at-second"))
    outcome, slept = retried(adapter, metadata(server.url()), oc.RetryPolicy())
    assert isinstance(outcome, oc.Token)
    assert outcome.access_token == "at-second"
    assert slept == [0.5]
    assert len(server.requests) == 2


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_429_retry_after_is_slept_then_200(adapter: str, server: FaultServer) -> None:
    server.script(Fault.error(429, "slow_down", ("Retry-After", "2")), Fault.ok())
    outcome, slept = retried(adapter, metadata(server.url()), oc.RetryPolicy())
    assert isinstance(outcome, oc.Token)
    assert slept == [2.0]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_network_failures_are_retried_with_growing_delays(
    adapter: str, server: FaultServer
) -> None:
    server.script(Fault("reset"), Fault("truncated"), Fault.html(502), Fault.ok("at-fourth"))
    policy = oc.RetryPolicy(attempts=4, initial_delay=1.0, multiplier=3.0)
    outcome, slept = retried(adapter, metadata(server.url()), policy)
    assert isinstance(outcome, oc.Token)
    assert outcome.access_token == "at-fourth"
    assert slept == [1.0, 3.0, 9.0]
    # Every attempt is a fresh, complete request with the credentials.
    assert len(server.requests) == 4
    assert len({r.body for r in server.requests}) == 1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_refused_every_time_gives_up_after_the_attempts(adapter: str) -> None:
    outcome, slept = retried(
        adapter, metadata(f"http://127.0.0.1:{closed_port()}/token"), oc.RetryPolicy()
    )
    assert isinstance(outcome, TransportError)
    assert outcome.__cause__ is not None
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_invalid_grant_is_not_retried(adapter: str, server: FaultServer) -> None:
    server.script(Fault.error(400, "invalid_grant"))
    outcome, slept = retried(adapter, metadata(server.url()), oc.RetryPolicy())
    assert isinstance(outcome, oc.EndpointError)
    assert outcome.error == "invalid_grant"
    assert slept == []
    assert len(server.requests) == 1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_redirect_is_not_retried(adapter: str, server: FaultServer, target: FaultServer) -> None:
    server.script(Fault.redirect(302, target.url("/stolen")))
    outcome, slept = retried(adapter, metadata(server.url()), oc.RetryPolicy())
    assert isinstance(outcome, oc.EndpointError)
    assert slept == []
    assert target.requests == []


# -- the client's opt-in retry: client credentials and refresh, never a code exchange ------------

#: No waiting, so the client's real sleep is never called: only the attempts count here.
NO_WAIT = oc.RetryPolicy(initial_delay=0, honour_retry_after=False)
APP_CB = "https://app.example/cb"


def with_client(adapter: str, server: oc.ServerMetadata, call: str) -> oc.Token:
    """Run one client method (``call``) with ``retry=NO_WAIT`` through the adapter."""
    app = oc.Client("fault-app", SECRET, redirect_uri=APP_CB)
    pending = oc.new_pending_authorization(app, state="st-1")
    token = oc.Token("at-old", refresh_token="rt-old")

    if adapter == "async-httpx":

        async def go() -> oc.Token:
            async with AsyncHttpxTransport(timeout=TIMEOUT) as transport:
                c = AsyncOAuth2Client(server, app, transport, retry=NO_WAIT)
                if call == "client_credentials":
                    return await c.client_credentials()
                if call == "refresh":
                    return await c.refresh(token)
                return await c.exchange_code(pending, f"{APP_CB}?code=c-1&state=st-1")

        return asyncio.run(go())
    with _SYNC[adapter](timeout=TIMEOUT) as transport:
        c = OAuth2Client(server, app, transport, retry=NO_WAIT)
        if call == "client_credentials":
            return c.client_credentials()
        if call == "refresh":
            return c.refresh(token)
        return c.exchange_code(pending, f"{APP_CB}?code=c-1&state=st-1")


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("call", ["client_credentials", "refresh"])
def test_client_retry_policy_recovers_from_a_reset_and_a_503(
    adapter: str, call: str, server: FaultServer
) -> None:
    server.script(Fault("reset"), Fault.html(503), Fault.ok("at-third"))
    token = with_client(adapter, metadata(server.url()), call)
    assert token.access_token == "at-third"
    assert len(server.requests) == 3


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("fault", [Fault.html(503), Fault("reset")], ids=["503", "reset"])
def test_client_never_retries_a_code_exchange(
    adapter: str, fault: Fault, server: FaultServer
) -> None:
    """A code is single-use (RFC 6749 §4.1.2): the first attempt may have consumed it."""
    server.script(fault, Fault.ok())
    with pytest.raises((oc.EndpointError, TransportError)):
        with_client(adapter, metadata(server.url()), "exchange_code")
    assert len(server.requests) == 1


# -- the token manager: a failed refresh changes nothing -----------------------------------------

EXPIRED = oc.Token(
    "at-old",
    expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    refresh_token="rt-old",
)


class LaterClock:
    """The real clock, moved ahead on demand (past the wait after a failed refresh)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.ahead)


@pytest.mark.parametrize(
    "fault", [Fault.html(500), Fault("reset"), Fault("hang")], ids=["500", "reset", "timeout"]
)
def test_failed_refresh_leaves_the_managed_token_untouched(
    fault: Fault, server: FaultServer, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    store.save(EXPIRED)
    seen: list[oc.Token] = []
    with Urllib3Transport(timeout=TIMEOUT) as transport:
        c = OAuth2Client(metadata(server.url()), client(), transport)
        clock = LaterClock()
        manager = TokenManager(c, EXPIRED, on_token=seen.append, store=store, clock=clock)
        server.script(fault)
        with pytest.raises(TokenRefreshError) as info:
            manager.token()
        assert info.value.retryable
        assert seen == []
        assert store.load() == EXPIRED
        # The next refresh (after the 1 s wait) starts from the same (old) refresh
        # token: nothing was replaced.
        clock.ahead = 1.5
        server.script(Fault.ok("at-new", refresh_token="rt-new", expires_in=3600))
        token = manager.token()
    assert token.access_token == "at-new"
    assert seen == [token]
    assert store.load() == token
    bodies = [parse_qs(r.body.decode()) for r in server.requests]
    assert [b["refresh_token"] for b in bodies] == [["rt-old"], ["rt-old"]]


@pytest.mark.parametrize(
    "fault", [Fault.html(503), Fault("reset"), Fault("hang")], ids=["503", "reset", "timeout"]
)
def test_failed_async_refresh_leaves_the_managed_token_untouched(
    fault: Fault, server: FaultServer
) -> None:
    from oauth2_transports import AsyncTokenManager

    seen: list[oc.Token] = []

    async def go() -> oc.Token:
        async with AsyncHttpxTransport(timeout=TIMEOUT) as transport:
            c = AsyncOAuth2Client(metadata(server.url()), client(), transport)
            clock = LaterClock()
            manager = AsyncTokenManager(c, EXPIRED, on_token=seen.append, clock=clock)
            server.script(fault)
            with pytest.raises(TokenRefreshError):
                await manager.token()
            assert seen == []
            clock.ahead = 1.5  # past the wait after a failed refresh
            server.script(Fault.ok("at-new", expires_in=3600))
            return await manager.token()

    token = asyncio.run(go())
    assert token.access_token == "at-new"
    # The server sent no refresh token: the old one is kept (RFC 6749 §6).
    assert token.refresh_token == "rt-old"
    assert seen == [token]
    bodies = [parse_qs(r.body.decode()) for r in server.requests]
    assert [b["refresh_token"] for b in bodies] == [["rt-old"], ["rt-old"]]


def test_fault_server_answers_what_it_is_told(server: FaultServer) -> None:
    """The harness itself: a scripted answer arrives verbatim (guards the tests above)."""
    server.script(Fault.ok("at-x", expires_in=5))
    with Urllib3Transport() as transport:
        response = transport.send(oc.HttpRequest("POST", server.url(), body=b"a=b"))
    assert json.loads(response.body) == {
        "access_token": "at-x",
        "token_type": "Bearer",
        "expires_in": 5,
    }
    assert server.requests[0].body == b"a=b"
