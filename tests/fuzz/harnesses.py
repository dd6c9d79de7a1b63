"""Fuzz harnesses: one per ``process_*`` / ``parse_*`` / ``from_dict`` entry point of the core.

DESIGN §6: any byte sequence given to a ``process_*`` or ``parse_*`` function
ends in a value or an ``OAuth2Error``. Each harness turns the fuzzer's bytes
into the function's input (status, content type, headers, body, the time it
arrived; or a callback, a header value, a saved dict), calls the function and
lets anything that is not an ``OAuth2Error`` escape: that is a crash.

The bytes are decoded by :class:`Input`, which needs no fuzzing library, so the
same harnesses run under atheris (coverage-guided, ``python -m tests.fuzz.run``)
and under hypothesis (``st.binary()``, ``tests/fuzz/test_fuzz_smoke.py``).
Structure comes from the bytes too: most inputs are JSON or form bodies built
from the members the processors know, with hostile values (huge numbers, NaN,
numeric strings, nesting, lone surrogates), so the fuzzer reaches the member
checks instead of stopping at "not JSON".
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import struct
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import oauth2_core as oc
from oauth2_core.device import DeviceAuthorization

__all__ = ["HARNESSES", "Input"]

T = TypeVar("T")

UTC = dt.timezone.utc

# -- decoding fuzz bytes ------------------------------------------------------------------


class Input:
    """Reads typed values from fuzz bytes; past the end every read returns zeros."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk

    def byte(self) -> int:
        chunk = self.take(1)
        return chunk[0] if chunk else 0

    def below(self, n: int) -> int:
        """An int in ``range(n)``."""
        if n <= 1:
            return 0
        raw = self.take(2 if n > 256 else 1)
        return int.from_bytes(raw or b"\0", "big") % n

    def flag(self) -> bool:
        return self.byte() & 1 == 1

    def pick(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]

    def blob(self, limit: int) -> bytes:
        return self.take(self.below(limit + 1))

    def text(self, limit: int = 40) -> str:
        # surrogateescape: invalid UTF-8 becomes lone surrogates, which str inputs can hold.
        return self.blob(limit).decode("utf-8", "surrogateescape")

    def rest(self) -> bytes:
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk


# -- hostile values -----------------------------------------------------------------------

MEMBERS = (
    # RFC 6749 §5.1 / §5.2, Facebook's `expires`
    "access_token", "token_type", "expires_in", "expires", "refresh_token", "scope", "id_token",
    "error", "error_description", "error_uri", "issued_token_type",
    # RFC 8628 §3.2
    "device_code", "user_code", "verification_uri", "verification_uri_complete", "interval",
    # RFC 7662 §2.2
    "active", "client_id", "username", "exp", "iat", "nbf", "sub", "aud", "iss", "jti",
    # RFC 9126 §2.2
    "request_uri",
    # RFC 8414 §2
    "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint",
    "introspection_endpoint", "device_authorization_endpoint", "userinfo_endpoint",
    "pushed_authorization_request_endpoint", "require_pushed_authorization_requests",
    "authorization_response_iss_parameter_supported", "scopes_supported",
    "response_types_supported", "grant_types_supported", "code_challenge_methods_supported",
    "token_endpoint_auth_methods_supported", "mtls_endpoint_aliases",
    # OIDC Core §5.1, JWK sets, saved dicts
    "email", "email_verified", "name", "keys", "kty", "kid", "alg", "use",
    "state", "nonce", "code_verifier", "redirect_uri", "code_challenge_method",
    "expires_at", "issued_at", "extra",
    # RFC 9728 §2, RFC 7591 §3.2.1, RFC 7592 §3
    "resource", "authorization_servers", "bearer_methods_supported", "client_secret",
    "client_id_issued_at", "client_secret_expires_at", "registration_access_token",
    "registration_client_uri", "redirect_uris", "token_endpoint_auth_method", "",
    # CIBA Core 1.0 §7.3, RFC 9068 §2.2
    "auth_req_id", "backchannel_authentication_endpoint", "client_id", "scope", "typ",
)  # fmt: skip

