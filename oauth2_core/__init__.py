"""oauth2_core: a sans-IO OAuth 2.0 / OpenID Connect client.

Pure functions build request descriptions (:class:`HttpRequest`) and process
responses (:class:`HttpResponse`) into values (:class:`Token`, ...) or typed
errors (:class:`OAuth2Error`). No IO, no clock, no sleeping: send the requests
with any transport (see ``oauth2_transports``).
"""

# No `from __future__ import annotations` and no `from typing import ...` here: every
# public name in this namespace must be in __all__ (tests/core/test_public_api.py).
import typing

from oauth2_core._lazy import lazy_exports as _lazy_exports

# The one list of the public names: defining module -> the names it gives the package.
# Importing every submodule (and building their attrs classes) up front cost more than
# `import attrs` itself, so each name is imported on first access instead (PEP 562).
# __all__ is derived from this table; the TYPE_CHECKING block below mirrors it for type
# checkers and IDEs, and tests/core/test_public_api.py keeps the two identical.
_EXPORTS = {
    "oauth2_core._http": (
        "Flow",
        "Headers",
        "HttpRequest",
        "HttpResponse",
        "Send",
        "TimedFlow",
        "Wait",
        "wait_flow",
    ),
    "oauth2_core.access_token_jwt": (
        "AccessTokenClaims",
        "jwt_access_token_flow",
        "validate_jwt_access_token",
    ),
    "oauth2_core.authorize": ("authorization_url",),
    "oauth2_core.bearer": (
        "BearerChallenge",
        "bearer_authorize",
        "parse_bearer_challenge",
        "parse_www_authenticate",
    ),
    "oauth2_core.callback": ("AuthorizationCode", "parse_callback"),
    "oauth2_core.ciba": (
        "BackchannelAuthentication",
        "CIBA_GRANT_TYPE",
        "backchannel_authentication_request",
        "backchannel_poll_flow",
        "ciba_grant_request",
        "process_backchannel_authentication_response",
        "process_backchannel_poll_response",
    ),
    "oauth2_core.client": (
        "Client",
        "Signer",
    ),
    "oauth2_core.device": (
        "DEVICE_CODE_GRANT_TYPE",
        "DeviceAuthorization",
        "Pending",
        "SlowDown",
        "device_authorization_request",
        "device_code_grant_request",
        "device_poll_flow",
        "process_device_authorization_response",
        "process_device_poll_response",
    ),
    "oauth2_core.discovery": (
        "discovery_flow",
        "discovery_request",
        "discovery_urls",
        "process_discovery_response",
    ),
    "oauth2_core.dpop": (
        "dpop_jkt",
        "dpop_nonce_challenge",
        "dpop_proof",
        "dpop_request",
        "dpop_resource_flow",
        "dpop_send_flow",
        "dpop_token_flow",
        "generate_dpop_key",
    ),
    "oauth2_core.dpop_nonce": ("DPoPNonces",),
    "oauth2_core.errors": (
        "AccessDeniedError",
        "AccessTokenError",
        "AuthorizationError",
        "BackchannelExpiredError",
        "CallbackError",
        "CallbackValidationError",
        "DeviceCodeExpiredError",
        "EndpointError",
        "IdTokenError",
        "InsecureHttpError",
        "InsufficientScopeError",
        "InvalidTokenError",
        "IssuerMismatchError",
        "MalformedResponseError",
        "OAuth2Error",
        "ResponseError",
        "TokenBindingError",
        "UsageError",
        "escape_controls",
    ),
    "oauth2_core.extension_grants": (
        "JWT_BEARER_GRANT_TYPE",
        "TOKEN_EXCHANGE_GRANT_TYPE",
        "TOKEN_TYPE_ACCESS_TOKEN",
        "TOKEN_TYPE_ID_TOKEN",
        "TOKEN_TYPE_JWT",
        "TOKEN_TYPE_REFRESH_TOKEN",
        "TOKEN_TYPE_SAML1",
        "TOKEN_TYPE_SAML2",
        "jwt_bearer_grant_request",
        "token_exchange_grant_request",
    ),
    "oauth2_core.external_key": ("external_signing_key",),
    "oauth2_core.fapi": (
        "FAPI2_ALGS",
        "check_dpop_binding",
        "check_fapi2_authorization",
        "dpop_binding_required",
        "fapi2_server",
    ),
    "oauth2_core.flows": (
        "backchannel_token_flow",
        "code_exchange_flow",
        "exchange_code_flow",
        "introspection_flow",
        "refresh_flow",
        "revocation_flow",
        "step_flow",
        "token_flow",
        "token_grant_flow",
    ),
    "oauth2_core.grants": (
        "authorization_code_grant_request",
        "client_credentials_grant_request",
        "endpoint_for",
        "password_grant_request",
        "refresh_token_grant_request",
        "token_request",
    ),
    "oauth2_core.id_token": (
        "IdTokenClaims",
        "check_id_token_support",
        "id_token_flow",
        "validate_id_token",
        "validate_id_token_flow",
    ),
    "oauth2_core.id_token_refresh": (
        "refreshed_id_token_flow",
        "validate_refreshed_id_token",
    ),
    "oauth2_core.introspection": (
        "Introspection",
        "introspection_request",
        "process_introspection_response",
    ),
    "oauth2_core.jar": (
        "REQUEST_OBJECT_LIFETIME",
        "REQUEST_OBJECT_TYPE",
        "request_object",
        "request_object_params",
    ),
    "oauth2_core.jarm": (
        "JARM_RESPONSE_MODES",
        "verify_authorization_response",
    ),
    "oauth2_core.jarm_flow": ("authorization_response_flow",),
    "oauth2_core.jose": ("client_assertion",),
    "oauth2_core.jwt_introspection": (
        "INTROSPECTION_JWT_MEDIA_TYPE",
        "jwt_introspection_flow",
        "jwt_introspection_request",
        "process_jwt_introspection_response",
    ),
    "oauth2_core.jwks": (
        "JwksCache",
        "PrivateJwk",
        "jwks_fetch_flow",
        "jwks_request",
        "process_jwks_response",
        "verified_with_keys_flow",
    ),
    "oauth2_core.logout": ("end_session_url",),
    "oauth2_core.metadata": ("ServerMetadata",),
    "oauth2_core.par": (
        "PushedAuthorization",
        "authorization_url_flow",
        "process_pushed_authorization_response",
        "pushed_authorization_request",
    ),
    "oauth2_core.pending": ("PendingAuthorization", "new_pending_authorization"),
    "oauth2_core.pkce": (
        "code_challenge",
        "generate_code_verifier",
    ),
    "oauth2_core.redaction": (
        "redact",
        "redact_error",
        "request_secrets",
    ),
    "oauth2_core.registration": (
        "ClientRegistration",
        "process_registration_delete_response",
        "process_registration_response",
        "registration_delete_request",
        "registration_read_request",
        "registration_request",
        "registration_update_request",
    ),
    "oauth2_core.resource_auth": (
        "AccessRequest",
        "check_client_id_metadata_url",
        "first_access_request",
        "needs_new_registration",
        "registration_metadata",
        "resource_covers",
        "step_up",
        "supports_client_id_metadata_document",
    ),
    "oauth2_core.resource_discovery": (
        "resource_discovery_flow",
        "resource_metadata_flow",
        "select_authorization_server",
    ),
    "oauth2_core.resource_metadata": (
        "ResourceMetadata",
        "process_resource_metadata_response",
        "resource_metadata_request",
        "resource_metadata_url",
    ),
    "oauth2_core.retry": (
        "RetryPolicy",
        "retry_dated_flow",
        "retry_flow",
    ),
    "oauth2_core.revocation": (
        "process_revocation_response",
        "revocation_request",
    ),
    "oauth2_core.signed_userinfo": (
        "userinfo_flow",
        "userinfo_response_flow",
        "validate_signed_userinfo",
    ),
    "oauth2_core.token": (
        "Token",
        "UnsupportedTokenTypeError",
        "process_refresh_response",
        "process_token_response",
        "token_scheme",
    ),
    "oauth2_core.userinfo": (
        "UserInfo",
        "process_userinfo_response",
        "userinfo_request",
    ),
}

