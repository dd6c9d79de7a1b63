"""The auth hooks send a token over plain http only to loopback (issue 12, item 8; RFC 6750 §5.3).

The same rule as the core's for every endpoint: https, loopback http, or an explicit
``allow_insecure_http=True``. The requests to non-loopback hosts go through a
recording HTTP proxy on loopback, so nothing leaves the machine while the test sees
exactly what an eavesdropper on the path would have seen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest
import requests

import oauth2_core as oc
from oauth2_transports import TokenManager
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth

from ._token_server import TokenServer
from .conftest import make_client


class _Recorder(http.server.ThreadingHTTPServer):
    seen: list[tuple[str, str | None]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Recorder

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[_Recorder]:
    """A loopback server that records each request: a proxy for http://api.example."""
    recorder = _Recorder(("127.0.0.1", 0), _Handler)
    recorder.seen = []
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()


def _url(recorder: _Recorder) -> str:
    return f"http://127.0.0.1:{recorder.server_address[1]}"


TOKEN = oc.Token("the-access-token", token_type="Bearer")
REMOTE = "http://api.example/data"


def test_requests_refuses_plain_http_to_a_remote_host(proxy: _Recorder) -> None:
    proxies = {"http": _url(proxy)}
    with pytest.raises(oc.UsageError, match=r"plain http"):
        requests.get(REMOTE, auth=RequestsAuth(TOKEN), proxies=proxies, timeout=10)
    assert proxy.seen == []


def test_requests_refuses_plain_http_with_a_manager(proxy: _Recorder, server: TokenServer) -> None:
    token = server.issue(expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    manager = TokenManager(make_client(server), token)
    with pytest.raises(oc.UsageError, match=r"plain http"):
        requests.get(REMOTE, auth=RequestsAuth(manager), proxies={"http": _url(proxy)}, timeout=10)
    assert proxy.seen == []


def test_requests_sends_to_loopback_and_with_the_opt_out(proxy: _Recorder) -> None:
    assert requests.get(f"{_url(proxy)}/x", auth=RequestsAuth(TOKEN), timeout=10).ok
    auth = RequestsAuth(TOKEN, allow_insecure_http=True)
    assert requests.get(REMOTE, auth=auth, proxies={"http": _url(proxy)}, timeout=10).ok
    assert [h for _, h in proxy.seen] == ["Bearer the-access-token"] * 2
    assert proxy.seen[1][0] == REMOTE  # absolute-form: it went to the proxy for api.example


def test_httpx_refuses_plain_http_to_a_remote_host(proxy: _Recorder) -> None:
    with (
        httpx.Client(proxy=_url(proxy), trust_env=False) as client,
        pytest.raises(oc.UsageError, match=r"plain http"),
    ):
        client.get(REMOTE, auth=HttpxAuth(TOKEN))
    assert proxy.seen == []


def test_httpx_async_refuses_plain_http_to_a_remote_host(proxy: _Recorder) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(proxy=_url(proxy), trust_env=False) as client:
            with pytest.raises(oc.UsageError, match=r"plain http"):
                await client.get(REMOTE, auth=HttpxAuth(TOKEN))

    asyncio.run(main())
    assert proxy.seen == []


def test_httpx_sends_to_loopback_and_with_the_opt_out(proxy: _Recorder) -> None:
    with httpx.Client(trust_env=False) as client:
        assert client.get(f"{_url(proxy)}/x", auth=HttpxAuth(TOKEN)).status_code == 200
    with httpx.Client(proxy=_url(proxy), trust_env=False) as client:
        auth = HttpxAuth(TOKEN, allow_insecure_http=True)
        assert client.get(REMOTE, auth=auth).status_code == 200
    assert [h for _, h in proxy.seen] == ["Bearer the-access-token"] * 2


@pytest.mark.parametrize(
    "url",
    ["http://127.1/data", "http://[::ffff:127.0.0.1]/data", "http://localhost./data"],
)
def test_loopback_look_alikes_are_not_loopback(url: str) -> None:
    """Names and spellings that only resolve to loopback do not get the exemption."""
    with httpx.Client(trust_env=False) as client, pytest.raises(oc.UsageError):
        client.get(url, auth=HttpxAuth(TOKEN))


def test_a_bearer_token_drops_a_stale_dpop_header() -> None:
    """A prepared request reused after a DPoP-bound call keeps no proof beside a Bearer token."""
    prepared = requests.Request("GET", "https://api.example/data", headers={"DPoP": "x"}).prepare()
    RequestsAuth(TOKEN)(prepared)
    assert "DPoP" not in prepared.headers
    assert prepared.headers["Authorization"] == "Bearer the-access-token"
    RequestsAuth(TOKEN)(prepared)  # and without one there is nothing to drop
    assert prepared.headers["Authorization"] == "Bearer the-access-token"
