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
from oauth2_core.client import Client, Signer
from oauth2_core.errors import (
    AuthorizationError,
    CallbackError,
    CallbackValidationError,
    EndpointError,
    MalformedResponseError,
    OAuth2Error,
    ResponseError,
    UsageError,
)
from oauth2_core.grants import (
    authorization_code_grant_request,
    client_credentials_grant_request,
    password_grant_request,
    refresh_token_grant_request,
    token_request,
)
from oauth2_core.introspection import (
    Introspection,
    introspection_request,
    process_introspection_response,
)
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pkce import code_challenge, generate_code_verifier
from oauth2_core.revocation import process_revocation_response, revocation_request
from oauth2_core.token import Token, process_refresh_response, process_token_response

__all__ = [
    "AuthorizationCode",
    "AuthorizationError",
    "CallbackError",
    "CallbackValidationError",
    "Client",
    "EndpointError",
    "Flow",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Introspection",
    "MalformedResponseError",
    "OAuth2Error",
    "PendingAuthorization",
    "ResponseError",
    "Send",
    "ServerMetadata",
    "Signer",
    "Token",
    "UsageError",
    "authorization_code_grant_request",
    "authorization_url",
    "client_credentials_grant_request",
    "code_challenge",
    "generate_code_verifier",
    "introspection_request",
    "new_pending_authorization",
    "parse_callback",
    "password_grant_request",
    "process_introspection_response",
    "process_refresh_response",
    "process_revocation_response",
    "process_token_response",
    "refresh_token_grant_request",
    "revocation_request",
    "token_request",
]
