"""Client ID Metadata Documents through ``for_resource`` (the CIMD draft).

draft-ietf-oauth-client-id-metadata-document, as the MCP authorization spec of
2025-11-25 uses it.

A loopback server serves the client's metadata document; the mock server (with
``client_id_metadata_documents=True``) advertises
``client_id_metadata_document_supported``, fetches the document named by the
``client_id`` URL and checks it. With ``client_id_metadata_url=`` the chain
registers nothing: one authorization, one token. A server without the flag
falls back to RFC 7591 registration when ``client_metadata=`` is given, and is a
``UsageError`` when it is not.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
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


class _Documents(http.server.ThreadingHTTPServer):
    documents: dict[str, object]
    seen: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Documents

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        document = self.server.documents.get(self.path)
        raw = json.dumps(document).encode()
        self.send_response(200 if document is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def documents() -> Iterator[_Documents]:
    """A loopback server for client metadata documents, recording each GET."""
    server = _Documents(("127.0.0.1", 0), _Handler)
    server.documents, server.seen = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _publish(documents: _Documents, path: str = "/client.json", **changes: object) -> str:
    url = f"http://127.0.0.1:{documents.server_address[1]}{path}"
    documents.documents[path] = {
        "client_id": url,
        "client_name": "acme",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        **changes,
    }
    return url


@pytest.fixture
def cimd_server() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(
        client_id_metadata_documents=True, allow_http_client_id_urls=True
    ) as server:
        yield server


class Browser:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> str:
        self.urls.append(url)
        return follow_authorization(url)


def _counts(server: MockAuthorizationServer) -> dict[str, int]:
    paths = Counter(r.path for r in server.requests)
    return {k: paths["/" + k] for k in ("register", "authorize", "token")}


def test_httpx_uses_the_document_url_as_client_id(
    cimd_server: MockAuthorizationServer, documents: _Documents
) -> None:
    url = _publish(documents)
    browser = Browser()
    auth = HttpxAuth.for_resource(
        client_id_metadata_url=url, redirect_uri=REDIRECT, authorize=browser
    )
    with httpx.Client(auth=auth) as client:
        first = client.get(cimd_server.resource_url)
        assert first.status_code == 200, first.text
        assert client.get(cimd_server.resource_url).status_code == 200
    assert _counts(cimd_server) == {"register": 0, "authorize": 1, "token": 1}
    assert parse_qs(urlsplit(browser.urls[0]).query)["client_id"] == [url]
    assert documents.seen == ["/client.json"]  # fetched by the server at authorization
    token_request = next(r for r in cimd_server.requests if r.path == "/token")
    assert token_request.form["client_id"] == url
    assert auth.session is not None and auth.session.registration is None
    assert cimd_server.metadata()["client_id_metadata_document_supported"] is True


def test_requests_with_client_metadata_too_prefers_the_document(
    cimd_server: MockAuthorizationServer, documents: _Documents, tmp_path: Path
) -> None:
    """The MCP order: the document when the server takes it; the store keeps it across a restart."""
    url = _publish(documents)
    store = FileTokenStore(tmp_path / "token.json")
    auth = RequestsAuth.for_resource(
        client_id_metadata_url=url, client_metadata=METADATA, authorize=Browser(), store=store
    )
    assert requests.get(cimd_server.resource_url, auth=auth, timeout=10).status_code == 200
    assert _counts(cimd_server) == {"register": 0, "authorize": 1, "token": 1}

    def no_browser(url: str) -> str:
        raise AssertionError("a restarted process must not authorize again")

    again = RequestsAuth.for_resource(
        client_id_metadata_url=url, client_metadata=METADATA, authorize=no_browser, store=store
    )
    assert requests.get(cimd_server.resource_url, auth=again, timeout=10).status_code == 200
    assert again.session is not None and again.session.client.client_id == url
    assert _counts(cimd_server) == {"register": 0, "authorize": 1, "token": 1}


def test_without_the_flag_the_client_registers(
    server: MockAuthorizationServer, documents: _Documents
) -> None:
    url = _publish(documents)
    auth = HttpxAuth.for_resource(
        client_id_metadata_url=url, client_metadata=METADATA, authorize=Browser()
    )
    with httpx.Client(auth=auth) as client:
        assert client.get(server.resource_url).status_code == 200
    assert _counts(server) == {"register": 1, "authorize": 1, "token": 1}
    assert documents.seen == []
    assert auth.session is not None and auth.session.client.client_id != url


def test_without_the_flag_and_without_client_metadata_is_a_usage_error(
    server: MockAuthorizationServer, documents: _Documents
) -> None:
    url = _publish(documents)
    auth = HttpxAuth.for_resource(
        client_id_metadata_url=url, redirect_uri=REDIRECT, authorize=Browser()
    )
    with (
        httpx.Client(auth=auth) as client,
        pytest.raises(oc.UsageError, match="client_id_metadata_document_supported"),
    ):
        client.get(server.resource_url)
    assert _counts(server) == {"register": 0, "authorize": 0, "token": 0}


@pytest.mark.parametrize(
    "url",
    [
        "https://client.example",  # no path
        "https://client.example/",  # no path either
        "https://client.example/a/../client.json",  # dot segments
        "https://client.example/client.json#x",  # fragment
        "http://client.example/client.json",  # plain http, not loopback
        "https://user@client.example/client.json",  # user info
    ],
)
def test_a_url_the_draft_forbids_is_refused_at_once(url: str) -> None:
    with pytest.raises(oc.UsageError):
        HttpxAuth.for_resource(client_id_metadata_url=url, authorize=Browser())
    with pytest.raises(oc.UsageError):
        oc.check_client_id_metadata_url(url)


def _authorize(server: MockAuthorizationServer, client_id: str) -> tuple[int, str]:
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
    )
    answer = call("GET", server.url("/authorize") + "?" + query)
    return answer.status, answer.data.decode()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"client_id": "http://127.0.0.1:1/other.json"}, "client_id is not its URL"),
        ({"redirect_uris": ["http://127.0.0.1:9999/elsewhere"]}, "redirect_uri is not registered"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "only public clients"),
        ({"redirect_uris": []}, "no redirect_uris"),
    ],
)
def test_the_mock_checks_the_document(
    cimd_server: MockAuthorizationServer,
    documents: _Documents,
    changes: dict[str, object],
    reason: str,
) -> None:
    url = _publish(documents, **changes)
    status, page = _authorize(cimd_server, url)
    assert status == 400 and reason in page  # an error page: never a redirect to an unchecked URI


def test_the_mock_refuses_documents_it_will_not_fetch(
    cimd_server: MockAuthorizationServer, documents: _Documents
) -> None:
    status, page = _authorize(cimd_server, "https://client.example/client.json")
    assert status == 400 and "loopback hosts only" in page
    missing = f"http://127.0.0.1:{documents.server_address[1]}/missing.json"
    status, page = _authorize(cimd_server, missing)
    assert status == 400 and "could not be fetched" in page
    with MockAuthorizationServer(client_id_metadata_documents=True) as strict:
        status, page = _authorize(strict, _publish(documents))
        assert status == 400 and "must use https" in page
    assert documents.seen == ["/missing.json"]
