"""Discovery (RFC 8414 §3, OpenID Connect Discovery §4): URLs, the step pair, the flow."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import RECEIVED_AT, json_response

T0 = RECEIVED_AT  # the scripted answers arrive then
ISSUER = "https://server.example.com"
# RFC 8414 §3.2 example response.
RFC_METADATA = {
    "issuer": "https://server.example.com",
    "authorization_endpoint": "https://server.example.com/authorize",
    "token_endpoint": "https://server.example.com/token",
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
    "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
    "userinfo_endpoint": "https://server.example.com/userinfo",
    "jwks_uri": "https://server.example.com/jwks.json",
    "registration_endpoint": "https://server.example.com/register",
    "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access"],
    "response_types_supported": ["code", "code token"],
    "service_documentation": "http://server.example.com/service_documentation.html",
    "ui_locales_supported": ["en-US", "en-GB", "en-CA", "fr-FR", "fr-CA"],
}


def not_found() -> oc.HttpResponse:
    return oc.HttpResponse(404, {"content-type": "text/html"}, b"<h1>Not Found</h1>", T0)


# --- URLs ----------------------------------------------------------------------------------


def test_rfc_8414_3_1_path_insertion_example() -> None:
    urls = oc.discovery_urls("https://example.com/issuer1")
    assert urls == [
        "https://example.com/.well-known/oauth-authorization-server/issuer1",
        "https://example.com/issuer1/.well-known/openid-configuration",
    ]


def test_issuer_without_path() -> None:
    assert oc.discovery_urls("https://example.com") == [
        "https://example.com/.well-known/oauth-authorization-server",
        "https://example.com/.well-known/openid-configuration",
    ]


def test_terminating_slash_is_removed_before_inserting() -> None:
    """RFC 8414 §3.1: "any terminating '/' MUST be removed"; OIDC appends to the path."""
    assert oc.discovery_urls("https://example.com/tenant/") == [
        "https://example.com/.well-known/oauth-authorization-server/tenant",
        "https://example.com/tenant/.well-known/openid-configuration",
    ]
    assert oc.discovery_urls("https://example.com/") == oc.discovery_urls("https://example.com")


def test_openid_goes_straight_to_oidc() -> None:
    assert oc.discovery_urls("https://example.com/t", openid=True) == [
        "https://example.com/t/.well-known/openid-configuration"
    ]


@pytest.mark.parametrize(
    "issuer",
    ["", "example.com", "https://as?x=1", "https://as#frag", "https://as/?", "ftp://as", 42],
)
def test_bad_issuers_are_usage_errors(issuer: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.discovery_urls(issuer)  # type: ignore[arg-type]


# --- request -------------------------------------------------------------------------------


def test_discovery_request() -> None:
    request = oc.discovery_request("https://example.com/issuer1")
    assert request.method == "GET"
    assert request.url == "https://example.com/.well-known/oauth-authorization-server/issuer1"
    assert request.headers["accept"] == "application/json"
    assert request.body == b""
    openid = oc.discovery_request("https://example.com/issuer1", openid=True)
    assert openid.url == "https://example.com/issuer1/.well-known/openid-configuration"


def test_discovery_request_https_rule() -> None:
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.discovery_request("http://as.example")
    assert oc.discovery_request("http://as.example", allow_insecure_http=True).url.startswith(
        "http://as.example/"
    )
    assert oc.discovery_request("http://127.0.0.1:8080").url == (
        "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
    )
    assert oc.discovery_request("http://localhost/x", openid=True).url == (
        "http://localhost/x/.well-known/openid-configuration"
    )


# --- response ------------------------------------------------------------------------------


def test_process_rfc_8414_3_2_example() -> None:
    metadata = oc.process_discovery_response(json_response(200, RFC_METADATA), issuer=ISSUER)
    assert metadata.issuer == ISSUER
    assert metadata.token_endpoint == "https://server.example.com/token"
    assert metadata.response_types_supported == ("code", "code token")
    assert metadata.to_dict() == RFC_METADATA


def test_unknown_members_are_kept() -> None:
    data = {**RFC_METADATA, "x_custom": {"a": 1}}
    metadata = oc.process_discovery_response(json_response(200, data), issuer=ISSUER)
    assert metadata.extra["x_custom"] == {"a": 1}


@pytest.mark.parametrize(
    "asked", ["https://server.example.com/", "https://SERVER.example.com", "https://evil.example"]
)
def test_issuer_must_match_exactly(asked: str) -> None:
    """RFC 8414 §3.3: the issuer MUST be identical to the one used to build the URL."""
    with pytest.raises(oc.IssuerMismatchError) as info:
        oc.process_discovery_response(json_response(200, RFC_METADATA), issuer=asked)
    assert isinstance(info.value, oc.MalformedResponseError)
    assert info.value.field == "issuer"
    assert info.value.status == 200


def test_bad_member_names_the_field_and_status() -> None:
    data = {**RFC_METADATA, "scopes_supported": "openid"}
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_discovery_response(json_response(200, data), issuer=ISSUER)
    assert info.value.field == "scopes_supported"
    assert info.value.status == 200


def test_missing_issuer() -> None:
    data = {k: v for k, v in RFC_METADATA.items() if k != "issuer"}
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_discovery_response(json_response(200, data), issuer=ISSUER)
    assert info.value.field == "issuer"


def test_not_found_is_an_endpoint_error() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_discovery_response(not_found(), issuer=ISSUER)
    assert info.value.status == 404


def test_html_200_says_what_arrived() -> None:
    response = oc.HttpResponse(200, {"content-type": "text/html"}, b"<html></html>", T0)
    with pytest.raises(oc.MalformedResponseError, match="text/html"):
        oc.process_discovery_response(response, issuer=ISSUER)


# --- flow ----------------------------------------------------------------------------------


def test_flow_rfc_8414_first() -> None:
    flow = oc.discovery_flow("https://example.com/issuer1")
    step = next(flow)
    assert step.request.url == "https://example.com/.well-known/oauth-authorization-server/issuer1"
    assert step.delay == 0
    data = {**RFC_METADATA, "issuer": "https://example.com/issuer1"}
    with pytest.raises(StopIteration) as stop:
        flow.send(json_response(200, data))
    assert stop.value.value.issuer == "https://example.com/issuer1"


def test_flow_falls_back_to_oidc_on_404() -> None:
    flow = oc.discovery_flow(ISSUER)
    next(flow)
    step = flow.send(not_found())
    assert step.request.url == "https://server.example.com/.well-known/openid-configuration"
    with pytest.raises(StopIteration) as stop:
        flow.send(json_response(200, RFC_METADATA))
    assert stop.value.value == oc.ServerMetadata.from_dict(RFC_METADATA)


@pytest.mark.parametrize("status", [400, 401, 405, 500, 503])
def test_flow_other_errors_are_final(status: int) -> None:
    """Only 404 means "not here": an outage must not silently switch documents."""
    flow = oc.discovery_flow(ISSUER)
    next(flow)
    with pytest.raises(oc.EndpointError) as info:
        flow.send(oc.HttpResponse(status, {}, b"", T0))
    assert info.value.status == status


def test_flow_issuer_mismatch_does_not_fall_back() -> None:
    flow = oc.discovery_flow(ISSUER)
    next(flow)
    with pytest.raises(oc.IssuerMismatchError):
        flow.send(json_response(200, {**RFC_METADATA, "issuer": "https://evil.example"}))


def test_flow_404_twice() -> None:
    flow = oc.discovery_flow(ISSUER)
    next(flow)
    flow.send(not_found())
    with pytest.raises(oc.EndpointError) as info:
        flow.send(not_found())
    assert info.value.status == 404


def test_flow_openid_only_one_try() -> None:
    flow = oc.discovery_flow(ISSUER, openid=True)
    step = next(flow)
    assert step.request.url == "https://server.example.com/.well-known/openid-configuration"
    with pytest.raises(oc.EndpointError):
        flow.send(not_found())


def test_flow_refuses_plain_http() -> None:
    with pytest.raises(oc.UsageError):
        next(oc.discovery_flow("http://as.example"))
    assert next(oc.discovery_flow("http://as.example", allow_insecure_http=True)).request.url


# --- properties ----------------------------------------------------------------------------

segments = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=8),
    max_size=4,
)


@given(segments=segments, trailing=st.booleans(), openid=st.booleans())
def test_property_discovery_urls(segments: list[str], trailing: bool, openid: bool) -> None:
    """RFC 8414 URL = origin + well-known + path (no terminating slash); the OIDC URL is
    the issuer with /.well-known/openid-configuration appended; openid gives only the latter."""
    path = "".join(f"/{s}" for s in segments)
    issuer = "https://as.example" + path + ("/" if trailing else "")
    urls = oc.discovery_urls(issuer, openid=openid)
    oidc = "https://as.example" + path + "/.well-known/openid-configuration"
    if openid:
        assert urls == [oidc]
    else:
        assert urls == ["https://as.example/.well-known/oauth-authorization-server" + path, oidc]


@given(
    status=st.integers(100, 599),
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda d: json.dumps(d).encode(),
            st.dictionaries(
                st.sampled_from([*RFC_METADATA, "mtls_endpoint_aliases", "error", "x"]),
                st.one_of(
                    st.none(),
                    st.booleans(),
                    st.integers(),
                    st.text(max_size=10),
                    st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=3),
                    st.dictionaries(st.text(max_size=3), st.one_of(st.text(), st.integers())),
                ),
            ),
        ),
    ),
    ctype=st.sampled_from(["application/json", "text/html", ""]),
)
def test_property_process_discovery_response_is_total(status: int, body: bytes, ctype: str) -> None:
    """Any bytes and status give ServerMetadata or an OAuth2Error."""
    response = oc.HttpResponse(status, {"content-type": ctype} if ctype else {}, body, T0)
    try:
        metadata = oc.process_discovery_response(response, issuer=ISSUER)
    except oc.OAuth2Error:
        return
    assert metadata.issuer == ISSUER
    assert 200 <= status < 300


# --- split metadata (Django OAuth Toolkit): merge=True, merged(), updated() -------------

OAUTH_DOC = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/o/authorize/",
    "token_endpoint": f"{ISSUER}/o/token/",
    "revocation_endpoint": f"{ISSUER}/o/revoke_token/",
    "introspection_endpoint": f"{ISSUER}/o/introspect/",
}
OIDC_DOC = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/o/authorize/",
    "token_endpoint": f"{ISSUER}/o/token/",
    "userinfo_endpoint": f"{ISSUER}/o/userinfo/",
    "jwks_uri": f"{ISSUER}/o/.well-known/jwks.json",
    "x_vendor": "kept",
}


def _run_merge(first: oc.HttpResponse, second: oc.HttpResponse) -> oc.ServerMetadata:
    flow = oc.discovery_flow(ISSUER, merge=True)
    assert next(flow).request.url.endswith("/.well-known/oauth-authorization-server")
    assert flow.send(first).request.url.endswith("/.well-known/openid-configuration")
    with pytest.raises(StopIteration) as stop:
        flow.send(second)
    result: oc.ServerMetadata = stop.value.value
    return result


def test_merge_fetches_both_documents_and_fills_the_gaps() -> None:
    server = _run_merge(json_response(200, OAUTH_DOC), json_response(200, OIDC_DOC))
    assert server.revocation_endpoint == f"{ISSUER}/o/revoke_token/"
    assert server.introspection_endpoint == f"{ISSUER}/o/introspect/"
    assert server.userinfo_endpoint == f"{ISSUER}/o/userinfo/"
    assert server.jwks_uri == f"{ISSUER}/o/.well-known/jwks.json"
    assert server.extra["x_vendor"] == "kept"


def test_merge_prefers_the_rfc_8414_document() -> None:
    other = {**OIDC_DOC, "token_endpoint": f"{ISSUER}/other/token"}
    server = _run_merge(json_response(200, OAUTH_DOC), json_response(200, other))
    assert server.token_endpoint == f"{ISSUER}/o/token/"


def test_merge_tolerates_one_404_but_not_two() -> None:
    assert _run_merge(not_found(), json_response(200, OIDC_DOC)).userinfo_endpoint
    assert _run_merge(json_response(200, OAUTH_DOC), not_found()).revocation_endpoint
    with pytest.raises(oc.EndpointError) as info:
        _run_merge(not_found(), not_found())
    assert info.value.status == 404


def test_merge_checks_the_issuer_of_each_document() -> None:
    """A second document naming another issuer is a mix-up, not a gap to fill."""
    evil = {**OIDC_DOC, "issuer": "https://evil.example"}
    with pytest.raises(oc.IssuerMismatchError):
        _run_merge(json_response(200, OAUTH_DOC), json_response(200, evil))


def test_merge_other_errors_stay_final() -> None:
    flow = oc.discovery_flow(ISSUER, merge=True)
    next(flow)
    with pytest.raises(oc.EndpointError) as info:
        flow.send(oc.HttpResponse(503, {}, b"", T0))
    assert info.value.status == 503


def test_merged_needs_the_same_issuer() -> None:
    a = oc.ServerMetadata.from_dict(OAUTH_DOC)
    with pytest.raises(oc.UsageError, match="same issuer"):
        a.merged(oc.ServerMetadata.from_dict({**OIDC_DOC, "issuer": "https://other.example"}))
    assert a.merged(oc.ServerMetadata.from_dict(OIDC_DOC)).userinfo_endpoint


def test_updated_sets_members_but_never_the_issuer() -> None:
    a = oc.ServerMetadata.from_dict(OAUTH_DOC)
    b = a.updated({"device_authorization_endpoint": f"{ISSUER}/o/device/"})
    assert b.device_authorization_endpoint == f"{ISSUER}/o/device/"
    assert b.token_endpoint == a.token_endpoint
    with pytest.raises(oc.UsageError, match="issuer"):
        a.updated({"issuer": "https://evil.example"})
    with pytest.raises(oc.MalformedResponseError, match="device_authorization_endpoint"):
        a.updated({"device_authorization_endpoint": 42})
