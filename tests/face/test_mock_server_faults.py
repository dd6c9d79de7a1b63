"""MockAuthorizationServer: device flow, fault injection, provider quirks, recording, threads."""

from __future__ import annotations

import threading

import pytest
from face_helpers import body, call

import oauth2_core as oc
from oauth2_transports import TransportError
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer
from oauth2_transports.urllib3 import Urllib3Transport


class Sleeper:
    """The poll's sleep: records each delay and runs an action instead of waiting."""

    def __init__(self, action: object = None) -> None:
        self.delays: list[float] = []
        self.action = action

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if callable(self.action) and len(self.delays) == 2:  # after the first pending poll
            self.action()


# -- device flow (RFC 8628) ---------------------------------------------------------------


def test_device_flow_approved_by_call(
    server: MockAuthorizationServer, public: OAuth2Client
) -> None:
    auth = public.device_authorization(scope="read")
    assert auth.verification_uri == server.url("/device")
    assert server.pending_user_codes() == [auth.user_code]
    sleeper = Sleeper(lambda: server.approve_device(auth.user_code.lower()))
    token = public.poll_device(auth, sleep=sleeper)
    assert token.scope == ("read",)
    assert [r.error for r in server.requests if r.path == "/token"] == [
        "authorization_pending",
        None,
    ]
    assert server.pending_user_codes() == []
    with pytest.raises(ValueError, match="user_code"):
        server.approve_device(auth.user_code)  # used up


def test_device_flow_approved_by_the_form(
    server: MockAuthorizationServer, public: OAuth2Client
) -> None:
    auth = public.device_authorization()
    page = call("GET", server.url("/device") + "?user_code=" + auth.user_code)
    assert page.status == 200
    assert b"<form" in page.data

    def approve() -> None:
        form = {"user_code": auth.user_code, "action": "approve", "username": "bob"}
        assert call("POST", server.url("/device"), form=form).status == 200

    token = public.poll_device(auth, sleep=Sleeper(approve))
    assert public.userinfo(token).sub == "bob"
    unknown = call("POST", server.url("/device"), form={"user_code": "NOPE-NOPE"})
    assert unknown.status == 400


def test_device_flow_denied(server: MockAuthorizationServer, public: OAuth2Client) -> None:
    auth = public.device_authorization()
    with pytest.raises(oc.AccessDeniedError):
        public.poll_device(auth, sleep=Sleeper(lambda: server.deny_device(auth.user_code)))


def test_device_flow_expired(server: MockAuthorizationServer, public: OAuth2Client) -> None:
    auth = public.device_authorization()
    with pytest.raises(oc.DeviceCodeExpiredError):
        public.poll_device(auth, sleep=Sleeper(lambda: server.advance(601)))


def test_slow_down_next(server: MockAuthorizationServer, public: OAuth2Client) -> None:
    auth = public.device_authorization()
    server.slow_down_next(1)
    sleeper = Sleeper(lambda: server.approve_device(auth.user_code))
    public.poll_device(auth, sleep=sleeper)
    assert [r.error for r in server.requests if r.path == "/token"] == ["slow_down", None]
    assert sleeper.delays == [auth.interval, auth.interval + 5]  # RFC 8628 §3.5


# -- fault injection ------------------------------------------------------------------------


def test_fail_next_with_retry_after_only_on_its_path(
    server: MockAuthorizationServer, app: OAuth2Client
) -> None:
    server.fail_next(2, status=503, retry_after=7, path="/token")
    assert call("GET", server.url("/jwks")).status == 200  # another path: untouched
    for _ in range(2):
        with pytest.raises(oc.EndpointError) as caught:
            app.client_credentials()
        assert caught.value.error == "temporarily_unavailable"
        assert caught.value.retryable
        assert caught.value.retry_after == 7
    assert app.client_credentials().access_token


