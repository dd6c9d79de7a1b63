"""The mock server's CIBA endpoint, poll mode (OpenID Connect CIBA Core 1.0 §7, §10, §11).

``POST /bc-authorize`` takes an authenticated client's request (``openid`` scope,
exactly one hint; a ``login_hint`` must name a known user, else
``unknown_user_id``) and answers ``auth_req_id``, ``expires_in``, ``interval``.
The user decides through ``MockAuthorizationServer.approve_backchannel`` /
``deny_backchannel``; the token endpoint answers polls of the CIBA grant.
"""

from __future__ import annotations

import attrs

from oauth2_transports.testing._mock_authorize import authenticate_client, duplicate_answer
from oauth2_transports.testing._mock_model import Answer, MockClient, RecordedRequest, json_answer
from oauth2_transports.testing._mock_model import error_answer as _error
from oauth2_transports.testing._mock_state import Grant, MockState, new_secret

__all__ = [
    "CIBA_GRANT",
    "BackchannelRecord",
    "backchannel_authentication",
    "ciba_grant",
    "pending_backchannel",
    "set_backchannel_decision",
]

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
_HINTS = ("login_hint", "login_hint_token", "id_token_hint")
#: Seconds an ``auth_req_id`` stays valid, and the announced polling interval.
LIFETIME = 120
INTERVAL = 1


@attrs.define(eq=False)
class BackchannelRecord:
    """A CIBA authentication request (§7.1) and where the user is with it."""

    auth_req_id: str
    client_id: str
    user: str
    scope: tuple[str, ...]
    binding_message: str | None
    expires_at: float
    status: str = "pending"  # pending | approved | denied | consumed


def backchannel_authentication(state: MockState, request: RecordedRequest) -> Answer:
    """The backchannel authentication endpoint (CIBA Core 1.0 §7.1, §7.3, §13)."""
    duplicate = duplicate_answer(request.form_pairs)
    if duplicate is not None:
        return duplicate
    client = authenticate_client(state, request)
    if isinstance(client, Answer):
        return client
    scope = tuple(request.form.get("scope", "").split())
    if "openid" not in scope:
        return _error(400, "invalid_scope", "the scope must contain openid")
    hints = [name for name in _HINTS if request.form.get(name)]
    if len(hints) != 1:
        return _error(400, "invalid_request", "exactly one hint is required")
    user = request.form.get("login_hint") or state.default_user
    if user not in state.users:
        return _error(400, "unknown_user_id", "no such user")
    record = BackchannelRecord(
        auth_req_id=new_secret("mock_ciba_"),
        client_id=client.client_id,
        user=user,
        scope=scope,
        binding_message=request.form.get("binding_message"),
        expires_at=state.now() + LIFETIME,
    )
    state.backchannel[record.auth_req_id] = record
    return json_answer(
        200, {"auth_req_id": record.auth_req_id, "expires_in": LIFETIME, "interval": INTERVAL}
    )


def set_backchannel_decision(state: MockState, auth_req_id: str, *, approve: bool) -> bool:
    """Approve or deny a pending CIBA request; ``False`` if there is none."""
    record = state.backchannel.get(auth_req_id)
    if record is None or record.status != "pending" or state.now() >= record.expires_at:
        return False
    record.status = "approved" if approve else "denied"
    return True


def pending_backchannel(state: MockState) -> list[BackchannelRecord]:
    """The CIBA requests still waiting for the user, oldest first."""
    now = state.now()
    return [r for r in state.backchannel.values() if r.status == "pending" and now < r.expires_at]


def ciba_grant(state: MockState, client: MockClient, request: RecordedRequest) -> Answer:
    """One poll of the CIBA grant at the token endpoint (CIBA Core 1.0 §10.1, §11)."""
    record = state.backchannel.get(request.form.get("auth_req_id", ""))
    if record is None or record.client_id != client.client_id:
        return _error(400, "invalid_grant", "unknown auth_req_id")
    if state.slow_downs > 0:
        state.slow_downs -= 1
        return _error(400, "slow_down", "polling too fast")
    if record.status == "consumed":
        return _error(400, "invalid_grant", "auth_req_id already used")
    if state.now() >= record.expires_at:
        return _error(400, "expired_token", "the auth_req_id expired")
    if record.status == "pending":
        return _error(400, "authorization_pending", "the user has not answered yet")
    if record.status == "denied":
        return _error(403, "access_denied", "the user denied the request")
    record.status = "consumed"
    grant = Grant(client.client_id, record.user, record.scope)
    return json_answer(200, state.issue_tokens(grant, scope=record.scope, refresh=True))
