"""The mock server's dynamic client registration (RFC 7591) and management (RFC 7592).

``POST /register`` registers a client from JSON metadata and answers 201 with
its id, a secret unless ``token_endpoint_auth_method`` is ``none``, and a
registration access token for ``/register/<client_id>``, where ``GET`` reads,
``PUT`` replaces and ``DELETE`` removes the registration (RFC 7592 §2).
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

from oauth2_transports.testing._mock_model import (
    Answer,
    MockClient,
    RecordedRequest,
    error_answer,
    json_answer,
)
from oauth2_transports.testing._mock_state import MockState, new_secret

__all__ = ["REGISTRATION_PATH", "client_configuration", "register"]

REGISTRATION_PATH = "/register"
_METHODS = ("client_secret_basic", "client_secret_post", "none")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# RFC 7592 §2.2: never in an update request.
_NOT_IN_UPDATE = frozenset(
    {
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    }
)


def _bad_metadata(description: str) -> Answer:
    return error_answer(400, "invalid_client_metadata", description)


def _redirect_uri_ok(uri: object) -> bool:
    if not isinstance(uri, str):
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if not parts.scheme or parts.fragment:
        return False
    if parts.scheme == "http":
        return parts.hostname in _LOOPBACK  # RFC 8252 §7.3
    return parts.scheme == "https" or "." in parts.scheme  # private-use (RFC 8252 §7.1)


def _checked(state: MockState, data: object) -> dict[str, object] | Answer:
    """The metadata as the server registers it, or the RFC 7591 §3.2.2 error."""
    if not isinstance(data, dict):
        return _bad_metadata("the body must be a JSON object")
    metadata = dict(data)
    method = metadata.setdefault("token_endpoint_auth_method", "client_secret_basic")
    if method not in _METHODS:
        return _bad_metadata(f"token_endpoint_auth_method must be one of {list(_METHODS)}")
    grant_types = metadata.setdefault("grant_types", ["authorization_code"])
    if not isinstance(grant_types, list):
        return _bad_metadata("grant_types must be an array")
    uris = metadata.get("redirect_uris", [])
    if not isinstance(uris, list) or not all(_redirect_uri_ok(u) for u in uris):
        return error_answer(400, "invalid_redirect_uri", "a redirect URI is not acceptable")
    if "authorization_code" in grant_types and not uris:
        return error_answer(400, "invalid_redirect_uri", "redirect_uris is required")
    scope = metadata.get("scope")
    if scope is not None:
        if not isinstance(scope, str):
            return _bad_metadata("scope must be a string")
        allowed = state.scopes_supported
        if allowed is not None and not set(scope.split()) <= set(allowed):
            return _bad_metadata("scope has values this server does not support")
    return metadata


def _information(
    state: MockState, client: MockClient, metadata: dict[str, object]
) -> dict[str, object]:
    token, _ = state.registrations[client.client_id]
    answer: dict[str, object] = {
        **metadata,
        "client_id": client.client_id,
        "client_id_issued_at": int(state.now()),
        "registration_access_token": token,
        "registration_client_uri": f"{state.issuer}{REGISTRATION_PATH}/{client.client_id}",
    }
    if client.client_secret is not None:
        answer["client_secret"] = client.client_secret
        answer["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: never expires
    return answer


def _store(
    state: MockState, client_id: str, secret: str | None, metadata: dict[str, object]
) -> MockClient:
    method = metadata["token_endpoint_auth_method"]
    uris = metadata.get("redirect_uris", [])
    client = MockClient(
        client_id,
        secret if method != "none" else None,
        auth_method=method,  # type: ignore[arg-type]
        redirect_uris=tuple(uris) if isinstance(uris, list) else (),
    )
    state.clients[client_id] = client
    return client


def register(state: MockState, request: RecordedRequest) -> Answer:
    """``POST /register`` (RFC 7591 §3.1): 201 with the client information response."""
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _bad_metadata("the body must be JSON")
    metadata = _checked(state, data)
    if isinstance(metadata, Answer):
        return metadata
    client_id = new_secret("dyn_")
    state.registrations[client_id] = (new_secret("mock_rat_"), metadata)
    client = _store(state, client_id, new_secret("mock_cs_"), metadata)
    return json_answer(201, _information(state, client, metadata))


def _invalid_token() -> Answer:
    return error_answer(
        401,
        "invalid_token",
        "unknown client or registration access token",
        headers=(("WWW-Authenticate", 'Bearer error="invalid_token"'),),
    )


def client_configuration(state: MockState, request: RecordedRequest) -> Answer:
    """``GET|PUT|DELETE /register/<client_id>`` (RFC 7592 §2.1-2.3)."""
    client_id = request.path[len(REGISTRATION_PATH) + 1 :]
    record = state.registrations.get(client_id)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if (
        record is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(record[0].encode(), value.strip().encode())
    ):
        return _invalid_token()
    client = state.clients[client_id]
    if request.method == "DELETE":
        del state.registrations[client_id]
        del state.clients[client_id]
        return Answer(204)
    if request.method == "GET":
        return json_answer(200, _information(state, client, record[1]))
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _bad_metadata("the body must be JSON")
    if not isinstance(data, dict) or data.get("client_id") != client_id:
        return _bad_metadata("the update must carry the client's client_id (RFC 7592 §2.2)")
    if _NOT_IN_UPDATE.intersection(data):
        return _bad_metadata("the update carries fields RFC 7592 §2.2 forbids")
    secret = data.pop("client_secret", None)
    if secret is not None and secret != client.client_secret:
        return _bad_metadata("client_secret does not match the issued one")
    del data["client_id"]
    metadata = _checked(state, data)
    if isinstance(metadata, Answer):
        return metadata
    state.registrations[client_id] = (record[0], metadata)
    client = _store(state, client_id, client.client_secret or new_secret("mock_cs_"), metadata)
    return json_answer(200, _information(state, client, metadata))
