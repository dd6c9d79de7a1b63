"""No secret ever shows in a repr, str, exception or log record (DESIGN §6, STYLE habit 6).

Every value that holds a secret, and every error raised while handling inputs that
contain secrets, is built with unique sentinel secrets; none may show up anywhere a
human or a log aggregator could read it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)

CLIENT_SECRET = "SENTINELclientsecret1"
ACCESS = "SENTINELaccess2"
REFRESH = "SENTINELrefresh3"
ID_TOKEN = "SENTINELidtoken4"
STATE = "SENTINELstate5"
NONCE = "SENTINELnonce6"
VERIFIER = "SENTINELverifier7" + "v" * 30
CODE = "SENTINELcode8"
PASSWORD = "SENTINELpassword9"
DEVICE_CODE = "SENTINELdevice10"
URL_SECRET = "SENTINELurl11"
SENTINELS = (
    CLIENT_SECRET,
    ACCESS,
    REFRESH,
    ID_TOKEN,
    STATE,
    NONCE,
    VERIFIER,
    CODE,
    PASSWORD,
    DEVICE_CODE,
    URL_SECRET,
)

SERVER = oc.ServerMetadata(
    issuer="https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
    revocation_endpoint="https://as.example/revoke",
    introspection_endpoint="https://as.example/introspect",
)
CLIENTS = (
    oc.Client("app", CLIENT_SECRET, redirect_uri="https://app.example/cb"),
    oc.Client("app", CLIENT_SECRET, basic_encoding="raw"),
    oc.Client("app", CLIENT_SECRET, auth_method="client_secret_post"),
)
TOKEN = oc.Token(
    ACCESS,
    expires_at=T0,
    refresh_token=REFRESH,
    id_token=ID_TOKEN,
    scope=("read",),
    extra={"device_code": DEVICE_CODE},
)
PENDING = oc.new_pending_authorization(CLIENTS[0], state=STATE, code_verifier=VERIFIER, nonce=NONCE)
TOKEN_BODY = {
    "access_token": ACCESS,
    "refresh_token": REFRESH,
    "id_token": ID_TOKEN,
    "token_type": "Bearer",
    "expires_in": 60,
}


def _response(body: object, status: int = 200, ctype: str = "application/json") -> oc.HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return oc.HttpResponse(status, {"content-type": ctype, "set-cookie": ACCESS}, raw, T0)


def _values() -> Iterator[object]:
    yield from CLIENTS
    yield TOKEN
    yield oc.process_token_response(_response(TOKEN_BODY))
    yield PENDING
    code = oc.parse_callback(
        f"https://app.example/cb?code={CODE}&state={STATE}&session_state={NONCE}",
        server=SERVER,
        pending=PENDING,
    )
    yield code
    for client in CLIENTS:
        requests = (
            oc.authorization_code_grant_request(SERVER, client, code, PENDING),
            oc.refresh_token_grant_request(SERVER, client, TOKEN),
            oc.password_grant_request(SERVER, client, "alice", PASSWORD),
            oc.revocation_request(SERVER, client, ACCESS),
            oc.introspection_request(SERVER, client, REFRESH),
            oc.token_request(SERVER, client, "urn:x", device_code=DEVICE_CODE),
        )
        for request in requests:
            yield request
            yield request.headers
            yield oc.Send(request, delay=1.0)
    yield oc.HttpRequest(
        "GET",
        f"https://user:{PASSWORD}@api.example/x?access_token={ACCESS}#{URL_SECRET}",
        {"authorization": f"Bearer {ACCESS}", "dpop": ID_TOKEN, "cookie": REFRESH},
        f"password={PASSWORD}",
    )
    yield _response(TOKEN_BODY)
    yield _response(TOKEN_BODY).headers
    yield oc.process_introspection_response(
        _response({"active": True, "client_id": "app", "scope": "read"})
    )


BAD_TOKEN_BODIES: tuple[object, ...] = (
    {**TOKEN_BODY, "expires_in": "soon"},
    {**TOKEN_BODY, "expires_in": float("nan")},
    {**TOKEN_BODY, "scope": [1]},
    {**TOKEN_BODY, "token_type": 5},
    {**TOKEN_BODY, "refresh_token": 5},
    {**TOKEN_BODY, "access_token": ""},
    {**TOKEN_BODY, "error": "invalid_grant"},
    {"error": "invalid_request", "error_description": "bad request", "refresh": REFRESH},
    {"access_token": [ACCESS], "refresh_token": REFRESH},
    f"<html>{ACCESS}</html>".encode(),
    f"access_token={ACCESS}&expires_in=x{REFRESH}".encode(),
    ACCESS.encode() + b"\xff",
)


def _raisers() -> Iterator[Callable[[], object]]:
    for body in BAD_TOKEN_BODIES:
        for status in (200, 400, 500):
            for ctype in ("application/json", "text/html", ""):
                response = _response(body, status, ctype)
                yield lambda r=response: oc.process_token_response(r)
                yield lambda r=response: oc.process_refresh_response(r, previous=TOKEN)
                yield lambda r=response: oc.process_revocation_response(r)
                yield lambda r=response: oc.process_introspection_response(r)
    introspection = {"active": True, "username": 5, "client_id": ACCESS, "exp": "x"}
    yield lambda: oc.process_introspection_response(_response(introspection))
    callbacks = (
        f"code={CODE}&state=wrong{STATE}",
        f"code={CODE}&code={CODE}&state={STATE}",
        f"code={CODE}",
        f"code={CODE}&state={STATE}&iss=https://evil.example/{REFRESH}",
        f"error=access_denied&state={STATE}",
        f"https://[::1/cb?code={CODE}&state={STATE}",
        f"state={STATE}&x={CODE}".encode() + b"\xff",
        {"code": CODE, "state": STATE.encode()},
        {"code": [CODE, CODE], "state": STATE},
        f"state={STATE}&code={CODE}&" + "&".join(f"p{i}={NONCE}" for i in range(120)),
    )
    for callback in callbacks:
        yield lambda c=callback: oc.parse_callback(c, server=SERVER, pending=PENDING)
    client = CLIENTS[0]
    yield lambda: oc.client_credentials_grant_request(SERVER, client, client_secret=CLIENT_SECRET)
    yield lambda: oc.client_credentials_grant_request(SERVER, client, client_id=CLIENT_SECRET)
    yield lambda: oc.token_request(SERVER, client, "urn:x", client_assertion=ID_TOKEN)
    yield lambda: oc.token_request(SERVER, client, "urn:x", token=[1.5, ACCESS])
    yield lambda: oc.authorization_url(SERVER, client, PENDING, state=STATE)
    yield lambda: oc.authorization_url(SERVER, client, PENDING, code_challenge=VERIFIER)
    yield lambda: oc.authorization_url(SERVER, client, PENDING, x={ACCESS: {1, 2}})
    yield lambda: oc.new_pending_authorization(client, code_verifier=f"{VERIFIER}!")
    yield lambda: oc.new_pending_authorization(client, code_verifier=VERIFIER, pkce=False)
    yield lambda: oc.code_challenge(VERIFIER, "S999")
    yield lambda: oc.code_challenge(f"{CODE}!")
    yield lambda: oc.refresh_token_grant_request(SERVER, client, oc.Token(ACCESS))
    yield lambda: oc.Token.from_dict({"access_token": ACCESS, "expires_at": "not-a-date"})
    yield lambda: oc.Token.from_dict({"access_token": ACCESS, "refresh_token": 5})
    yield lambda: oc.Token.from_dict({"access_token": ACCESS, "expires_at": 10**20})
    yield lambda: oc.PendingAuthorization.from_dict({"state": STATE, "nonce": NONCE, "scope": 1})
    yield lambda: oc.PendingAuthorization.from_dict({"state": STATE})
    yield lambda: oc.Client("app", CLIENT_SECRET, auth_method="bogus")
    yield lambda: oc.Client("app", CLIENT_SECRET, basic_encoding="bogus")  # type: ignore[arg-type]
    insecure = oc.ServerMetadata("https://as.example", token_endpoint=f"http://as.example/{ACCESS}")
    yield lambda: oc.client_credentials_grant_request(insecure, client)
    bad_url = oc.ServerMetadata("https://as.example", token_endpoint=f"https://[{ACCESS}/t")
    yield lambda: oc.password_grant_request(bad_url, client, "alice", PASSWORD)
    yield lambda: oc.revocation_request(SERVER, client, ACCESS, token_type_hint=[REFRESH])  # type: ignore[arg-type]
    yield lambda: oc.HttpRequest(
        "POST", "https://x", {"authorization": b"Basic " + ACCESS.encode()}
    )  # type: ignore[dict-item]
    yield lambda: oc.HttpResponse(200, {}, ACCESS, dt.datetime(2030, 1, 1))  # naive


def _texts_of(exc: BaseException) -> Iterator[str]:
    """Everything a traceback or a logger could print about ``exc`` and its chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield from (repr(arg) for arg in current.args)
        yield from (str(arg) for arg in current.args)
        # The chain a traceback (or an error tracker) prints: the cause, else the
        # context unless suppressed with `from None`.
        if current.__cause__ is not None:
            current = current.__cause__
        else:
            current = None if current.__suppress_context__ else current.__context__


