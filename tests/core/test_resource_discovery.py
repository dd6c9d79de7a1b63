"""The discovery chain (RFC 9728 then RFC 8414), driven by hand with scripted responses."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

import oauth2_core as oc

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
RS = "https://rs.example/mcp"
AS = "https://as.example"
AS_METADATA = {
    "issuer": AS,
    "authorization_endpoint": f"{AS}/authorize",
    "token_endpoint": f"{AS}/token",
    "registration_endpoint": f"{AS}/register",
    "code_challenge_methods_supported": ["S256"],
}
CHALLENGE = oc.parse_bearer_challenge(
    'Bearer error="invalid_token", '
    'resource_metadata="https://rs.example/.well-known/oauth-protected-resource/mcp", '
    'scope="files:read"'
)[0]


def json_response(data: object, status: int = 200) -> oc.HttpResponse:
    return oc.HttpResponse(
        status, {"content-type": "application/json"}, json.dumps(data).encode(), T0
    )


def not_found() -> oc.HttpResponse:
    return oc.HttpResponse(404, {"content-type": "text/plain"}, b"not found", T0)


def drive(
    flow: oc.Flow[tuple[oc.ResourceMetadata, oc.ServerMetadata]],
    answers: dict[str, oc.HttpResponse],
) -> tuple[tuple[oc.ResourceMetadata, oc.ServerMetadata], list[str]]:
    """Answer each request by URL; return the flow's value and the URLs asked, in order."""
    asked: list[str] = []
    send = next(flow)
    while True:
        asked.append(send.request.url)
        assert send.request.method == "GET"
        response = answers.get(send.request.url, not_found())
        try:
            send = flow.send(response)
        except StopIteration as stop:
            return stop.value, asked


def urls(*pairs: tuple[str, object]) -> Iterator[tuple[str, oc.HttpResponse]]:
    for url, data in pairs:
        yield url, json_response(data)


def test_chain_with_the_challenge_url() -> None:
    answers = dict(
        urls(
            (CHALLENGE.resource_metadata or "", {"resource": RS, "authorization_servers": [AS]}),
            (f"{AS}/.well-known/oauth-authorization-server", AS_METADATA),
        )
    )
    (rm, server), asked = drive(oc.resource_discovery_flow(RS, challenge=CHALLENGE), answers)
    assert asked == [
        "https://rs.example/.well-known/oauth-protected-resource/mcp",
        "https://as.example/.well-known/oauth-authorization-server",
    ]
    assert rm.resource == RS
    assert server.issuer == AS
    assert server.registration_endpoint == f"{AS}/register"


def test_chain_without_a_challenge_falls_back_to_the_root_then_oidc() -> None:
    """Path-inserted URL 404 -> root well-known (MCP spec); RFC 8414 404 -> OIDC."""
    answers = dict(
        urls(
            (
                "https://rs.example/.well-known/oauth-protected-resource",
                {"resource": "https://rs.example/", "authorization_servers": [f"{AS}/tenant"]},
            ),
            (
                f"{AS}/tenant/.well-known/openid-configuration",
                {**AS_METADATA, "issuer": f"{AS}/tenant"},
            ),
        )
    )
    (rm, server), asked = drive(oc.resource_discovery_flow(RS), answers)
    assert asked == [
        "https://rs.example/.well-known/oauth-protected-resource/mcp",
        "https://rs.example/.well-known/oauth-protected-resource",
        "https://as.example/.well-known/oauth-authorization-server/tenant",
        "https://as.example/tenant/.well-known/openid-configuration",
    ]
    assert rm.resource == "https://rs.example/"  # the parent the server published
    assert server.issuer == f"{AS}/tenant"


def test_strict_chain_refuses_the_parent_resource() -> None:
    answers = dict(urls((CHALLENGE.resource_metadata or "", {"resource": "https://rs.example"})))
    flow = oc.resource_discovery_flow(RS, challenge=CHALLENGE, allow_parent_resource=False)
    with pytest.raises(oc.MalformedResponseError) as info:
        drive(flow, answers)
    assert info.value.field == "resource"


def test_chain_refuses_metadata_for_another_resource() -> None:
    """RFC 9728 §3.3: a metadata document about https://evil.example is never used."""
    answers = dict(
        urls(
            (
                CHALLENGE.resource_metadata or "",
                {"resource": "https://evil.example/mcp", "authorization_servers": [AS]},
            )
        )
    )
    with pytest.raises(oc.MalformedResponseError, match=r"RFC 9728 §3\.3"):
        drive(oc.resource_discovery_flow(RS, challenge=CHALLENGE), answers)


def test_a_server_error_is_final_no_fallback() -> None:
    """Only a 404 moves on: an outage never silently switches to another document."""
    answers = {
        "https://rs.example/.well-known/oauth-protected-resource/mcp": json_response({}, 503)
    }
    flow = oc.resource_discovery_flow(RS)
    with pytest.raises(oc.EndpointError) as info:
        drive(flow, answers)
    assert info.value.status == 503


