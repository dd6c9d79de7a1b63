"""Using a bearer token, and reading what a resource server says back (RFC 6750).

:func:`bearer_authorize` attaches an access token to a request: in the
``Authorization`` header (§2.1, the default), in a form body (§2.2), or in the
query (§2.3, discouraged: URLs end up in logs and ``Referer`` headers).

:func:`parse_www_authenticate` reads a ``WWW-Authenticate`` field (RFC 9110
§11.6.1) into :class:`BearerChallenge` values, so a client can tell an expired
token (``invalid_token``) from missing privileges (``insufficient_scope``, §3.1).
It is total: any text gives a (possibly empty) list.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from oauth2_core._http import HttpRequest
from oauth2_core.errors import UsageError
from oauth2_core.token import Token, token_scheme

__all__ = [
    "BearerChallenge",
    "bearer_authorize",
    "parse_bearer_challenge",
    "parse_www_authenticate",
]

_FORM = "application/x-www-form-urlencoded"


def _token_value(token: Token | str) -> str:
    if isinstance(token, Token):
        # token_scheme refuses every type we cannot present (UnsupportedTokenTypeError).
        if token_scheme(token) == "DPoP":
            raise UsageError("a DPoP-bound token needs a DPoP proof with each request (RFC 9449)")
        value = token.access_token
    elif isinstance(token, str):
        value = token
    else:
        raise UsageError("token must be a Token or an access token string")
    # RFC 6750 §2.1 b64token is visible ASCII; anything else (a space, CR LF) would
    # break or inject into the header, so refuse it for every method alike.
    if not value or not all("\x21" <= ch <= "\x7e" for ch in value):
        raise UsageError("the access token is empty or has characters a bearer token cannot have")
    return value


def _has_access_token(query: str) -> bool:
    return any(name == "access_token" for name, _ in parse_qsl(query, keep_blank_values=True))


def bearer_authorize(
    request: HttpRequest,
    token: Token | str,
    *,
    method: Literal["header", "body", "query"] = "header",
) -> HttpRequest:
    """The request with ``token`` attached (RFC 6750 §2).

    Args:
        request: The request to a resource server.
        token: A :class:`Token` of type Bearer, or an access token string.
        method: ``"header"`` (§2.1, default; replaces any ``Authorization``),
            ``"body"`` (§2.2: a form-encoded body, never with GET), or
            ``"query"`` (§2.3: discouraged, for servers that accept nothing
            else; also sends ``Cache-Control: no-store`` as §2.3 asks).

    Returns:
        A new request; ``request`` is unchanged.

    Raises:
        UnsupportedTokenTypeError: a token of a type neither Bearer nor DPoP
            (``mac``, ``N_A``): never sent as a Bearer token.
        UsageError: a DPoP token (it needs a proof: ``dpop_request``), a GET
            or non-form body with ``"body"``, ``access_token`` already present,
            or an unknown method.
    """
    if not isinstance(request, HttpRequest):
        raise UsageError("request must be an HttpRequest")
    value = _token_value(token)
    if method == "header":
        fields = [(n, v) for n, v in request.headers.fields() if n != "authorization"]
        fields.append(("authorization", f"Bearer {value}"))
        return attrs.evolve(request, headers=fields)
    if method == "body":
        return _in_body(request, value)
    if method == "query":
        return _in_query(request, value)
    raise UsageError("method must be 'header', 'body' or 'query'")


def _in_body(request: HttpRequest, value: str) -> HttpRequest:
    if request.method.upper() in ("GET", "HEAD"):
        # RFC 6750 §2.2: "The HTTP request method is one for which the request-body
        # has defined semantics. In particular, this means that the GET method MUST NOT be used."
        raise UsageError("a bearer token in the body needs a method with a body, not GET")
    fields = list(request.headers.fields())
    ctype = request.headers.get("content-type")
    if ctype is None and not request.body:
        fields.append(("content-type", _FORM))
    elif ctype is None or ctype.split(";", 1)[0].strip().lower() != _FORM:
        raise UsageError(
            "a bearer token in the body needs an application/x-www-form-urlencoded body "
            "(RFC 6750 §2.2)"
        )
    try:
        text = request.body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise UsageError("a form body for a bearer token must be ASCII (RFC 6750 §2.2)") from exc
    if _has_access_token(text):
        raise UsageError("the body already has an access_token parameter")
    param = urlencode([("access_token", value)])
    body = f"{text}&{param}" if text else param
    return attrs.evolve(request, headers=fields, body=body.encode("ascii"))


def _in_query(request: HttpRequest, value: str) -> HttpRequest:
    try:
        parts = urlsplit(request.url)
    except ValueError as exc:
        raise UsageError("the request URL cannot be parsed") from exc
    if _has_access_token(parts.query):
        raise UsageError("the URL already has an access_token parameter")
    param = urlencode([("access_token", value)])
    query = f"{parts.query}&{param}" if parts.query else param
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    fields = [(n, v) for n, v in request.headers.fields() if n != "cache-control"]
    fields.append(("cache-control", "no-store"))
    return attrs.evolve(request, url=url, headers=fields)


def _to_params(value: object) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


@attrs.frozen
class BearerChallenge:
    """One challenge of a ``WWW-Authenticate`` field (RFC 9110 §11.6.1, RFC 6750 §3).

    Any scheme is represented (``DPoP``, ``Basic`` ...), not only Bearer.

    Attributes:
        scheme: The auth-scheme as received (compare it case-insensitively).
        realm: The ``realm`` parameter, or ``None``.
        error: ``invalid_request``, ``invalid_token``, ``insufficient_scope``
            (RFC 6750 §3.1), or ``None``.
        error_description: The server's text, or ``None``.
        error_uri: A page about the error, or ``None``.
        scope: The ``scope`` parameter split on spaces, or ``None``.
        resource_metadata: The RFC 9728 §5.1 metadata URL, or ``None`` (a property).
        params: Every auth-param, names lower-cased (first occurrence kept).
        token68: The token68 form (``Basic dXNlcg==``), or ``None``.
    """

    scheme: str
    realm: str | None = None
    error: str | None = None
    error_description: str | None = None
    error_uri: str | None = None
    scope: tuple[str, ...] | None = None
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_to_params, hash=False)
    token68: str | None = None

    @property
    def resource_metadata(self) -> str | None:
        """The ``resource_metadata`` URL (RFC 9728 §5.1), or ``None``.

        Where the protected resource's metadata is; next:
        ``resource_metadata_request(url, metadata_url=...)``.
        """
        return self.params.get("resource_metadata") or None

    @classmethod
    def _from_parts(
        cls, scheme: str, params: dict[str, str], token68: str | None
    ) -> BearerChallenge:
        scope = params.get("scope")
        return cls(
            scheme=scheme,
            realm=params.get("realm"),
            error=params.get("error") or None,
            error_description=params.get("error_description"),
            error_uri=params.get("error_uri"),
            scope=tuple(scope.split()) if scope is not None else None,
            params=params,
            token68=token68,
        )


_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TOKEN68 = frozenset("-._~+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_WS = frozenset(" \t\r\n")


class _Scanner:
    """A cursor over the field value; every method either advances or reports no match."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    @property
    def done(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: frozenset[str]) -> int:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
        return self.pos - start

    def token(self) -> str:
        start = self.pos
        self.skip(_TCHAR)
        return self.text[start : self.pos]

    def quoted(self) -> str:
        """A quoted-string (the cursor is on the opening quote); unterminated: the rest."""
        self.pos += 1
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            self.pos += 1
            if ch == '"':
                break
            if ch == "\\" and self.pos < len(text):
                ch = text[self.pos]
                self.pos += 1
            out.append(ch)
        return "".join(out)

    def value(self) -> str:
        if self.peek() == '"':
            return self.quoted()
        return self.token()

    def token68(self) -> str | None:
        """A token68 that makes up the whole challenge body, or ``None`` (cursor kept)."""
        start = end = self.pos
        text = self.text
        while end < len(text) and text[end] in _TOKEN68:
            end += 1
        if end == start:
            return None
        while end < len(text) and text[end] == "=":
            end += 1
        after = end
        while after < len(text) and text[after] in _WS:
            after += 1
        if after < len(text) and text[after] != ",":
            return None
        self.pos = end
        return text[start:end]

    def skip_garbage(self) -> None:
        """Skip at least one character, up to the next comma or space (quotes kept whole)."""
        if self.peek() == '"':
            self.quoted()
            return
        self.pos += 1
        while not self.done and self.peek() not in _WS and self.peek() not in (",", '"'):
            self.pos += 1


