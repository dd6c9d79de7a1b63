"""Hypothesis strategies for oauth2-core values and for what servers send back.

Use them to property-test code built on the core::

    from hypothesis import given
    from oauth2_core.testing import strategies as ost

    @given(ost.token_responses())
    def test_my_handler_never_crashes(response):
        try:
            my_handler(oauth2_core.process_token_response(response))
        except oauth2_core.OAuth2Error:
            pass

Values: :func:`tokens`, :func:`pending_authorizations`, :func:`clients`,
:func:`server_metadata` (and the documents behind it,
:func:`server_metadata_documents`), :func:`code_verifiers`.
Wire answers (:class:`~oauth2_core.HttpResponse`): :func:`valid_token_responses`
(always yield a ``Token``), :func:`error_token_responses` (RFC 6749 §5.2, always
an ``EndpointError``), :func:`nasty_token_responses` (what real servers get
wrong), :func:`token_responses` (all three), :func:`http_responses` (any status,
headers, media type and bytes). Redirects: :func:`callbacks`.

This module imports hypothesis; ``import oauth2_core`` never does.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from urllib.parse import urlencode

import attrs
from hypothesis import strategies as st

from oauth2_core._http import HttpResponse
from oauth2_core.client import Client
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization
from oauth2_core.token import Token

__all__ = [
    "callbacks",
    "clients",
    "code_verifiers",
    "error_token_responses",
    "http_responses",
    "https_urls",
    "json_values",
    "nasty_bodies",
    "nasty_token_responses",
    "pending_authorizations",
    "received_ats",
    "server_metadata",
    "server_metadata_documents",
    "token_response_members",
    "token_responses",
    "tokens",
    "valid_token_responses",
]

UTC = _dt.timezone.utc

# RFC 6749 Appendix A: VSCHAR = %x20-7E; NQCHAR (scope tokens) = %x21 / %x23-5B / %x5D-7E.
_VSCHAR = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_NQCHAR = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\')
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_TOKEN_MEMBERS = frozenset(
    {"access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"}
)
# Members whose presence changes how a token answer is read (RFC 6749 §5.2, old Facebook).
_MEANINGFUL = _TOKEN_MEMBERS | {"error", "error_description", "error_uri", "expires"}


def json_values(*, max_leaves: int = 10) -> st.SearchStrategy[object]:
    """Any JSON value (no NaN or infinity, so values compare equal to themselves)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53), max_value=2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def received_ats(*, include_extremes: bool = False) -> st.SearchStrategy[_dt.datetime]:
    """Aware datetimes as a transport stamps them on ``HttpResponse.received_at``.

    Args:
        include_extremes: Also any fixed UTC offset and the whole calendar, down to
            ``datetime.min`` and up to ``datetime.max`` (where date arithmetic overflows).
    """
    usual = st.datetimes(
        min_value=_dt.datetime(2000, 1, 1),
        max_value=_dt.datetime(2100, 1, 1),
        timezones=st.just(UTC),
    )
    if not include_extremes:
        return usual
    # Real UTC offsets are whole minutes, strictly within a day.
    offsets = st.integers(min_value=-1439, max_value=1439).map(
        lambda minutes: _dt.timezone(_dt.timedelta(minutes=minutes))
    )
    edges = st.sampled_from([_dt.datetime.min, _dt.datetime.max]).flatmap(
        lambda edge: offsets.map(lambda tz: edge.replace(tzinfo=tz))
    )
    return usual | edges | st.datetimes(timezones=offsets)


def https_urls(*, path: str | None = None) -> st.SearchStrategy[str]:
    """Absolute https URLs on ``*.example`` hosts (RFC 2606)."""
    label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
    hosts = st.lists(label, min_size=1, max_size=3).map(lambda ls: ".".join([*ls, "example"]))
    paths = st.just(path) if path is not None else st.text(alphabet=_UNRESERVED, max_size=16)
    return st.builds(lambda host, p: f"https://{host}/{p}", hosts, paths)


def code_verifiers() -> st.SearchStrategy[str]:
    """Valid PKCE code verifiers: 43 to 128 unreserved characters (RFC 7636 §4.1)."""
    return st.text(alphabet=_UNRESERVED, min_size=43, max_size=128)


def _scopes() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.text(alphabet=_NQCHAR, min_size=1, max_size=12), max_size=5).map(tuple)