def test_challenge_url_404_is_final() -> None:
    with pytest.raises(oc.EndpointError) as info:
        drive(oc.resource_discovery_flow(RS, challenge=CHALLENGE), {})
    assert info.value.status == 404


def test_chosen_server_must_be_listed() -> None:
    document = {"resource": RS, "authorization_servers": [AS, "https://as2.example"]}
    answers = dict(
        urls(
            (CHALLENGE.resource_metadata or "", document),
            (
                "https://as2.example/.well-known/oauth-authorization-server",
                {"issuer": "https://as2.example"},
            ),
        )
    )
    (_, server), _ = drive(
        oc.resource_discovery_flow(RS, challenge=CHALLENGE, issuer="https://as2.example"), answers
    )
    assert server.issuer == "https://as2.example"
    with pytest.raises(oc.UsageError, match="authorization_servers"):
        drive(
            oc.resource_discovery_flow(RS, challenge=CHALLENGE, issuer="https://evil.example"),
            answers,
        )


def test_metadata_without_authorization_servers() -> None:
    answers = dict(urls((CHALLENGE.resource_metadata or "", {"resource": RS})))
    with pytest.raises(oc.MalformedResponseError) as info:
        drive(oc.resource_discovery_flow(RS, challenge=CHALLENGE), answers)
    assert info.value.field == "authorization_servers"


def test_issuer_mismatch_is_refused() -> None:
    answers = dict(
        urls(
            (CHALLENGE.resource_metadata or "", {"resource": RS, "authorization_servers": [AS]}),
            (
                f"{AS}/.well-known/oauth-authorization-server",
                {**AS_METADATA, "issuer": "https://evil.example"},
            ),
        )
    )
    with pytest.raises(oc.IssuerMismatchError):
        drive(oc.resource_discovery_flow(RS, challenge=CHALLENGE), answers)


@pytest.mark.parametrize(
    ("resource_url", "challenge_url", "server"),
    [
        ("http://rs.example/mcp", None, AS),
        (RS, "http://rs.example/.well-known/oauth-protected-resource/mcp", AS),
        (RS, None, "http://as.example"),
    ],
)
def test_plain_http_refused_at_every_hop(
    resource_url: str, challenge_url: str | None, server: str
) -> None:
    challenge = (
        oc.parse_bearer_challenge(f'Bearer resource_metadata="{challenge_url}"')[0]
        if challenge_url
        else None
    )
    answers = dict(
        urls(
            (
                "https://rs.example/.well-known/oauth-protected-resource/mcp",
                {"resource": RS, "authorization_servers": [server]},
            )
        )
    )
    with pytest.raises(oc.UsageError, match="plain http"):
        drive(oc.resource_discovery_flow(resource_url, challenge=challenge), answers)


def test_loopback_http_chain() -> None:
    rs = "http://127.0.0.1:8000/mcp"
    answers = dict(
        urls(
            (
                "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp",
                {"resource": rs, "authorization_servers": ["http://127.0.0.1:9000"]},
            ),
            (
                "http://127.0.0.1:9000/.well-known/oauth-authorization-server",
                {"issuer": "http://127.0.0.1:9000"},
            ),
        )
    )
    (rm, server), _ = drive(oc.resource_discovery_flow(rs), answers)
    assert (rm.resource, server.issuer) == (rs, "http://127.0.0.1:9000")


def test_select_authorization_server() -> None:
    rm = oc.ResourceMetadata("https://rs", authorization_servers=["https://a", "https://b"])
    assert oc.select_authorization_server(rm) == "https://a"
    assert oc.select_authorization_server(rm, "https://b") == "https://b"
    with pytest.raises(oc.UsageError):
        oc.select_authorization_server(rm, "https://c")


@pytest.mark.parametrize("endpoint", ["token_endpoint", "registration_endpoint"])
def test_plain_http_endpoints_in_the_server_metadata_are_refused(endpoint: str) -> None:
    """Refused as the chain's last step, before anyone registers or meets the user."""
    answers = dict(
        urls(
            (
                "https://rs.example/.well-known/oauth-protected-resource/mcp",
                {"resource": RS, "authorization_servers": [AS]},
            ),
            (
                f"{AS}/.well-known/oauth-authorization-server",
                {**AS_METADATA, endpoint: f"http://elsewhere.example/{endpoint}"},
            ),
        )
    )
    with pytest.raises(oc.InsecureHttpError, match="plain http") as caught:
        drive(oc.resource_discovery_flow(RS, challenge=CHALLENGE), answers)
    assert caught.value.what == endpoint
    flow = oc.resource_discovery_flow(RS, challenge=CHALLENGE, allow_insecure_http=True)
    (_, server), _ = drive(flow, answers)  # the explicit opt-out
    assert getattr(server, endpoint) == f"http://elsewhere.example/{endpoint}"