def test_fail_next_with_an_html_page(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    server.fail_next(status=502, error=None, body="<html><h1>Bad Gateway</h1></html>")
    with pytest.raises(oc.EndpointError) as caught:
        app.client_credentials()
    assert caught.value.error is None
    assert caught.value.status == 502
    assert "text/html" in str(caught.value)


def test_delay_next_trips_a_client_timeout(server: MockAuthorizationServer) -> None:
    impatient = Urllib3Transport(timeout=0.2)
    c = OAuth2Client(server.server_metadata(), server.client("app"), impatient)
    server.delay_next(1, 2.0, path="/token")
    with pytest.raises(TransportError):
        c.client_credentials()
    assert c.client_credentials().access_token


def test_drop_next_hangs_up(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    server.drop_next()
    with pytest.raises(TransportError):
        app.client_credentials()
    assert server.requests[-1].status is None
    assert app.client_credentials().access_token


def test_clear_faults(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    server.fail_next(5)
    server.deny_next(2)
    server.slow_down_next(3)
    server.clear_faults()
    assert app.client_credentials().access_token


def test_fault_arguments_are_checked(server: MockAuthorizationServer) -> None:
    with pytest.raises(ValueError, match="positive"):
        server.fail_next(0)
    with pytest.raises(ValueError, match="path"):
        server.drop_next(path="token")
    with pytest.raises(ValueError, match="quirk"):
        server.answer_next("soap")  # type: ignore[arg-type]


# -- provider quirks (each one the core must cope with) --------------------------------------


def test_github_style_form_answer(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    server.answer_next("form")
    token = app.client_credentials(scope="read")
    assert (token.scope, token.expires_at is not None) == (("read",), True)


def test_slack_style_error_with_http_200(
    server: MockAuthorizationServer, app: OAuth2Client
) -> None:
    server.answer_next("error_200", error="invalid_code")
    with pytest.raises(oc.EndpointError) as caught:
        app.client_credentials()
    assert (caught.value.status, caught.value.error) == (200, "invalid_code")


@pytest.mark.parametrize("quirk", ["facebook", "string_expires_in", "lowercase_bearer"])
def test_other_quirks_still_give_a_token(
    server: MockAuthorizationServer, app: OAuth2Client, quirk: str
) -> None:
    server.answer_next(quirk)  # type: ignore[arg-type]
    token = app.client_credentials()
    assert token.token_type == "Bearer"
    assert token.expires_at is not None


# -- recording, waiting, threads ---------------------------------------------------------------


def test_requests_are_recorded(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    app.client_credentials(scope="read", resource=["urn:a", "urn:b"])
    sent = server.requests[-1]
    assert (sent.method, sent.path, sent.status, sent.error) == ("POST", "/token", 200, None)
    assert sent.form["grant_type"] == "client_credentials"
    assert sent.form_list("resource") == ["urn:a", "urn:b"]
    assert sent.headers["authorization"].startswith("Basic ")
    assert sent.headers["accept"] == "application/json"
    server.clear_requests()
    assert server.requests == []


def test_wait_for(server: MockAuthorizationServer, app: OAuth2Client) -> None:
    worker = threading.Thread(target=app.client_credentials)
    worker.start()
    seen = server.wait_for(lambda r: r.path == "/token")
    worker.join()
    assert seen.status == 200
    with pytest.raises(TimeoutError):
        server.wait_for(lambda r: r.path == "/never", timeout=0.05)


def test_concurrent_clients(server: MockAuthorizationServer) -> None:
    meta = server.server_metadata()
    tokens: list[str] = []
    lock = threading.Lock()

    def fetch() -> None:
        c = OAuth2Client(meta, server.client("app"), Urllib3Transport())
        token = c.client_credentials().access_token
        with lock:
            tokens.append(token)

    workers = [threading.Thread(target=fetch) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(tokens)) == 8
    assert len([r for r in server.requests if r.path == "/token"]) == 8


def test_request_body_limit(server: MockAuthorizationServer) -> None:
    answer = call("POST", server.url("/token"), form={"x": "a" * (1 << 20)})
    assert answer.status == 413


def test_scopes_supported_restricts_scope() -> None:
    with MockAuthorizationServer(scopes_supported=["read"]) as server:
        c = OAuth2Client(server.server_metadata(), server.client("app"), Urllib3Transport())
        assert c.client_credentials(scope="read").scope == ("read",)
        with pytest.raises(oc.EndpointError) as caught:
            c.client_credentials(scope="admin")
        assert caught.value.error == "invalid_scope"
        assert body(call("GET", server.url("/.well-known/openid-configuration")))[
            "scopes_supported"
        ] == ["read"]
