"""The mock server's login page: what a browser sees at the authorization endpoint.

With ``login_page=True`` (the ``oauth2 mock-server`` default) a checked
authorization request (RFC 6749 §4.1.1) gets an HTML sign-in form instead of an
immediate redirect: a human, or a test's scripted browser, enters a user name
and password and clicks *Approve* or *Deny* (§4.1.2, §4.1.2.1). ``prompt=none``
answers ``login_required`` (OpenID Connect Core §3.1.2.6), since the mock keeps
no sessions. Scripted denials (``deny_next()``, ``login_hint=deny``) still
answer at once.

The form carries one hidden, single-use, unguessable ``mock_login`` value that
names the request kept on the server, so nothing the browser posts can change
the client, redirect URI, scope or PKCE challenge.
"""

from __future__ import annotations

import hmac
import html

import attrs

from oauth2_transports.testing import _mock_authorize as front
from oauth2_transports.testing._mock_model import Answer, RecordedRequest, html_answer
from oauth2_transports.testing._mock_state import MockState, new_secret

__all__ = ["LOGIN_FIELD", "PendingLogin", "authorization_endpoint"]

#: The hidden form field that names the pending login.
LOGIN_FIELD = "mock_login"
#: Seconds a login form stays usable.
LOGIN_LIFETIME = 600


@attrs.frozen
class PendingLogin:
    """An authorization request waiting for the user's answer on the login page."""

    request: front.AuthorizationRequest
    expires_at: float


def _page(state: MockState, login: str, req: front.AuthorizationRequest, problem: str) -> Answer:
    e = html.escape
    users = ", ".join(e(name) for name in state.users)
    scope = " ".join(req.scope) or "(none)"
    body = (
        f"<p>The client <b>{e(req.client_id)}</b> asks for the scope <b>{e(scope)}</b>.</p>"
        + (f"<p role='alert'><b>{e(problem)}</b></p>" if problem else "")
        + "<form method='post' action='authorize'>"
        f"<input type='hidden' name='{LOGIN_FIELD}' value='{e(login, quote=True)}'>"
        "<p><label>User <input name='username' autocomplete='username' "
        f"value='{e(req.login_hint or state.default_user, quote=True)}'></label></p>"
        "<p><label>Password <input name='password' type='password' "
        "autocomplete='current-password'></label></p>"
        "<p><button name='action' value='approve'>Approve</button> "
        "<button name='action' value='deny'>Deny</button></p></form>"
        f"<p><small>A test tool, not a production server. Users: {users}.</small></p>"
    )
    answer = html_answer(401 if problem else 200, "Sign in (mock authorization server)", body)
    # The page holds a live login: never framed by another site, never cached.
    headers = (*answer.headers, ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"))
    return attrs.evolve(answer, headers=headers)


def _show_login(state: MockState, req: front.AuthorizationRequest) -> Answer:
    denied = front.scripted_denial(state, req)
    if denied is not None:
        return denied
    if req.prompt is not None and "none" in req.prompt.split():
        # OIDC Core §3.1.2.6: no session, and the client forbade a login page.
        return front.refuse(state, req, "login_required", "the user is not signed in")
    now = state.now()
    for key in [k for k, v in state.logins.items() if v.expires_at <= now]:
        del state.logins[key]
    login = new_secret("")
    state.logins[login] = PendingLogin(req, now + LOGIN_LIFETIME)
    return _page(state, login, req, "")


def _answer_login(state: MockState, request: RecordedRequest) -> Answer:
    login = request.form.get(LOGIN_FIELD, "")
    pending = state.logins.get(login)
    if pending is None or state.now() >= pending.expires_at:
        state.logins.pop(login, None)
        return html_answer(400, "Sign-in expired", "<p>Start the sign-in again.</p>")
    req = pending.request
    if request.form.get("action") == "deny":
        del state.logins[login]
        return front.refuse(state, req, "access_denied", "the user denied the request")
    user = state.users.get(request.form.get("username", ""))
    given = request.form.get("password", "").encode("utf-8")
    if user is None or not hmac.compare_digest(user.password.encode("utf-8"), given):
        return _page(state, login, req, "Wrong user name or password.")
    del state.logins[login]  # single use: a reload cannot mint a second code
    return front.approve(state, req, user.username, signed_in=True)


def authorization_endpoint(state: MockState, request: RecordedRequest) -> Answer:
    """``/authorize``: auto-approve, or the login page and its answer (RFC 6749 §4.1.1-2)."""
    if request.method == "POST" and LOGIN_FIELD in request.form:
        return _answer_login(state, request)
    if not state.login_page:
        return front.authorize(state, request)
    req = front.authorization_request(state, request)
    if isinstance(req, Answer):
        return req
    return _show_login(state, req)
