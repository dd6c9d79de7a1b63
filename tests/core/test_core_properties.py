"""Hypothesis properties of the sans-IO core; each docstring states its property."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import strategies as ost

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)
PREVIOUS = oc.Token("old-at", refresh_token="old-rt", scope=("a",))
PROCESSORS: dict[str, Callable[[oc.HttpResponse], object]] = {
    "token": oc.process_token_response,
    "refresh": functools.partial(oc.process_refresh_response, previous=PREVIOUS),
    "revocation": oc.process_revocation_response,
    "introspection": oc.process_introspection_response,
}


def _r(
    body: bytes,
    ctype: str = "application/json",
    status: int = 200,
    when: dt.datetime = T0,
    **headers: str,
) -> oc.HttpResponse:
    fields = {"content-type": ctype, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return oc.HttpResponse(status, fields, body, when)


def _edge(edge: dt.datetime, hours: int) -> dt.datetime:
    return edge.replace(tzinfo=dt.timezone(dt.timedelta(hours=hours)))


VALID = b'{"access_token": "a", "expires_in": 3600, "exp": 1, "active": true}'


@given(response=ost.http_responses())
@example(response=_r(b"[" * 100_000))
@example(response=_r(b"[" * 100_000, ctype="text/plain"))
@example(response=_r(b'{"a":' * 10_000))
@example(response=_r(b'{"a":' * 10_000, ctype=""))
# Brackets inside strings fool a bracket counter; the parser must still not recurse away.
@example(
    response=_r(b'{"x": "' + b"]" * 100_000 + b'", "y": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
)
@example(response=_r(b'{"access_token": "a", "expires_in": NaN}'))
@example(response=_r(b'{"access_token": "a", "expires_in": Infinity}'))
@example(response=_r(b'{"access_token": "a", "expires_in": -Infinity}'))
@example(response=_r(b'{"access_token": "a", "expires_in": ' + b"9" * 5000 + b"}"))
@example(response=_r(b'{"access_token": "a", "expires_in": "' + b"9" * 5000 + b'"}'))
@example(response=_r(b'{"access_token": "a", "expires_in": 1e400}'))
@example(response=_r(b'{"access_token": "a", "expires_in": true}'))
@example(response=_r(b'{"access_token": "a", "exp": 1e300, "iat": -1e300, "active": true}'))
@example(response=_r(b'{"active": true, "exp": "1", "aud": [1], "scope": 5}'))
@example(response=_r(b"\xff\xfe\x00{"))
@example(response=_r(b'{"access_token": "\xc3\x28"}'))
@example(response=_r(b"\xef\xbb\xbf" + VALID))
@example(response=_r(b'{"access_token": null}'))
@example(response=_r(b'{"access_token": 5}'))
@example(response=_r(b'{"access_token": ["a"]}'))
@example(response=_r(b'{"error": 5}'))
@example(response=_r(b'{"error": "x", "error_description": 5, "error_uri": []}'))
@example(response=_r(b'{"scope": [1,2], "access_token": "a"}'))
@example(response=_r(b'{"access_token": "a", "refresh_token": 5}'))
@example(response=_r(b"null"))
@example(response=_r(b"access_token=a&expires=abc", ctype="text/plain"))
@example(response=_r(b"%zz=%" * 300, ctype="application/x-www-form-urlencoded"))
@example(response=_r(VALID, when=_edge(dt.datetime.max, -5)))
@example(response=_r(VALID, when=_edge(dt.datetime.max, 5)))
@example(response=_r(VALID, when=_edge(dt.datetime.min, 5)))
@example(response=_r(VALID.replace(b"3600", b"-3600"), when=_edge(dt.datetime.min, -5)))
@example(response=_r(b"", status=503, retry_after="Fri, 31 Dec 9999 23:59:59 GMT"))
@example(response=_r(b"", status=503, retry_after="Mon, 01 Jan 0001 00:00:00 -2359"))
@example(response=_r(b"", status=503, retry_after="9" * 400, when=_edge(dt.datetime.min, 0)))
@example(response=_r(b"", status=0, ctype=";;;"))
def test_processors_are_total(response: oc.HttpResponse) -> None:
    """Every process_* function turns any response into a value or an OAuth2Error.

    Never KeyError, TypeError, ValueError, UnicodeDecodeError, AttributeError,
    RecursionError or OverflowError (DESIGN §6), whatever the status, headers,
    media type, body bytes or received_at.
    """
    for process in PROCESSORS.values():
        with contextlib.suppress(oc.OAuth2Error):
            process(response)


@given(response=ost.token_responses())
def test_token_processing_is_total_on_token_shaped_answers(response: oc.HttpResponse) -> None:
    """Valid, error and nasty token answers end in a Token or an OAuth2Error."""
    try:
        token = oc.process_token_response(response)
    except oc.OAuth2Error:
        return
    assert isinstance(token, oc.Token)
    assert token.expires_at is None or token.expires_at.utcoffset() == dt.timedelta(0)


_ANY_CHAR = st.characters(exclude_categories=())
_ANY_TEXT = st.text(alphabet=_ANY_CHAR, max_size=60)
_CALLBACK_INPUTS = (
    _ANY_TEXT
    | st.binary(max_size=60)
    | _ANY_TEXT.map(lambda q: f"https://app.example/cb?{q}")
    | _ANY_TEXT.map(lambda q: f"https://app.example/cb#{q}")
    | st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5).map(urlencode)
    | st.dictionaries(
        _ANY_TEXT | st.integers(),
        _ANY_TEXT | st.lists(_ANY_TEXT, max_size=3) | st.integers() | st.none() | st.binary(),
        max_size=5,
    )
    | st.none()
    | st.integers()
)


@given(
    callback=_CALLBACK_INPUTS,
    pending=ost.pending_authorizations(),
    server=ost.server_metadata(),
)
@example(callback={"state": "\ud800", "code": "c"}, pending=oc.PendingAuthorization("s", None, "n"),
         server=oc.ServerMetadata("https://as"))  # fmt: skip
@example(callback="code=c&state=\udfff", pending=oc.PendingAuthorization("\ud800", None, "n"),
         server=oc.ServerMetadata("https://as"))  # fmt: skip
@example(callback="https://[::1/cb?code=c", pending=oc.PendingAuthorization("s", None, "n"),
         server=oc.ServerMetadata("https://as"))  # fmt: skip
@example(callback="https://a\uff03b/cb?code=c", pending=oc.PendingAuthorization("s", None, "n"),
         server=oc.ServerMetadata("https://as"))  # fmt: skip
@example(callback="&" * 1000, pending=oc.PendingAuthorization("s", None, "n"),
         server=oc.ServerMetadata("https://as"))  # fmt: skip
def test_parse_callback_is_total(
    callback: object, pending: oc.PendingAuthorization, server: oc.ServerMetadata
) -> None:
    """parse_callback turns any str, bytes or mapping into an AuthorizationCode or OAuth2Error."""
    try:
        code = oc.parse_callback(callback, server=server, pending=pending)
    except oc.OAuth2Error:
        return
    assert code.state == pending.state


@given(token=ost.tokens())
def test_token_round_trips_through_dict_and_json(token: oc.Token) -> None:
    """Token.from_dict(t.to_dict()) == t, and to_dict() is JSON-serialisable (also after JSON)."""
    saved = token.to_dict()
    assert oc.Token.from_dict(saved) == token
    assert oc.Token.from_dict(json.loads(json.dumps(saved))) == token


@given(pending=ost.pending_authorizations())
def test_pending_authorization_round_trips(pending: oc.PendingAuthorization) -> None:
    """PendingAuthorization.from_dict(p.to_dict()) == p, also through JSON (a web session)."""
    saved = pending.to_dict()
    assert oc.PendingAuthorization.from_dict(saved) == pending
    assert oc.PendingAuthorization.from_dict(json.loads(json.dumps(saved))) == pending


_LIBRARY_PARAMS = {
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "request_uri",
    "authorization_details",
    "claims",
}
# Names of authorization_url's own parameters cannot be extra keywords (Python binds them).
_SIGNATURE_NAMES = frozenset({"server", "client", "pending", "scope", "request_uri"})
_EXTRA_NAMES = st.text(min_size=1, max_size=12).filter(
    lambda n: n not in _LIBRARY_PARAMS and n not in _SIGNATURE_NAMES
)
_EXTRA_VALUES = st.text(max_size=20) | st.lists(st.text(max_size=10), min_size=1, max_size=3)
_SCOPE_TOKEN = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'),
    min_size=1,
    max_size=8,
)


@given(
    client=ost.clients(),
    pending=ost.pending_authorizations(),
    scope=st.none() | st.lists(_SCOPE_TOKEN | st.just("openid"), max_size=4),
    extra=st.dictionaries(_EXTRA_NAMES, _EXTRA_VALUES, max_size=4),
    endpoint=ost.https_urls(),
)
@example(
    client=oc.Client("ü &=?#/+%"),
    pending=oc.PendingAuthorization("s t&a=t#e", None, "n+o%nce", redirect_uri="https://a/b?c=d"),
    scope=["openid", "a&b", "c=d"],
    extra={"login_hint": "a+b c&d=e#f/g?h%20", "ünï": "çödé 🎉", "resource": ["a", "b"], "e": ""},
    endpoint="https://as.example/authorize",
)
def test_authorization_url_parses_back_to_its_inputs(
    client: oc.Client,
    pending: oc.PendingAuthorization,
    scope: list[str] | None,
    extra: dict[str, Any],
    endpoint: str,
) -> None:
    """The URL parses back to its inputs: each library parameter exactly once, every extra
    keyword exactly as given (list values repeated in order), whatever characters they hold.
    """
    server = oc.ServerMetadata("https://as.example", authorization_endpoint=endpoint)
    values = [
        v for value in extra.values() for v in (value if isinstance(value, list) else [value])
    ]
    if client.client_secret and client.client_secret in values:
        # The client secret never travels in an authorization request, under any name.
        with pytest.raises(oc.UsageError, match="client secret"):
            oc.authorization_url(server, client, pending, scope=scope, **extra)
        return
    url = oc.authorization_url(server, client, pending, scope=scope, **extra)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == endpoint
    query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    names = [name for name, _ in query]

    scope_value = " ".join(scope) if scope is not None else pending.scope
    expected = {"response_type": "code", "client_id": client.client_id, "state": pending.state}
    if pending.redirect_uri:
        expected["redirect_uri"] = pending.redirect_uri
    if scope_value:
        expected["scope"] = scope_value
    if pending.code_verifier is not None:
        challenge = oc.code_challenge(pending.code_verifier, pending.code_challenge_method)
        expected["code_challenge"] = challenge
        expected["code_challenge_method"] = pending.code_challenge_method
    if scope_value and "openid" in scope_value.split():
        expected["nonce"] = pending.nonce
    for name, value in expected.items():
        assert names.count(name) == 1, name
        assert dict(query)[name] == value
    for name in _LIBRARY_PARAMS - set(expected):
        assert name not in names
    for name, value in extra.items():
        sent = [v for n, v in query if n == name]
        assert sent == (value if isinstance(value, list) else [value])
    assert len(query) == len(expected) + sum(
        len(v) if isinstance(v, list) else 1 for v in extra.values()
    )


@given(
    pending=ost.pending_authorizations(),
    other_state=st.none() | _ANY_TEXT.filter(bool),
    params=st.dictionaries(
        st.sampled_from(["code", "error", "iss", "error_description", "x"]),
        st.text(max_size=10),
    ),
    shape=st.sampled_from(["mapping", "url", "fragment", "query"]),
)
def test_any_state_mismatch_is_a_validation_error(
    pending: oc.PendingAuthorization,
    other_state: str | None,
    params: dict[str, str],
    shape: str,
) -> None:
    """A callback whose state is missing or differs from pending.state raises
    CallbackValidationError, whatever else it carries (a code, an error, any iss).
    """
    if other_state == pending.state:
        other_state += "x"
    callback_params = dict(params)
    if other_state is not None:
        callback_params["state"] = other_state
    server = oc.ServerMetadata("https://as.example")
    callback: object = callback_params
    if shape != "mapping":
        try:
            query = urlencode(callback_params)
        except UnicodeEncodeError:  # a lone surrogate cannot travel in a URL
            query = None
        if query is not None:
            callback = {
                "url": "https://app.example/cb?",
                "fragment": "https://app.example/cb#",
                "query": "",
            }[shape] + query
    try:
        oc.parse_callback(callback, server=server, pending=pending)
    except oc.CallbackValidationError:
        return
    raise AssertionError("a mismatched state was accepted")


@given(document=ost.server_metadata_documents())
@example(document={"issuer": "https://as", "x": {"nested": [1, None]}, "": 0, "extra": "e"})
def test_server_metadata_keeps_unknown_members(document: dict[str, Any]) -> None:
    """ServerMetadata.from_dict(d).to_dict() gives back every unknown member unchanged,
    and every known member that carries a value.
    """
    metadata = oc.ServerMetadata.from_dict(document)
    known_names = {a.name for a in attrs.fields(oc.ServerMetadata)}
    result = metadata.to_dict()
    for key, value in document.items():
        if key not in known_names:
            assert result[key] == value
            assert metadata.extra[key] == value
        elif value not in (None, False):
            assert result[key] == value
    assert oc.ServerMetadata.from_dict(json.loads(json.dumps(result))) == metadata


_B64URL = re.compile(r"[A-Za-z0-9_-]{43}")


@given(verifier=ost.code_verifiers())
@example(verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
@example(verifier="~" * 128)
def test_code_challenge_is_43_chars_of_base64url(verifier: str) -> None:
    """For any valid verifier, the S256 challenge is 43 base64url characters (no padding)
    and is BASE64URL(SHA256(verifier)); the plain challenge is the verifier (RFC 7636 §4.2).
    """
    challenge = oc.code_challenge(verifier)
    assert _B64URL.fullmatch(challenge)
    padded = challenge + "="
    assert base64.urlsafe_b64decode(padded) == hashlib.sha256(verifier.encode()).digest()
    assert oc.code_challenge(verifier, "plain") == verifier


_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@given(st.integers(min_value=0, max_value=10))
def test_generated_code_verifier_is_valid(count: int) -> None:
    """generate_code_verifier always returns 43..128 unreserved characters, never repeating."""
    verifiers = [oc.generate_code_verifier() for _ in range(10 + count)]
    assert all(_UNRESERVED.fullmatch(v) for v in verifiers)
    assert len(set(verifiers)) == len(verifiers)
    assert all(oc.code_challenge(v) for v in verifiers)
