"""Extension grants (RFC 7523 §2.1, RFC 8693) and RFC 8707 / RFC 9396 in token requests."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SERVER = oc.ServerMetadata(
    issuer="https://as.example.com", token_endpoint="https://as.example.com/token.oauth2"
)
# RFC 7523 §2.1 example assertion (its parts are elided in the RFC).
ASSERTION = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjE2In0.eyJpc3Mi.J9l-ZhwP"
SUBJECT_TOKEN = "accVkjcJyb4BWCxGsndESCJQbdFMogUC5PbRDqceLTC"
RAR = [{"type": "payment_initiation", "instructedAmount": {"currency": "EUR", "amount": "123.50"}}]


def body_pairs(request: oc.HttpRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.body.decode(), keep_blank_values=True)


# --- JWT bearer (RFC 7523) -----------------------------------------------------------------


def test_jwt_bearer_rfc_7523_2_1_example() -> None:
    client = oc.Client("s6BhdRkqt3", auth_method="none")
    request = oc.jwt_bearer_grant_request(SERVER, client, ASSERTION)
    assert request.method == "POST"
    assert request.url == "https://as.example.com/token.oauth2"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body == (
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
        b"&assertion=eyJhbGciOiJFUzI1NiIsImtpZCI6IjE2In0.eyJpc3Mi.J9l-ZhwP"
        b"&client_id=s6BhdRkqt3"  # RFC 7523 §3.1: client authentication is optional
    )
    assert oc.JWT_BEARER_GRANT_TYPE == "urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_jwt_bearer_with_scope_and_client_authentication() -> None:
    client = oc.Client("app", "s3cr3t")
    request = oc.jwt_bearer_grant_request(SERVER, client, ASSERTION, scope=["read", "write"])
    assert request.headers["authorization"].startswith("Basic ")
    assert ("scope", "read write") in body_pairs(request)
    assert ASSERTION not in repr(request)


@pytest.mark.parametrize("assertion", ["", None, 42])
def test_jwt_bearer_needs_an_assertion(assertion: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.jwt_bearer_grant_request(SERVER, oc.Client("app"), assertion)  # type: ignore[arg-type]


def test_jwt_bearer_refuses_to_override_the_grant_type() -> None:
    with pytest.raises(oc.UsageError, match="grant_type"):
        oc.jwt_bearer_grant_request(SERVER, oc.Client("app"), ASSERTION, grant_type="password")


# --- token exchange (RFC 8693) -------------------------------------------------------------


def test_token_exchange_rfc_8693_2_3_example_request() -> None:
    client = oc.Client("rs08", "long-secure-random-secret")
    request = oc.token_exchange_grant_request(
        SERVER,
        client,
        SUBJECT_TOKEN,
        oc.TOKEN_TYPE_ACCESS_TOKEN,
        resource="https://backend.example.com/api",
    )
    assert request.headers["authorization"] == "Basic cnMwODpsb25nLXNlY3VyZS1yYW5kb20tc2VjcmV0"
    assert request.body == (
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
        b"&resource=https%3A%2F%2Fbackend.example.com%2Fapi"
        b"&subject_token=accVkjcJyb4BWCxGsndESCJQbdFMogUC5PbRDqceLTC"
        b"&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
    )


def test_token_exchange_rfc_8693_2_3_example_response() -> None:
    body = {
        "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6IjllciJ9.eyJhdWQiOiJodHRwczovL2JhY2tlbmQ"
        "uZXhhbXBsZS5jb20iLCJpc3MiOiJodHRwczovL2FzLmV4YW1wbGUuY29tIiwiZXhwIjoxNDQxOTE3NTkzL"
        "CJpYXQiOjE0NDE5MTc1MzMsInN1YiI6ImJkY0BleGFtcGxlLmNvbSIsInNjb3BlIjoiYXBpIn0.40y3ZgQ"
        "edw6rxf59WlwHDD9jryFOr0_Wh3CGozQBihNBhnXEQgU85AI9x3KmsPottVMLPIWvmDCMy5-kdXjwhw",
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "token_type": "Bearer",
        "expires_in": 60,
    }
    response = oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(body), T0)
    token = oc.process_token_response(response)
    assert token.issued_token_type == oc.TOKEN_TYPE_ACCESS_TOKEN
    assert token.token_type == "Bearer"
    assert token.expires_at == T0 + dt.timedelta(seconds=60)


def test_token_exchange_n_a_token_type() -> None:
    """RFC 8693 §2.2.1: token_type "N_A" when the issued token is not an access token."""
    body = {
        "access_token": "eyJ.id.token",
        "issued_token_type": oc.TOKEN_TYPE_ID_TOKEN,
        "token_type": "N_A",
    }
    response = oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(body), T0)
    token = oc.process_token_response(response)
    assert token.token_type == "N_A"
    assert token.issued_token_type == oc.TOKEN_TYPE_ID_TOKEN


def test_token_exchange_every_parameter() -> None:
    request = oc.token_exchange_grant_request(
        SERVER,
        oc.Client("app", auth_method="none"),
        "subject",
        oc.TOKEN_TYPE_JWT,
        actor_token="actor",
        actor_token_type=oc.TOKEN_TYPE_ACCESS_TOKEN,
        requested_token_type=oc.TOKEN_TYPE_REFRESH_TOKEN,
        audience=["urn:a", "urn:b"],
        resource=["https://r1/", "https://r2/"],
        scope="read",
        custom="x",
    )
    assert body_pairs(request) == [
        ("grant_type", oc.TOKEN_EXCHANGE_GRANT_TYPE),
        ("resource", "https://r1/"),
        ("resource", "https://r2/"),
        ("audience", "urn:a"),
        ("audience", "urn:b"),
        ("scope", "read"),
        ("requested_token_type", oc.TOKEN_TYPE_REFRESH_TOKEN),
        ("subject_token", "subject"),
        ("subject_token_type", oc.TOKEN_TYPE_JWT),
        ("actor_token", "actor"),
        ("actor_token_type", oc.TOKEN_TYPE_ACCESS_TOKEN),
        ("custom", "x"),
        ("client_id", "app"),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"actor_token": "a"},
        {"actor_token_type": oc.TOKEN_TYPE_JWT},
        {"actor_token": "", "actor_token_type": oc.TOKEN_TYPE_JWT},
        {"requested_token_type": ""},
        {"grant_type": "password"},
    ],
)
def test_token_exchange_argument_rules(kwargs: dict[str, object]) -> None:
    """RFC 8693 §2.1: actor_token_type is REQUIRED with actor_token and MUST NOT appear without."""
    with pytest.raises(oc.UsageError):
        oc.token_exchange_grant_request(
            SERVER,
            oc.Client("app"),
            "s",
            oc.TOKEN_TYPE_JWT,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(("subject", "kind"), [("", oc.TOKEN_TYPE_JWT), ("s", ""), (None, "x")])
def test_token_exchange_needs_subject(subject: object, kind: str) -> None:
    with pytest.raises(oc.UsageError):
        oc.token_exchange_grant_request(SERVER, oc.Client("app"), subject, kind)  # type: ignore[arg-type]


def test_token_type_identifiers_rfc_8693_3() -> None:
    assert oc.TOKEN_TYPE_ACCESS_TOKEN == "urn:ietf:params:oauth:token-type:access_token"
    assert oc.TOKEN_TYPE_REFRESH_TOKEN == "urn:ietf:params:oauth:token-type:refresh_token"
    assert oc.TOKEN_TYPE_ID_TOKEN == "urn:ietf:params:oauth:token-type:id_token"
    assert oc.TOKEN_TYPE_SAML1 == "urn:ietf:params:oauth:token-type:saml1"
    assert oc.TOKEN_TYPE_SAML2 == "urn:ietf:params:oauth:token-type:saml2"
    assert oc.TOKEN_TYPE_JWT == "urn:ietf:params:oauth:token-type:jwt"


# --- resource indicators (RFC 8707) and RAR (RFC 9396) in token requests --------------------


def test_resource_indicators_in_token_requests() -> None:
    client = oc.Client("app", "s3cr3t")
    request = oc.client_credentials_grant_request(
        SERVER,
        client,
        scope="read",
        resource=["https://api.example.com/", "https://cal.example.com/"],
    )
    assert [v for k, v in body_pairs(request) if k == "resource"] == [
        "https://api.example.com/",
        "https://cal.example.com/",
    ]


def test_resource_indicator_in_the_code_exchange() -> None:
    """RFC 8707 §2.2: the token request may narrow to one of the authorized resources."""
    client = oc.Client("app", "s3cr3t", redirect_uri="https://app/cb")
    pending = oc.new_pending_authorization(client, state="xyz")
    server = oc.ServerMetadata(
        "https://as.example.com", token_endpoint="https://as.example.com/token"
    )
    code = oc.parse_callback("https://app/cb?code=abc&state=xyz", server=server, pending=pending)
    request = oc.authorization_code_grant_request(
        server, client, code, pending, resource="https://api.example.com/"
    )
    assert ("resource", "https://api.example.com/") in body_pairs(request)


def test_authorization_details_in_token_requests() -> None:
    """RFC 9396 §6: authorization_details is a JSON array in the token request too."""
    request = oc.client_credentials_grant_request(
        SERVER, oc.Client("app", "s3cr3t"), authorization_details=RAR
    )
    assert json.loads(dict(body_pairs(request))["authorization_details"]) == RAR


def test_authorization_details_in_a_token_exchange() -> None:
    request = oc.token_exchange_grant_request(
        SERVER, oc.Client("app", "s3cr3t"), "s", oc.TOKEN_TYPE_JWT, authorization_details=RAR
    )
    assert json.loads(dict(body_pairs(request))["authorization_details"]) == RAR


def test_authorization_details_come_back_in_the_token() -> None:
    body = {"access_token": "at", "token_type": "Bearer", "authorization_details": RAR}
    response = oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(body), T0)
    assert oc.process_token_response(response).extra["authorization_details"] == RAR


# --- properties ----------------------------------------------------------------------------

uris = st.lists(st.text(min_size=1, max_size=16), max_size=4)


@given(resources=uris, audiences=uris)
def test_property_token_exchange_sends_every_resource_and_audience(
    resources: list[str], audiences: list[str]
) -> None:
    """Every resource and audience value is sent once, in order, as a repeated parameter."""
    request = oc.token_exchange_grant_request(
        SERVER,
        oc.Client("app", "s3cr3t"),
        "s",
        oc.TOKEN_TYPE_JWT,
        resource=resources,
        audience=audiences,
    )
    pairs = body_pairs(request)
    assert [v for k, v in pairs if k == "resource"] == resources
    assert [v for k, v in pairs if k == "audience"] == audiences
    assert [v for k, v in pairs if k == "grant_type"] == [oc.TOKEN_EXCHANGE_GRANT_TYPE]
