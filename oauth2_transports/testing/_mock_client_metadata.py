"""The mock server's Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document).

With ``client_id_metadata_documents=True`` the server advertises
``client_id_metadata_document_supported`` and takes a URL as ``client_id``: it
fetches the document at that URL and uses its metadata as the client's
registration. The document must be a JSON object whose ``client_id`` is the URL
itself (simple string comparison) and which names the ``redirect_uris``; the
client is public (``token_endpoint_auth_method`` ``none``: a document cannot
carry a shared secret). The authorization request's ``redirect_uri`` must be
one of them (checked like any registered client's).

A test tool: the mock fetches documents **from loopback hosts only** (it never
reaches the internet), over https, or plain http with
``allow_http_client_id_urls=True``. Each authorization or PAR request fetches
the document again (outside the server's lock); the token endpoint uses the
last fetched one.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from oauth2_transports.testing._mock_model import MockClient, RecordedRequest
from oauth2_transports.testing._mock_state import MockState

__all__ = ["FETCHING_PATHS", "client_id_of", "fetch_document"]

#: The endpoints whose request names a client to fetch: authorization and PAR.
FETCHING_PATHS = frozenset({"/authorize", "/par"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_MAX_DOCUMENT = 64 * 1024  # the draft suggests servers limit the size (5 KB is typical)


def client_id_of(request: RecordedRequest) -> str | None:
    """The ``client_id`` a request names (query or form), if it looks like a URL."""
    value = request.form.get("client_id") or request.query.get("client_id")
    if value is None or "://" not in value:
        return None
    return value


def _url_problem(url: str, *, allow_http: bool) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "the client_id is not a URL"
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_http):
        return "the client_id URL must use https"
    if parts.username is not None or parts.password is not None or parts.fragment:
        return "the client_id URL must have no user info and no fragment"
    if not parts.path or parts.path == "/":
        return "the client_id URL must have a path"
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return "the client_id URL must not have dot segments"
    if host not in _LOOPBACK:
        return "the mock server fetches client metadata documents from loopback hosts only"
    return None


def _document_problem(url: str, data: object) -> tuple[str, tuple[str, ...]] | str:
    if not isinstance(data, dict):
        return "the client metadata document is not a JSON object"
    if data.get("client_id") != url:
        return "the document's client_id is not its URL"
    uris = data.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        return "the document names no redirect_uris"
    method = data.get("token_endpoint_auth_method", "none")
    if method != "none" or "client_secret" in data:
        return "the mock accepts only public clients (token_endpoint_auth_method none)"
    return url, tuple(uris)


def fetch_document(state: MockState, url: str) -> None:
    """Fetch and check the document at ``url``; remember the client or the refusal.

    Called without the server's lock (the fetch may take a while); takes it to
    store the outcome in ``state.metadata_clients``.
    """
    import urllib3

    with state.lock:
        allow_http = state.allow_http_client_id_urls
    outcome: MockClient | str
    problem = _url_problem(url, allow_http=allow_http)
    if problem is not None:
        outcome = problem
    else:
        try:
            with urllib3.PoolManager(retries=False, timeout=5) as pool:
                answer = pool.request(
                    "GET",
                    url,
                    redirect=False,
                    preload_content=False,
                    headers={"Accept": "application/json"},
                )
                raw = answer.read(_MAX_DOCUMENT + 1)
                status = answer.status
                answer.release_conn()
        except urllib3.exceptions.HTTPError:
            raw, status = b"", 0
        if status != 200 or len(raw) > _MAX_DOCUMENT:
            outcome = "the client metadata document could not be fetched"
        else:
            try:
                checked = _document_problem(url, json.loads(raw))
            except ValueError:
                checked = "the client metadata document is not JSON"
            outcome = (
                checked
                if isinstance(checked, str)
                else MockClient(url, None, auth_method="none", redirect_uris=checked[1])
            )
    with state.lock:
        state.metadata_clients[url] = outcome
