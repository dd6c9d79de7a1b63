"""Resource-first decisions: first scope, step-up, registration (oauth2_core.resource_auth)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

RM = oc.ResourceMetadata(
    "https://rs.example/mcp",
    authorization_servers=["https://as.example"],
    scopes_supported=["mcp:tools"],
)
SERVER = oc.ServerMetadata(
    issuer="https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
    scopes_supported=("mcp:tools", "mcp:admin"),
)

scopes = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=4).map(tuple)


def _challenges(value: str) -> list[oc.BearerChallenge]:
    return oc.parse_www_authenticate(value)


def test_first_scope_is_the_challenges_else_scopes_supported() -> None:
    ch = _challenges('Bearer scope="files:read", resource_metadata="https://rs.example/m"')[0]
    assert oc.first_access_request(ch, RM).scope == ("files:read",)
    bare = _challenges('Bearer resource_metadata="https://rs.example/m"')[0]
    assert oc.first_access_request(bare, RM).scope == ("mcp:tools",)
    assert oc.first_access_request(None, oc.ResourceMetadata("https://rs")).scope is None


def test_insufficient_scope_asks_for_the_union() -> None:
    ch = _challenges('Bearer error="insufficient_scope", scope="mcp:admin"')
    new = oc.step_up(403, ch, asked=oc.AccessRequest(scope="mcp:tools"), granted=("mcp:tools",))
    assert new == oc.AccessRequest(scope=("mcp:tools", "mcp:admin"))
    assert new.params() == {"scope": "mcp:tools mcp:admin"}


def test_insufficient_user_authentication_asks_for_acr_and_max_age() -> None:
    """RFC 9470 §3: acr_values and max_age from the challenge, scope kept."""
    ch = _challenges(
        'Bearer error="insufficient_user_authentication", acr_values="urn:mfa", max_age="5"'
    )
    new = oc.step_up(401, ch, asked=oc.AccessRequest(scope="read"))
    assert new == oc.AccessRequest(scope=("read",), acr_values=("urn:mfa",), max_age=5)
    assert new.params() == {"scope": "read", "acr_values": "urn:mfa", "max_age": "5"}


def test_a_dpop_challenge_steps_up_like_a_bearer_one() -> None:
    """RFC 9449 §7.1: a DPoP-bound token is refused with a DPoP challenge, same error codes."""
    ch = _challenges('DPoP algs="ES256", error="insufficient_scope", scope="mcp:admin"')
    new = oc.step_up(403, ch, asked=oc.AccessRequest(scope="mcp:tools"), granted=("mcp:tools",))
    assert new == oc.AccessRequest(scope=("mcp:tools", "mcp:admin"))
    ch = _challenges('DPoP error="insufficient_user_authentication", acr_values="urn:mfa"')
    assert oc.step_up(401, ch, asked=None) == oc.AccessRequest(acr_values=("urn:mfa",))
    nonce = _challenges('DPoP error="use_dpop_nonce", error_description="x"')
    assert oc.step_up(401, nonce, asked=oc.AccessRequest(scope="a")) is None


@pytest.mark.parametrize(
    ("status", "header"),
    [
        (401, 'Bearer error="invalid_token"'),
        (401, 'Bearer realm="x"'),
        (403, 'Bearer error="insufficient_scope"'),  # no scope named: nothing to ask for
        (401, 'Bearer error="insufficient_scope", scope="x"'),  # RFC 6750: 403, not 401
        (401, 'Bearer error="insufficient_user_authentication"'),
        (401, 'Bearer error="insufficient_user_authentication", max_age="-1"'),
        (403, 'Basic error="insufficient_scope", scope="x"'),
    ],
)
def test_other_answers_are_not_step_ups(status: int, header: str) -> None:
    assert oc.step_up(status, _challenges(header), asked=oc.AccessRequest(scope="a")) is None


@given(asked=scopes, granted=scopes, named=scopes.filter(bool))
def test_step_up_never_asks_twice_for_the_same(
    asked: tuple[str, ...], granted: tuple[str, ...], named: tuple[str, ...]
) -> None:
    """Property: a step-up asks for a superset of what was asked, and repeating it with
    its own answer as ``asked`` gives ``None`` (no loop)."""
    ch = _challenges(f'Bearer error="insufficient_scope", scope="{" ".join(named)}"')
    before = oc.AccessRequest(scope=asked)
    new = oc.step_up(403, ch, asked=before, granted=granted)
    if new is None:
        assert set(named) <= set(asked)
        return
    assert set(asked) | set(named) <= set(new.scope or ())
    assert oc.step_up(403, ch, asked=new, granted=granted) is None


@given(acr=st.sampled_from(["urn:a", "urn:b"]), age=st.integers(0, 10**6))
def test_acr_step_up_is_not_repeated(acr: str, age: int) -> None:
    """Property: after asking for an acr / max_age, the same challenge is no new request."""
    ch = _challenges(
        f'Bearer error="insufficient_user_authentication", acr_values="{acr}", max_age="{age}"'
    )
    new = oc.step_up(401, ch, asked=None)
    assert new is not None
    assert oc.step_up(401, ch, asked=new) is None


def test_registration_metadata_defaults_and_scope_union() -> None:
    metadata = oc.registration_metadata(
        {"client_name": "acme", "redirect_uris": ["http://127.0.0.1/cb"], "scope": "extra"},
        RM,
        SERVER,
        scope=["step"],
    )
    assert metadata["token_endpoint_auth_method"] == "none"
    assert metadata["grant_types"] == ["authorization_code", "refresh_token"]
    assert metadata["response_types"] == ["code"]
    assert metadata["scope"] == "extra mcp:tools mcp:admin"  # "step": not a server scope
    confidential = oc.registration_metadata({"token_endpoint_auth_method": "x"}, RM, SERVER)
    assert confidential["token_endpoint_auth_method"] == "x"
    with pytest.raises(oc.UsageError):
        oc.registration_metadata({1: 2}, RM, SERVER)  # type: ignore[dict-item]


def test_invalid_scope_calls_for_a_new_registration_only_when_it_could_help() -> None:
    refused = oc.AuthorizationError("invalid_scope", None, None)
    assert oc.needs_new_registration(refused, {"scope": "a"}, ("a", "b"))
    assert not oc.needs_new_registration(refused, {"scope": "a b"}, ("a", "b"))
    denied = oc.AuthorizationError("access_denied", None, None)
    assert not oc.needs_new_registration(denied, {"scope": "a"}, ("a", "b"))


def test_client_id_metadata_document_support() -> None:
    assert not oc.supports_client_id_metadata_document(SERVER)
    cimd = oc.ServerMetadata.from_dict(
        {**SERVER.to_dict(), "client_id_metadata_document_supported": True}
    )
    assert oc.supports_client_id_metadata_document(cimd)


@pytest.mark.parametrize(
    ("resource", "url", "covered"),
    [
        ("https://rs/api", "https://rs/api", True),
        ("https://rs/api", "https://rs/api/x?y=1", True),
        ("https://rs/", "https://rs/anything", True),
        ("https://rs/api", "https://rs/apix", False),
        ("https://rs/api", "https://other/api", False),
        ("https://rs/api", "http://rs/api", False),
    ],
)
def test_resource_covers(resource: str, url: str, covered: bool) -> None:
    assert oc.resource_covers(resource, url) is covered


def test_bad_values_are_usage_errors() -> None:
    with pytest.raises(oc.UsageError):
        oc.AccessRequest(max_age=-1)
    with pytest.raises(oc.UsageError):
        oc.AccessRequest(scope=[1])  # type: ignore[list-item]


def test_registration_leaves_out_scopes_the_server_does_not_list() -> None:
    """node oidc-provider refuses a registration naming scopes it does not support."""
    rm = oc.ResourceMetadata("https://rs", scopes_supported=["resource:read"])
    server = oc.ServerMetadata.from_dict({**SERVER.to_dict(), "scopes_supported": ["openid"]})
    assert oc.registration_metadata({}, rm, server)["scope"] == "openid"
    silent = oc.ServerMetadata.from_dict(
        {k: v for k, v in SERVER.to_dict().items() if k != "scopes_supported"}
    )
    assert oc.registration_metadata({}, rm, silent)["scope"] == "resource:read"


def test_a_max_age_asked_before_is_asked_again_once_the_authorization_is_older() -> None:
    """RFC 9470 §3: max_age is relative to now; the loop guard is the authorization's age."""
    ch = _challenges('Bearer error="insufficient_user_authentication", max_age="300"')
    asked = oc.AccessRequest(scope="read", max_age=300)
    assert oc.step_up(401, ch, asked=asked, age=10) is None  # just authorized: a loop
    assert oc.step_up(401, ch, asked=asked) is None  # age unknown: never repeated
    assert oc.step_up(401, ch, asked=asked, age=301) == asked
    acr = _challenges('Bearer error="insufficient_user_authentication", acr_values="gold"')
    gold = oc.AccessRequest(scope="read", acr_values="gold")
    assert oc.step_up(401, acr, asked=gold, age=10_000) is None  # age matters for max_age only
