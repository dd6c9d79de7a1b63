"""The public strategies in oauth2_core.testing.strategies keep their promises.

Integrators rely on them, so each promise in a docstring is a property here.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import strategies as ost

SERVER = oc.ServerMetadata(
    issuer="https://as.example",
    token_endpoint="https://as.example/token",
    revocation_endpoint="https://as.example/revoke",
    introspection_endpoint="https://as.example/introspect",
)


def _members(response: oc.HttpResponse) -> dict[str, Any]:
    text = response.body.decode("utf-8")
    if response.content_type == "application/json":
        data: dict[str, Any] = json.loads(text)
        return data
    return dict(parse_qsl(text, keep_blank_values=True))


@given(response=ost.valid_token_responses())
def test_valid_token_responses_always_yield_their_token(response: oc.HttpResponse) -> None:
    """Every valid_token_responses() answer yields a Token carrying the body's members:
    access_token verbatim, token_type canonical, expires_at = received_at + expires_in
    (clamped to 2**31-1 seconds), scope split on spaces, unknown members in extra.
    """
    members = _members(response)
    token = oc.process_token_response(response)
    assert token.access_token == members["access_token"]
    token_type = members.get("token_type")
    if token_type:
        assert token.token_type.lower() == token_type.lower()
    else:
        assert token.token_type == "Bearer"
    expires_in = members.get("expires_in")
    if expires_in in (None, ""):
        assert token.expires_at is None
    else:
        seconds = max(min(float(expires_in), 2**31 - 1), -(2**31 - 1))
        expected = response.received_at + dt.timedelta(seconds=seconds)
        assert token.expires_at is not None
        assert abs((token.expires_at - expected).total_seconds()) < 1e-3
    scope = members.get("scope")
    assert token.scope == (tuple(scope.split()) if scope is not None else None)
    assert token.refresh_token == (members.get("refresh_token") or None)
    assert token.id_token == (members.get("id_token") or None)
    standard = {"access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"}
    assert dict(token.extra) == {k: v for k, v in members.items() if k not in standard}


@given(response=ost.error_token_responses())
def test_error_token_responses_always_raise_endpoint_error(response: oc.HttpResponse) -> None:
    """Every error_token_responses() answer raises EndpointError with the body's error code,
    the HTTP status and, when sent, the Retry-After seconds.
    """
    members = _members(response)
    with pytest.raises(oc.EndpointError) as info:
        oc.process_token_response(response)
    assert info.value.error == members["error"]
    assert info.value.error_description == members.get("error_description")
    assert info.value.status == response.status
    wait = response.headers.get("retry-after")
    assert info.value.retry_after == (float(wait) if wait is not None else None)


@given(data=st.data(), pending=ost.pending_authorizations(), server=ost.server_metadata())
def test_callbacks_answer_their_pending_authorization(
    data: st.DataObject, pending: oc.PendingAuthorization, server: oc.ServerMetadata
) -> None:
    """callbacks(pending, server) always parses to an AuthorizationCode for that pending
    authorization; with include_errors=True, to a code or an AuthorizationError.
    """
    callback = data.draw(ost.callbacks(pending, server))
    code = oc.parse_callback(callback, server=server, pending=pending)
    assert code.state == pending.state
    assert code.iss in (None, server.issuer)
    if server.authorization_response_iss_parameter_supported:
        assert code.iss == server.issuer
    mixed = data.draw(ost.callbacks(pending, server, include_errors=True))
    with contextlib.suppress(oc.AuthorizationError):
        oc.parse_callback(mixed, server=server, pending=pending)


@given(metadata=ost.server_metadata())
def test_server_metadata_endpoints_are_https(metadata: oc.ServerMetadata) -> None:
    """server_metadata() gives https endpoints, accepted by every request builder."""
    client = oc.Client("app", "secret")
    if metadata.token_endpoint:
        assert oc.client_credentials_grant_request(metadata, client).url.startswith("https://")
    if metadata.revocation_endpoint:
        assert oc.revocation_request(metadata, client, "t").url.startswith("https://")


@given(when=ost.received_ats(include_extremes=True))
def test_received_ats_are_aware(when: dt.datetime) -> None:
    """received_ats() are timezone-aware, as HttpResponse requires."""
    assert when.utcoffset() is not None
    oc.HttpResponse(200, {}, b"", when)


@given(client=ost.clients(), username=st.text(), password=st.text())
def test_client_credentials_and_form_bodies_round_trip(
    client: oc.Client, username: str, password: str
) -> None:
    """For any client from clients() and any username/password, the request carries them
    back exactly: the Basic header decodes (percent-decoding, also form-decoding, for the
    default encoding) to the id and secret, and the form body to every field.
    """
    request = oc.password_grant_request(SERVER, client, username, password)
    form = parse_qsl(request.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    assert ("username", username) in form and ("password", password) in form
    if client.auth_method == "client_secret_basic":
        raw = base64.b64decode(request.headers["authorization"].removeprefix("Basic "))
        if client.basic_encoding == "urlencoded":
            user, _, secret = raw.decode("ascii").partition(":")
            assert unquote(user) == unquote_plus(user) == client.client_id
            assert unquote(secret) == unquote_plus(secret) == client.client_secret
        else:
            assert raw.decode("utf-8") == f"{client.client_id}:{client.client_secret}"
    elif client.auth_method == "client_secret_post":
        assert ("client_secret", client.client_secret) in form
    assert (client.auth_method == "client_secret_basic") == ("authorization" in request.headers)