def _extra_members() -> st.SearchStrategy[dict[str, object]]:
    keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in _MEANINGFUL)
    return st.dictionaries(keys, json_values(max_leaves=4), max_size=4)


def tokens() -> st.SearchStrategy[Token]:
    """Any :class:`~oauth2_core.Token` (JSON-safe ``extra``, aware ``expires_at``)."""
    secret = st.text(alphabet=_VSCHAR, min_size=1, max_size=64)
    return st.builds(
        Token,
        access_token=secret,
        token_type=st.sampled_from(["Bearer", "DPoP", "N_A", "mac"]),
        expires_at=st.none() | received_ats(include_extremes=True),
        refresh_token=st.none() | secret,
        scope=st.none() | _scopes(),
        id_token=st.none() | secret,
        extra=_extra_members(),
    )


def token_response_members() -> st.SearchStrategy[dict[str, object]]:
    """The members of a successful token answer (RFC 6749 §5.1), as real servers vary them.

    ``token_type`` in any case, ``expires_in`` as number, numeric string (PayPal),
    ``null`` or missing, ``scope`` present or not, plus unknown members.
    """
    secret = st.text(alphabet=_VSCHAR, min_size=1, max_size=64)
    optional: dict[str, st.SearchStrategy[object]] = {
        "token_type": st.sampled_from(["Bearer", "bearer", "BEARER", "DPoP", "dpop", "N_A"]),
        "expires_in": st.none()
        | st.integers(min_value=-(2**40), max_value=2**40)
        | st.integers(min_value=0, max_value=10**6).map(str)
        | st.floats(min_value=-1e12, max_value=1e12),
        "refresh_token": secret,
        "scope": _scopes().map(" ".join),
        "id_token": secret,
    }
    return st.builds(
        lambda access, chosen, extra: {"access_token": access, **chosen, **extra},
        secret,
        st.fixed_dictionaries({}, optional=optional),
        _extra_members(),
    )


def _json_response(data: Mapping[str, object], status: int, when: _dt.datetime) -> HttpResponse:
    body = json.dumps(data).encode("utf-8")
    return HttpResponse(status, {"content-type": "application/json"}, body, when)


def _form_response(data: Mapping[str, object], ctype: str, when: _dt.datetime) -> HttpResponse:
    # Form bodies carry only strings: drop nulls and nested values, stringify numbers.
    pairs = [
        (k, json.dumps(v) if not isinstance(v, str) else v)
        for k, v in data.items()
        if v is not None and not isinstance(v, (bool, list, dict))
    ]
    return HttpResponse(200, {"content-type": ctype}, urlencode(pairs).encode("ascii"), when)


def valid_token_responses() -> st.SearchStrategy[HttpResponse]:
    """Token answers that ``process_token_response`` must turn into a ``Token``.

    JSON (RFC 6749 §5.1), or form-encoded as GitHub (``x-www-form-urlencoded``)
    and old Facebook (``text/plain``) answer.
    """
    as_json = st.builds(
        lambda d, when: _json_response(d, 200, when), token_response_members(), received_ats()
    )
    as_form = st.builds(
        _form_response,
        token_response_members(),
        st.sampled_from(["application/x-www-form-urlencoded", "text/plain"]),
        received_ats(),
    )
    return as_json | as_form


def error_token_responses() -> st.SearchStrategy[HttpResponse]:
    """RFC 6749 §5.2 error answers at 400/401/5xx or 200 (Slack): always an ``EndpointError``."""
    errors = st.sampled_from(
        [
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "server_error",
            "temporarily_unavailable",
        ]
    ) | st.text(alphabet=_NQCHAR, min_size=1, max_size=20)
    members = st.builds(
        lambda error, more: {"error": error, **more},
        errors,
        st.fixed_dictionaries(
            {}, optional={"error_description": st.text(max_size=40), "error_uri": https_urls()}
        ),
    )
    statuses = st.sampled_from([200, 400, 401, 403, 429, 500, 503])
    retry_after = st.none() | st.integers(min_value=0, max_value=10**6).map(str)

    def build(
        data: dict[str, object], status: int, wait: str | None, when: _dt.datetime
    ) -> HttpResponse:
        response = _json_response(data, status, when)
        if wait is None:
            return response
        headers = {"content-type": "application/json", "retry-after": wait}
        return attrs.evolve(response, headers=headers)

    return st.builds(build, members, statuses, retry_after, received_ats())


