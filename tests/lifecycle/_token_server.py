"""A loopback authorization server and resource server for the lifecycle tests (stdlib only).

``POST /token`` answers ``refresh_token`` and ``client_credentials`` grants. Refresh
tokens are single-use when ``rotate`` is on (RFC 9700 §4.14.2): reusing one gets
``400 invalid_grant``, exactly what a stampede of uncoordinated refreshes runs into.
Answers can be slowed down (``delay``), held (``gate``) and scripted (``script``: a status and body,
or ``"drop"`` to close the connection without answering).

With ``revoke_on_reuse`` the server also does what RFC 9700 §4.14.2 suggests on a
reused refresh token: it revokes the whole grant (every access and refresh token it
issued), so a client that raced itself ends with nothing that works.

``/api`` is a resource server: 200 for a live access token, else
``401 WWW-Authenticate: Bearer error="invalid_token"``; ``/api/never`` refuses
every token that way; ``/api/scoped`` always answers ``401 ... error="insufficient_scope"``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import oauth2_core as oc

Reply = tuple[int, dict[str, Any]]


class FakeClock:
    """A settable clock for the manager and the transport (aware UTC)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a stampede of connections must not be refused


class TokenServer:
    """The loopback authorization + resource server. Use as a context manager."""

    def __init__(
        self,
        *,
        delay: float = 0.0,
        expires_in: int | None = 3600,
        rotate: bool = True,
        issue_refresh_tokens: bool = True,
        extra: dict[str, Any] | None = None,
        revoke_on_reuse: bool = False,
    ) -> None:
        self.delay = delay
        #: Cleared: token requests are held until it is set (or 10 s pass), so a
        #: test can look at what callers do while a refresh is on the wire.
        self.gate = threading.Event()
        self.gate.set()
        #: Set when a token request arrives (before the gate and the delay).
        self.token_request_arrived = threading.Event()
        self.revoke_on_reuse = revoke_on_reuse
        self.grant_revocations = 0
        self.refresh_tokens_sent: list[str] = []
        self.expires_in = expires_in
        self.rotate = rotate
        self.issue_refresh_tokens = issue_refresh_tokens
        self.extra = dict(extra or {})
        self.script: list[Reply | str] = []
        self.lock = threading.Lock()
        self.refresh_requests = 0
        self.client_credentials_requests = 0
        self.rejected_refreshes = 0
        self.grant_params: list[dict[str, list[str]]] = []
        self.api_requests: list[tuple[str, str | None, bytes]] = []
        self.live_access: set[str] = set()
        self.live_refresh: set[str] = set()
        self._ids = itertools.count(1)
        self._httpd = _HTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- set up -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def metadata(self) -> oc.ServerMetadata:
        return oc.ServerMetadata(issuer=self.url, token_endpoint=f"{self.url}/token")

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue(self, *, expires_at: dt.datetime | None = None, refresh: bool = True) -> oc.Token:
        """A token this server accepts, as a client would hold it."""
        with self.lock:
            n = next(self._ids)
            access, rt = f"at-{n}", f"rt-{n}" if refresh else None
            self.live_access.add(access)
            if rt:
                self.live_refresh.add(rt)
        return oc.Token(access, expires_at=expires_at, refresh_token=rt)

    def revoke_access(self, access_token: str) -> None:
        with self.lock:
            self.live_access.discard(access_token)

    # -- token endpoint -------------------------------------------------------------------
    def _grant(self, params: dict[str, list[str]]) -> Reply | str:
        with self.lock:
            self.grant_params.append(params)
            grant = params.get("grant_type", [""])[0]
            if grant == "refresh_token":
                self.refresh_requests += 1
            elif grant == "client_credentials":
                self.client_credentials_requests += 1
            if self.script:
                return self.script.pop(0)
            if grant == "refresh_token":
                rt = params.get("refresh_token", [""])[0]
                self.refresh_tokens_sent.append(rt)
                if rt not in self.live_refresh:
                    self.rejected_refreshes += 1
                    if self.revoke_on_reuse:  # RFC 9700 §4.14.2: the grant is compromised
                        self.grant_revocations += 1
                        self.live_refresh.clear()
                        self.live_access.clear()
                    return 400, {"error": "invalid_grant", "error_description": "reused"}
                if self.rotate:
                    self.live_refresh.discard(rt)
            elif grant != "client_credentials":
                return 400, {"error": "unsupported_grant_type"}
            n = next(self._ids)
            body: dict[str, Any] = {"access_token": f"at-{n}", "token_type": "bearer"}
            self.live_access.add(body["access_token"])
            if self.expires_in is not None:
                body["expires_in"] = self.expires_in
            if self.issue_refresh_tokens and (self.rotate or grant != "refresh_token"):
                body["refresh_token"] = f"rt-{n}"
                self.live_refresh.add(body["refresh_token"])
            if "scope" in params:
                body["scope"] = params["scope"][0]
            body.update(self.extra)
            return 200, body

    def _api(self, path: str, authorization: str | None, body: bytes) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.api_requests.append((path, authorization, body))
            if path == "/api/scoped":
                return 401, {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}
            token = (authorization or "").removeprefix("Bearer ")
            live = token in self.live_access and path != "/api/never"
            if authorization and authorization.startswith("Bearer ") and live:
                return 200, {}
            return 401, {
                "WWW-Authenticate": 'Bearer realm="api", error="invalid_token", '
                'error_description="The access token expired"'
            }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self._body()
                if self.path.startswith("/api"):
                    return self._resource(body)
                if self.path != "/token":
                    return self._send(404, b"", {})
                params = parse_qs(body.decode("ascii"))
                server.token_request_arrived.set()
                server.gate.wait(10)
                if server.delay:
                    time.sleep(server.delay)
                reply = server._grant(params)
                if reply == "drop":
                    self.close_connection = True
                    return None
                assert not isinstance(reply, str)
                status, data = reply
                payload = json.dumps(data).encode()
                headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
                return self._send(status, payload, headers)

            def do_GET(self) -> None:
                self._resource(b"")

            def _resource(self, body: bytes) -> None:
                status, headers = server._api(self.path, self.headers.get("Authorization"), body)
                headers["Content-Type"] = "application/json"
                self._send(status, json.dumps({"status": status}).encode(), headers)

        return Handler


def count_calls() -> tuple[list[oc.Token], Callable[[oc.Token], None]]:
    """A list and an ``on_token`` callback that appends to it."""
    seen: list[oc.Token] = []
    return seen, seen.append


class ThreadedAsyncTransport:
    """An AsyncTransport bound to no event loop: a sync transport in worker threads.

    httpx's AsyncClient pools connections per loop; this one lets a test use one
    AsyncOAuth2Client from several loops (successive ``asyncio.run`` calls, threads).
    """

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        from oauth2_transports import Urllib3Transport

        self._sync = Urllib3Transport(clock=clock) if clock else Urllib3Transport()

    async def send(self, request: oc.HttpRequest) -> oc.HttpResponse:
        import asyncio

        return await asyncio.to_thread(self._sync.send, request)
