"""Mask the secrets a request sent wherever the server's answer may echo them.

A server that quotes the request in ``error_description`` (or in a
``WWW-Authenticate`` parameter, an ``error_uri``, ...) would otherwise put the
client secret, a refresh token or a password into ``str(exc)``, a log line or a
terminal. The library knows what it sent: :func:`request_secrets` lists it,
:func:`redact` masks it in a text, and :func:`redact_error` masks it in every
server-provided field of an exception, in place.

``oauth2_transports.run`` / ``arun`` apply :func:`redact_error` to every error a
flow raises, against every request the flow sent. Code that sends requests
itself and calls a ``process_*`` function must do the same::

    try:
        token = process_token_response(response)
    except OAuth2Error as exc:
        raise redact_error(exc, request)

Secrets are matched in the forms an echo takes: raw, percent-encoded (any hex
case, ``+`` or ``%20`` for a space), JSON-escaped, HTML-escaped, and, for
``Authorization: Basic``, both the base64 value and the decoded ``id:secret``.
A secret cut short by a message's length limit (``…``) is masked too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from typing import TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlsplit

from oauth2_core._http import HttpRequest

__all__ = ["redact", "redact_error", "request_secrets"]

E = TypeVar("E", bound=BaseException)

#: What a masked secret is replaced with.
REDACTED = "<redacted>"

#: Request parameters (form body, JSON body or query) whose values are secrets:
#: RFC 6749 §2.3.1, §4.1.3, §4.3.2, §6; RFC 7636 §4.5; RFC 7521 §4.2; RFC 7523;
#: RFC 8628 §3.4; RFC 8693 §2.1; RFC 7009 §2; RFC 7662 §2.1; RFC 6750 §2.2, §2.3;
#: OpenID Connect CIBA §10.1.
SECRET_PARAMETERS = frozenset(
    {
        "access_token",
        "actor_token",
        "assertion",
        "auth_req_id",
        "client_assertion",
        "client_secret",
        "code",
        "code_verifier",
        "device_code",
        "id_token",
        "id_token_hint",
        "login_hint_token",
        "password",
        "refresh_token",
        "subject_token",
        "token",
    }
)

#: Header fields whose whole value is a credential (RFC 9449 §4: the DPoP proof).
_SECRET_HEADERS = ("dpop", "cookie", "proxy-authorization")

#: Shorter values are not masked: they would blank out ordinary words.
_MIN_LENGTH = 3
#: The shortest cut-off prefix (followed by ``…``) that counts as the secret.
_MIN_PREFIX = 4
_ELLIPSIS = "…"
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def _credentials(value: str) -> Iterator[str]:
    """The secret parts of an ``Authorization`` value (RFC 9110 §11.6.2)."""
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if not credentials:
        yield scheme  # a bare credential without a scheme
        return
    yield credentials
    if scheme.lower() != "basic":
        return
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return
    yield decoded
    _, sep, secret = decoded.partition(":")
    if sep:
        # RFC 6749 §2.3.1 form-encodes id and secret before base64; servers decode.
        yield from (secret, unquote(secret), unquote_plus(secret))


def _parameters(text: str) -> Iterator[tuple[str, object]]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            yield from data.items()
            return
    try:
        yield from parse_qsl(stripped, keep_blank_values=True)
    except ValueError:
        return


def request_secrets(request: HttpRequest) -> frozenset[str]:
    """Every secret value ``request`` carries, as it was sent and as a server decodes it.

    Covers the ``Authorization`` credentials (with a Basic value's decoded
    ``id:secret`` and secret), the DPoP proof (RFC 9449 §4), and the values of
    :data:`SECRET_PARAMETERS` in the form or JSON body and in the query (RFC 6750
    §2.3), plus a password in the URL's userinfo.

    Args:
        request: A request the library built (or any :class:`HttpRequest`).

    Returns:
        The values to mask, each at least three characters long.

    Next: :func:`redact` or :func:`redact_error`.
    """
    found: set[str] = set()
    for value in request.headers.get_all("authorization"):
        found.update(_credentials(value))
    for name in _SECRET_HEADERS:
        found.update(request.headers.get_all(name))
    try:
        parts = urlsplit(request.url)
        password = parts.password
    except ValueError:
        parts, password = None, None
    if password:
        found.update((password, unquote(password)))
    texts = [parts.query] if parts is not None and parts.query else []
    if request.body:
        texts.append(request.body.decode("utf-8", "replace"))
    for text in texts:
        for name, given in _parameters(text):
            if name in SECRET_PARAMETERS and isinstance(given, str):
                found.add(given)
    return frozenset(value for value in found if len(value) >= _MIN_LENGTH)


def _hex(text: str) -> str:
    """A regex for ``text`` with its hex digits in either case."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in text)


