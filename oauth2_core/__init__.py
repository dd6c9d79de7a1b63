"""oauth2_core: a sans-IO OAuth 2.0 / OpenID Connect client.

Pure functions build request descriptions (:class:`HttpRequest`) and process
responses (:class:`HttpResponse`) into values (:class:`Token`, ...) or typed
errors (:class:`OAuth2Error`). No IO, no clock, no sleeping: send the requests
with any transport (see ``oauth2_transports``).
"""

from oauth2_core._http import Flow, Headers, HttpRequest, HttpResponse, Send
from oauth2_core.authorize import (
    AuthorizationCode,
    PendingAuthorization,
    authorization_url,
    new_pending_authorization,
    parse_callback,
)
from oauth2_core.bearer import (
    BearerChallenge,
    bearer_authorize,
    parse_bearer_challenge,
    parse_www_authenticate,
)
from oauth2_core.client import Client, Signer
from oauth2_core.device import (
    DEVICE_CODE_GRANT_TYPE,
    DeviceAuthorization,
    Pending,
    SlowDown,
    device_authorization_request,
    device_code_grant_request,
    device_poll_flow,
    process_device_authorization_response,
    process_device_poll_response,
)
from oauth2_core.discovery import (
    discovery_flow,
    discovery_request,
    discovery_urls,
    process_discovery_response,
)
from oauth2_core.dpop import (
    dpop_jkt,
    dpop_nonce_challenge,
    dpop_proof,
    dpop_request,
    dpop_resource_flow,
    dpop_token_flow,
    generate_dpop_key,
)
from oauth2_core.errors import (
    AccessDeniedError,
    AuthorizationError,
    CallbackError,
    CallbackValidationError,
    DeviceCodeExpiredError,
    EndpointError,
    IdTokenError,
    IssuerMismatchError,
    MalformedResponseError,
    OAuth2Error,
    ResponseError,
    UsageError,
)
from oauth2_core.extension_grants import (
    JWT_BEARER_GRANT_TYPE,
    TOKEN_EXCHANGE_GRANT_TYPE,
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT,
    TOKEN_TYPE_REFRESH_TOKEN,
    TOKEN_TYPE_SAML1,
    TOKEN_TYPE_SAML2,
    jwt_bearer_grant_request,
    token_exchange_grant_request,
)
from oauth2_core.flows import (
    code_exchange_flow,
    introspection_flow,
    refresh_flow,
    revocation_flow,
    step_flow,
    token_flow,
)
from oauth2_core.grants import (
    authorization_code_grant_request,
    client_credentials_grant_request,
    endpoint_for,
    password_grant_request,
    refresh_token_grant_request,
    token_request,
)
from oauth2_core.id_token import (
    IdTokenClaims,
    id_token_flow,
    validate_id_token,
    validate_id_token_flow,
)
from oauth2_core.introspection import (
    Introspection,
    introspection_request,
    process_introspection_response,
)
from oauth2_core.jose import client_assertion
from oauth2_core.jwks import JwksCache, PrivateJwk, jwks_request, process_jwks_response
from oauth2_core.metadata import ServerMetadata
from oauth2_core.par import (
    PushedAuthorization,
    process_pushed_authorization_response,
    pushed_authorization_request,
)
from oauth2_core.pkce import code_challenge, generate_code_verifier
from oauth2_core.retry import RetryPolicy, retry_flow
from oauth2_core.revocation import process_revocation_response, revocation_request
from oauth2_core.token import Token, process_refresh_response, process_token_response
from oauth2_core.userinfo import UserInfo, process_userinfo_response, userinfo_request

__all__ = [
    "AccessDeniedError",
    "AuthorizationCode",
    "AuthorizationError",
    "BearerChallenge",
    "CallbackError",
    "CallbackValidationError",
    "Client",
    "DEVICE_CODE_GRANT_TYPE",
    "DeviceAuthorization",
    "DeviceCodeExpiredError",
    "EndpointError",
    "Flow",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "IdTokenClaims",
    "IdTokenError",
    "Introspection",
    "IssuerMismatchError",
    "JWT_BEARER_GRANT_TYPE",
    "JwksCache",
    "MalformedResponseError",
    "OAuth2Error",
    "Pending",
    "PendingAuthorization",
    "PrivateJwk",
    "PushedAuthorization",
    "ResponseError",
    "RetryPolicy",
    "Send",
    "ServerMetadata",
    "Signer",
    "SlowDown",
    "TOKEN_EXCHANGE_GRANT_TYPE",
    "TOKEN_TYPE_ACCESS_TOKEN",
    "TOKEN_TYPE_ID_TOKEN",
    "TOKEN_TYPE_JWT",
    "TOKEN_TYPE_REFRESH_TOKEN",
    "TOKEN_TYPE_SAML1",
    "TOKEN_TYPE_SAML2",
    "Token",
    "UsageError",
    "UserInfo",
    "authorization_code_grant_request",
    "authorization_url",
    "bearer_authorize",
    "client_assertion",
    "client_credentials_grant_request",
    "code_challenge",
    "code_exchange_flow",
    "device_authorization_request",
    "device_code_grant_request",
    "device_poll_flow",
    "discovery_flow",
    "discovery_request",
    "discovery_urls",
    "dpop_jkt",
    "dpop_nonce_challenge",
    "dpop_proof",
    "dpop_request",
    "dpop_resource_flow",
    "dpop_token_flow",
    "endpoint_for",
    "generate_code_verifier",
    "generate_dpop_key",
    "id_token_flow",
    "introspection_flow",
    "introspection_request",
    "jwks_request",
    "jwt_bearer_grant_request",
    "new_pending_authorization",
    "parse_bearer_challenge",
    "parse_callback",
    "parse_www_authenticate",
    "password_grant_request",
    "process_device_authorization_response",
    "process_device_poll_response",
    "process_discovery_response",
    "process_introspection_response",
    "process_jwks_response",
    "process_pushed_authorization_response",
    "process_refresh_response",
    "process_revocation_response",
    "process_token_response",
    "process_userinfo_response",
    "pushed_authorization_request",
    "refresh_flow",
    "refresh_token_grant_request",
    "retry_flow",
    "revocation_flow",
    "revocation_request",
    "step_flow",
    "token_exchange_grant_request",
    "token_flow",
    "token_request",
    "userinfo_request",
    "validate_id_token",
    "validate_id_token_flow",
]