STRINGS = (
    "", " ", "Bearer", "bearer", "DPoP", "N_A", "mac", "invalid_grant", "server_error",
    "temporarily_unavailable", "slow_down", "authorization_pending", "access_denied",
    "expired_token", "https://as.example", "https://as.example/token", "http://as.example/x",
    "http://127.0.0.1:8080/cb", "urn:ietf:params:oauth:request_uri:abc", "openid email",
    "S256", "plain", "3600", " 60 ", "-5", "1e309", "NaN", "Infinity", "0x10", "1_000",
    "9" * 80, "2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00", "\x00\x1f\x7f", "\ud800",
    "é" * 3, "a" * 300,
)  # fmt: skip

NUMBERS = (0, 1, -1, 5, 3600, 2**31 - 1, 2**31, 2**53 + 1, 2**63, -(2**63), 10**400, -(10**400))

CONTENT_TYPES = (
    "application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
    "application/x-www-form-urlencoded", "text/plain", "text/html", "", "application/jwt",
    "application/problem+json", "text/javascript", ";", "application/json;;;",
)  # fmt: skip

STATUSES = (200, 201, 204, 206, 299, 300, 302, 400, 401, 403, 404, 429, 500, 502, 503, 599)

HEADER_NAMES = (
    "retry-after", "www-authenticate", "dpop-nonce", "content-encoding", "cache-control",
    "content-type", "location",
)  # fmt: skip

HEADER_VALUES = (
    "2", "-1", "0", "99999999999", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", "soon",
    'Bearer realm="x", error="invalid_token"', 'DPoP algs="ES256", error="use_dpop_nonce"',
    'Bearer error="insufficient_scope", scope="a b"', 'Basic, Bearer ,,, x="\\',
)  # fmt: skip

RECEIVED_AT = (
    dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    dt.datetime(1970, 1, 1, tzinfo=UTC),
    dt.datetime(2100, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=14))),
    dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-12))),
    dt.datetime.min.replace(tzinfo=UTC),
    dt.datetime.max.replace(tzinfo=UTC),
)


