"""OAuth2Auth with DPoP-bound tokens (RFC 9449 §7.1, §9) for requests, httpx and httpx async.

A loopback resource server (stdlib) checks every proof the way RFC 9449 §4.3 and
§7.1 tell a resource server to: signature with the ``jwk`` of the proof's own
header, ``typ``, ``htm``, ``htu``, ``ath``, a ``jti`` never seen before, the
key bound to the token, and its current nonce — demanded first with
``401 WWW-Authenticate: DPoP error="use_dpop_nonce"`` and ``DPoP-Nonce``. Its
``/token`` endpoint refreshes DPoP-bound tokens, so the ``invalid_token``
refresh-and-retry rule is exercised with DPoP too. Nothing may ever loop.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import itertools
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import requests

import oauth2_core as oc
from oauth2_transports import (
    AsyncOAuth2Client,
    AsyncTokenManager,
    OAuth2Client,
    TokenManager,
    Urllib3Transport,
)
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth

from ._token_server import ThreadedAsyncTransport

KEY = oc.generate_dpop_key("ES256")
OTHER_KEY = oc.generate_dpop_key("ES256")
#: The client's clock: every proof the hooks build must carry it as ``iat``.
CLIENT_TIME = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
KINDS = ["requests", "httpx", "httpx-async"]


def b64url_sha256(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class ProofRefusedError(Exception):
    """A proof the server does not accept (RFC 9449 §4.3)."""


@dataclass
class Call:
    """One request the resource server saw, and its answer."""

    method: str
    path: str
    authorization: str | None
    proof: bool
    claims: dict[str, Any] | None
    body: bytes
    status: int = 0


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True


class DPoPServer:
    """A loopback DPoP resource server with a refresh-only token endpoint.

    ``/api...`` answers 200 for a live DPoP token bound to the proof's key with
    the current nonce; ``/api/restless`` demands a new nonce every time;
    ``/api/never`` refuses every token (``invalid_token``). A Bearer token is
    accepted as is (and recorded), so the Bearer path can be observed.
    """

    def __init__(self, nonce: str = "n1") -> None:
        self.lock = threading.Lock()
        self.nonce = nonce
        self._announce: str | None = None
        self.live: dict[str, str] = {}  # access token -> bound key thumbprint
        self.refreshable: dict[str, str] = {}  # refresh token -> bound key thumbprint
        self.seen_jti: set[str] = set()
        self.calls: list[Call] = []
        self.token_requests = 0
        self._ids = itertools.count(1)
        self._httpd = _HTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def metadata(self) -> oc.ServerMetadata:
        return oc.ServerMetadata(issuer=self.url, token_endpoint=f"{self.url}/token")

    def __enter__(self) -> DPoPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def issue(self, key: dict[str, str] = KEY) -> oc.Token:
        """A DPoP token bound to ``key``, as a client would hold it."""
        with self.lock:
            n = next(self._ids)
            at, rt = f"dpop-at-{n}", f"dpop-rt-{n}"
            self.live[at] = self.refreshable[rt] = oc.dpop_jkt(key)
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
        return oc.Token(at, token_type="DPoP", expires_at=expires, refresh_token=rt)

    def revoke(self, token: oc.Token) -> None:
        with self.lock:
            self.live.pop(token.access_token, None)

    def announce(self, nonce: str) -> None:
        """Hand out ``nonce`` with the next 200 and require it from then on (RFC 9449 §9)."""
        self._announce = nonce

    @property
    def api_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.startswith("/api")]

    # -- checks -------------------------------------------------------------------------
    def verify(
        self, proof: str | None, method: str, path: str, access_token: str | None
    ) -> tuple[dict[str, Any], str]:
        """The proof's claims and key thumbprint (RFC 9449 §4.3); raises ProofRefusedError."""
        if proof is None:
            raise ProofRefusedError("no proof")
        try:
            header = jwt.get_unverified_header(proof)
            if header.get("typ") != "dpop+jwt" or "d" in header.get("jwk", {}):
                raise ProofRefusedError("bad header")
            public = jwt.PyJWK(header["jwk"], algorithm=header["alg"])
            claims: dict[str, Any] = jwt.decode(
                proof, public, algorithms=[header["alg"]], options={"verify_iat": False}
            )
        except (jwt.PyJWTError, KeyError) as exc:
            raise ProofRefusedError(f"bad proof: {exc}") from exc
        if claims.get("htm") != method:
            raise ProofRefusedError("htm")
        if claims.get("htu") != self.url + path.split("?")[0]:
            raise ProofRefusedError("htu")
        if not isinstance(claims.get("iat"), int):
            raise ProofRefusedError("iat")
        expected_ath = None if access_token is None else b64url_sha256(access_token)
        if claims.get("ath") != expected_ath:
            raise ProofRefusedError("ath")
        jti = claims.get("jti")
        if not isinstance(jti, str) or jti in self.seen_jti:
            raise ProofRefusedError("jti reused")
        self.seen_jti.add(jti)
        return claims, oc.dpop_jkt(header["jwk"])

    def resource(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str]]:
        authorization = headers.get("Authorization")
        proof = headers.get("DPoP")
        call = Call(method, path, authorization, proof is not None, None, body)
        with self.lock:
            self.calls.append(call)
            call.status, fields = self._resource(call, proof)
            return call.status, fields

    def _resource(self, call: Call, proof: str | None) -> tuple[int, dict[str, str]]:
        authorization = call.authorization or ""
        if authorization.startswith("Bearer "):
            return 200, {}
        if not authorization.startswith("DPoP "):
            return 401, {"WWW-Authenticate": 'DPoP algs="ES256"'}
        access_token = authorization.removeprefix("DPoP ")
        try:
            call.claims, jkt = self.verify(proof, call.method, call.path, access_token)
        except ProofRefusedError as exc:
            return 401, {
                "WWW-Authenticate": f'DPoP error="invalid_dpop_proof", error_description="{exc}"'
            }
        if call.path.startswith("/api/restless"):
            self.nonce = f"r{next(self._ids)}"
        if call.claims.get("nonce") != self.nonce:
            challenge = 'DPoP error="use_dpop_nonce", error_description="nonce required"'
            return 401, {"WWW-Authenticate": challenge, "DPoP-Nonce": self.nonce}
        if self.live.get(access_token) != jkt or call.path.startswith("/api/never"):
            challenge = 'DPoP algs="ES256", error="invalid_token", error_description="expired"'
            return 401, {"WWW-Authenticate": challenge}
        if self._announce is not None:
            self.nonce, self._announce = self._announce, None
        return 200, {"DPoP-Nonce": self.nonce}

    def token(self, headers: Any, params: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.token_requests += 1
            try:
                _, jkt = self.verify(headers.get("DPoP"), "POST", "/token", None)
            except ProofRefusedError as exc:
                return 400, {"error": "invalid_dpop_proof", "error_description": str(exc)}
            rt = params.get("refresh_token", [""])[0]
            if (
                params.get("grant_type") != ["refresh_token"]
                or self.refreshable.pop(rt, None) != jkt
            ):
                return 400, {"error": "invalid_grant"}
            n = next(self._ids)
            at, new_rt = f"dpop-at-{n}", f"dpop-rt-{n}"
            self.live[at] = self.refreshable[new_rt] = jkt
            body = {"access_token": at, "token_type": "DPoP", "expires_in": 3600}
            return 200, {**body, "refresh_token": new_rt}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while size := int(self.rfile.readline().strip() or b"0", 16):
                        data += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    return data
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, payload: dict[str, Any], fields: dict[str, str]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {**fields, "Content-Type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def _any(self) -> None:
                body = self._body()
                if self.path.startswith(("/moved", "/away")):
                    # 307 keeps method and body; /moved stays on this origin, /away leaves it.
                    to = parse_qs(self.path.partition("?")[2]).get("to", [""])[0]
                    target = to or "/api" + self.path.removeprefix("/moved")
                    server.calls.append(Call(self.command, self.path, None, False, None, body))
                    return self._send(307, {"status": 307}, {"Location": target})
                if self.path == "/token" and self.command == "POST":
                    status, data = server.token(self.headers, parse_qs(body.decode("ascii")))
                    return self._send(status, data, {"Cache-Control": "no-store"})
                status, fields = server.resource(self.command, self.path, self.headers, body)
                return self._send(status, {"status": status}, fields)

            def do_GET(self) -> None:
                self._any()

            def do_POST(self) -> None:
                self._any()

            def do_PUT(self) -> None:
                self._any()

        return Handler


@pytest.fixture
def server() -> Iterator[DPoPServer]:
    with DPoPServer() as srv:
        yield srv


# -- how each hook is driven -----------------------------------------------------------------


def client_options(key: dict[str, str] | None) -> dict[str, Any]:
    options: dict[str, Any] = {"clock": lambda: CLIENT_TIME}
    if key is not None:
        options["dpop_key"] = key
    return options


def manager(
    kind: str, server: DPoPServer, token: oc.Token, *, key: dict[str, str] | None = KEY
) -> TokenManager | AsyncTokenManager:
    """A token manager whose client has ``key`` and the fixed ``CLIENT_TIME`` clock."""
    client = oc.Client("app", "s3cr3t")
    if kind == "httpx-async":
        aclient = AsyncOAuth2Client(
            server.metadata, client, ThreadedAsyncTransport(), **client_options(key)
        )
        return AsyncTokenManager(aclient, token)
    sclient = OAuth2Client(server.metadata, client, Urllib3Transport(), **client_options(key))
    return TokenManager(sclient, token)


def auth(kind: str, source: Any, **kwargs: Any) -> Any:
    return RequestsAuth(source, **kwargs) if kind == "requests" else HttpxAuth(source, **kwargs)


def send(
    kind: str, hook: Any, url: str, *, method: str = "GET", body: Any = None, follow: bool = False
) -> tuple[int, list[int]]:
    """Send one request through the hook: its status and the statuses in its history.

    ``follow``: let the HTTP library follow redirects (requests does by default for
    GET, httpx never unless told; this makes both follow or neither).
    """
    if kind == "requests":
        response = requests.request(
            method, url, data=body, auth=hook, timeout=10, allow_redirects=follow
        )
        return response.status_code, [r.status_code for r in response.history]
    if kind == "httpx":
        with httpx.Client(auth=hook, follow_redirects=follow) as http:
            sync = http.request(method, url, content=body)
        return sync.status_code, [r.status_code for r in sync.history]

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(auth=hook, follow_redirects=follow) as http:
            return await http.request(method, url, content=body)

    response_ = asyncio.run(main())
    return response_.status_code, [r.status_code for r in response_.history]


def assert_proof_for(call: Call, token: oc.Token, url: str, *, nonce: str | None) -> None:
    assert call.authorization == f"DPoP {token.access_token}"
    assert call.claims is not None
    assert call.claims["htu"] == url.split("?")[0]
    assert call.claims["htm"] == call.method
    assert call.claims["ath"] == b64url_sha256(token.access_token)
    assert call.claims.get("nonce") == nonce


# -- the nonce dance -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_dpop_token_gets_a_proof_then_the_nonce_retry(kind: str, server: DPoPServer) -> None:
    token = server.issue()
    hook = auth(kind, manager(kind, server, token))
    url = f"{server.url}/api/items?page=2"
    assert send(kind, hook, url) == (200, [401])
    first, second = server.api_calls
    assert (first.status, second.status) == (401, 200)
    assert_proof_for(first, token, url, nonce=None)
    assert_proof_for(second, token, url, nonce="n1")
    # iat comes from the manager's client's clock, a fresh jti for every send.
    assert first.claims and second.claims
    assert first.claims["iat"] == second.claims["iat"] == int(CLIENT_TIME.timestamp())
    assert first.claims["jti"] != second.claims["jti"]
    # The nonce is remembered for this origin: the next request carries it at once.
    assert send(kind, hook, f"{server.url}/api/other", method="PUT", body=b"x") == (200, [])
    third = server.api_calls[2]
    assert_proof_for(third, token, f"{server.url}/api/other", nonce="n1")
    assert third.method == "PUT"
    assert server.token_requests == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_in_memory_is_sent_again_with_the_nonce(kind: str, server: DPoPServer) -> None:
    hook = auth(kind, manager(kind, server, server.issue()))
    assert send(kind, hook, f"{server.url}/api", method="POST", body=b"payload") == (200, [401])
    assert [c.body for c in server.api_calls] == [b"payload", b"payload"]


@pytest.mark.parametrize("kind", ["requests", "httpx"])
def test_a_streamed_body_is_not_sent_again(kind: str, server: DPoPServer) -> None:
    def stream() -> Iterator[bytes]:
        yield b"part-1;"
        yield b"part-2"

    hook = auth(kind, manager(kind, server, server.issue()))
    assert send(kind, hook, f"{server.url}/api", method="POST", body=stream()) == (401, [])
    assert [c.body for c in server.api_calls] == [b"part-1;part-2"]


def test_an_async_streamed_body_is_not_sent_again(server: DPoPServer) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"streamed"

    hook = HttpxAuth(manager("httpx-async", server, server.issue()))

    async def main() -> int:
        async with httpx.AsyncClient(auth=hook) as http:
            return (await http.post(f"{server.url}/api", content=stream())).status_code

    assert asyncio.run(main()) == 401
    assert len(server.api_calls) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_nonce_handed_out_with_a_200_is_used_next(kind: str, server: DPoPServer) -> None:
    hook = auth(kind, manager(kind, server, server.issue()))
    server.announce("n2")
    assert send(kind, hook, f"{server.url}/api") == (200, [401])
    assert send(kind, hook, f"{server.url}/api") == (200, [])
    assert [c.claims and c.claims.get("nonce") for c in server.api_calls] == [None, "n1", "n2"]


@pytest.mark.parametrize("kind", KINDS)
def test_nonces_are_kept_per_origin(kind: str, server: DPoPServer) -> None:
    with DPoPServer(nonce="b1") as other:
        token = server.issue()
        other.live[token.access_token] = oc.dpop_jkt(KEY)
        hook = auth(kind, manager(kind, server, token))
        assert send(kind, hook, f"{server.url}/api") == (200, [401])
        # The first server's nonce is not sent to the second one.
        assert send(kind, hook, f"{other.url}/api") == (200, [401])
        assert [c.claims and c.claims.get("nonce") for c in other.api_calls] == [None, "b1"]
        assert send(kind, hook, f"{server.url}/api") == (200, [])
        assert send(kind, hook, f"{other.url}/api") == (200, [])
    assert [c.claims and c.claims.get("nonce") for c in server.api_calls] == [None, "n1", "n1"]


# -- invalid_token, and never a loop -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_nonce_retry_then_refresh_retry_each_once(kind: str, server: DPoPServer) -> None:
    stale = server.issue()
    server.revoke(stale)
    source = manager(kind, server, stale)
    hook = auth(kind, source)
    url = f"{server.url}/api"
    assert send(kind, hook, url, method="POST", body=b"payload") == (200, [401, 401])
    assert server.token_requests == 1  # the refresh carried a DPoP proof too
    first, second, third = server.api_calls
    assert_proof_for(first, stale, url, nonce=None)
    assert_proof_for(second, stale, url, nonce="n1")
    fresh = third.authorization.removeprefix("DPoP ") if third.authorization else ""
    assert fresh != stale.access_token
    assert_proof_for(third, oc.Token(fresh, token_type="DPoP"), url, nonce="n1")
    assert [c.status for c in server.api_calls] == [401, 401, 200]
    assert {c.body for c in server.api_calls} == {b"payload"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_refused_after_the_refresh_is_not_retried_again(
    kind: str, server: DPoPServer
) -> None:
    hook = auth(kind, manager(kind, server, server.issue()))
    assert send(kind, hook, f"{server.url}/api/never") == (401, [401, 401])
    assert len(server.api_calls) == 3 and server.token_requests == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_always_wants_a_new_nonce_gets_one_retry(
    kind: str, server: DPoPServer
) -> None:
    hook = auth(kind, manager(kind, server, server.issue()))
    assert send(kind, hook, f"{server.url}/api/restless") == (401, [401])
    # use_dpop_nonce is not invalid_token: no refresh either.
    assert len(server.api_calls) == 2 and server.token_requests == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_bare_token_with_a_key(kind: str, server: DPoPServer) -> None:
    token = server.issue()
    hook = auth(kind, token, dpop_key=KEY)
    assert send(kind, hook, f"{server.url}/api") == (200, [401])
    assert_proof_for(server.api_calls[1], token, f"{server.url}/api", nonce="n1")
    # No manager: a refused token is the caller's to handle, never refreshed.
    server.revoke(token)
    assert send(kind, hook, f"{server.url}/api") == (401, [])
    assert server.token_requests == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_proof_with_the_wrong_key_is_not_retried(kind: str, server: DPoPServer) -> None:
    """The token is bound to KEY; proofs signed with another key get invalid_token."""
    token = server.issue()
    hook = auth(kind, token, dpop_key=OTHER_KEY)
    assert send(kind, hook, f"{server.url}/api") == (401, [401])
    assert len(server.api_calls) == 2


# -- Bearer stays Bearer, and mistakes ----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_bearer_token_still_goes_out_as_bearer(kind: str, server: DPoPServer) -> None:
    """RFC 9449 §5: a server may answer Bearer to a DPoP client; that token gets no proof."""
    bearer = oc.Token("plain-at")
    for hook in (auth(kind, bearer), auth(kind, manager(kind, server, bearer))):
        assert send(kind, hook, f"{server.url}/api") == (200, [])
    assert [(c.authorization, c.proof) for c in server.api_calls] == [
        ("Bearer plain-at", False),
        ("Bearer plain-at", False),
    ]


@pytest.mark.parametrize("hook_class", [RequestsAuth, HttpxAuth])
def test_a_dpop_token_without_a_key_is_a_usage_error(hook_class: Any) -> None:
    with pytest.raises(oc.UsageError, match="dpop_key"):
        hook_class(oc.Token("at", token_type="DPoP"))
    with pytest.raises(oc.UsageError):
        hook_class(oc.Token("at", token_type="DPoP"), dpop_key={"kty": "oct", "k": "a2V5"})


@pytest.mark.parametrize("kind", KINDS)
def test_a_manager_without_a_key_is_a_usage_error(kind: str, server: DPoPServer) -> None:
    hook = auth(kind, manager(kind, server, server.issue(), key=None))
    with pytest.raises(oc.UsageError, match="dpop_key"):
        send(kind, hook, f"{server.url}/api")
    assert server.calls == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_that_cannot_be_a_header_is_refused_unshown(kind: str, server: DPoPServer) -> None:
    hook = auth(kind, oc.Token("secret\r\nX-Evil: 1", token_type="DPoP"), dpop_key=KEY)
    with pytest.raises(oc.UsageError) as caught:
        send(kind, hook, f"{server.url}/api")
    assert "secret" not in str(caught.value)
    assert server.calls == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_same_origin_redirect_gets_a_proof_of_its_own(kind: str, server: DPoPServer) -> None:
    """The HTTP library copies the first request's proof onto the redirected one; its htu
    is wrong there, so the hook signs a proof for the redirected request and sends it once
    more (then the usual nonce retry)."""
    token = server.issue()
    hook = auth(kind, manager(kind, server, token))
    status, _ = send(
        kind, hook, server.url + "/moved/items", method="POST", body=b"x=1", follow=True
    )
    assert status == 200
    api = server.api_calls
    assert [c.status for c in api] == [401, 401, 200]  # stale proof, nonce, accepted
    assert all(c.path == "/api/items" and c.body == b"x=1" for c in api)
    assert_proof_for(api[-1], token, server.url + "/api/items", nonce="n1")
    assert server.token_requests == 0  # a proof problem is not a token problem


@pytest.mark.parametrize("kind", KINDS)
def test_a_redirect_to_another_origin_gets_neither_token_nor_retry(
    kind: str, server: DPoPServer
) -> None:
    """Both libraries drop Authorization on a cross-origin redirect; the 401 there is not
    an answer to our token, so nothing is re-sent and the token never leaves its origin."""
    with DPoPServer() as other:
        token = server.issue()
        hook = auth(kind, manager(kind, server, token))
        status, history = send(
            kind,
            hook,
            f"{server.url}/away?to={other.url}/api/x",
            method="POST",
            body=b"",
            follow=True,
        )
        assert (status, history) == (401, [307])
        assert [c.authorization for c in other.api_calls] == [None]
        assert server.api_calls == []