__all__, __getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)

if typing.TYPE_CHECKING:  # the table above, as imports (`X as X`: an explicit re-export)
    from oauth2_core._http import Flow as Flow
    from oauth2_core._http import Headers as Headers
    from oauth2_core._http import HttpRequest as HttpRequest
    from oauth2_core._http import HttpResponse as HttpResponse
    from oauth2_core._http import Send as Send
    from oauth2_core._http import TimedFlow as TimedFlow
    from oauth2_core._http import Wait as Wait
    from oauth2_core._http import wait_flow as wait_flow
    from oauth2_core.access_token_jwt import AccessTokenClaims as AccessTokenClaims
    from oauth2_core.access_token_jwt import jwt_access_token_flow as jwt_access_token_flow
    from oauth2_core.access_token_jwt import validate_jwt_access_token as validate_jwt_access_token
    from oauth2_core.authorize import authorization_url as authorization_url
    from oauth2_core.bearer import BearerChallenge as BearerChallenge
    from oauth2_core.bearer import bearer_authorize as bearer_authorize
    from oauth2_core.bearer import parse_bearer_challenge as parse_bearer_challenge
    from oauth2_core.bearer import parse_www_authenticate as parse_www_authenticate
    from oauth2_core.callback import AuthorizationCode as AuthorizationCode
    from oauth2_core.callback import parse_callback as parse_callback
    from oauth2_core.ciba import CIBA_GRANT_TYPE as CIBA_GRANT_TYPE
    from oauth2_core.ciba import BackchannelAuthentication as BackchannelAuthentication
    from oauth2_core.ciba import (
        backchannel_authentication_request as backchannel_authentication_request,
    )
    from oauth2_core.ciba import backchannel_poll_flow as backchannel_poll_flow
    from oauth2_core.ciba import ciba_grant_request as ciba_grant_request
    from oauth2_core.ciba import (
        process_backchannel_authentication_response as process_backchannel_authentication_response,
    )
    from oauth2_core.ciba import (
        process_backchannel_poll_response as process_backchannel_poll_response,
    )
    from oauth2_core.client import Client as Client
    from oauth2_core.client import Signer as Signer
    from oauth2_core.device import DEVICE_CODE_GRANT_TYPE as DEVICE_CODE_GRANT_TYPE
    from oauth2_core.device import DeviceAuthorization as DeviceAuthorization
    from oauth2_core.device import Pending as Pending
    from oauth2_core.device import SlowDown as SlowDown
    from oauth2_core.device import device_authorization_request as device_authorization_request
    from oauth2_core.device import device_code_grant_request as device_code_grant_request
    from oauth2_core.device import device_poll_flow as device_poll_flow
    from oauth2_core.device import (
        process_device_authorization_response as process_device_authorization_response,
    )
    from oauth2_core.device import process_device_poll_response as process_device_poll_response
    from oauth2_core.discovery import discovery_flow as discovery_flow
    from oauth2_core.discovery import discovery_request as discovery_request
    from oauth2_core.discovery import discovery_urls as discovery_urls
    from oauth2_core.discovery import process_discovery_response as process_discovery_response
    from oauth2_core.dpop import dpop_jkt as dpop_jkt
    from oauth2_core.dpop import dpop_nonce_challenge as dpop_nonce_challenge
    from oauth2_core.dpop import dpop_proof as dpop_proof
    from oauth2_core.dpop import dpop_request as dpop_request
    from oauth2_core.dpop import dpop_resource_flow as dpop_resource_flow
    from oauth2_core.dpop import dpop_send_flow as dpop_send_flow
    from oauth2_core.dpop import dpop_token_flow as dpop_token_flow
    from oauth2_core.dpop import generate_dpop_key as generate_dpop_key
    from oauth2_core.dpop_nonce import DPoPNonces as DPoPNonces
    from oauth2_core.errors import AccessDeniedError as AccessDeniedError
    from oauth2_core.errors import AccessTokenError as AccessTokenError
    from oauth2_core.errors import AuthorizationError as AuthorizationError
    from oauth2_core.errors import BackchannelExpiredError as BackchannelExpiredError
    from oauth2_core.errors import CallbackError as CallbackError
    from oauth2_core.errors import CallbackValidationError as CallbackValidationError
    from oauth2_core.errors import DeviceCodeExpiredError as DeviceCodeExpiredError
    from oauth2_core.errors import EndpointError as EndpointError
    from oauth2_core.errors import IdTokenError as IdTokenError
    from oauth2_core.errors import InsecureHttpError as InsecureHttpError
    from oauth2_core.errors import InsufficientScopeError as InsufficientScopeError
    from oauth2_core.errors import InvalidTokenError as InvalidTokenError
    from oauth2_core.errors import IssuerMismatchError as IssuerMismatchError
    from oauth2_core.errors import MalformedResponseError as MalformedResponseError
    from oauth2_core.errors import OAuth2Error as OAuth2Error
    from oauth2_core.errors import ResponseError as ResponseError
    from oauth2_core.errors import TokenBindingError as TokenBindingError
    from oauth2_core.errors import UsageError as UsageError
    from oauth2_core.errors import escape_controls as escape_controls
    from oauth2_core.extension_grants import JWT_BEARER_GRANT_TYPE as JWT_BEARER_GRANT_TYPE
    from oauth2_core.extension_grants import TOKEN_EXCHANGE_GRANT_TYPE as TOKEN_EXCHANGE_GRANT_TYPE
    from oauth2_core.extension_grants import TOKEN_TYPE_ACCESS_TOKEN as TOKEN_TYPE_ACCESS_TOKEN
    from oauth2_core.extension_grants import TOKEN_TYPE_ID_TOKEN as TOKEN_TYPE_ID_TOKEN
    from oauth2_core.extension_grants import TOKEN_TYPE_JWT as TOKEN_TYPE_JWT
    from oauth2_core.extension_grants import TOKEN_TYPE_REFRESH_TOKEN as TOKEN_TYPE_REFRESH_TOKEN
    from oauth2_core.extension_grants import TOKEN_TYPE_SAML1 as TOKEN_TYPE_SAML1
    from oauth2_core.extension_grants import TOKEN_TYPE_SAML2 as TOKEN_TYPE_SAML2
    from oauth2_core.extension_grants import jwt_bearer_grant_request as jwt_bearer_grant_request
    from oauth2_core.extension_grants import (
        token_exchange_grant_request as token_exchange_grant_request,
    )
    from oauth2_core.external_key import external_signing_key as external_signing_key
    from oauth2_core.fapi import FAPI2_ALGS as FAPI2_ALGS
    from oauth2_core.fapi import check_dpop_binding as check_dpop_binding
    from oauth2_core.fapi import check_fapi2_authorization as check_fapi2_authorization
    from oauth2_core.fapi import dpop_binding_required as dpop_binding_required
    from oauth2_core.fapi import fapi2_server as fapi2_server
    from oauth2_core.flows import backchannel_token_flow as backchannel_token_flow
    from oauth2_core.flows import code_exchange_flow as code_exchange_flow
    from oauth2_core.flows import exchange_code_flow as exchange_code_flow
    from oauth2_core.flows import introspection_flow as introspection_flow
    from oauth2_core.flows import refresh_flow as refresh_flow
    from oauth2_core.flows import revocation_flow as revocation_flow
    from oauth2_core.flows import step_flow as step_flow
    from oauth2_core.flows import token_flow as token_flow
    from oauth2_core.flows import token_grant_flow as token_grant_flow
    from oauth2_core.grants import (
        authorization_code_grant_request as authorization_code_grant_request,
    )
    from oauth2_core.grants import (
        client_credentials_grant_request as client_credentials_grant_request,
    )
    from oauth2_core.grants import endpoint_for as endpoint_for
    from oauth2_core.grants import password_grant_request as password_grant_request
    from oauth2_core.grants import refresh_token_grant_request as refresh_token_grant_request
    from oauth2_core.grants import token_request as token_request
    from oauth2_core.id_token import IdTokenClaims as IdTokenClaims
    from oauth2_core.id_token import check_id_token_support as check_id_token_support
    from oauth2_core.id_token import id_token_flow as id_token_flow
    from oauth2_core.id_token import validate_id_token as validate_id_token
    from oauth2_core.id_token import validate_id_token_flow as validate_id_token_flow
    from oauth2_core.id_token_refresh import refreshed_id_token_flow as refreshed_id_token_flow
    from oauth2_core.id_token_refresh import (
        validate_refreshed_id_token as validate_refreshed_id_token,
    )
    from oauth2_core.introspection import Introspection as Introspection
    from oauth2_core.introspection import introspection_request as introspection_request
    from oauth2_core.introspection import (
        process_introspection_response as process_introspection_response,
    )
    from oauth2_core.jar import REQUEST_OBJECT_LIFETIME as REQUEST_OBJECT_LIFETIME
    from oauth2_core.jar import REQUEST_OBJECT_TYPE as REQUEST_OBJECT_TYPE
    from oauth2_core.jar import request_object as request_object
    from oauth2_core.jar import request_object_params as request_object_params
    from oauth2_core.jarm import JARM_RESPONSE_MODES as JARM_RESPONSE_MODES
    from oauth2_core.jarm import verify_authorization_response as verify_authorization_response
    from oauth2_core.jarm_flow import authorization_response_flow as authorization_response_flow
    from oauth2_core.jose import client_assertion as client_assertion
    from oauth2_core.jwks import JwksCache as JwksCache
    from oauth2_core.jwks import PrivateJwk as PrivateJwk
    from oauth2_core.jwks import jwks_fetch_flow as jwks_fetch_flow
    from oauth2_core.jwks import jwks_request as jwks_request
    from oauth2_core.jwks import process_jwks_response as process_jwks_response
    from oauth2_core.jwks import verified_with_keys_flow as verified_with_keys_flow
    from oauth2_core.jwt_introspection import (
        INTROSPECTION_JWT_MEDIA_TYPE as INTROSPECTION_JWT_MEDIA_TYPE,
    )
    from oauth2_core.jwt_introspection import jwt_introspection_flow as jwt_introspection_flow
    from oauth2_core.jwt_introspection import (
        jwt_introspection_request as jwt_introspection_request,
    )
    from oauth2_core.jwt_introspection import (
        process_jwt_introspection_response as process_jwt_introspection_response,
    )
    from oauth2_core.logout import end_session_url as end_session_url
    from oauth2_core.metadata import ServerMetadata as ServerMetadata
    from oauth2_core.par import PushedAuthorization as PushedAuthorization
    from oauth2_core.par import authorization_url_flow as authorization_url_flow
    from oauth2_core.par import (
        process_pushed_authorization_response as process_pushed_authorization_response,
    )
    from oauth2_core.par import pushed_authorization_request as pushed_authorization_request
    from oauth2_core.pending import PendingAuthorization as PendingAuthorization
    from oauth2_core.pending import new_pending_authorization as new_pending_authorization
    from oauth2_core.pkce import code_challenge as code_challenge
    from oauth2_core.pkce import generate_code_verifier as generate_code_verifier
    from oauth2_core.redaction import redact as redact
    from oauth2_core.redaction import redact_error as redact_error
    from oauth2_core.redaction import request_secrets as request_secrets
    from oauth2_core.registration import ClientRegistration as ClientRegistration
    from oauth2_core.registration import (
        process_registration_delete_response as process_registration_delete_response,
    )
    from oauth2_core.registration import (
        process_registration_response as process_registration_response,
    )
    from oauth2_core.registration import registration_delete_request as registration_delete_request
    from oauth2_core.registration import registration_read_request as registration_read_request
    from oauth2_core.registration import registration_request as registration_request
    from oauth2_core.registration import registration_update_request as registration_update_request
    from oauth2_core.resource_auth import AccessRequest as AccessRequest
    from oauth2_core.resource_auth import (
        check_client_id_metadata_url as check_client_id_metadata_url,
    )
    from oauth2_core.resource_auth import first_access_request as first_access_request
    from oauth2_core.resource_auth import needs_new_registration as needs_new_registration
    from oauth2_core.resource_auth import registration_metadata as registration_metadata
    from oauth2_core.resource_auth import resource_covers as resource_covers
    from oauth2_core.resource_auth import step_up as step_up
    from oauth2_core.resource_auth import (
        supports_client_id_metadata_document as supports_client_id_metadata_document,
    )
    from oauth2_core.resource_discovery import resource_discovery_flow as resource_discovery_flow
    from oauth2_core.resource_discovery import resource_metadata_flow as resource_metadata_flow
    from oauth2_core.resource_discovery import (
        select_authorization_server as select_authorization_server,
    )
    from oauth2_core.resource_metadata import ResourceMetadata as ResourceMetadata
    from oauth2_core.resource_metadata import (
        process_resource_metadata_response as process_resource_metadata_response,
    )
    from oauth2_core.resource_metadata import resource_metadata_request as resource_metadata_request
    from oauth2_core.resource_metadata import resource_metadata_url as resource_metadata_url
    from oauth2_core.retry import RetryPolicy as RetryPolicy
    from oauth2_core.retry import retry_dated_flow as retry_dated_flow
    from oauth2_core.retry import retry_flow as retry_flow
    from oauth2_core.revocation import process_revocation_response as process_revocation_response
    from oauth2_core.revocation import revocation_request as revocation_request
    from oauth2_core.signed_userinfo import userinfo_flow as userinfo_flow
    from oauth2_core.signed_userinfo import userinfo_response_flow as userinfo_response_flow
    from oauth2_core.signed_userinfo import validate_signed_userinfo as validate_signed_userinfo
    from oauth2_core.token import Token as Token
    from oauth2_core.token import UnsupportedTokenTypeError as UnsupportedTokenTypeError
    from oauth2_core.token import process_refresh_response as process_refresh_response
    from oauth2_core.token import process_token_response as process_token_response
    from oauth2_core.token import token_scheme as token_scheme
    from oauth2_core.userinfo import UserInfo as UserInfo
    from oauth2_core.userinfo import process_userinfo_response as process_userinfo_response
    from oauth2_core.userinfo import userinfo_request as userinfo_request
