"""Pushed authorization requests (RFC 9126); resource indicators and RAR in URLs and PAR."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import RECEIVED_AT, json_response

T0 = RECEIVED_AT  # the scripted answers arrive then
SERVER = oc.ServerMetadata(
    issuer="https://as.example.com",
    authorization_endpoint="https://as.example.com/authorize",
    token_endpoint="https://as.example.com/token",
    pushed_authorization_request_endpoint="https://as.example.com/as/par",
)
# RFC 9126 §2.1 example credentials (the Basic header decodes to these).
CLIENT = oc.Client(
    "s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw", redirect_uri="https://client.example.org/cb"
)
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
PENDING = oc.new_pending_authorization(
    CLIENT, state="duk681S8n00GsJpe7n9boxdzen", code_verifier=VERIFIER, nonce="n-0S6"
)
REQUEST_URI = "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c"
# RFC 9396 §2 example.
RAR = [
    {
        "type": "account_information",
        "actions": ["list_accounts", "read_balances", "read_transactions"],
        "locations": ["https://example.com/accounts"],
    }
]


def body_pairs(request: oc.HttpRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.body.decode(), keep_blank_values=True)


# --- request -------------------------------------------------------------------------------


def test_pushed_authorization_request_rfc_9126_2_1_example() -> None:
    request = oc.pushed_authorization_request(SERVER, CLIENT, PENDING, scope="account-information")
    assert request.method == "POST"
    assert request.url == "https://as.example.com/as/par"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3"
    assert body_pairs(request) == [
        ("response_type", "code"),
        ("client_id", "s6BhdRkqt3"),
        ("redirect_uri", "https://client.example.org/cb"),
        ("scope", "account-information"),
        ("state", "duk681S8n00GsJpe7n9boxdzen"),
        ("code_challenge", oc.code_challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]


def test_body_is_what_the_authorization_url_would_carry() -> None:
    url = oc.authorization_url(SERVER, CLIENT, PENDING, scope="openid email", prompt="consent")
    request = oc.pushed_authorization_request(
        SERVER, CLIENT, PENDING, scope="openid email", prompt="consent"
    )
    assert body_pairs(request) == parse_qsl(urlsplit(url).query)
    assert ("nonce", "n-0S6") in body_pairs(request)


def _signing_key() -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec

    numbers = ec.generate_private_key(ec.SECP256R1()).private_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    public = numbers.public_numbers
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64(public.x),
        "y": b64(public.y),
        "d": b64(numbers.private_value),
    }


@pytest.mark.parametrize(
    "client",
    [
        oc.Client("app", "s3cr3t"),
        oc.Client("app", "s3cr3t", auth_method="client_secret_post"),
        oc.Client("app", auth_method="none"),
        oc.Client("app", auth_method="tls_client_auth"),
        oc.Client("app", auth_method="self_signed_tls_client_auth"),
        oc.Client("app", "s3cr3t-that-is-long-enough-for-hs256", auth_method="client_secret_jwt"),
        oc.Client("app", auth_method="private_key_jwt", signing_key=_signing_key()),
    ],
    ids=lambda c: c.auth_method,
)
def test_client_id_is_sent_exactly_once(client: oc.Client) -> None:
    """oidc-provider wants client_id in the PAR body even with Basic; never twice."""
    request = oc.pushed_authorization_request(SERVER, client, PENDING, now=T0)
    counts = Counter(name for name, _ in body_pairs(request))
    assert counts["client_id"] == 1
    assert dict(body_pairs(request))["client_id"] == "app"


def test_client_secret_post_puts_the_secret_in_the_body() -> None:
    client = oc.Client("app", "s3cr3t", auth_method="client_secret_post")
    request = oc.pushed_authorization_request(SERVER, client, PENDING)
    assert "authorization" not in request.headers
    assert ("client_secret", "s3cr3t") in body_pairs(request)
    assert "s3cr3t" not in repr(request)


@pytest.mark.parametrize("name", ["request_uri", "client_secret", "client_assertion", "state"])
def test_parameters_set_by_the_library_are_refused(name: str) -> None:
    with pytest.raises(oc.UsageError):
        oc.pushed_authorization_request(SERVER, CLIENT, PENDING, **{name: "x"})


def test_needs_the_par_endpoint_over_https() -> None:
    with pytest.raises(oc.UsageError, match="pushed_authorization_request_endpoint"):
        oc.pushed_authorization_request(oc.ServerMetadata("https://as"), CLIENT, PENDING)
    insecure = oc.ServerMetadata("https://as", pushed_authorization_request_endpoint="http://as/p")
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.pushed_authorization_request(insecure, CLIENT, PENDING)


def test_needs_a_pending_authorization() -> None:
    with pytest.raises(oc.UsageError):
        oc.pushed_authorization_request(SERVER, CLIENT, {"state": "x"})  # type: ignore[arg-type]


# --- response ------------------------------------------------------------------------------


def test_process_rfc_9126_2_2_example() -> None:
    response = json_response(201, {"request_uri": REQUEST_URI, "expires_in": 60})
    pushed = oc.process_pushed_authorization_response(response)
    assert pushed == oc.PushedAuthorization(REQUEST_URI, T0 + dt.timedelta(seconds=60))


def test_any_2xx_is_accepted() -> None:
    pushed = oc.process_pushed_authorization_response(
        json_response(200, {"request_uri": REQUEST_URI, "expires_in": "60"})
    )
    assert pushed.request_uri == REQUEST_URI


def test_missing_expires_in_is_tolerated() -> None:
    pushed = oc.process_pushed_authorization_response(
        json_response(201, {"request_uri": REQUEST_URI})
    )
    assert pushed.expires_at is None


def test_rfc_9126_2_3_error_response() -> None:
    response = json_response(
        400, {"error": "invalid_request", "error_description": "The redirect_uri is not valid"}
    )
    with pytest.raises(oc.EndpointError) as info:
        oc.process_pushed_authorization_response(response)
    assert info.value.error == "invalid_request"
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"expires_in": 60}, "request_uri"),
        ({"request_uri": 5, "expires_in": 60}, "request_uri"),
        ({"request_uri": REQUEST_URI, "expires_in": "later"}, "expires_in"),
    ],
)
def test_malformed_members_are_named(data: dict[str, object], field: str) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_pushed_authorization_response(json_response(201, data))
    assert info.value.field == field


def test_authorization_url_with_request_uri_rfc_9126_4_example() -> None:
    url = oc.authorization_url(SERVER, CLIENT, PENDING, request_uri=REQUEST_URI)
    assert url == (
        "https://as.example.com/authorize?client_id=s6BhdRkqt3"
        "&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc014ltc14eY22c"
    )


# --- resource indicators (RFC 8707) and RAR (RFC 9396) --------------------------------------


def test_resource_indicators_repeat_in_the_authorization_url() -> None:
    url = oc.authorization_url(
        SERVER, CLIENT, PENDING, resource=["https://api.example.com/", "https://cal.example.com/"]
    )
    resources = [v for k, v in parse_qsl(urlsplit(url).query) if k == "resource"]
    assert resources == ["https://api.example.com/", "https://cal.example.com/"]


def test_resource_indicators_repeat_in_the_par_body() -> None:
    request = oc.pushed_authorization_request(
        SERVER, CLIENT, PENDING, resource=("urn:a", "urn:b", "urn:c")
    )
    assert [v for k, v in body_pairs(request) if k == "resource"] == ["urn:a", "urn:b", "urn:c"]


def test_authorization_details_in_the_authorization_url() -> None:
    url = oc.authorization_url(SERVER, CLIENT, PENDING, authorization_details=RAR)
    sent = dict(parse_qsl(urlsplit(url).query))["authorization_details"]
    assert json.loads(sent) == RAR


def test_authorization_details_in_the_par_body() -> None:
    request = oc.pushed_authorization_request(SERVER, CLIENT, PENDING, authorization_details=RAR)
    assert json.loads(dict(body_pairs(request))["authorization_details"]) == RAR


def test_authorization_details_given_as_a_json_string_is_sent_verbatim() -> None:
    text = json.dumps(RAR)
    request = oc.pushed_authorization_request(SERVER, CLIENT, PENDING, authorization_details=text)
    assert dict(body_pairs(request))["authorization_details"] == text


# --- properties ----------------------------------------------------------------------------


# Any instant, in any fixed offset: the ends of the calendar must not overflow.
received_ats = st.datetimes(
    timezones=st.builds(
        dt.timezone,
        st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23)),
    )
)


@given(
    received_at=received_ats,
    status=st.integers(100, 599),
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda d: json.dumps(d).encode(),
            st.dictionaries(
                st.sampled_from(["request_uri", "expires_in", "error", "error_description"]),
                st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=8)),
            ),
        ),
    ),
    ctype=st.sampled_from(["application/json", "text/plain", ""]),
)
def test_property_process_pushed_authorization_response_is_total(
    received_at: dt.datetime, status: int, body: bytes, ctype: str
) -> None:
    """Any bytes and status give a PushedAuthorization or an OAuth2Error."""
    response = oc.HttpResponse(status, {"content-type": ctype} if ctype else {}, body, received_at)
    try:
        pushed = oc.process_pushed_authorization_response(response)
    except oc.OAuth2Error:
        return
    assert pushed.request_uri
    assert 200 <= status < 300


@given(resources=st.lists(st.text(min_size=1, max_size=20), max_size=5))
def test_property_resources_round_trip_in_par(resources: list[str]) -> None:
    """Every resource indicator is sent, once each, in order."""
    request = oc.pushed_authorization_request(SERVER, CLIENT, PENDING, resource=resources)
    assert [v for k, v in body_pairs(request) if k == "resource"] == resources