_SEPARATORS = _WS | {","}


def _challenge_body(scan: _Scanner) -> tuple[dict[str, str], str | None]:
    params: dict[str, str] = {}
    if scan.skip(_WS) and (token68 := scan.token68()) is not None:
        return params, token68
    while True:
        scan.skip(_SEPARATORS)
        if scan.done:
            break
        start = scan.pos
        name = scan.token()
        if not name:
            scan.skip_garbage()
            continue
        scan.skip(_WS)
        if scan.peek() != "=":
            scan.pos = start  # a token without "=" starts the next challenge
            break
        scan.pos += 1
        scan.skip(_WS)
        params.setdefault(name.lower(), scan.value())
    return params, None


def parse_www_authenticate(value: str) -> list[BearerChallenge]:
    """Every challenge in a ``WWW-Authenticate`` field value (RFC 9110 §11.6.1).

    Several challenges may share one field
    (``Bearer realm="a", error="invalid_token", DPoP algs="ES256"``); quoted
    strings may hold commas and ``\\`` escapes; a challenge may carry a token68
    instead of parameters. Repeated fields joined with ``", "`` (as
    ``HttpResponse.headers[...]`` does) parse the same as one field.
    Parameters with no scheme before them (OpenID Connect Core §5.3.3's
    example) give a challenge whose ``scheme`` is ``""``.

    Args:
        value: The field value.

    Returns:
        The challenges in order; garbage is skipped, never an error.

    Raises:
        UsageError: ``value`` is not a string.
    """
    if not isinstance(value, str):
        raise UsageError("WWW-Authenticate value must be a string")
    scan = _Scanner(value)
    challenges: list[BearerChallenge] = []
    while True:
        scan.skip(_SEPARATORS)
        if scan.done:
            return challenges
        start = scan.pos
        scheme = scan.token()
        if not scheme:
            scan.skip_garbage()
            continue
        mark = scan.pos
        scan.skip(_WS)
        if scan.peek() == "=":
            # Parameters with no scheme before them, as in OpenID Connect Core §5.3.3's
            # example (`WWW-Authenticate: error="invalid_token", ...`): keep them as a
            # challenge with an empty scheme rather than lose the error.
            scan.pos = start
            params, _ = _challenge_body(scan)
            challenges.append(BearerChallenge._from_parts("", params, None))
            continue
        scan.pos = mark
        params, token68 = _challenge_body(scan)
        challenges.append(BearerChallenge._from_parts(scheme, params, token68))


def parse_bearer_challenge(header_value: str) -> list[BearerChallenge]:
    """The ``Bearer`` challenges of a ``WWW-Authenticate`` value (RFC 6750 §3).

    Args:
        header_value: The field value.

    Returns:
        The challenges whose scheme is ``Bearer`` (any case); usually one.

    Raises:
        UsageError: ``header_value`` is not a string.
    """
    return [c for c in parse_www_authenticate(header_value) if c.scheme.lower() == "bearer"]
