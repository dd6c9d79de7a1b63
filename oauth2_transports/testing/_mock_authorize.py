"""Mock endpoints for client authentication and the front channel.

* client authentication (RFC 6749 §2.3): ``client_secret_basic`` with the
  percent-decoding of §2.3.1, ``client_secret_post``, ``private_key_jwt``
  (RFC 7523 §2.2, in :mod:`._mock_assertion`) and public clients;
* the authorization endpoint (RFC 6749 §4.1, RFC 7636 PKCE, RFC 9207 ``iss``);
* pushed authorization requests (RFC 9126), a DPoP proof binding the code (RFC 9449 §10.1);
* device authorization and its verification page (RFC 8628 §3.1 to §3.3).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import re
from collections.abc import Sequence
from urllib.parse import unquote_plus

import attrs

from oauth2_transports.testing._mock_assertion import client_from_assertion
from oauth2_transports.testing._mock_dpop import pushed_binding
from oauth2_transports.testing._mock_jar import JARM_MODES, jarm_answer, unpack_request_object
from oauth2_transports.testing._mock_model import (
    Answer,
    MockClient,
    RecordedRequest,
    error_answer,
    html_answer,
    json_answer,
    redirect_answer,
)
from oauth2_transports.testing._mock_state import (
    CodeRecord,
    MockState,
    PushedRecord,
    format_user_code,
    new_secret,
)

__all__ = [
    "AuthorizationRequest",
    "approve",
    "authenticate_client",
    "authorization_request",
    "authorize",
    "device_authorization",
    "device_page",
    "duplicate_answer",
    "pushed_authorization",
    "refuse",
    "scope_of",
    "scripted_denial",
]

# RFC 7636 §4.1 / §4.2: 43 to 128 unreserved characters.
PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 8707 §2: `resource` may repeat; RFC 8693 `audience` too.
_REPEATABLE = frozenset({"resource", "audience"})
_AUTH_FIELDS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


def _invalid_client(description: str) -> Answer:
    # RFC 6749 §5.2: 401 with a WWW-Authenticate naming the scheme the client may use.
    return error_answer(
        401, "invalid_client", description, headers=(("WWW-Authenticate", 'Basic realm="mock"'),)
    )


def _secret_matches(client: MockClient, secret: str) -> bool:
    expected = (client.client_secret or "").encode("utf-8")
    return hmac.compare_digest(expected, secret.encode("utf-8"))


def duplicate_answer(pairs: Sequence[tuple[str, str]]) -> Answer | None:
    """RFC 6749 §3.2: request parameters MUST NOT be included more than once."""
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen and name not in _REPEATABLE:
            return error_answer(400, "invalid_request", f"parameter {name!r} repeated")
        seen.add(name)
    return None


def scope_of(state: MockState, value: str | None) -> tuple[str, ...] | Answer:
    """The requested scope, or an ``invalid_scope`` answer for unknown values."""
    scope = tuple(dict.fromkeys((value or "").split()))
    if state.scopes_supported is not None:
        unknown = [s for s in scope if s not in state.scopes_supported]
        if unknown:
            return error_answer(400, "invalid_scope", f"unknown scope {unknown[0]!r}")
    return scope


def authenticate_client(state: MockState, request: RecordedRequest) -> MockClient | Answer:
    """The client that made ``request``, or the error answer (RFC 6749 §2.3)."""
    form = request.form
    header = request.headers.get("authorization", "")
    has_basic = header[:6].lower() == "basic "
    used = [has_basic, "client_secret" in form, "client_assertion" in form]
    if sum(used) > 1:
        # RFC 6749 §2.3: the client MUST NOT use more than one method per request.
        return error_answer(400, "invalid_request", "more than one client authentication method")
    if has_basic:
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return _invalid_client("malformed Basic credentials")
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            return _invalid_client("malformed Basic credentials")
        # RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
        basic_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        client = state.clients.get(basic_id)
        if client is None or client.auth_method != "client_secret_basic":
            return _invalid_client("unknown client or wrong authentication method")
        if not _secret_matches(client, secret):
            return _invalid_client("client authentication failed")
        if form.get("client_id", basic_id) != basic_id:
            return error_answer(400, "invalid_request", "client_id differs from credentials")
        return client
    if "client_assertion" in form:
        return client_from_assertion(state, form)  # private_key_jwt (RFC 7523 §2.2)
    client_id = form.get("client_id")
    if not client_id:
        return _invalid_client("no client authentication")
    found = state.client(client_id)
    if not isinstance(found, MockClient):
        return _invalid_client("unknown client" if found is None else found)
    client = found
    if "client_secret" in form:
        if client.auth_method != "client_secret_post":
            return _invalid_client("wrong client authentication method")
        if not _secret_matches(client, form["client_secret"]):
            return _invalid_client("client authentication failed")
        return client
    if not client.public:
        return _invalid_client("this client must authenticate")
    return client


def _authorization_params(
    state: MockState, request: RecordedRequest
) -> tuple[dict[str, str], bool] | Answer:
    pairs = request.form_pairs if request.method == "POST" else request.query_pairs
    if duplicate_answer(pairs) is not None:
        return html_answer(400, "Invalid request", "<p>A parameter is repeated.</p>")
    params = dict(pairs)
    uri = params.get("request_uri")
    if uri is None:
        return params, False
    pushed = state.pushed.get(uri)
    if pushed is None or pushed.used or state.now() >= pushed.expires_at:
        return html_answer(400, "Invalid request", "<p>Unknown or expired request_uri.</p>")
    if params.get("client_id") != pushed.client_id:
        return html_answer(400, "Invalid request", "<p>client_id does not match request_uri.</p>")
    pushed.used = True  # RFC 9126 §4: single use
    return dict(pushed.params), True


def _unpacked(state: MockState, params: dict[str, str]) -> dict[str, str] | Answer:
    """RFC 9101 §6: a request object's claims replace the query's parameters."""
    if "request" not in params:
        return params
    client = state.clients.get(params.get("client_id", ""))
    if client is None:
        return html_answer(400, "Invalid request", "<p>Unknown client_id.</p>")
    unpacked = unpack_request_object(state, client, params)
    if isinstance(unpacked, str):
        return html_answer(400, "Invalid request object", f"<p>{html.escape(unpacked)}</p>")
    return unpacked


@attrs.frozen
class AuthorizationRequest:
    """A checked authorization request: its errors can now go back to the client."""

    client_id: str
    target: str  # where to redirect
    asked_redirect: str | None  # what the request named (RFC 6749 §4.1.3 compares it)
    state: str | None
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    login_hint: str | None
    prompt: str | None
    resource: str | None = None  # RFC 8707: the audience the code's tokens are for
    response_mode: str | None = None  # JARM: a *.jwt mode signs the response
    acr_values: tuple[str, ...] = ()  # OIDC Core §3.1.2.1, RFC 9470 §4
    max_age: int | None = None
    dpop_jkt: str | None = None  # RFC 9449 §10: the code is bound to this DPoP key


def _redirect(state: MockState, req: AuthorizationRequest, pairs: list[tuple[str, str]]) -> Answer:
    if req.response_mode in JARM_MODES:
        return jarm_answer(state, req.target, req.response_mode, req.client_id, pairs)
    return redirect_answer(req.target, pairs)


def refuse(state: MockState, req: AuthorizationRequest, error: str, description: str) -> Answer:
    """An error redirect to the client (RFC 6749 §4.1.2.1), with ``iss`` (RFC 9207 §2)."""
    answer: list[tuple[str, str]] = [("error", error), ("error_description", description)]
    if req.state is not None:
        answer.append(("state", req.state))
    answer.append(("iss", state.issuer))
    return _redirect(state, req, answer)


def authorization_request(
    state: MockState, request: RecordedRequest
) -> AuthorizationRequest | Answer:
    """Check an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3).

    Returns an error page while the redirect URI is unverified (§4.1.2.1), an
    error redirect after, or the checked request.
    """
    found = _authorization_params(state, request)
    if isinstance(found, Answer):
        return found
    params, pushed = found
    params_or_answer = _unpacked(state, params)
    if isinstance(params_or_answer, Answer):
        return params_or_answer
    params = params_or_answer
    client = state.client(params.get("client_id", ""))
    if not isinstance(client, MockClient):
        # RFC 6749 §4.1.2.1: never redirect to an unverified redirect URI.
        why = "Unknown client_id." if client is None else html.escape(client) + "."
        return html_answer(400, "Invalid request", f"<p>{why}</p>")
    asked_redirect = params.get("redirect_uri")
    if asked_redirect is None:
        if len(client.redirect_uris) != 1:
            return html_answer(400, "Invalid request", "<p>redirect_uri is required.</p>")
        target = client.redirect_uris[0]
    elif client.accepts_redirect_uri(asked_redirect):
        target = asked_redirect
    else:
        return html_answer(400, "Invalid request", "<p>redirect_uri is not registered.</p>")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method", "plain" if challenge else None)
    req = AuthorizationRequest(
        client_id=client.client_id,
        target=target,
        asked_redirect=asked_redirect,
        state=params.get("state"),
        scope=(),
        nonce=params.get("nonce"),
        code_challenge=challenge,
        code_challenge_method=method if challenge else None,
        login_hint=params.get("login_hint"),
        prompt=params.get("prompt"),
        resource=params.get("resource"),
        response_mode=params.get("response_mode"),
        dpop_jkt=params.get("dpop_jkt") if state.dpop else None,
    )
    if params.get("response_type") != "code":
        return refuse(
            state, req, "unsupported_response_type", "only response_type=code is supported"
        )
    if state.require_par and not pushed:
        return refuse(
            state, req, "invalid_request", "pushed authorization requests are required (RFC 9126)"
        )
    if challenge is None:
        if client.public or state.require_pkce:
            return refuse(state, req, "invalid_request", "code_challenge is required (RFC 7636)")
    elif method not in ("S256", "plain"):
        return refuse(state, req, "invalid_request", "unsupported code_challenge_method")
    elif not PKCE_VALUE.fullmatch(challenge):
        return refuse(state, req, "invalid_request", "malformed code_challenge")
    max_age = params.get("max_age")
    if max_age is not None and not (max_age.isdigit() and len(max_age) <= 10):
        return refuse(state, req, "invalid_request", "max_age must be a number of seconds")
    req = attrs.evolve(
        req,
        acr_values=tuple(params.get("acr_values", "").split()),
        max_age=None if max_age is None else int(max_age),
    )
    scope = scope_of(state, params.get("scope"))
    if isinstance(scope, Answer):
        return refuse(state, req, "invalid_scope", "unknown scope")
    registered = state.registrations.get(client.client_id)
    allowed = registered[1].get("scope") if registered is not None else None
    if isinstance(allowed, str) and not set(scope) <= set(allowed.split()):
        # RFC 7591 §2: a dynamically registered client may use the scope it registered.
        return refuse(state, req, "invalid_scope", "scope beyond the registered scope")
    return attrs.evolve(req, scope=scope)


def scripted_denial(state: MockState, req: AuthorizationRequest) -> Answer | None:
    """``deny_next()`` or ``login_hint=deny``: the user's "no", scripted by a test."""
    if state.deny_authorizations > 0:
        state.deny_authorizations -= 1
        return refuse(state, req, "access_denied", "the user denied the request")
    if req.login_hint == "deny":
        return refuse(state, req, "access_denied", "the user denied the request")
    return None


