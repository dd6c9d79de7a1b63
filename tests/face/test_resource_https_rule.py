"""``for_resource`` refuses plain http outside loopback, before sending anything (issue 16 item 4).

Three places a resource-first chain could send something in clear: the resource
URL itself (its 401 would start the chain, whose token then goes there), an
authorization server named by the resource metadata, and a token or
registration endpoint named by the server metadata. Each is refused with an
``oauth2_core.InsecureHttpError`` (a ``UsageError``) in every hook flavour.

Nothing reaches a non-loopback address: requests to ``http://rs.example`` go
through a recording proxy on loopback (the pattern of
``tests/lifecycle/test_hook_https_rule.py``), metadata naming
``http://as.example`` is served by a loopback server, and a guard on
``socket.getaddrinfo`` records (and refuses) any lookup of another name.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests

import oauth2_core as oc
from oauth2_transports.httpx import OAuth2Auth as HttpxAuth
from oauth2_transports.requests import OAuth2Auth as RequestsAuth

REDIRECT = "http://127.0.0.1:8765/callback"
CLIENT = oc.Client("pre-registered", auth_method="none", redirect_uri=REDIRECT)
METADATA = {"client_name": "acme", "redirect_uris": [REDIRECT]}
REMOTE = "http://rs.example/mcp"

Routes = dict[str, tuple[int, dict[str, str], object]]


class _Site(http.server.ThreadingHTTPServer):
    routes: Routes
    seen: list[tuple[str, str | None]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Site

    def _answer(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        status, headers, data = self.server.routes.get(self.path, (200, {}, {"ok": True}))
        raw = json.dumps(data).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[_Site]:
    """A loopback server answering JSON from ``routes`` (200 ``{"ok": true}`` otherwise)."""
    server = _Site(("127.0.0.1", 0), _Handler)
    server.routes, server.seen = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


proxy = site  # the recording proxy is the same kind of server


def _origin(server: _Site) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names other than loopback that anything tried to resolve (and was refused)."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            asked.append(name)
            raise socket.gaierror(f"test guard: no lookup of {name!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return asked


def _never(url: str) -> str:
    raise AssertionError("the user must not be sent anywhere")


# -- the hook flavours: get(auth, url, proxy URL or None) -----------------------------


def _requests(auth: Any, url: str, via: str | None) -> int:
    proxies = {"http": via} if via else None
    return requests.get(url, auth=auth, proxies=proxies, timeout=10).status_code


def _httpx_sync(auth: Any, url: str, via: str | None) -> int:
    with httpx.Client(proxy=via, trust_env=False) as client:
        return client.get(url, auth=auth).status_code


def _httpx_async(auth: Any, url: str, via: str | None) -> int:
    async def main() -> int:
        async with httpx.AsyncClient(proxy=via, trust_env=False) as client:
            return (await client.get(url, auth=auth)).status_code

    return asyncio.run(main())


def _httpx2_sync(auth: Any, url: str, via: str | None) -> int:
    httpx2 = pytest.importorskip("httpx2")
    with httpx2.Client(proxy=via, trust_env=False) as client:
        return int(client.get(url, auth=auth).status_code)


def _httpx2_async(auth: Any, url: str, via: str | None) -> int:
    httpx2 = pytest.importorskip("httpx2")

    async def main() -> int:
        async with httpx2.AsyncClient(proxy=via, trust_env=False) as client:
            return int((await client.get(url, auth=auth)).status_code)

    return asyncio.run(main())


def _make(flavour: str, **options: Any) -> Any:
    if flavour == "requests":
        return RequestsAuth.for_resource(**options)
    if flavour.startswith("httpx2"):
        pytest.importorskip("httpx2")
        from oauth2_transports.httpx2 import OAuth2Auth as Httpx2Auth

        return Httpx2Auth.for_resource(**options)
    return HttpxAuth.for_resource(**options)


FLAVOURS: dict[str, Callable[[Any, str, str | None], int]] = {
    "requests": _requests,
    "httpx-sync": _httpx_sync,
    "httpx-async": _httpx_async,
    "httpx2-sync": _httpx2_sync,
    "httpx2-async": _httpx2_async,
}


# -- 1. the resource URL ------------------------------------------------------------


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_plain_http_resource_url_is_refused_before_sending(
    flavour: str, proxy: _Site, lookups: list[str]
) -> None:
    auth = _make(flavour, client_metadata=METADATA, authorize=_never)
    with pytest.raises(oc.InsecureHttpError, match=r"plain http") as caught:
        FLAVOURS[flavour](auth, REMOTE, _origin(proxy))
    assert caught.value.what == "the resource URL"
    assert proxy.seen == []  # not even the first, token-less request
    assert lookups == []


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_the_opt_out_sends_through_the_proxy(flavour: str, proxy: _Site) -> None:
    """The proxy route is real: with ``allow_insecure_http=True`` the request reaches it."""
    auth = _make(flavour, client_metadata=METADATA, authorize=_never, allow_insecure_http=True)
    assert FLAVOURS[flavour](auth, REMOTE, _origin(proxy)) == 200
    assert proxy.seen == [(REMOTE, None)]  # absolute-form: meant for rs.example


# -- 2. an authorization server named by the resource metadata ------------------------


def _resource(site: _Site, authorization_server: str) -> str:
    origin = _origin(site)
    metadata_url = origin + "/.well-known/oauth-protected-resource/mcp"
    site.routes["/mcp"] = (
        401,
        {"WWW-Authenticate": f'Bearer resource_metadata="{metadata_url}"'},
        {},
    )
    site.routes["/.well-known/oauth-protected-resource/mcp"] = (
        200,
        {},
        {"resource": origin + "/mcp", "authorization_servers": [authorization_server]},
    )
    return origin + "/mcp"


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_plain_http_authorization_server_is_refused(
    flavour: str, site: _Site, lookups: list[str]
) -> None:
    url = _resource(site, "http://as.example/")
    auth = _make(flavour, client_metadata=METADATA, authorize=_never)
    with pytest.raises(oc.InsecureHttpError, match=r"plain http"):
        FLAVOURS[flavour](auth, url, None)
    assert [path for path, _ in site.seen] == ["/mcp", "/.well-known/oauth-protected-resource/mcp"]
    assert lookups == []


# -- 3. a token or registration endpoint named by the server metadata ---------------


@pytest.mark.parametrize("endpoint", ["token_endpoint", "registration_endpoint"])
@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_plain_http_endpoint_in_the_server_metadata_is_refused(
    flavour: str, endpoint: str, site: _Site, lookups: list[str]
) -> None:
    origin = _origin(site)
    url = _resource(site, origin)
    server_metadata: dict[str, object] = {
        "issuer": origin,
        "authorization_endpoint": origin + "/authorize",
        "token_endpoint": origin + "/token",
        "registration_endpoint": origin + "/register",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }
    server_metadata[endpoint] = "http://as.example/" + endpoint
    site.routes["/.well-known/oauth-authorization-server"] = (200, {}, server_metadata)
    options: dict[str, Any] = (
        {"client": CLIENT} if endpoint == "token_endpoint" else {"client_metadata": METADATA}
    )
    auth = _make(flavour, authorize=_never, **options)
    with pytest.raises(oc.InsecureHttpError, match=r"plain http") as caught:
        FLAVOURS[flavour](auth, url, None)
    assert caught.value.what == endpoint
    assert [path for path, _ in site.seen] == [
        "/mcp",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
    ]  # no registration, no authorization, no token request
    assert lookups == []
