"""Protected resource metadata (RFC 9728): the URL, the step pair, the value, the challenge."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.testing import strategies as ost

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
# RFC 9728 §3.2, the example response.
RFC_9728_EXAMPLE = {
    "resource": "https://resource.example.com",
    "authorization_servers": ["https://as1.example.com", "https://as2.example.net"],
    "bearer_methods_supported": ["header", "body"],
    "scopes_supported": ["profile", "email", "phone"],
    "resource_documentation": "https://resource.example.com/resource_documentation.html",
}


def json_response(data: object, status: int = 200) -> oc.HttpResponse:
    return oc.HttpResponse(
        status, {"content-type": "application/json"}, json.dumps(data).encode(), T0
    )


# --- the URL (§3.1) ------------------------------------------------------------------------


def test_rfc_9728_3_1_path_insertion_example() -> None:
    assert (
        oc.resource_metadata_url("https://resource.example.com/resource1")
        == "https://resource.example.com/.well-known/oauth-protected-resource/resource1"
    )


def test_usage_md_mcp_url() -> None:
    request = oc.resource_metadata_request("https://rs.example/mcp")
    assert request.method == "GET"
    assert request.url == "https://rs.example/.well-known/oauth-protected-resource/mcp"
    assert request.headers["accept"] == "application/json"


@pytest.mark.parametrize("url", ["https://rs.example", "https://rs.example/"])
def test_terminating_slash_after_host_is_removed(url: str) -> None:
    assert (
        oc.resource_metadata_url(url) == "https://rs.example/.well-known/oauth-protected-resource"
    )


def test_query_is_kept_after_the_path() -> None:
    """§3.1: the segment goes "between the host component and the path and/or query"."""
    assert (
        oc.resource_metadata_url("https://rs.example/api?tenant=a")
        == "https://rs.example/.well-known/oauth-protected-resource/api?tenant=a"
    )


@pytest.mark.parametrize(
    "url", ["", "rs.example/mcp", "https://rs.example/mcp#frag", "ftp://rs.example/", 7]
)
def test_bad_resource_urls_are_usage_errors(url: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.resource_metadata_request(url)  # type: ignore[arg-type]


def test_plain_http_refused_outside_loopback() -> None:
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.resource_metadata_request("http://rs.example/mcp")
    with pytest.raises(oc.UsageError, match="plain http"):
        oc.resource_metadata_request(
            "https://rs.example/mcp", metadata_url="http://rs.example/meta"
        )
    loopback = oc.resource_metadata_request("http://127.0.0.1:8000/mcp")
    assert loopback.url == "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"
    opted_out = oc.resource_metadata_request("http://rs.example/mcp", allow_insecure_http=True)
    assert opted_out.url.startswith("http://rs.example/")


def test_metadata_url_from_the_challenge_is_used() -> None:
    """USAGE.md: ``metadata_url=ch.resource_metadata`` (RFC 9728 §5.1)."""
    value = (
        'Bearer error="invalid_request", error_description="No access token", '
        'resource_metadata="https://rs.example/.well-known/oauth-protected-resource/mcp", '
        'scope="files:read files:write"'
    )
    ch = oc.parse_www_authenticate(value)[0]
    assert ch.resource_metadata == "https://rs.example/.well-known/oauth-protected-resource/mcp"
    assert ch.scope == ("files:read", "files:write")
    req = oc.resource_metadata_request("https://rs.example/mcp", metadata_url=ch.resource_metadata)
    assert req.url == ch.resource_metadata


def test_challenge_without_resource_metadata() -> None:
    ch = oc.parse_www_authenticate('Bearer realm="x"')[0]
    assert ch.resource_metadata is None
    assert ch.scope is None
    assert oc.parse_www_authenticate('Bearer resource_metadata=""')[0].resource_metadata is None


# --- the answer (§3.2, §3.3) ---------------------------------------------------------------


def test_rfc_9728_3_2_example_response() -> None:
    rm = oc.process_resource_metadata_response(
        json_response(RFC_9728_EXAMPLE), resource="https://resource.example.com"
    )
    assert rm.resource == "https://resource.example.com"
    assert rm.authorization_servers == ("https://as1.example.com", "https://as2.example.net")
    assert rm.bearer_methods_supported == ("header", "body")
    assert rm.scopes_supported == ("profile", "email", "phone")
    assert rm.resource_documentation == RFC_9728_EXAMPLE["resource_documentation"]
    assert rm.to_dict() == RFC_9728_EXAMPLE


def test_resource_must_equal_the_url_asked_about() -> None:
    """§3.3: "If these values are not identical, the data ... MUST NOT be used"."""
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_resource_metadata_response(
            json_response(RFC_9728_EXAMPLE), resource="https://resource.example.com/api"
        )
    assert info.value.field == "resource"
    assert "RFC 9728 §3.3" in str(info.value)


@pytest.mark.parametrize(
    "published",
    [
        "https://rs.example",
        "https://rs.example/",
        "https://rs.example/api",
        "https://rs.example/api/",
    ],
)
def test_parent_path_accepted_only_when_asked(published: str) -> None:
    response = json_response({"resource": published})
    with pytest.raises(oc.MalformedResponseError):
        oc.process_resource_metadata_response(response, resource="https://rs.example/api/mcp")
    rm = oc.process_resource_metadata_response(
        response, resource="https://rs.example/api/mcp", allow_parent=True
    )
    assert rm.resource == published


@pytest.mark.parametrize(
    "published",
    [
        "https://rs.example/ap",  # a prefix, not a path segment
        "https://rs.example/api/mcp/deeper",  # a child, not a parent
        "https://other.example/api",  # another host
        "http://rs.example/api",  # another scheme
        "https://rs.example:8443/api",  # another port
        "https://rs.example/?x=1",  # a query
        "https://rs.example/api#f",
        "not a url",
    ],
)
def test_parent_path_never_crosses_origins_or_segments(published: str) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_resource_metadata_response(
            json_response({"resource": published}),
            resource="https://rs.example/api/mcp",
            allow_parent=True,
        )
    assert info.value.field == "resource"


def test_unknown_members_are_kept_and_round_trip() -> None:
    document = {
        **RFC_9728_EXAMPLE,
        "signed_metadata": "eyJ.eyJ.sig",
        "x_vendor": {"nested": [1, 2]},
        "dpop_bound_access_tokens_required": True,
    }
    rm = oc.ResourceMetadata.from_dict(document)
    assert rm.extra == {"signed_metadata": "eyJ.eyJ.sig", "x_vendor": {"nested": [1, 2]}}
    assert rm.dpop_bound_access_tokens_required is True
    assert rm.to_dict() == document
    assert oc.ResourceMetadata.from_dict(rm.to_dict()) == rm


def test_no_authorization_servers_is_an_empty_tuple() -> None:
    rm = oc.ResourceMetadata.from_dict({"resource": "https://rs.example"})
    assert rm.authorization_servers == ()
    assert rm.scopes_supported is None


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "resource"),
        ({"resource": 5}, "resource"),
        ({"resource": ""}, "resource"),
        ({"resource": "https://rs.example", "authorization_servers": "https://as"}, None),
        ({"resource": "https://rs.example", "authorization_servers": [1]}, None),
        ({"resource": "https://rs.example", "scopes_supported": [None]}, None),
        ({"resource": "https://rs.example", "resource_name": 3}, None),
        ({"resource": "https://rs.example", "dpop_bound_access_tokens_required": "yes"}, None),
    ],
)
def test_wrong_member_types_name_the_member(document: dict[str, object], field: str | None) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_resource_metadata_response(
            json_response(document), resource="https://rs.example"
        )
    expected = field or next(k for k in document if k != "resource")
    assert info.value.field == expected
    assert info.value.status == 200


def test_error_status_is_an_endpoint_error() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_resource_metadata_response(
            oc.HttpResponse(404, {"content-type": "text/html"}, b"<h1>no</h1>", T0),
            resource="https://rs.example",
        )
    assert info.value.status == 404


def test_html_answer_says_what_arrived() -> None:
    with pytest.raises(oc.MalformedResponseError, match="text/html"):
        oc.process_resource_metadata_response(
            oc.HttpResponse(200, {"content-type": "text/html"}, b"<html></html>", T0),
            resource="https://rs.example",
        )


@given(response=ost.http_responses())
@example(response=json_response({"resource": "https://rs.example", "authorization_servers": {}}))
@example(response=json_response({"resource": ["https://rs.example"]}))
@example(response=json_response({"resource": "https://rs.example", "jwks_uri": []}))
def test_process_resource_metadata_response_is_total(response: oc.HttpResponse) -> None:
    """Any response ends in a ResourceMetadata or an OAuth2Error (DESIGN §6)."""
    for allow_parent in (False, True):
        with contextlib.suppress(oc.OAuth2Error):
            rm = oc.process_resource_metadata_response(
                response, resource="https://rs.example/mcp", allow_parent=allow_parent
            )
            assert isinstance(rm, oc.ResourceMetadata)


_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_MEMBERS = st.dictionaries(
    st.sampled_from(
        [
            "authorization_servers",
            "scopes_supported",
            "jwks_uri",
            "resource_name",
            "tls_client_certificate_bound_access_tokens",
            "x",
        ]
    ),
    _JSON_SCALARS | st.lists(_JSON_SCALARS, max_size=3),
    max_size=6,
)


@given(members=_MEMBERS, resource=st.text(max_size=30) | st.sampled_from(["https://rs.example/"]))
def test_metadata_documents_are_total_and_round_trip(
    members: dict[str, object], resource: str
) -> None:
    """A document of any member types is a ResourceMetadata that round-trips, or refused."""
    try:
        rm = oc.ResourceMetadata.from_dict({"resource": resource, **members})
    except oc.MalformedResponseError:
        return
    assert oc.ResourceMetadata.from_dict(rm.to_dict()) == rm