def json_value(inp: Input, depth: int = 0) -> Any:
    """A JSON-shaped value, often a hostile one."""
    kind = inp.below(10 if depth < 3 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return inp.flag()
    if kind == 2:
        return inp.pick(NUMBERS)
    if kind == 3:
        # Any double, NaN and infinities included (json.dumps writes NaN / Infinity).
        return struct.unpack("<d", inp.take(8).ljust(8, b"\0"))[0]
    if kind in (4, 5):
        return inp.pick(STRINGS)
    if kind == 6:
        return inp.text()
    if kind in (7, 8):
        return {inp.pick(MEMBERS): json_value(inp, depth + 1) for _ in range(inp.below(4))}
    return [json_value(inp, depth + 1) for _ in range(inp.below(4))]


def members(inp: Input, required: Sequence[str] = ()) -> dict[str, Any]:
    """An object of known (sometimes unknown) members with fuzzed values.

    ``required`` members are usually present and usually plausible strings, so
    inputs get past "member missing" to the checks behind it.
    """
    out: dict[str, Any] = {}
    for name in required:
        choice = inp.below(8)
        if choice == 0:
            continue
        if choice == 1:
            out[name] = json_value(inp)
        elif choice == 2:
            out[name] = inp.pick(NUMBERS[:6])
        else:
            out[name] = inp.pick(STRINGS[1:]) + "x"
    for _ in range(inp.below(10)):
        name = inp.text(12) if inp.below(8) == 0 else inp.pick(MEMBERS)
        out[name] = json_value(inp)
    return out


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def body(inp: Input, required: Sequence[str] = ()) -> bytes:
    """A response body: raw bytes, a JSON or form object, a JSON non-object, or a mangled one."""
    mode = inp.below(6)
    if mode == 0:
        return inp.rest()
    if mode == 4:
        return json.dumps(json_value(inp)).encode("utf-8", "surrogatepass")
    data = members(inp, required)
    if mode == 3:
        pairs = [(k, _form_value(v)) for k, v in data.items()]
        text = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
        return text.encode()
    raw = json.dumps(data).encode("utf-8", "surrogatepass")
    if mode == 5:
        # Cut or extend it: truncated JSON, trailing garbage, a BOM.
        cut = inp.below(len(raw) + 1)
        return inp.pick((b"", b"\xef\xbb\xbf", b" \n")) + raw[:cut] + inp.blob(16)
    return raw


def response(inp: Input, required: Sequence[str] = ()) -> oc.HttpResponse:
    """An ``HttpResponse`` whose status, content type, headers and body all come from ``inp``.

    Half the statuses are 200, where the member checks run.
    """
    choice = inp.below(8)
    status = 200 if choice < 4 else inp.pick(STATUSES) if choice < 7 else inp.below(1000) - 1
    headers: list[tuple[str, str]] = []
    if inp.below(8):
        headers.append(("content-type", inp.pick(CONTENT_TYPES) if inp.below(4) else inp.text()))
    for _ in range(inp.below(4)):
        name = inp.pick(HEADER_NAMES) if inp.below(4) else inp.text(12)
        value = inp.pick(HEADER_VALUES) if inp.below(3) else inp.text()
        headers.append((name, value))
    received_at = inp.pick(RECEIVED_AT)
    return oc.HttpResponse(
        status=status, headers=headers, body=body(inp, required), received_at=received_at
    )


# -- the harnesses ------------------------------------------------------------------------

SERVER = oc.ServerMetadata(
    issuer="https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
)
SERVER_ISS = oc.ServerMetadata(
    issuer="https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
    authorization_response_iss_parameter_supported=True,
)
CLIENT = oc.Client("app", "s3cr3t", redirect_uri="https://app.example/cb")
PENDING = oc.new_pending_authorization(CLIENT, state="st-123", code_verifier="v" * 43, nonce="n")
PREVIOUS = oc.Token("at-prev", refresh_token="rt-prev", scope="read write")


TOKEN = ("access_token", "token_type", "expires_in")
DEVICE = ("device_code", "user_code", "verification_uri", "expires_in", "interval")
POLL = ("access_token", "error")
METADATA = ("issuer", "token_endpoint", "authorization_endpoint")
PAR = ("request_uri", "expires_in")
CIBA = ("auth_req_id", "expires_in", "interval")


def _call(function: Callable[[], object]) -> None:
    """Run one input: a value or an OAuth2Error is fine; anything else escapes (a crash)."""
    try:
        result = function()
    except oc.OAuth2Error as exc:
        str(exc)  # messages must render, whatever the server sent
        return
    repr(result)  # reprs must render too (they redact)


def _callback(inp: Input) -> object:
    """A redirect: a URL, a query, bytes or a mapping, with the right state half the time."""
    pairs: list[tuple[str, str]] = []
    if inp.flag():
        pairs.append(("state", "st-123"))
    names = ("code", "state", "iss", "error", "error_description", "error_uri", "session_state")
    for _ in range(inp.below(5)):
        name = inp.pick(names) if inp.below(4) else inp.text(8)
        value = inp.pick(("https://as.example", "abc", "", "st-123")) if inp.flag() else inp.text()
        pairs.append((name, value))
    if inp.flag():
        pairs.reverse()
    query = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    shape = inp.below(7)
    if shape == 0:
        return inp.rest()  # raw bytes
    if shape == 1:
        return inp.text(200)
    if shape == 2:
        return "https://app.example/cb?" + query + inp.text(8)
    if shape == 3:
        return "https://app.example/cb#" + query
    if shape == 4:
        return {k: [v, v] if inp.below(8) == 0 else v for k, v in pairs}
    if shape == 5:
        return query.encode()
    return "?" + query


def token_response(data: bytes) -> None:
    _call(lambda: oc.process_token_response(response(Input(data), TOKEN)))


def refresh_response(data: bytes) -> None:
    _call(lambda: oc.process_refresh_response(response(Input(data), TOKEN), previous=PREVIOUS))


def introspection_response(data: bytes) -> None:
    _call(lambda: oc.process_introspection_response(response(Input(data), ("active",))))


def revocation_response(data: bytes) -> None:
    _call(lambda: oc.process_revocation_response(response(Input(data))))


def device_authorization_response(data: bytes) -> None:
    _call(lambda: oc.process_device_authorization_response(response(Input(data), DEVICE)))


def device_poll_response(data: bytes) -> None:
    _call(lambda: oc.process_device_poll_response(response(Input(data), POLL)))


def discovery_response(data: bytes) -> None:
    inp = Input(data)
    issuer = inp.pick(("https://as.example", "https://as.example/", "", "\ud800"))
    _call(lambda: oc.process_discovery_response(response(inp, METADATA), issuer=issuer))


def pushed_authorization_response(data: bytes) -> None:
    _call(lambda: oc.process_pushed_authorization_response(response(Input(data), PAR)))


def userinfo_response(data: bytes) -> None:
    inp = Input(data)
    expected = inp.pick((None, "alice", ""))
    _call(lambda: oc.process_userinfo_response(response(inp, ("sub",)), expected_sub=expected))


def jwks_response(data: bytes) -> None:
    _call(lambda: oc.process_jwks_response(response(Input(data), ("keys",))))


def callback(data: bytes) -> None:
    inp = Input(data)
    server = SERVER_ISS if inp.flag() else SERVER
    _call(lambda: oc.parse_callback(_callback(inp), server=server, pending=PENDING))


def www_authenticate(data: bytes) -> None:
    inp = Input(data)
    if inp.flag():
        parts = [inp.pick(HEADER_VALUES) if inp.flag() else inp.text() for _ in range(3)]
        value = inp.pick((", ", ",", " ", "")).join(parts)
    else:
        value = inp.rest().decode("utf-8", "surrogateescape")
    _call(lambda: oc.parse_www_authenticate(value))
    _call(lambda: oc.parse_bearer_challenge(value))


def _saved(inp: Input, required: Sequence[str]) -> Any:
    return members(inp, required) if inp.below(8) else json_value(inp)


def token_from_dict(data: bytes) -> None:
    _call(lambda: oc.Token.from_dict(_saved(Input(data), ("access_token", "expires_at"))))


def metadata_from_dict(data: bytes) -> None:
    _call(lambda: oc.ServerMetadata.from_dict(_saved(Input(data), METADATA)))


RESOURCE = "https://rs.example/mcp"
REGISTRATION = oc.ClientRegistration.from_dict(
    {"client_id": "c-1", "client_secret": "s", "registration_access_token": "rat"}
)


def resource_metadata_response(data: bytes) -> None:
    inp = Input(data)
    allow_parent = inp.flag()
    required = ("resource", "authorization_servers")
    _call(
        lambda: oc.process_resource_metadata_response(
            response(inp, required), resource=RESOURCE, allow_parent=allow_parent
        )
    )


def registration_response(data: bytes) -> None:
    inp = Input(data)
    previous = inp.pick((None, REGISTRATION))
    _call(
        lambda: oc.process_registration_response(response(inp, ("client_id",)), previous=previous)
    )


def registration_delete_response(data: bytes) -> None:
    _call(lambda: oc.process_registration_delete_response(response(Input(data))))


def registration_from_dict(data: bytes) -> None:
    _call(lambda: oc.ClientRegistration.from_dict(_saved(Input(data), ("client_id",))))


def resource_metadata_from_dict(data: bytes) -> None:
    _call(lambda: oc.ResourceMetadata.from_dict(_saved(Input(data), ("resource",))))


def pending_from_dict(data: bytes) -> None:
    _call(lambda: oc.PendingAuthorization.from_dict(_saved(Input(data), ("state", "nonce"))))


def device_authorization_from_dict(data: bytes) -> None:
    _call(lambda: DeviceAuthorization.from_dict(_saved(Input(data), (*DEVICE[:3], "expires_at"))))


ID_SERVER = oc.ServerMetadata(
    issuer="https://as.example",
    token_endpoint="https://as.example/token",
    id_token_signing_alg_values_supported=["HS256", "RS256", "ES256"],
)
ID_CLIENT = oc.Client("app", "k" * 32)
ID_NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
_PLAUSIBLE_CLAIMS: dict[str, tuple[Any, ...]] = {
    "iss": ("https://as.example",),
    "aud": ("app", ["app", "other"], ["other"]),
    "azp": ("app", "other"),
    "sub": ("alice",),
    "exp": (1714568400, 1714564800 + 30, 10**400, -1),
    "iat": (1714564800, 1714564800 + 3600),
    "auth_time": (1714564700, 0),
    "nonce": ("n-1",),
    "at_hash": ("", "abc"),
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


def _id_token(inp: Input) -> str:
    """A compact JWT: mostly HS256 over the client secret with fuzzed claims, else garbage."""
    if inp.below(8) == 0:
        return inp.text(200)
    header: dict[str, Any] = {"alg": inp.pick(("HS256", "none", "RS256", "ES256", "HS512"))}
    if inp.flag():
        header["kid"] = inp.pick(("k1", "", "unknown"))
    claims: dict[str, Any] = {}
    for name, values in _PLAUSIBLE_CLAIMS.items():
        choice = inp.below(8)
        if choice < 5:
            claims[name] = inp.pick(values)
        elif choice == 5:
            claims[name] = json_value(inp)
    claims.update(members(inp) if inp.below(4) == 0 else {})
    signing_input = f"{_b64(_json_bytes(header))}.{_b64(_json_bytes(claims))}"
    if inp.below(4):
        key = ID_CLIENT.client_secret or ""
        signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    else:
        signature = inp.blob(64)
    return f"{signing_input}.{_b64(signature)}"


def id_token(data: bytes) -> None:
    inp = Input(data)
    token = _id_token(inp)
    jwks = inp.pick((None, {"keys": []}, {"keys": [json_value(inp)]}))
    nonce = inp.pick(("n-1", None, "other"))
    max_age = inp.pick((None, 0, 300))
    access_token = inp.pick((None, "at-1"))
    _call(
        lambda: oc.validate_id_token(
            token,
            server=ID_SERVER,
            client=ID_CLIENT,
            jwks=jwks,
            nonce=nonce,
            now=ID_NOW,
            max_age=max_age,
            access_token=access_token,
        )
    )


def backchannel_authentication_response(data: bytes) -> None:
    _call(lambda: oc.process_backchannel_authentication_response(response(Input(data), CIBA)))


def backchannel_poll_response(data: bytes) -> None:
    _call(lambda: oc.process_backchannel_poll_response(response(Input(data), POLL)))


def backchannel_from_dict(data: bytes) -> None:
    saved = _saved(Input(data), ("auth_req_id", "expires_at"))
    _call(lambda: oc.BackchannelAuthentication.from_dict(saved))


_AT_KEY = oc.generate_dpop_key("ES256")  # any EC P-256 private JWK will do
_AT_JWKS = {"keys": [{k: v for k, v in _AT_KEY.items() if k != "d"}]}


def _access_token(inp: Input) -> str:
    """A compact JWT: mostly really signed (ES256) with fuzzed header and claims, else garbage."""
    from oauth2_core.jose import load_signing_key, sign_jwt

    if inp.below(8) == 0:
        return inp.text(200)
    header: dict[str, Any] = {"typ": inp.pick(("at+jwt", "application/at+jwt", "JWT", 7))}
    if inp.flag():
        header["kid"] = inp.pick((_AT_KEY.get("kid"), "other", ""))
    claims: dict[str, Any] = {}
    plausible = {
        **_PLAUSIBLE_CLAIMS,
        "iss": ("https://as.example",),
        "aud": ("https://rs.example", ["https://rs.example"], []),
        "client_id": ("app", ""),
        "jti": ("j",),
        "scope": ("read write", ["read"], ""),
    }
    for name, values in plausible.items():
        choice = inp.below(8)
        if choice < 5:
            claims[name] = inp.pick(values)
        elif choice == 5:
            claims[name] = json_value(inp)
    try:
        return sign_jwt(load_signing_key(_AT_KEY), claims, header)
    except (TypeError, ValueError, oc.UsageError):
        return inp.text(200)  # claims PyJWT cannot serialize (lone surrogates ...)


def jwt_access_token(data: bytes) -> None:
    inp = Input(data)
    token = _access_token(inp)
    scope = inp.pick((None, "read", ["read", "write"]))
    _call(
        lambda: oc.validate_jwt_access_token(
            token,
            issuer="https://as.example",
            audience="https://rs.example",
            jwks=_AT_JWKS,
            now=ID_NOW,
            scope=scope,
        )
    )


JARM_SERVER = oc.ServerMetadata(
    issuer="https://as.example", authorization_signing_alg_values_supported=["HS256", "ES256"]
)
JARM_PENDING = oc.new_pending_authorization(ID_CLIENT, state="st-123", nonce="n-1")


def jarm_callback(data: bytes) -> None:
    """A signed authorization response (JARM) with fuzzed claims, or any callback."""
    inp = Input(data)
    token = _id_token(inp)
    shape = inp.below(3)
    callback: object = (
        {"response": token}
        if shape == 0
        else "https://app.example/cb?response=" + token
        if shape == 1
        else _callback(inp)
    )
    jwks = inp.pick(({"keys": []}, {"keys": [json_value(inp)]}))
    _call(
        lambda: oc.parse_callback(
            callback, server=JARM_SERVER, pending=JARM_PENDING, jwks=jwks, now=ID_NOW
        )
    )


INTROSPECTION_SERVER = oc.ServerMetadata(
    issuer="https://as.example", introspection_signing_alg_values_supported=["HS256", "ES256"]
)


def _introspection_jwt(inp: Input) -> bytes:
    """An HS256 JWT (client secret) with RFC 9701 claims, fuzzed; or garbage."""
    if inp.below(8) == 0:
        return inp.blob(300)
    header = {
        "alg": inp.pick(("HS256", "none", "ES256")),
        "typ": inp.pick(
            ("token-introspection+jwt", "application/token-introspection+jwt", "JWT", "")
        ),
    }
    claims: dict[str, Any] = {
        "iss": inp.pick(("https://as.example", "https://evil.example")),
        "aud": inp.pick(("app", ["app"], "rs")),
        "iat": inp.pick((1714564800, 1714564800 + 3600, "x")),
        "token_introspection": inp.pick(({"active": True}, {"active": False}))
        if inp.flag()
        else members(inp),
    }
    signing_input = f"{_b64(_json_bytes(header))}.{_b64(_json_bytes(claims))}"
    key = (ID_CLIENT.client_secret or "").encode()
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature if inp.below(4) else inp.blob(32))}".encode()


