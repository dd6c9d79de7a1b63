"""The mock server's protected test resource and its metadata (RFC 9728, RFC 6750, RFC 8707).

``/resource`` is a protected resource in the way an MCP server is one: without
a token it answers 401 with a Bearer challenge naming its metadata
(``resource_metadata``, RFC 9728 §5.1) and the scope it needs; a token lacking
that scope gets 403 ``insufficient_scope`` (RFC 6750 §3.1); a token issued for
another resource (RFC 8707 audience) gets 401 ``invalid_token``; a token from
an authorization whose user authentication is not the one demanded
(``acr_values``, ``max_age``: ``set_resource_authentication``) gets 401
``insufficient_user_authentication`` (RFC 9470 §3). Its metadata
(RFC 9728 §3) is at ``/.well-known/oauth-protected-resource/resource`` and names
this server as the authorization server. A DPoP-bound token (RFC 9449 §7.1)
is presented as ``Authorization: DPoP`` with a proof of its key; refusals of
it carry a ``WWW-Authenticate: DPoP`` challenge (see ``_mock_dpop``).
"""

from __future__ import annotations

from oauth2_transports.testing import _mock_dpop as dpop
from oauth2_transports.testing._mock_model import Answer, RecordedRequest, json_answer
from oauth2_transports.testing._mock_state import Grant, MockState

__all__ = [
    "RESOURCE_METADATA_PATH",
    "RESOURCE_PATH",
    "protected_resource",
    "resource_id",
    "resource_metadata",
    "resource_metadata_document",
]

RESOURCE_PATH = "/resource"
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource/resource"


def resource_id(state: MockState) -> str:
    """The resource identifier of the test resource (RFC 9728 §1.2): its URL."""
    return state.issuer + RESOURCE_PATH


def resource_metadata_document(state: MockState) -> dict[str, object]:
    """The test resource's metadata (RFC 9728 §2)."""
    scopes = list(dict.fromkeys((*state.resource_scopes, *(state.scopes_supported or ()))))
    return {
        "resource": resource_id(state),
        "authorization_servers": [state.issuer],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": list(dpop.DPOP_SIGNING_ALGS),  # RFC 9728 §2
        "resource_name": "mock protected resource",
    }


def resource_metadata(state: MockState, request: RecordedRequest) -> Answer:
    """``GET /.well-known/oauth-protected-resource/resource`` (RFC 9728 §3.2)."""
    return json_answer(200, resource_metadata_document(state))


def _params(state: MockState) -> list[str]:
    return [
        'realm="mock"',
        f'resource_metadata="{state.issuer + RESOURCE_METADATA_PATH}"',
        f'scope="{" ".join(state.resource_scopes)}"',
    ]


def _challenge(
    state: MockState,
    status: int,
    error: str | None,
    description: str,
    extra: tuple[str, ...] = (),
) -> Answer:
    params = _params(state)
    if error is None:
        # RFC 6750 §3.1: no error code when the request carried no token at all.
        return Answer(status, (("WWW-Authenticate", "Bearer " + ", ".join(params)),))
    params += [f'error="{error}"', f'error_description="{description}"', *extra]
    data = {"error": error, "error_description": description}
    return json_answer(status, data, (("WWW-Authenticate", "Bearer " + ", ".join(params)),))


def _authentication_challenge(state: MockState, grant: Grant) -> Answer | None:
    """RFC 9470 §3: 401 ``insufficient_user_authentication`` naming what is demanded."""
    demanded: list[str] = []
    if state.resource_acr_values and grant.acr not in state.resource_acr_values:
        demanded.append(f'acr_values="{" ".join(state.resource_acr_values)}"')
    max_age = state.resource_max_age
    if max_age is not None and (grant.auth_time is None or state.now() - grant.auth_time > max_age):
        demanded.append(f'max_age="{max_age}"')
    if not demanded:
        return None
    return _challenge(
        state,
        401,
        "insufficient_user_authentication",
        "A different authentication level is required",
        tuple(demanded),
    )


def _refused(state: MockState, refusal: dpop.Refusal) -> Answer:
    if refusal.scheme != "DPoP":
        return _challenge(state, 401, refusal.error, refusal.description)
    # RFC 9449 §7.1: a DPoP challenge; §9: use_dpop_nonce with the nonce to use.
    headers = dpop.dpop_challenge(refusal, _params(state))
    data = {"error": refusal.error, "error_description": refusal.description}
    return json_answer(401, data, headers)


def protected_resource(state: MockState, request: RecordedRequest) -> Answer:
    """``GET|POST /resource``: the caller's identity, for a valid token meant for it.

    Bearer tokens (RFC 6750 §2.1) and DPoP-bound ones with their proof (RFC 9449 §7.1).
    """
    access = dpop.resource_access(state, request)
    if isinstance(access, dpop.Refusal):
        return _refused(state, access)
    if resource_id(state) not in access.grant.resources:
        # RFC 8707 §2: the token's audience must be this resource.
        return _challenge(state, 401, "invalid_token", "The token is meant for another resource")
    weak = _authentication_challenge(state, access.grant)
    if weak is not None:
        return weak
    if not set(state.resource_scopes) <= set(access.scope):
        return _challenge(state, 403, "insufficient_scope", "The token lacks a required scope")
    data: dict[str, object] = {
        "resource": resource_id(state),
        "client_id": access.grant.client_id,
        "scope": " ".join(access.scope),
    }
    if access.grant.user is not None:
        data["sub"] = access.grant.user
    if access.jkt is not None:
        data["token_type"] = "DPoP"
        client = state.clients.get(access.grant.client_id)
        return json_answer(200, data, dpop.nonce_headers(state, client))
    return json_answer(200, data)
