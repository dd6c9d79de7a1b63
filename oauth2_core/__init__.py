"""oauth2_core: a sans-IO OAuth 2.0 / OpenID Connect client.

Pure functions build request descriptions (:class:`HttpRequest`) and process
responses (:class:`HttpResponse`) into values (:class:`Token`, ...) or typed
errors (:class:`OAuth2Error`). No IO, no clock, no sleeping: send the requests
with any transport (see ``oauth2_transports``).
"""

# No `from __future__ import annotations` and no `from typing import ...` here: every
# public name in this namespace must be in __all__ (tests/core/test_public_api.py).
import importlib
import typing

if typing.TYPE_CHECKING:
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
    from oauth2_core.external_key import external_signing_key
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
    from oauth2_core.signed_userinfo import userinfo_response_flow, validate_signed_userinfo
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
    "external_signing_key",
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
    "userinfo_response_flow",
    "validate_id_token",
    "validate_id_token_flow",
    "validate_signed_userinfo",
]

# Public name -> the submodule defining it. Importing every submodule (and building
# their attrs classes) up front cost more than `import attrs` itself, so each name is
# imported on first access instead (PEP 562); the TYPE_CHECKING block above keeps
# type checkers and IDEs seeing the real definitions.
_LAZY: dict[str, str] = {
    "AccessDeniedError": "oauth2_core.errors",
    "AuthorizationCode": "oauth2_core.authorize",
    "AuthorizationError": "oauth2_core.errors",
    "BearerChallenge": "oauth2_core.bearer",
    "CallbackError": "oauth2_core.errors",
    "CallbackValidationError": "oauth2_core.errors",
    "Client": "oauth2_core.client",
    "DEVICE_CODE_GRANT_TYPE": "oauth2_core.device",
    "DeviceAuthorization": "oauth2_core.device",
    "DeviceCodeExpiredError": "oauth2_core.errors",
    "EndpointError": "oauth2_core.errors",
    "Flow": "oauth2_core._http",
    "Headers": "oauth2_core._http",
    "HttpRequest": "oauth2_core._http",
    "HttpResponse": "oauth2_core._http",
    "IdTokenClaims": "oauth2_core.id_token",
    "IdTokenError": "oauth2_core.errors",
    "Introspection": "oauth2_core.introspection",
    "IssuerMismatchError": "oauth2_core.errors",
    "JWT_BEARER_GRANT_TYPE": "oauth2_core.extension_grants",
    "JwksCache": "oauth2_core.jwks",
    "MalformedResponseError": "oauth2_core.errors",
    "OAuth2Error": "oauth2_core.errors",
    "Pending": "oauth2_core.device",
    "PendingAuthorization": "oauth2_core.authorize",
    "PrivateJwk": "oauth2_core.jwks",
    "PushedAuthorization": "oauth2_core.par",
    "ResponseError": "oauth2_core.errors",
    "RetryPolicy": "oauth2_core.retry",
    "Send": "oauth2_core._http",
    "ServerMetadata": "oauth2_core.metadata",
    "Signer": "oauth2_core.client",
    "SlowDown": "oauth2_core.device",
    "TOKEN_EXCHANGE_GRANT_TYPE": "oauth2_core.extension_grants",
    "TOKEN_TYPE_ACCESS_TOKEN": "oauth2_core.extension_grants",
    "TOKEN_TYPE_ID_TOKEN": "oauth2_core.extension_grants",
    "TOKEN_TYPE_JWT": "oauth2_core.extension_grants",
    "TOKEN_TYPE_REFRESH_TOKEN": "oauth2_core.extension_grants",
    "TOKEN_TYPE_SAML1": "oauth2_core.extension_grants",
    "TOKEN_TYPE_SAML2": "oauth2_core.extension_grants",
    "Token": "oauth2_core.token",
    "UsageError": "oauth2_core.errors",
    "UserInfo": "oauth2_core.userinfo",
    "authorization_code_grant_request": "oauth2_core.grants",
    "authorization_url": "oauth2_core.authorize",
    "bearer_authorize": "oauth2_core.bearer",
    "client_assertion": "oauth2_core.jose",
    "client_credentials_grant_request": "oauth2_core.grants",
    "code_challenge": "oauth2_core.pkce",
    "code_exchange_flow": "oauth2_core.flows",
    "device_authorization_request": "oauth2_core.device",
    "device_code_grant_request": "oauth2_core.device",
    "device_poll_flow": "oauth2_core.device",
    "discovery_flow": "oauth2_core.discovery",
    "discovery_request": "oauth2_core.discovery",
    "discovery_urls": "oauth2_core.discovery",
    "dpop_jkt": "oauth2_core.dpop",
    "dpop_nonce_challenge": "oauth2_core.dpop",
    "dpop_proof": "oauth2_core.dpop",
    "dpop_request": "oauth2_core.dpop",
    "dpop_resource_flow": "oauth2_core.dpop",
    "dpop_token_flow": "oauth2_core.dpop",
    "endpoint_for": "oauth2_core.grants",
    "external_signing_key": "oauth2_core.external_key",
    "generate_code_verifier": "oauth2_core.pkce",
    "generate_dpop_key": "oauth2_core.dpop",
    "id_token_flow": "oauth2_core.id_token",
    "introspection_flow": "oauth2_core.flows",
    "introspection_request": "oauth2_core.introspection",
    "jwks_request": "oauth2_core.jwks",
    "jwt_bearer_grant_request": "oauth2_core.extension_grants",
    "new_pending_authorization": "oauth2_core.authorize",
    "parse_bearer_challenge": "oauth2_core.bearer",
    "parse_callback": "oauth2_core.authorize",
    "parse_www_authenticate": "oauth2_core.bearer",
    "password_grant_request": "oauth2_core.grants",
    "process_device_authorization_response": "oauth2_core.device",
    "process_device_poll_response": "oauth2_core.device",
    "process_discovery_response": "oauth2_core.discovery",
    "process_introspection_response": "oauth2_core.introspection",
    "process_jwks_response": "oauth2_core.jwks",
    "process_pushed_authorization_response": "oauth2_core.par",
    "process_refresh_response": "oauth2_core.token",
    "process_revocation_response": "oauth2_core.revocation",
    "process_token_response": "oauth2_core.token",
    "process_userinfo_response": "oauth2_core.userinfo",
    "pushed_authorization_request": "oauth2_core.par",
    "refresh_flow": "oauth2_core.flows",
    "refresh_token_grant_request": "oauth2_core.grants",
    "retry_flow": "oauth2_core.retry",
    "revocation_flow": "oauth2_core.flows",
    "revocation_request": "oauth2_core.revocation",
    "step_flow": "oauth2_core.flows",
    "token_exchange_grant_request": "oauth2_core.extension_grants",
    "token_flow": "oauth2_core.flows",
    "token_request": "oauth2_core.grants",
    "userinfo_request": "oauth2_core.userinfo",
    "userinfo_response_flow": "oauth2_core.signed_userinfo",
    "validate_id_token": "oauth2_core.id_token",
    "validate_id_token_flow": "oauth2_core.id_token",
    "validate_signed_userinfo": "oauth2_core.signed_userinfo",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return list(__all__)
