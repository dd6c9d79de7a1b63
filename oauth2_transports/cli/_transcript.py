"""A readable, secret-free transcript of HTTP exchanges, for ``oauth2 demo``.

:class:`TranscriptTransport` wraps any transport and prints each request
(method, URL without its query values, header and parameter names, secret
values masked) and each answer (status, media type, members with tokens masked
as ``eyJh…(redacted)``). :func:`scripted_browser` plays the user's browser:
it follows the authorization redirect and delivers it to the CLI's listener.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import TextIO
from urllib.parse import parse_qsl, urlsplit

from oauth2_core import HttpRequest, HttpResponse
from oauth2_core.errors import escape_controls
from oauth2_transports._transport import Transport

__all__ = [
    "Printer",
    "TranscriptTransport",
    "mask",
    "masked_pairs",
    "masked_url",
    "scripted_browser",
]

#: Shown only as "(redacted)": nothing of them is useful to a reader.
HIDDEN = frozenset({"client_secret", "password", "code_verifier", "client_assertion"})
#: Shown as their first four characters and "…(redacted)", so a reader can tell them apart.
MASKED = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "code",
        "device_code",
        "subject_token",
        "actor_token",
        "assertion",
        "state",
        "nonce",
    }
)


class Printer:
    """Writes lines, falling back to ASCII where the stream cannot encode ``…`` or arrows."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            "…→←✓✗".encode(encoding)
            self.fancy = True
        except (UnicodeEncodeError, LookupError):
            self.fancy = False

    def line(self, text: str = "") -> None:
        # Lines quote server answers (WWW-Authenticate, members): no control reaches the terminal.
        text = escape_controls(text)
        if not self.fancy:
            for fancy, plain in (("…", "..."), ("→", "->"), ("←", "<-"), ("✓", "ok"), ("✗", "XX")):
                text = text.replace(fancy, plain)
            encoding = getattr(self.out, "encoding", None) or "ascii"
            text = text.encode(encoding, "replace").decode(encoding)
        self.out.write(text + "\n")
        self.out.flush()


def mask(name: str, value: str) -> str:
    """``value`` as the transcript shows it: whole, masked, or hidden."""
    if name in HIDDEN:
        return "(redacted)"
    if name in MASKED:
        return value[:4] + "…(redacted)"
    return value if len(value) <= 60 else value[:57] + "…"


def masked_pairs(pairs: Iterable[tuple[str, object]], *, limit: int = 12) -> str:
    """``name=value`` pairs, secrets masked; at most ``limit`` of them."""
    items = list(pairs)
    shown = " ".join(f"{name}={mask(name, _str(value))}" for name, value in items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def masked_url(url: str) -> str:
    """The URL with secret query values masked."""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if not parts.query:
        return base
    return (
        base
        + "?"
        + "&".join(f"{k}={mask(k, v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    )


def _body_pairs(content_type: str, body: bytes) -> list[tuple[str, object]] | None:
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return list(data.items()) if isinstance(data, dict) else None
    if "form" in content_type or "text/plain" in content_type:
        return list(parse_qsl(text, keep_blank_values=True))
    return None


class TranscriptTransport:
    """A transport that prints every exchange, secrets masked, then passes it on."""

    def __init__(self, inner: Transport, printer: Printer) -> None:
        self._inner = inner
        self._print = printer.line

    def send(self, request: HttpRequest) -> HttpResponse:
        """Print the request, send it with the wrapped transport, print the answer."""
        self._print(f"    → {request.method} {masked_url(request.url)}")
        auth = request.headers.get("authorization")
        if auth is not None:
            scheme = auth.split(" ", 1)[0]
            self._print(f"      Authorization: {scheme} …(redacted)")
        if request.body:
            ctype = request.headers.get("content-type", "")
            pairs = _body_pairs(ctype, request.body)
            shown = masked_pairs(pairs) if pairs is not None else f"<{len(request.body)} bytes>"
            self._print(f"      {shown}")
        response = self._inner.send(request)
        self._print(f"    ← {response.status} {response.content_type or '(no content type)'}")
        for name in ("WWW-Authenticate", "Retry-After"):
            value = response.headers.get(name)
            if value is not None:
                self._print(f"      {name}: {value}")
        if response.body:
            pairs = _body_pairs(response.content_type, response.body)
            if pairs is None:
                self._print(f"      <{len(response.body)} bytes>")
            else:
                self._print("      " + masked_pairs(pairs, limit=6))
        return response


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def scripted_browser(printer: Printer) -> Callable[[str], bool]:
    """A stand-in for ``webbrowser.open``: GET the authorization URL, follow its redirect.

    It does what a browser with a signed-in user does: the authorization server
    answers 302 to the redirect URI, and the browser delivers that to the CLI's
    loopback listener.
    """
    # No proxies: everything here is on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)

    def open_url(url: str) -> bool:
        printer.line(f"    browser → GET {masked_url(url)}")
        try:
            with opener.open(url, timeout=10) as answer:
                printer.line(f"    browser ← {answer.status} (no redirect)")
                return True
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location")
            exc.close()
            printer.line(f"    browser ← {exc.code} Location: {masked_url(location or '')}")
        if not location:
            return True
        with opener.open(location, timeout=10) as answer:
            printer.line(f"    browser → GET {urlsplit(location).path} on the CLI's listener")
            printer.line(f"    browser ← {answer.status} {answer.headers.get_content_type()}")
        return True

    return open_url