#: Bodies that have broken parsers: pinned, because random bytes rarely hit them.
NASTY_BODIES: tuple[bytes, ...] = (
    b"",
    b" ",
    b"null",
    b"[]",
    b"{}",
    b"<html><body>502 Bad Gateway</body></html>",
    b"[" * 100_000,
    b'{"a":' * 10_000,
    b'{"access_token": "x", "expires_in": NaN}',
    b'{"access_token": "x", "expires_in": Infinity}',
    b'{"access_token": "x", "expires_in": -Infinity}',
    b'{"access_token": "x", "expires_in": ' + b"9" * 5000 + b"}",
    b'{"access_token": "x", "expires_in": 1e400}',
    b'{"access_token": "x", "expires_in": true}',
    b'{"access_token": "x", "expires_in": "abc"}',
    b'{"access_token": "x", "scope": [1, 2]}',
    b'{"access_token": null}',
    b'{"access_token": 5}',
    b'{"error": 5}',
    b'{"error": ""}',
    b'{"active": "yes"}',
    b'{"active": true, "exp": 1e300, "aud": [1]}',
    b"\xef\xbb\xbf" + b'{"access_token": "x"}',
    b'{"access_token": "\xff\xfe"}',
    b"\xff\xfe\xfd",
    b"access_token=x&expires=5183999",
    b"access_token=x&access_token=y&&=",
    b"%" * 50 + b"=" + b"&" * 50,
    b"a=" + b"&a=" * 1000,
)


def nasty_bodies() -> st.SearchStrategy[bytes]:
    """Pinned nasty bodies, random bytes, and random JSON objects."""
    random_json = st.dictionaries(st.text(max_size=12), json_values(max_leaves=6), max_size=6).map(
        lambda d: json.dumps(d).encode("utf-8")
    )
    return st.sampled_from(NASTY_BODIES) | st.binary(max_size=256) | random_json


_CONTENT_TYPES = (
    "",
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "APPLICATION/JSON",
    "application/x-www-form-urlencoded",
    "text/plain",
    "text/html",
    "application/octet-stream",
    ";;;",
)