def approve(
    state: MockState, req: AuthorizationRequest, user: str, *, signed_in: bool = False
) -> Answer:
    """The user said yes: a fresh code in a 302 to the client (RFC 6749 §4.1.2).

    The code remembers when and how the user authenticated (``acr``,
    ``auth_time``; ``signed_in``: just now, on the login page), honouring the
    request's ``acr_values``, ``max_age`` and ``prompt=login``.
    """
    login = signed_in or (req.prompt is not None and "login" in req.prompt.split())
    auth_time, acr = state.sign_in(
        user, acr_values=req.acr_values, max_age=req.max_age, login=login
    )
    code = new_secret("mock_ac_")
    state.codes[code] = CodeRecord(
        client_id=req.client_id,
        redirect_uri=req.asked_redirect,
        user=user,
        scope=req.scope,
        nonce=req.nonce,
        code_challenge=req.code_challenge,
        code_challenge_method=req.code_challenge_method,
        expires_at=state.now() + state.lifetimes.code,
        resource=req.resource,
        acr=acr,
        auth_time=auth_time,
        dpop_jkt=req.dpop_jkt,
    )
    answer = [("code", code)]
    if req.state is not None:
        answer.append(("state", req.state))
    answer.append(("iss", state.issuer))
    return _redirect(state, req, answer)


