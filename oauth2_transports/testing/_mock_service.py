"""The mock server's request handling: routing, discovery, faults and the request log.

:class:`MockService` answers one parsed request at a time; the HTTP plumbing
(``_mock_server_http``) calls it from each connection's thread and
``MockAuthorizationServer`` is the public face over it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import attrs

from oauth2_transports.testing import _mock_authorize as front
from oauth2_transports.testing import _mock_ciba as ciba
from oauth2_transports.testing import _mock_client_metadata as cimd
from oauth2_transports.testing import _mock_login as login
from oauth2_transports.testing import _mock_logout as logout
from oauth2_transports.testing import _mock_registration as registration
from oauth2_transports.testing import _mock_resource as resource
from oauth2_transports.testing import _mock_token as back
from oauth2_transports.testing._mock_assertion import CLIENT_ASSERTION_ALGS
from oauth2_transports.testing._mock_dpop import DPOP_SIGNING_ALGS
from oauth2_transports.testing._mock_faults import Faults, Planned, apply_quirk, echo_answer
from oauth2_transports.testing._mock_jar import JARM_MODES, REQUEST_OBJECT_ALGS
from oauth2_transports.testing._mock_jwt_bearer import JWT_BEARER_GRANT
from oauth2_transports.testing._mock_model import Answer, RecordedRequest, json_answer
from oauth2_transports.testing._mock_server_http import parse_request
from oauth2_transports.testing._mock_state import MockState

__all__ = ["MockService", "discovery_document"]

_Endpoint = Callable[[MockState, RecordedRequest], Answer]
_POST = frozenset({"POST"})
_GET = frozenset({"GET"})
_BOTH = frozenset({"GET", "POST"})


def discovery_document(state: MockState) -> dict[str, object]:
    """The metadata (RFC 8414 §2, OIDC Discovery §3) served at both well-known URLs."""
    i = state.issuer
    auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
    doc: dict[str, object] = {
        "issuer": i,
        "authorization_endpoint": i + "/authorize",
        "token_endpoint": i + "/token",
        "jwks_uri": i + "/jwks",
        "userinfo_endpoint": i + "/userinfo",
        "end_session_endpoint": i + "/logout",  # OpenID Connect RP-Initiated Logout 1.0
        "revocation_endpoint": i + "/revoke",
        "introspection_endpoint": i + "/introspect",
        "device_authorization_endpoint": i + "/device_authorization",
        "pushed_authorization_request_endpoint": i + "/par",
        # OpenID Connect CIBA Core 1.0 §4, poll mode only.
        "backchannel_authentication_endpoint": i + "/bc-authorize",
        "backchannel_token_delivery_modes_supported": ["poll"],
        "registration_endpoint": i + registration.REGISTRATION_PATH,  # RFC 7591
        "require_pushed_authorization_requests": state.require_par,
        # RFC 9207 §3: the authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": True,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "client_credentials",
            "password",
            JWT_BEARER_GRANT,
            "refresh_token",
            back.DEVICE_CODE_GRANT,
            back.TOKEN_EXCHANGE_GRANT,
            ciba.CIBA_GRANT,
        ],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods[:3],
        # RFC 7523 §2.2 client assertions (private_key_jwt): see _mock_assertion.
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGS),
        "code_challenge_methods_supported": ["S256", "plain"],
        "subject_types_supported": ["public"],
        "claims_supported": ["sub", "name", "email", "email_verified"],
    }
    if state.dpop:
        # RFC 9449 §5.1: DPoP proofs at the token, PAR, UserInfo and resource endpoints.
        doc["dpop_signing_alg_values_supported"] = list(DPOP_SIGNING_ALGS)
    if state.scopes_supported is not None:
        doc["scopes_supported"] = list(state.scopes_supported)
    if state.client_id_metadata_documents:
        doc["client_id_metadata_document_supported"] = True
    if state.signer.available:
        alg = [state.signer.algorithm]
        doc["id_token_signing_alg_values_supported"] = alg
        # JARM §3, RFC 9701 §7, RFC 9101 §10.5 (request objects: the client's own key).
        doc["response_modes_supported"] = ["query", *sorted(JARM_MODES)]
        doc["authorization_signing_alg_values_supported"] = alg
        doc["introspection_signing_alg_values_supported"] = alg
        doc["request_object_signing_alg_values_supported"] = list(REQUEST_OBJECT_ALGS)
        doc["request_parameter_supported"] = True
    return doc


def _discovery(state: MockState, request: RecordedRequest) -> Answer:
    return json_answer(200, discovery_document(state))


def _jwks(state: MockState, request: RecordedRequest) -> Answer:
    return json_answer(200, state.signer.jwks())


_WELL_KNOWN_AS = "/.well-known/oauth-authorization-server"
_ROUTES: dict[str, tuple[frozenset[str], _Endpoint]] = {
    _WELL_KNOWN_AS: (_GET, _discovery),
    "/.well-known/openid-configuration": (_GET, _discovery),
    "/jwks": (_GET, _jwks),
    "/authorize": (_BOTH, login.authorization_endpoint),
    "/par": (_POST, front.pushed_authorization),
    "/device_authorization": (_POST, front.device_authorization),
    "/device": (_BOTH, front.device_page),
    "/bc-authorize": (_POST, ciba.backchannel_authentication),
    "/token": (_POST, back.token),
    "/revoke": (_POST, back.revoke),
    "/introspect": (_POST, back.introspect),
    "/userinfo": (_BOTH, back.userinfo),
    "/logout": (_GET, logout.end_session),
    registration.REGISTRATION_PATH: (_POST, registration.register),
    resource.RESOURCE_METADATA_PATH: (_GET, resource.resource_metadata),
    resource.RESOURCE_PATH: (_BOTH, resource.protected_resource),
}
#: RFC 7592 client configuration endpoints: /register/<client_id>.
_CONFIGURATION = (frozenset({"GET", "PUT", "DELETE"}), registration.client_configuration)


class MockService:
    """Answers requests against a :class:`MockState`, applying queued faults, logging each.

    Args:
        state: The server's memory; its lock guards the faults and the log too.
        stopping: Set when the server stops; cuts injected delays short.
    """

    def __init__(self, state: MockState, stopping: threading.Event) -> None:
        self.state = state
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.changed = threading.Condition(state.lock)
        self._stopping = stopping
        # An issuer with a path (http://host/realm) serves its endpoints under that path.
        self._prefix = urlsplit(state.issuer).path.rstrip("/")

    def endpoint_path(self, path: str) -> str:
        """The route for a request path: the issuer's own path removed.

        RFC 8414 §3.1 puts the well-known segment before the issuer's path; OpenID
        Connect Discovery §4 appends it: both reach the discovery document.
        """
        prefix = self._prefix
        if not prefix:
            return path
        if path == _WELL_KNOWN_AS + prefix:
            return _WELL_KNOWN_AS
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
        return "/not-under-the-issuer"

    def _dispatch(self, request: RecordedRequest, planned: Planned) -> Answer:
        if planned.fail is not None:
            return planned.fail
        if planned.echo is not None:
            return echo_answer(request, planned.echo)
        path = self.endpoint_path(request.path)
        route = _ROUTES.get(path)
        if route is None and path.startswith(registration.REGISTRATION_PATH + "/"):
            route = _CONFIGURATION
        if route is None:
            return json_answer(404, {"error": "not_found"})
        methods, endpoint = route
        if request.method not in methods:
            answer = json_answer(405, {"error": "method_not_allowed"})
            allow = ("Allow", ", ".join(sorted(methods)))
            return attrs.evolve(answer, headers=(*answer.headers, allow))
        answer = endpoint(self.state, request)
        if planned.quirk is not None:
            answer = apply_quirk(answer, planned.quirk, planned.quirk_error)
        return answer

    def _record(self, request: RecordedRequest, answer: Answer | None) -> None:
        if answer is not None:
            request = attrs.evolve(request, status=answer.status, error=answer.error)
        with self.changed:
            self.requests.append(request)
            self.changed.notify_all()

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> Answer | None:
        """Answer one request; ``None`` means hang up without answering."""
        request = parse_request(handler, body)
        with self.state.lock:
            planned = self.faults.plan(self.endpoint_path(request.path))
        if planned.delay > 0:
            self._stopping.wait(planned.delay)
        if planned.drop:
            self._record(request, None)
            return None
        url = cimd.client_id_of(request)
        if url is not None and self.endpoint_path(request.path) in cimd.FETCHING_PATHS:
            with self.state.lock:
                fetch = self.state.client_id_metadata_documents and url not in self.state.clients
            if fetch:
                cimd.fetch_document(self.state, url)  # not under the lock: it is a request
        # One lock for the whole request: each one sees and leaves a consistent state.
        with self.state.lock:
            answer = self._dispatch(request, planned)
            self._record(request, answer)
        return answer