def http_responses(
    *,
    statuses: st.SearchStrategy[int] | None = None,
    bodies: st.SearchStrategy[bytes] | None = None,
    content_types: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[HttpResponse]:
    """Any :class:`~oauth2_core.HttpResponse`: status, headers, media type, body and time.

    Args:
        statuses: Defaults to any code from 100 to 599 and a few absurd ones.
        bodies: Defaults to :func:`nasty_bodies`.
        content_types: Defaults to common, odd and random media types.
    """
    if statuses is None:
        statuses = st.integers(min_value=100, max_value=599) | st.sampled_from([0, 999])
    if bodies is None:
        bodies = nasty_bodies()
    if content_types is None:
        content_types = st.sampled_from(_CONTENT_TYPES) | st.text(max_size=30)
    other = st.dictionaries(
        st.sampled_from(["retry-after", "www-authenticate", "dpop-nonce", "x-anything"])
        | st.text(min_size=1, max_size=10),
        st.text(max_size=40),
        max_size=4,
    )

    def build(
        status: int, ctype: str, more: dict[str, str], body: bytes, when: _dt.datetime
    ) -> HttpResponse:
        headers = [(k, v) for k, v in more.items() if k.lower() != "content-type"]
        if ctype:
            headers.append(("content-type", ctype))
        return HttpResponse(status, headers, body, when)

    return st.builds(
        build, statuses, content_types, other, bodies, received_ats(include_extremes=True)
    )


def nasty_token_responses() -> st.SearchStrategy[HttpResponse]:
    """What real servers get wrong: HTML, empty, bad JSON, bad members, any status."""
    return http_responses(
        statuses=st.sampled_from([200, 200, 201, 400, 401, 500, 502, 503]),
        content_types=st.sampled_from(_CONTENT_TYPES),
    )


def token_responses() -> st.SearchStrategy[HttpResponse]:
    """Valid, error and nasty token endpoint answers mixed."""
    return valid_token_responses() | error_token_responses() | nasty_token_responses()


def server_metadata_documents() -> st.SearchStrategy[dict[str, object]]:
    """RFC 8414 §2 documents: well-typed known members and unknown ones (kept as ``extra``)."""
    known = {f.name for f in attrs.fields(ServerMetadata)}
    optional: dict[str, st.SearchStrategy[object]] = {
        name: https_urls(path=name.removesuffix("_endpoint"))
        for name in (
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "introspection_endpoint",
            "device_authorization_endpoint",
            "pushed_authorization_request_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        )
    }
    optional["scopes_supported"] = _scopes().map(list)
    optional["code_challenge_methods_supported"] = st.just(["S256"])
    optional["authorization_response_iss_parameter_supported"] = st.booleans()
    optional["require_pushed_authorization_requests"] = st.booleans()
    unknown = st.dictionaries(
        st.text(min_size=1, max_size=16).filter(lambda k: k not in known),
        json_values(max_leaves=4),
        max_size=4,
    )
    return st.builds(
        lambda issuer, members, extra: {**extra, "issuer": issuer, **members},
        https_urls(path="").map(lambda url: url.rstrip("/")),
        st.fixed_dictionaries({}, optional=optional),
        unknown,
    )


def server_metadata() -> st.SearchStrategy[ServerMetadata]:
    """:class:`~oauth2_core.ServerMetadata` built from :func:`server_metadata_documents`."""
    return server_metadata_documents().map(ServerMetadata.from_dict)


def clients() -> st.SearchStrategy[Client]:
    """Clients with each secret-based auth method (and public ones), any secret text."""
    ids = st.text(min_size=1, max_size=24)
    secrets = st.text(min_size=1, max_size=40)
    confidential = st.builds(
        lambda cid, secret, method, enc: Client(
            cid, secret, auth_method=method, basic_encoding=enc
        ),
        ids,
        secrets,
        st.sampled_from(["client_secret_basic", "client_secret_post"]),
        st.sampled_from(["urlencoded", "raw"]),
    )
    public = st.builds(lambda cid: Client(cid, auth_method="none"), ids)
    return confidential | public


def pending_authorizations() -> st.SearchStrategy[PendingAuthorization]:
    """Any :class:`~oauth2_core.PendingAuthorization` (as saved in a web session)."""
    values = st.text(min_size=1, max_size=48)
    return st.builds(
        PendingAuthorization,
        state=values,
        code_verifier=st.none() | code_verifiers(),
        nonce=values,
        redirect_uri=st.none() | https_urls(),
        code_challenge_method=st.sampled_from(["S256", "plain"]),
        scope=st.none() | _scopes().map(" ".join),
    )


def callbacks(
    pending: PendingAuthorization, server: ServerMetadata, *, include_errors: bool = False
) -> st.SearchStrategy[str | dict[str, str]]:
    """Redirects that answer ``pending`` correctly, in every shape ``parse_callback`` takes.

    The right ``state``, the server's ``iss`` (always when the server says it
    sends one, RFC 9207; sometimes otherwise), a ``code`` and unrelated extra
    parameters, as a full URL (query or fragment), a bare query string, a
    ``?query`` or a ``form_post`` mapping.

    Args:
        pending: The pending authorization to answer.
        server: The server metadata (``issuer``,
            ``authorization_response_iss_parameter_supported``).
        include_errors: Also redirects carrying an RFC 6749 §4.1.2.1 ``error``.
    """
    names = st.text(min_size=1, max_size=10).filter(
        lambda k: k not in {"code", "state", "iss", "error", "error_description", "error_uri"}
    )
    extra = st.dictionaries(names, st.text(max_size=20), max_size=3)
    send_iss = (
        st.just(True) if server.authorization_response_iss_parameter_supported else st.booleans()
    )
    outcome: st.SearchStrategy[dict[str, str]] = st.builds(
        lambda code: {"code": code}, st.text(min_size=1, max_size=64)
    )
    if include_errors:
        outcome = outcome | st.builds(
            lambda error, text: {"error": error, "error_description": text},
            st.sampled_from(["access_denied", "invalid_scope", "server_error", "login_required"]),
            st.text(max_size=40),
        )

    def build(
        result: dict[str, str], more: dict[str, str], iss: bool, shape: str
    ) -> str | dict[str, str]:
        params = {**more, **result, "state": pending.state}
        if iss:
            params["iss"] = server.issuer
        if shape == "mapping":
            return params
        query = urlencode(params)
        return {
            "url": f"https://app.example/cb?{query}",
            "fragment": f"https://app.example/cb#{query}",
            "query": query,
            "?query": f"?{query}",
        }[shape]

    shapes = st.sampled_from(["url", "fragment", "query", "?query", "mapping"])
    return st.builds(build, outcome, extra, send_iss, shapes)