def authorize(state: MockState, request: RecordedRequest) -> Answer:
    """The authorization endpoint, auto-approving: a 302 to the client (RFC 6749 §4.1.2).

    ``login_hint`` picks the user (``alice`` by default); ``login_hint=deny``
    or ``deny_next()`` answers ``access_denied``.
    """
    req = authorization_request(state, request)
    if isinstance(req, Answer):
        return req
    denied = scripted_denial(state, req)
    if denied is not None:
        return denied
    user = req.login_hint or state.default_user
    if user not in state.users:
        return refuse(state, req, "access_denied", "unknown user")
    return approve(state, req, user)


def pushed_authorization(state: MockState, request: RecordedRequest) -> Answer:
    """The PAR endpoint (RFC 9126 §2): stores the request, answers a ``request_uri``."""
    duplicate = duplicate_answer(request.form_pairs)
    if duplicate is not None:
        return duplicate
    client = authenticate_client(state, request)
    if isinstance(client, Answer):
        return client
    if "request_uri" in request.form:
        return error_answer(400, "invalid_request", "request_uri is not allowed here")
    redirect_uri = request.form.get("redirect_uri")
    if redirect_uri is not None and not client.accepts_redirect_uri(redirect_uri):
        return error_answer(400, "invalid_request", "redirect_uri is not registered")
    binding = pushed_binding(state, request, client)  # RFC 9449 §10.1: a proof binds the code
    if isinstance(binding, Answer):
        return binding
    params = [(k, v) for k, v in request.form_pairs if k not in _AUTH_FIELDS]
    params.extend(binding)
    if "client_id" not in request.form:
        params.append(("client_id", client.client_id))
    uri = "urn:ietf:params:oauth:request_uri:" + new_secret("")
    lifetime = state.lifetimes.request_uri
    state.pushed[uri] = PushedRecord(
        client_id=client.client_id, params=tuple(params), expires_at=state.now() + lifetime
    )
    return json_answer(201, {"request_uri": uri, "expires_in": int(lifetime)})


