"""Mock back-channel endpoints: token, revocation, introspection, userinfo.

* token endpoint (RFC 6749 §4.1.3, §4.3, §4.4, §6; RFC 7636 §4.6; RFC 8628 §3.4
  and §3.5; RFC 8693 token exchange; RFC 7523 §2.1 JWT bearer, in ``_mock_jwt_bearer``);
* revocation (RFC 7009), introspection (RFC 7662);
* UserInfo (OpenID Connect Core §5.3) with RFC 6750 §3 errors;
* DPoP (RFC 9449, in ``_mock_dpop``): every grant's tokens bound to the proof's key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

from oauth2_transports.testing import _mock_dpop as dpop
from oauth2_transports.testing import _mock_jwt_bearer as jwt_bearer
from oauth2_transports.testing._mock_authorize import (
    PKCE_VALUE,
    authenticate_client,
    duplicate_answer,
    scope_of,
)
from oauth2_transports.testing._mock_ciba import CIBA_GRANT, ciba_grant
from oauth2_transports.testing._mock_jar import signed_introspection, wants_signed_introspection
from oauth2_transports.testing._mock_model import (
    Answer,
    MockClient,
    RecordedRequest,
    error_answer,
    json_answer,
)
from oauth2_transports.testing._mock_state import Grant, MockState

__all__ = ["introspect", "revoke", "token", "userinfo"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"

_Handler = Callable[[MockState, MockClient, RecordedRequest], Answer]


def _invalid_grant(description: str) -> Answer:
    return error_answer(400, "invalid_grant", description)


def _tokens(state: MockState, grant: Grant, *, refresh: bool, **extra: object) -> Answer:
    answer = state.issue_tokens(grant, scope=grant.scope, refresh=refresh, extra=extra or None)
    return json_answer(200, answer)


def _pkce_matches(verifier: str, challenge: str, method: str | None) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return hmac.compare_digest(computed.encode("ascii"), challenge.encode("ascii"))


def _authorization_code(state: MockState, client: MockClient, req: RecordedRequest) -> Answer:
    record = state.codes.get(req.form.get("code", ""))
    if record is None or record.client_id != client.client_id:
        return _invalid_grant("unknown authorization code")
    if record.used:
        # RFC 6749 §4.1.2: a reused code SHOULD revoke the tokens issued from it.
        if record.grant is not None:
            state.revoke_grant(record.grant)
        return _invalid_grant("authorization code already used")
    record.used = True
    if state.now() >= record.expires_at:
        return _invalid_grant("authorization code expired")
    if record.redirect_uri is not None and req.form.get("redirect_uri") != record.redirect_uri:
        # RFC 6749 §4.1.3: identical to the authorization request's value.
        return _invalid_grant("redirect_uri does not match the authorization request")
    verifier = req.form.get("code_verifier")
    if record.code_challenge is not None:
        if verifier is None or not PKCE_VALUE.fullmatch(verifier):
            return _invalid_grant("code_verifier missing or malformed (RFC 7636 §4.5)")
        if not _pkce_matches(verifier, record.code_challenge, record.code_challenge_method):
            return _invalid_grant("code_verifier does not match code_challenge")
    elif verifier is not None:
        # RFC 9700 §2.1.1: a verifier without a challenge is a PKCE downgrade.
        return _invalid_grant("code_verifier sent but no code_challenge was")
    asked = tuple(req.form_list("resource"))
    if record.resource is not None and asked and asked != (record.resource,):
        # RFC 8707 §2.2: a resource the authorization did not cover.
        return error_answer(400, "invalid_target", "resource differs from the authorization's")
    resources = asked or ((record.resource,) if record.resource else ())
    record.grant = Grant(
        client.client_id,
        record.user,
        record.scope,
        record.nonce,
        resources=resources,
        acr=record.acr,
        auth_time=record.auth_time,
    )
    return _tokens(state, record.grant, refresh=True)


def _client_credentials(state: MockState, client: MockClient, req: RecordedRequest) -> Answer:
    if client.public:
        return error_answer(400, "unauthorized_client", "public clients have no credentials")
    scope = scope_of(state, req.form.get("scope"))
    if isinstance(scope, Answer):
        return scope
    resources = tuple(req.form_list("resource"))
    return _tokens(state, Grant(client.client_id, None, scope, resources=resources), refresh=False)


def _password(state: MockState, client: MockClient, req: RecordedRequest) -> Answer:
    user = state.users.get(req.form.get("username", ""))
    password = req.form.get("password", "").encode("utf-8")
    if user is None or not hmac.compare_digest(password, user.password.encode("utf-8")):
        return _invalid_grant("wrong username or password")
    scope = scope_of(state, req.form.get("scope"))
    if isinstance(scope, Answer):
        return scope
    return _tokens(state, Grant(client.client_id, user.username, scope), refresh=True)


def _refresh_token(state: MockState, client: MockClient, req: RecordedRequest) -> Answer:
    record = state.refresh_tokens.get(req.form.get("refresh_token", ""))
    if record is None or record.grant.client_id != client.client_id:
        return _invalid_grant("unknown refresh token")
    if record.used:
        # RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the whole grant.
        state.revoke_grant(record.grant)
        return _invalid_grant("refresh token already used")
    if not record.active(state.now()):
        return _invalid_grant("refresh token revoked or expired")
    asked = req.form.get("scope")
    scope = record.scope
    if asked is not None:
        narrowed = tuple(asked.split())
        if not set(narrowed) <= set(record.grant.scope):
            # RFC 6749 §6: MUST NOT include any scope not originally granted.
            return error_answer(400, "invalid_scope", "scope exceeds the original grant")
        scope = narrowed
    if state.rotate_refresh_tokens:
        record.used = True
    answer = state.issue_tokens(
        record.grant, scope=scope, refresh=state.rotate_refresh_tokens, refreshing=True
    )
    return json_answer(200, answer)


def _device_code(state: MockState, client: MockClient, req: RecordedRequest) -> Answer:
    record = state.devices.get(req.form.get("device_code", ""))
    if record is None or record.client_id != client.client_id:
        return _invalid_grant("unknown device code")
    if state.slow_downs > 0:
        state.slow_downs -= 1
        return error_answer(400, "slow_down", "polling too fast")
    if record.status == "consumed":
        return _invalid_grant("device code already used")
    if state.now() >= record.expires_at:
        return error_answer(400, "expired_token", "the device code expired")
    if record.status == "pending":
        return error_answer(400, "authorization_pending", "the user has not answered yet")
    if record.status == "denied":
        return error_answer(400, "access_denied", "the user denied the request")
    record.status = "consumed"
    grant = Grant(client.client_id, record.user, record.scope)
    return _tokens(state, grant, refresh=True)


def _token_exchange(state: MockState, client: MockClient, req: RecordedRequest) -> Answer:
    if req.form.get("subject_token_type") != ACCESS_TOKEN_TYPE:
        return error_answer(400, "invalid_request", "subject_token_type must be an access token")
    subject = state.access_tokens.get(req.form.get("subject_token", ""))
    if subject is None or not subject.active(state.now()):
        return _invalid_grant("subject_token is not an active access token")
    scope = scope_of(state, req.form.get("scope"))
    if isinstance(scope, Answer):
        return scope
    grant = Grant(client.client_id, subject.grant.user, scope or subject.scope)
    return _tokens(state, grant, refresh=False, issued_token_type=ACCESS_TOKEN_TYPE)


_GRANTS: dict[str, _Handler] = {
    "authorization_code": _authorization_code,
    "client_credentials": _client_credentials,
    jwt_bearer.JWT_BEARER_GRANT: jwt_bearer.jwt_bearer_grant,  # RFC 7523 §2.1
    "password": _password,
    "refresh_token": _refresh_token,
    DEVICE_CODE_GRANT: _device_code,
    TOKEN_EXCHANGE_GRANT: _token_exchange,
    CIBA_GRANT: ciba_grant,
}


def _authenticated(state: MockState, request: RecordedRequest) -> MockClient | Answer:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return error_answer(400, "invalid_request", "the body must be form-encoded")
    duplicate = duplicate_answer(request.form_pairs)
    if duplicate is not None:
        return duplicate
    return authenticate_client(state, request)


def token(state: MockState, request: RecordedRequest) -> Answer:
    """The token endpoint (RFC 6749 §3.2)."""
    client = _authenticated(state, request)
    if isinstance(client, Answer):
        return client
    grant_type = request.form.get("grant_type")
    if not grant_type:
        return error_answer(400, "invalid_request", "grant_type is missing")
    handler = _GRANTS.get(grant_type)
    if handler is None:
        return error_answer(400, "unsupported_grant_type", "grant_type not supported")
    # RFC 9449 §5: a proof binds whatever the grant issues; a bound grant needs its key.
    jkt = dpop.token_proof(state, request, client)
    if isinstance(jkt, Answer):
        return jkt
    refused = dpop.binding_refusal(state, client, request.form, jkt)
    if refused is not None:
        return refused
    return dpop.bind_answer(state, client, handler(state, client, request), jkt)


def revoke(state: MockState, request: RecordedRequest) -> Answer:
    """The revocation endpoint (RFC 7009 §2): 200 for unknown tokens too."""
    client = _authenticated(state, request)
    if isinstance(client, Answer):
        return client
    value = request.form.get("token")
    if not value:
        return error_answer(400, "invalid_request", "token is missing")
    access = state.access_tokens.get(value)
    refresh = state.refresh_tokens.get(value)
    owner = access.grant if access else refresh.grant if refresh else None
    if owner is not None and owner.client_id != client.client_id:
        # RFC 7009 §2.1: the token must have been issued to the requesting client.
        return error_answer(400, "invalid_request", "token was issued to another client")
    if access is not None:
        access.revoked = True
    if refresh is not None:
        # RFC 7009 §2.1: revoking a refresh token SHOULD revoke its access tokens too.
        state.revoke_grant(refresh.grant)
    return Answer(status=200, headers=(("Cache-Control", "no-store"),))


def introspect(state: MockState, request: RecordedRequest) -> Answer:
    """The introspection endpoint (RFC 7662 §2); only confidential clients may call it."""
    client = _authenticated(state, request)
    if isinstance(client, Answer):
        return client
    if client.public:
        return error_answer(401, "invalid_client", "public clients may not introspect")
    value = request.form.get("token")
    if not value:
        return error_answer(400, "invalid_request", "token is missing")
    now = state.now()
    access = state.access_tokens.get(value)
    if access is not None and access.active(now):
        grant, scope = access.grant, access.scope
        data: dict[str, object] = {
            "active": True,
            "token_type": "Bearer" if access.jkt is None else "DPoP",
            "exp": int(access.expires_at),
            "iat": int(access.issued_at),
        }
        if access.jkt is not None:
            data["cnf"] = {"jkt": access.jkt}  # RFC 9449 §6.2
    else:
        refresh = state.refresh_tokens.get(value)
        if refresh is None or not refresh.active(now):
            return _introspection_answer(state, request, client.client_id, {"active": False})
        grant, scope = refresh.grant, refresh.scope
        data = {"active": True, "token_type": "refresh_token", "iat": int(refresh.issued_at)}
        if refresh.expires_at is not None:
            data["exp"] = int(refresh.expires_at)
    data.update({"client_id": grant.client_id, "aud": grant.client_id, "iss": state.issuer})
    if scope:
        data["scope"] = " ".join(scope)
    if grant.user is not None:
        data["sub"] = grant.user
        data["username"] = grant.user
    if grant.acr is not None and grant.auth_time is not None:
        data.update({"acr": grant.acr, "auth_time": int(grant.auth_time)})  # RFC 9470 §6.2
    return _introspection_answer(state, request, client.client_id, data)


def _introspection_answer(
    state: MockState, request: RecordedRequest, client_id: str, data: dict[str, object]
) -> Answer:
    if wants_signed_introspection(request.headers.get("accept", "")):
        return signed_introspection(state, client_id, data)  # RFC 9701
    return json_answer(200, data)


def _resource_error(refusal: dpop.Refusal) -> Answer:
    if refusal.scheme == "DPoP":
        headers = dpop.dpop_challenge(refusal, ['realm="mock"'])
    else:
        challenge = 'Bearer realm="mock"'
        if refusal.error is not None:
            challenge += f', error="{refusal.error}", error_description="{refusal.description}"'
        headers = (("WWW-Authenticate", challenge),)
    if refusal.error is None:
        return Answer(status=401, headers=headers)
    data = {"error": refusal.error, "error_description": refusal.description}
    return json_answer(401, data, headers=headers)


def userinfo(state: MockState, request: RecordedRequest) -> Answer:
    """UserInfo (OIDC Core §5.3): the user's claims for a Bearer (RFC 6750 §2.1) or DPoP token.

    A DPoP-bound token needs ``Authorization: DPoP`` and a proof (RFC 9449 §7.1).
    """
    access = dpop.resource_access(state, request)
    if isinstance(access, dpop.Refusal):
        return _resource_error(access)
    username = access.grant.user
    if username is None or username not in state.users:
        # RFC 6750 §3.1: the token is valid but grants no user's claims.
        description = "The token has no user"
        challenge = (
            f'Bearer realm="mock", error="insufficient_scope", error_description="{description}"'
        )
        data = {"error": "insufficient_scope", "error_description": description}
        return json_answer(403, data, headers=(("WWW-Authenticate", challenge),))
    claims: dict[str, object] = {"sub": username, **state.users[username].claims}
    client = state.clients.get(access.grant.client_id)
    headers = dpop.nonce_headers(state, client) if access.jkt is not None else ()
    return json_answer(200, claims, headers=headers)