def _char_forms(ch: str) -> list[str]:
    """Regex alternatives for one character of a secret, in every encoding an echo uses."""
    forms = [re.escape(ch)]
    # Percent-encoding of each UTF-8 byte, either hex case (RFC 3986 §2.1).
    forms.append("".join("%" + _hex(f"{b:02x}") for b in ch.encode("utf-8", "surrogatepass")))
    if ch == " ":
        forms.append(r"\+")  # application/x-www-form-urlencoded
    escaped = json.dumps(ch)[1:-1]  # the ASCII-only JSON escape (RFC 8259 §7)
    if escaped.startswith("\\u"):
        forms.append(re.escape("\\") + "u" + _hex(escaped[2:6]))
        if len(escaped) > 6:  # a surrogate pair
            forms[-1] += re.escape("\\") + "u" + _hex(escaped[8:12])
    elif escaped != ch:
        forms.append(re.escape(escaped))
    if ch == "/":
        forms.append(re.escape("\\/"))
    if ch in _HTML:
        forms.append(re.escape(_HTML[ch]))
    return forms


def _compile(secrets: Iterable[str]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    kept = tuple(sorted({s for s in secrets if len(s) >= _MIN_LENGTH}, key=len, reverse=True))
    # Longest first: a secret that contains another is masked whole.
    alternatives = ["".join(f"(?:{'|'.join(_char_forms(ch))})" for ch in s) for s in kept]
    return (re.compile("|".join(alternatives)) if alternatives else None), kept


def _cut_prefix(text: str, secrets: tuple[str, ...]) -> str:
    """Mask a secret's beginning where a length limit cut the text (``…``)."""
    if _ELLIPSIS not in text:
        return text
    pieces = text.split(_ELLIPSIS)
    for index, piece in enumerate(pieces[:-1]):
        for secret in secrets:
            forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
            for form in forms:
                for size in range(min(len(form), len(piece)), _MIN_PREFIX - 1, -1):
                    if piece.endswith(form[:size]):
                        piece = piece[:-size] + REDACTED
                        break
        pieces[index] = piece
    return _ELLIPSIS.join(pieces)


def _apply(text: str, pattern: re.Pattern[str] | None, secrets: tuple[str, ...]) -> str:
    if pattern is None:
        return text
    return _cut_prefix(pattern.sub(REDACTED, text), secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret of ``secrets`` replaced by :data:`REDACTED`.

    Args:
        text: A server-provided text (``error_description``, a message quoting it).
        secrets: Values from :func:`request_secrets`; values shorter than three
            characters are left alone.

    Returns:
        The masked text.
    """
    pattern, kept = _compile(secrets)
    return _apply(text, pattern, kept)


def _exceptions(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend((current.__cause__, current.__context__))
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))


def _masked(value: object, pattern: re.Pattern[str], secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        return _apply(value, pattern, secrets)
    if isinstance(value, tuple) and any(isinstance(v, str) for v in value):
        return tuple(_masked(v, pattern, secrets) for v in value)
    return value


def redact_error(error: E, *requests: HttpRequest) -> E:
    """Mask the secrets of ``requests`` in ``error``, in place, and return it.

    Every string the exception holds is masked: its ``args`` (so ``str`` and
    ``repr``), its attributes (``error``, ``error_description``, ``error_uri``
    and any other), its notes, and the same in every exception it chains
    (``__cause__``, ``__context__``). The object itself changes, so the same
    error handed on later (a token manager's waiting callers get it) is masked
    too.

    Args:
        error: What processing the response raised.
        *requests: The request(s) the response answered.

    Returns:
        ``error``, for ``raise redact_error(exc, request)``.
    """
    secrets: set[str] = set()
    for request in requests:
        secrets.update(request_secrets(request))
    pattern, kept = _compile(secrets)
    if pattern is None:
        return error
    for current in _exceptions(error):
        current.args = tuple(_masked(arg, pattern, kept) for arg in current.args)
        attributes = getattr(current, "__dict__", None)
        if attributes is None:
            continue
        for name, value in list(attributes.items()):
            masked = _masked(value, pattern, kept)
            if masked != value:
                attributes[name] = masked
        notes = attributes.get("__notes__")
        if isinstance(notes, list):
            notes[:] = [_masked(note, pattern, kept) for note in notes]
    return error