def device_authorization(state: MockState, request: RecordedRequest) -> Answer:
    """The device authorization endpoint (RFC 8628 §3.1, §3.2)."""
    duplicate = duplicate_answer(request.form_pairs)
    if duplicate is not None:
        return duplicate
    client = authenticate_client(state, request)
    if isinstance(client, Answer):
        return client
    scope = scope_of(state, request.form.get("scope"))
    if isinstance(scope, Answer):
        return scope
    record = state.new_device(client.client_id, scope)
    shown = format_user_code(record.user_code)
    verification_uri = state.issuer + "/device"
    return json_answer(
        200,
        {
            "device_code": record.device_code,
            "user_code": shown,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?user_code={shown}",
            "expires_in": int(state.lifetimes.device_code),
            "interval": state.device_interval,
        },
    )


def set_device_decision(state: MockState, user_code: str, *, approve: bool, user: str) -> bool:
    """Approve or deny a pending device authorization; ``False`` if there is none."""
    record = state.device_by_user_code(user_code)
    if record is None or record.status != "pending" or state.now() >= record.expires_at:
        return False
    if approve and user not in state.users:
        raise ValueError(f"unknown user {user!r}")
    record.status = "approved" if approve else "denied"
    record.user = user if approve else None
    return True


def device_page(state: MockState, request: RecordedRequest) -> Answer:
    """The verification page (RFC 8628 §3.3): a form that approves or denies when posted."""
    if request.method == "POST":
        code = request.form.get("user_code", "")
        approve = request.form.get("action", "approve") != "deny"
        user = request.form.get("username") or state.default_user
        try:
            done = set_device_decision(state, code, approve=approve, user=user)
        except ValueError:
            done = False
        if not done:
            return html_answer(400, "Unknown code", "<p>Unknown, used or expired code.</p>")
        title = "Device approved" if approve else "Access denied"
        return html_answer(200, title, "<p>You can return to your device.</p>")
    prefill = html.escape(request.query.get("user_code", ""), quote=True)
    form = (
        "<form method='post' action='device'>"
        f"<label>Code <input name='user_code' value='{prefill}'></label> "
        f"<label>User <input name='username' value='{html.escape(state.default_user)}'></label> "
        "<button name='action' value='approve'>Approve</button> "
        "<button name='action' value='deny'>Deny</button></form>"
    )
    return html_answer(200, "Connect a device", form)