def _assert_clean(text: str, where: str) -> None:
    leaked = [s for s in SENTINELS if s in text]
    assert not leaked, f"{leaked} leaked in {where}: {text[:300]!r}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="oauth2_core")
    yield caplog
    for record in caplog.records:
        _assert_clean(record.getMessage(), f"log record {record.name}")
        _assert_clean(repr(record.args), f"log record args {record.name}")
        if record.exc_info and record.exc_info[1] is not None:
            for text in _texts_of(record.exc_info[1]):
                _assert_clean(text, "logged exception")


def test_values_holding_secrets_never_show_them(debug_logs: pytest.LogCaptureFixture) -> None:
    count = 0
    for value in _values():
        _assert_clean(repr(value), f"repr({type(value).__name__})")
        _assert_clean(str(value), f"str({type(value).__name__})")
        _assert_clean(f"{value}", f"format({type(value).__name__})")
        count += 1
    assert count > 20


def test_errors_never_show_secrets(debug_logs: pytest.LogCaptureFixture) -> None:
    raised = 0
    for raiser in _raisers():
        try:
            raiser()
        except oc.OAuth2Error as exc:
            for text in _texts_of(exc):
                _assert_clean(text, type(exc).__name__)
            raised += 1
    assert raised > 400


def test_the_sentinels_are_really_in_the_values() -> None:
    """Guard against a vacuous pass: the secrets are there, only hidden."""
    assert TOKEN.access_token == ACCESS and TOKEN.refresh_token == REFRESH
    assert PENDING.state == STATE and PENDING.code_verifier == VERIFIER
    request = oc.password_grant_request(SERVER, CLIENTS[2], "alice", PASSWORD)
    assert PASSWORD.encode() in request.body and CLIENT_SECRET.encode() in request.body
    request = oc.password_grant_request(SERVER, CLIENTS[1], "alice", PASSWORD)
    assert "authorization" in request.headers