def jwt_introspection_response(data: bytes) -> None:
    inp = Input(data)
    if inp.below(4) == 0:
        answer = response(inp, ("active",))
    else:
        answer = oc.HttpResponse(
            inp.pick((200, 200, 401, 500)),
            {"content-type": oc.INTROSPECTION_JWT_MEDIA_TYPE},
            _introspection_jwt(inp),
            ID_NOW,
        )
    _call(
        lambda: oc.process_jwt_introspection_response(
            answer, server=INTROSPECTION_SERVER, client=ID_CLIENT, jwks={"keys": []}
        )
    )


#: name -> harness taking the fuzzer's bytes.
HARNESSES: dict[str, Callable[[bytes], None]] = {
    "process_token_response": token_response,
    "process_refresh_response": refresh_response,
    "process_introspection_response": introspection_response,
    "process_jwt_introspection_response": jwt_introspection_response,
    "process_revocation_response": revocation_response,
    "process_device_authorization_response": device_authorization_response,
    "process_device_poll_response": device_poll_response,
    "process_discovery_response": discovery_response,
    "process_pushed_authorization_response": pushed_authorization_response,
    "process_userinfo_response": userinfo_response,
    "process_jwks_response": jwks_response,
    "parse_callback": callback,
    "parse_callback.jarm": jarm_callback,
    "parse_www_authenticate": www_authenticate,
    "Token.from_dict": token_from_dict,
    "ServerMetadata.from_dict": metadata_from_dict,
    "PendingAuthorization.from_dict": pending_from_dict,
    "DeviceAuthorization.from_dict": device_authorization_from_dict,
    "validate_id_token": id_token,
    "process_resource_metadata_response": resource_metadata_response,
    "process_registration_response": registration_response,
    "process_registration_delete_response": registration_delete_response,
    "ClientRegistration.from_dict": registration_from_dict,
    "ResourceMetadata.from_dict": resource_metadata_from_dict,
    "process_backchannel_authentication_response": backchannel_authentication_response,
    "process_backchannel_poll_response": backchannel_poll_response,
    "BackchannelAuthentication.from_dict": backchannel_from_dict,
    "validate_jwt_access_token": jwt_access_token,
}
