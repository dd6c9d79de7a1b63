"""The providers requests-oauth2 was written for, on loopback, in front of the mock server.

docs/migrating.md starts from requests-oauth2 code: a ``site`` URL with the endpoint paths
joined onto it (``oauth/authorize`` / ``oauth/token``, Facebook's ``dialog/oauth`` /
``oauth/access_token``), and ``h.site`` switched from ``www.facebook.com`` to
``graph.facebook.com`` between the two steps. :class:`LegacyProvider` serves that layout on
``127.0.0.1`` and forwards each request to the real mock authorization server, which issues
and checks every code and token. It changes only what such a provider did differently, and
says so here:

- the paths: ``<site>/oauth/authorize`` and ``<site>/dialog/oauth`` are the mock's
  ``/authorize``; ``<site>/oauth/token`` and ``<site>/oauth/access_token`` its ``/token``;
- ``response_type`` defaults to ``code`` (Facebook's dialog and GitHub's authorize endpoint
  never required it, and requests-oauth2's ``authorize_url("email")`` does not send it);
- the redirect carries no RFC 9207 ``iss`` (those providers never sent one; the migrated code
  in the page names ``site`` as the issuer, which is right for exactly such a provider).

Each site is a path prefix, ``http://127.0.0.1:<port>/<name>/``: ``https://www.facebook.com/``
becomes ``.../www.facebook.com/``, a reader's ``site`` becomes ``.../site/``.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

AUTHORIZE_PATHS = ("oauth/authorize", "dialog/oauth")
TOKEN_PATHS = ("oauth/token", "oauth/access_token")
SITES = ("https://www.facebook.com/", "https://graph.facebook.com/")
"""The example sites of the page, rewritten onto this provider."""

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "host"})


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        provider: LegacyProvider = self.server.provider  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        _, _, endpoint = url.path.lstrip("/").partition("/")  # drop the site's name
        query = parse_qsl(url.query, keep_blank_values=True)
        if endpoint in AUTHORIZE_PATHS:
            target = "/authorize"
            if not any(name == "response_type" for name, _ in query):
                query.append(("response_type", "code"))
        elif endpoint in TOKEN_PATHS:
            target = "/token"
        else:
            self._answer(404, [], b"")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", provider.mock_port, timeout=10)
        try:
            path = provider.mock_path + target + ("?" + urlencode(query) if query else "")
            upstream.request(self.command, path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
            fields = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
        finally:
            upstream.close()
        fields = [(k, _without_iss(v) if k.lower() == "location" else v) for k, v in fields]
        self._answer(answer.status, fields, payload)

    def _answer(self, status: int, fields: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in fields:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _without_iss(location: str) -> str:
    parts = urlsplit(location)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    return urlunsplit(parts._replace(query=urlencode(query)))


class LegacyProvider:
    """requests-oauth2's endpoint layout on a free loopback port, forwarding to ``mock_url``."""

    def __init__(self, mock_url: str) -> None:
        mock = urlsplit(mock_url)
        assert mock.hostname == "127.0.0.1" and mock.port is not None
        self.mock_port = mock.port
        self.mock_path = mock.path.rstrip("/")
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Forward)
        self._httpd.daemon_threads = True
        self._httpd.provider = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def site(self, name: str) -> str:
        """The loopback URL standing for the site ``name`` (with the trailing slash)."""
        return f"{self.url}/{name}/"

    def rewrite(self, text: str) -> str:
        """The page's Facebook sites replaced by this provider's."""
        for site in SITES:
            text = text.replace(site, self.site(urlsplit(site).hostname or "site"))
        return text

    def is_authorize(self, url: str) -> bool:
        """Whether ``url`` is an authorization URL of one of this provider's sites."""
        parts = urlsplit(url)
        if not url.startswith(self.url + "/"):
            return False
        return parts.path.lstrip("/").partition("/")[2] in AUTHORIZE_PATHS

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
