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
import codecs
import json
import re
from collections.abc import Iterable, Iterator
from typing import TypeVar
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

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


# One escape of the encodings an echo uses: a run of percent-encoded bytes (RFC 3986
# §2.1), a JSON escape (RFC 8259 §7, surrogate pairs included) or an HTML entity.
_ESCAPE = re.compile(
    r"(?:%[0-9A-Fa-f]{2})+"
    r"|\\u[0-9A-Fa-f]{4}(?:\\u[dD][c-fC-F][0-9A-Fa-f]{2})?"
    r"|\\[\"\\/bfnrt]"
    r"|&(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)
_JSON_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _unescape(escape: str) -> list[tuple[str, int]]:
    """The characters one escape stands for, each with the length of text it spans."""
    if escape[0] == "%":
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        chars: list[tuple[str, int]] = []
        span = 0
        for index in range(0, len(escape), 3):
            span += 3
            for ch in decoder.decode(bytes([int(escape[index + 1 : index + 3], 16)])):
                chars.append((ch, span))
                span = 0
        return chars
    if escape[0] == "&":
        name = escape[1:-1]
        if name[0] != "#":
            return [(_ENTITIES[name], len(escape))]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return [(chr(code) if code < 0x110000 else "\ufffd", len(escape))]
    if escape[1] == "u":
        units = escape.encode("ascii").decode("unicode_escape", "replace")
        return [(units.encode("utf-16", "surrogatepass").decode("utf-16", "replace"), len(escape))]
    return [(_JSON_ESCAPES.get(escape[1], escape[1]), len(escape))]


def _canonical(text: str) -> tuple[str, list[int]]:
    """``text`` with one layer of escapes undone and ``+`` read as a space.

    Returns the canonical text and, for each of its characters, where it starts
    in ``text`` (plus one final entry: ``len(text)``), so matches map back.
    """
    chars: list[str] = []
    starts: list[int] = []
    position = 0
    for match in _ESCAPE.finditer(text):
        chars.append(text[position : match.start()])
        starts.extend(range(position, match.start()))
        offset = match.start()
        for decoded, span in _unescape(match.group()):
            chars.append(decoded)
            starts.extend([offset] * len(decoded))
            offset += span
        position = match.end()
    chars.append(text[position:])
    starts.extend(range(position, len(text) + 1))
    # application/x-www-form-urlencoded writes a space as "+": compare both as a space.
    return "".join(chars).replace("+", " "), starts


_Forms = tuple[tuple[str, ...], tuple[str, ...]]


def _forms(secrets: Iterable[str]) -> _Forms:
    """What to look for: each secret as sent (in the raw text), and as sent and as
    decoded once (in the canonical text). Longest first: a secret that contains
    another is masked whole."""
    raw: set[str] = set()
    canonical: set[str] = set()
    for secret in secrets:
        if len(secret) < _MIN_LENGTH:
            continue
        raw.add(secret)
        canonical.add(secret.replace("+", " "))
        canonical.add(_canonical(secret)[0])
    return (
        tuple(sorted(raw, key=len, reverse=True)),
        tuple(sorted((f for f in canonical if len(f) >= _MIN_LENGTH), key=len, reverse=True)),
    )


def _find_all(text: str, forms: tuple[str, ...]) -> Iterator[tuple[int, int]]:
    for form in forms:
        found = text.find(form)
        while found != -1:
            yield found, found + len(form)
            found = text.find(form, found + 1)


def _cut_prefixes(text: str, forms: tuple[str, ...]) -> Iterator[tuple[int, int]]:
    """A secret's beginning where a message's length limit cut the text (``…``)."""
    cut = text.find(_ELLIPSIS)
    while cut != -1:
        for form in forms:
            for size in range(min(len(form), cut) - 1, _MIN_PREFIX - 1, -1):
                if text.endswith(form[:size], 0, cut):
                    yield cut - size, cut
                    break
        cut = text.find(_ELLIPSIS, cut + 1)


def _apply(text: str, forms: _Forms) -> str:
    raw, decoded = forms
    if not raw or not text:
        return text
    canonical, starts = _canonical(text)
    spans = list(_find_all(text, raw))
    for begin, end in (*_find_all(canonical, decoded), *_cut_prefixes(canonical, decoded)):
        spans.append((starts[begin], starts[end]))
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for begin, end in sorted(spans):
        if end <= position:
            continue
        pieces.append(text[position : max(begin, position)])
        if begin >= position:
            pieces.append(REDACTED)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret of ``secrets`` replaced by :data:`REDACTED`.

    Args:
        text: A server-provided text (``error_description``, a message quoting it).
        secrets: Values from :func:`request_secrets`; values shorter than three
            characters are left alone.

    Returns:
        The masked text.
    """
    return _apply(text, _forms(secrets))


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


def _masked(value: object, forms: _Forms) -> object:
    if isinstance(value, str):
        return _apply(value, forms)
    if isinstance(value, tuple) and any(isinstance(v, str) for v in value):
        return tuple(_masked(v, forms) for v in value)
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
    forms = _forms(secrets)
    if not forms[0]:
        return error
    for current in _exceptions(error):
        current.args = tuple(_masked(arg, forms) for arg in current.args)
        attributes = getattr(current, "__dict__", None)
        if attributes is None:
            continue
        for name, value in list(attributes.items()):
            masked = _masked(value, forms)
            if masked != value:
                attributes[name] = masked
        notes = attributes.get("__notes__")
        if isinstance(notes, list):
            notes[:] = [_masked(note, forms) for note in notes]
    return error
