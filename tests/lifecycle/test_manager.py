"""TokenManager, deterministically: an injected clock and a loopback token server."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

import oauth2_core as oc
from oauth2_transports import (
    FileLock,
    FileTokenStore,
    OAuth2Client,
    ReauthorizationRequiredError,
    TokenManager,
    TokenRefreshError,
    TransportError,
)

from ._token_server import FakeClock, TokenServer
from .conftest import make_client


def expiring(clock: FakeClock, seconds: float) -> dt.datetime:
    return clock.now + dt.timedelta(seconds=seconds)


def test_token_is_reused_while_fresh_and_refreshed_ahead_of_expiry(
    server: TokenServer, clock: FakeClock
) -> None:
    start = server.issue(expires_at=expiring(clock, 3600))
    seen: list[oc.Token] = []
    manager = TokenManager(make_client(server, clock), start, on_token=seen.append, clock=clock)

    assert manager.token() is start
    clock.advance(3600 - 61)
    assert manager.token() is start
    assert server.refresh_requests == 0

    clock.advance(2)  # now inside the 60 s leeway
    new = manager.token()
    assert new.access_token != start.access_token
    assert new.refresh_token not in (None, start.refresh_token)  # rotated
    assert server.refresh_requests == 1
    assert seen == [new]
    assert manager.token() is new
    assert server.refresh_requests == 1


def test_leeway_is_bounded_by_half_the_lifetime(clock: FakeClock) -> None:
    """A 59 s token with a 60 s leeway is not "expired on arrival"."""
    with TokenServer(expires_in=59, issue_refresh_tokens=False) as server:
        manager = TokenManager(make_client(server, clock), scope="read", clock=clock)
        first = manager.token()
        assert manager.token() is first
        clock.advance(29)
        assert manager.token() is first
        assert server.client_credentials_requests == 1
        clock.advance(1)  # 30 s of 59: past the 29.5 s margin
        assert manager.token() is not first
        assert server.client_credentials_requests == 2


def test_token_without_expiry_is_used_until_invalidated(
    server: TokenServer, clock: FakeClock
) -> None:
    start = server.issue(expires_at=None)
    manager = TokenManager(make_client(server, clock), start, clock=clock)
    clock.advance(10 * 365 * 86400)
    assert manager.token() is start
    manager.invalidate()
    assert manager.token().access_token != start.access_token
    assert server.refresh_requests == 1


def test_refresh_keeps_the_old_refresh_token_and_extra_members(clock: FakeClock) -> None:
    with TokenServer(rotate=False, extra={"x_tenant": "t1"}) as server:
        start = server.issue(expires_at=expiring(clock, -1))
        new = TokenManager(make_client(server, clock), start, clock=clock).token()
        assert new.refresh_token == start.refresh_token  # the answer had none
        assert new.extra["x_tenant"] == "t1"


def test_client_credentials_mode_reuses_scope_and_parameters(clock: FakeClock) -> None:
    with TokenServer(expires_in=600, issue_refresh_tokens=False) as server:
        manager = TokenManager(
            make_client(server, clock), scope="read", resource="urn:api", clock=clock
        )
        assert server.client_credentials_requests == 0  # fetched on demand
        first = manager.token()
        assert first.scope == ("read",)
        clock.advance(600)
        second = manager.token()
        assert second.access_token != first.access_token
        assert server.client_credentials_requests == 2
        for params in server.grant_params:
            assert params["grant_type"] == ["client_credentials"]
            assert params["scope"] == ["read"]
            assert params["resource"] == ["urn:api"]


def test_no_token_means_client_credentials_on_first_use(clock: FakeClock) -> None:
    with TokenServer(issue_refresh_tokens=False) as server:
        seen: list[oc.Token] = []
        manager = TokenManager(make_client(server, clock), on_token=seen.append, clock=clock)
        token = manager.token()
        assert seen == [token]
        assert server.client_credentials_requests == 1
        assert "scope" not in server.grant_params[0]


def test_expired_token_without_refresh_token_requires_authorizing_again(
    server: TokenServer, clock: FakeClock
) -> None:
    start = server.issue(expires_at=expiring(clock, -1), refresh=False)
    manager = TokenManager(make_client(server, clock), start, clock=clock)
    with pytest.raises(ReauthorizationRequiredError, match="authorize again") as info:
        manager.token()
    assert isinstance(info.value, oc.OAuth2Error)
    assert info.value.reauthorize and not info.value.retryable
    assert server.grant_params == []


def test_failed_refresh_is_retryable_and_leaves_the_token_untouched(
    server: TokenServer, clock: FakeClock
) -> None:
    start = server.issue(expires_at=expiring(clock, -1))
    seen: list[oc.Token] = []
    manager = TokenManager(make_client(server, clock), start, on_token=seen.append, clock=clock)
    server.script.append((500, {"error": "server_error"}))
    with pytest.raises(TokenRefreshError) as info:
        manager.token()
    assert info.value.retryable and not info.value.reauthorize
    assert info.value.status == 500 and info.value.error == "server_error"
    assert isinstance(info.value.__cause__, oc.EndpointError)
    assert "retry later" in str(info.value)
    assert seen == []
    # Untouched: the next refresh (after the 1 s wait) goes out with the same,
    # still valid refresh token.
    clock.advance(1)
    new = manager.token()
    assert server.grant_params[1]["refresh_token"] == [start.refresh_token]
    assert seen == [new]
    assert server.refresh_requests == 2


def test_transport_error_during_refresh_is_retryable(server: TokenServer, clock: FakeClock) -> None:
    start = server.issue(expires_at=expiring(clock, -1))
    manager = TokenManager(make_client(server, clock), start, clock=clock)
    server.script.append("drop")
    with pytest.raises(TokenRefreshError) as info:
        manager.token()
    assert info.value.retryable
    assert isinstance(info.value.__cause__, TransportError)
    clock.advance(1)
    assert manager.token().access_token != start.access_token


def test_invalid_grant_means_authorize_again(server: TokenServer, clock: FakeClock) -> None:
    revoked = oc.Token("at-x", expires_at=expiring(clock, -1), refresh_token="rt-revoked")
    manager = TokenManager(make_client(server, clock), revoked, clock=clock)
    with pytest.raises(ReauthorizationRequiredError) as info:
        manager.token()
    assert info.value.error == "invalid_grant" and info.value.status == 400
    assert isinstance(info.value.__cause__, oc.EndpointError)
    assert "rt-revoked" not in str(info.value)


def test_on_token_error_propagates_but_the_token_is_kept(
    server: TokenServer, clock: FakeClock
) -> None:
    start = server.issue(expires_at=expiring(clock, -1))
    seen: list[oc.Token] = []

    def save(token: oc.Token) -> None:
        seen.append(token)
        raise OSError("disk full")

    manager = TokenManager(make_client(server, clock), start, on_token=save, clock=clock)
    with pytest.raises(OSError, match="disk full"):
        manager.token()
    assert manager.token() is seen[0]  # kept: the rotated refresh token is not lost
    assert server.refresh_requests == 1


def test_on_token_runs_before_any_caller_gets_the_token(
    server: TokenServer, clock: FakeClock
) -> None:
    start = server.issue(expires_at=expiring(clock, -1))
    entered, release = threading.Event(), threading.Event()
    got: list[oc.Token] = []
    seen_by_callback: list[list[oc.Token]] = []

    def on_token(token: oc.Token) -> None:
        entered.set()
        release.wait(10)
        seen_by_callback.append(list(got))

    manager = TokenManager(make_client(server, clock), start, on_token=on_token, clock=clock)
    leader = threading.Thread(target=lambda: got.append(manager.token()))
    leader.start()
    assert entered.wait(10)
    waiter = threading.Thread(target=lambda: got.append(manager.token()))
    waiter.start()
    waiter.join(0.1)
    release.set()
    leader.join(10)
    waiter.join(10)
    assert seen_by_callback == [[]]
    assert len(got) == 2 and got[0] is got[1]
    assert server.refresh_requests == 1


def test_invalidate_ignores_a_token_already_replaced(server: TokenServer, clock: FakeClock) -> None:
    first = server.issue(expires_at=expiring(clock, 100))
    manager = TokenManager(make_client(server, clock), first, clock=clock)
    clock.advance(100)
    second = manager.token()
    manager.invalidate(first)  # a late 401 for the old token
    assert manager.token() is second
    assert server.refresh_requests == 1
    clock.advance(10)  # past min_refresh_interval: a rejection may cost a new token
    manager.invalidate(second)
    third = manager.token()
    assert third.access_token not in (first.access_token, second.access_token)
    assert server.refresh_requests == 2


def test_store_is_loaded_first_and_saved_with_every_new_token(
    server: TokenServer, clock: FakeClock, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    saved = server.issue(expires_at=expiring(clock, 100))
    store.save(saved)
    manager = TokenManager(make_client(server, clock), store=store, clock=clock)
    assert manager.token() == saved
    assert server.grant_params == []
    clock.advance(100)
    new = manager.token()
    assert store.load() == new
    assert server.refresh_requests == 1


def test_inside_the_lock_a_token_refreshed_by_another_process_is_reused(
    server: TokenServer, clock: FakeClock, tmp_path: Path
) -> None:
    """Two managers stand for two processes sharing a store and a lock."""
    store = FileTokenStore(tmp_path / "token.json", lock=FileLock(tmp_path / "token.lock"))
    store.save(server.issue(expires_at=expiring(clock, -1)))
    seen_a: list[oc.Token] = []
    seen_b: list[oc.Token] = []
    a = TokenManager(make_client(server, clock), store=store, on_token=seen_a.append, clock=clock)
    b = TokenManager(make_client(server, clock), store=store, on_token=seen_b.append, clock=clock)
    new = a.token()
    assert b.token() == new  # reloaded inside the lock, not refreshed again
    assert server.refresh_requests == 1
    assert seen_a == [new] and seen_b == []


def test_bad_arguments_are_usage_errors(server: TokenServer) -> None:
    client = make_client(server)
    with pytest.raises(oc.UsageError):
        TokenManager("not a client", None)  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        TokenManager(client, {"access_token": "x"})  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        TokenManager(client, leeway=-1)
    with pytest.raises(oc.UsageError):
        TokenManager(client, leeway=float("nan"))
    with pytest.raises(oc.UsageError, match="timezone-aware"):
        TokenManager(client, oc.Token("at"), clock=lambda: dt.datetime(2030, 1, 1))


def test_no_secret_in_repr_or_errors(server: TokenServer, clock: FakeClock) -> None:
    start = oc.Token("at-secret-1", expires_at=expiring(clock, -1), refresh_token="rt-secret-1")
    manager = TokenManager(make_client(server, clock), start, clock=clock)
    with pytest.raises(ReauthorizationRequiredError) as info:
        manager.token()
    for text in (repr(manager), str(manager), str(info.value), repr(info.value)):
        assert "secret" not in text.replace("client_secret", "")


def test_usage_md_lines(server: TokenServer) -> None:
    """The lines of USAGE.md, as written."""
    c = OAuth2Client(server.metadata, oc.Client("app", "s3cr3t"))
    token = server.issue(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
    saved: list[oc.Token] = []
    save = saved.append
    manager = TokenManager(c, token, on_token=save)
    assert manager.token() == saved[0]
    manager = TokenManager(c, scope="read")
    assert manager.token().scope == ("read",)


def test_on_token_asking_for_a_token_is_refused_not_deadlocked(
    server: TokenServer, clock: FakeClock
) -> None:
    start = server.issue(expires_at=expiring(clock, -1))
    manager: TokenManager

    def on_token(token: oc.Token) -> None:
        manager.token()

    manager = TokenManager(make_client(server, clock), start, on_token=on_token, clock=clock)
    with pytest.raises(oc.UsageError, match="on_token"):
        manager.token()
    assert manager.token().access_token != start.access_token  # the new token was kept
    assert server.refresh_requests == 1
