"""Servers that split their metadata (issue 14, item 5), over a real loopback server.

Django OAuth Toolkit publishes RFC 8414 metadata without ``userinfo_endpoint`` and
OpenID Connect metadata without the revocation and introspection endpoints, and
neither lists the device endpoint: ``discover(..., merge=True, overrides=...)``.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

import oauth2_core as oc
from oauth2_transports import AsyncHttpxTransport, AsyncOAuth2Client, OAuth2Client


class _Split(http.server.ThreadingHTTPServer):
    issuer: str
    paths: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Split

    def do_GET(self) -> None:
        issuer = self.server.issuer
        self.server.paths.append(self.path)
        docs = {
            "/.well-known/oauth-authorization-server": {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/o/authorize/",
                "token_endpoint": f"{issuer}/o/token/",
                "revocation_endpoint": f"{issuer}/o/revoke_token/",
                "introspection_endpoint": f"{issuer}/o/introspect/",
            },
            "/.well-known/openid-configuration": {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/o/authorize/",
                "token_endpoint": f"{issuer}/o/token/",
                "userinfo_endpoint": f"{issuer}/o/userinfo/",
                "jwks_uri": f"{issuer}/o/jwks/",
            },
        }
        doc = docs.get(self.path)
        body = json.dumps(doc).encode() if doc else b"not found"
        self.send_response(200 if doc else 404)
        self.send_header("Content-Type", "application/json" if doc else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def split() -> Iterator[_Split]:
    server = _Split(("127.0.0.1", 0), _Handler)
    server.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _check(server: oc.ServerMetadata, issuer: str) -> None:
    assert server.userinfo_endpoint == f"{issuer}/o/userinfo/"
    assert server.revocation_endpoint == f"{issuer}/o/revoke_token/"
    assert server.introspection_endpoint == f"{issuer}/o/introspect/"
    assert server.device_authorization_endpoint == f"{issuer}/o/device/"


def test_sync_discover_merges_and_overrides(split: _Split) -> None:
    c = OAuth2Client.discover(
        split.issuer,
        oc.Client("app", "s3cr3t"),
        merge=True,
        overrides={"device_authorization_endpoint": f"{split.issuer}/o/device/"},
    )
    _check(c.server, split.issuer)
    assert split.paths == [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ]
    c.close()


def test_without_merge_one_document_is_taken(split: _Split) -> None:
    with OAuth2Client.discover(split.issuer, oc.Client("app", "s3cr3t")) as c:
        assert c.server.userinfo_endpoint is None
        assert c.server.revocation_endpoint is not None
    assert split.paths == ["/.well-known/oauth-authorization-server"]


def test_async_discover_merges_and_overrides(split: _Split) -> None:
    async def main() -> oc.ServerMetadata:
        c = await AsyncOAuth2Client.discover(
            split.issuer,
            oc.Client("app", "s3cr3t"),
            AsyncHttpxTransport(),
            merge=True,
            overrides={"device_authorization_endpoint": f"{split.issuer}/o/device/"},
        )
        await c.aclose()
        return c.server

    _check(asyncio.run(main()), split.issuer)


def test_an_override_still_meets_the_https_rule(split: _Split) -> None:
    c = OAuth2Client.discover(
        split.issuer,
        oc.Client("app", "s3cr3t"),
        overrides={"device_authorization_endpoint": "http://as.example/device"},
    )
    with pytest.raises(oc.UsageError, match="plain http"):
        c.device_authorization(scope="read")
    c.close()