# -- what a server echoes of the request (issue 12 item 9) ----------------------------

ODD = 'SENTINELodd s/e+c"r&e<t-é'  # characters whose encodings differ


def _lower_hex(text: str) -> str:
    """Percent-encoding with lower-case hex digits (RFC 3986 §2.1 allows both)."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _echo_variants(secret: str) -> list[str]:
    """The forms a careless server echoes a secret in."""
    from urllib.parse import quote, quote_plus

    return [
        secret,
        quote(secret, safe=""),
        _lower_hex(quote(secret, safe="")),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        secret.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"),
    ]


@pytest.mark.parametrize("variant", range(8))
def test_redact_masks_every_encoding_of_a_secret(variant: int) -> None:
    shown = _echo_variants(ODD)[variant]
    assert oc.redact(f"got [{shown}] back", {ODD}) == "got [<redacted>] back"


def test_request_secrets_cover_headers_body_and_query() -> None:
    import base64

    client = oc.Client("app", ODD)  # Basic, id and secret form-encoded first (RFC 6749 §2.3.1)
    request = oc.password_grant_request(SERVER, client, "alice", PASSWORD)
    secrets = oc.request_secrets(request)
    basic = request.headers["authorization"].split(" ", 1)[1]
    assert {PASSWORD, ODD, basic, base64.b64decode(basic).decode()} <= secrets
    proof = oc.HttpRequest(
        "POST",
        f"https://user:{URL_SECRET}@rs.example/api?access_token={ACCESS}&page=2",
        {"authorization": f"DPoP {REFRESH}", "dpop": ID_TOKEN},
        json.dumps({"subject_token": CODE, "audience": "api"}),
    )
    assert {URL_SECRET, ACCESS, REFRESH, ID_TOKEN, CODE} <= oc.request_secrets(proof)
    assert not {"api", "2", "user"} & oc.request_secrets(proof)


def test_redact_masks_a_secret_cut_short_by_a_message_limit() -> None:
    from oauth2_core.errors import printable

    cut = printable("x" * 180 + CLIENT_SECRET, 200)
    assert cut.endswith("…") and CLIENT_SECRET[:10] in cut
    masked = oc.redact(cut, {CLIENT_SECRET})
    assert CLIENT_SECRET[:4] not in masked and masked.endswith("<redacted>…")


def test_redact_error_masks_the_object_in_place_and_its_chain() -> None:
    """Fields, args (str and repr), notes and chained errors: what waiting callers get too."""
    request = oc.refresh_token_grant_request(SERVER, CLIENTS[2], TOKEN)
    body = {
        "error": "invalid_grant",
        "error_description": f"bad refresh_token={REFRESH} for client_secret={CLIENT_SECRET}",
        "error_uri": f"https://as.example/e?q={REFRESH}",
    }
    try:
        oc.process_token_response(_response(body, 400))
    except oc.EndpointError as exc:
        error = exc
    cause = ValueError(f"inner {CLIENT_SECRET}")
    error.__cause__ = cause
    error.add_note(f"note {REFRESH}")
    assert REFRESH in str(error)  # the core alone cannot know: process_* never saw the request
    assert oc.redact_error(error, request) is error
    for text in (*_texts_of(error), str(cause), repr(error.__notes__)):
        assert REFRESH not in text and CLIENT_SECRET not in text, text
    assert error.error == "invalid_grant" and error.error_description is not None
    assert "<redacted>" in error.error_description


def test_step_by_step_integrators_mask_with_redact_error() -> None:
    """The documented pattern for code that calls process_* itself."""
    request = oc.password_grant_request(SERVER, CLIENTS[1], "alice", PASSWORD)
    response = _response({"error": "invalid_request", "error_description": PASSWORD}, 400)

    def step() -> oc.Token:
        try:
            return oc.process_token_response(response)
        except oc.OAuth2Error as exc:
            raise oc.redact_error(exc, request) from None

    with pytest.raises(oc.EndpointError) as info:
        step()
    assert PASSWORD not in str(info.value) and PASSWORD not in repr(info.value)


def test_userinfo_challenge_echo_is_masked() -> None:
    """A resource's WWW-Authenticate quoting the access token (RFC 6750 §3)."""
    request = oc.bearer_authorize(oc.HttpRequest("GET", "https://rs.example/me"), ACCESS)
    challenge = f'Bearer error="invalid_token", error_description="token {ACCESS} expired"'
    response = oc.HttpResponse(401, {"www-authenticate": challenge}, b"", T0)

    def step() -> oc.UserInfo:
        try:
            return oc.process_userinfo_response(response)
        except oc.OAuth2Error as exc:
            raise oc.redact_error(exc, request) from None

    with pytest.raises(oc.EndpointError) as info:
        step()
    assert ACCESS not in str(info.value)
    assert ACCESS not in (info.value.error_description or "")


def test_short_values_are_not_masked() -> None:
    assert oc.redact("an ab in a cab", {"ab", ""}) == "an ab in a cab"


@given(
    secret=st.text(min_size=3, max_size=40).filter(lambda s: s.strip() == s and len(s) >= 3),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    variant=st.integers(0, 7),
)
def test_property_an_echoed_secret_never_survives(
    secret: str, before: str, after: str, variant: int
) -> None:
    """Any secret, in any of the echo encodings, between any texts: masked, and no crash."""
    shown = _echo_variants(secret)[variant]
    masked = oc.redact(before + shown + after, {secret})
    assert "<redacted>" in masked
    # (the marker itself may contain the secret: "red" is in "<redacted>")
    assert shown not in masked.replace("<redacted>", "\x00") or shown in before + after
