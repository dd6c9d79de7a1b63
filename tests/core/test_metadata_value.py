"""ServerMetadata (RFC 8414 §2, §3.2; OpenID Connect Discovery 1.0 §3)."""

from __future__ import annotations

import json

import pytest

import oauth2_core as oc

DOCUMENT = {
    "issuer": "https://as.example",
    "authorization_endpoint": "https://as.example/authorize",
    "token_endpoint": "https://as.example/token",
    "scopes_supported": ["openid", "email"],
    "code_challenge_methods_supported": ["S256"],
    "authorization_response_iss_parameter_supported": True,
    "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as.example/token"},
    "x_custom": {"a": [1, None]},
    "frontchannel_logout_supported": True,
}


def test_from_dict_models_known_members_and_keeps_the_rest() -> None:
    server = oc.ServerMetadata.from_dict(DOCUMENT)
    assert server.issuer == "https://as.example"
    assert server.token_endpoint == "https://as.example/token"
    assert server.scopes_supported == ("openid", "email")
    assert server.authorization_response_iss_parameter_supported is True
    assert server.mtls_endpoint_aliases == {"token_endpoint": "https://mtls.as.example/token"}
    assert dict(server.extra) == {
        "x_custom": {"a": [1, None]},
        "frontchannel_logout_supported": True,
    }
    assert server.to_dict() == DOCUMENT
    assert json.loads(json.dumps(server.to_dict())) == DOCUMENT


def test_extra_is_read_only() -> None:
    server = oc.ServerMetadata.from_dict(DOCUMENT)
    with pytest.raises(TypeError):
        server.extra["x"] = 1  # type: ignore[index]


def test_null_members_count_as_absent() -> None:
    server = oc.ServerMetadata.from_dict(
        {"issuer": "https://as.example", "token_endpoint": None, "scopes_supported": None,
         "require_pushed_authorization_requests": None}
    )  # fmt: skip
    assert server.token_endpoint is None and server.scopes_supported is None
    assert server.require_pushed_authorization_requests is False
    assert server.to_dict() == {"issuer": "https://as.example"}


def test_minimal_construction_by_hand() -> None:
    server = oc.ServerMetadata("https://as.example")
    assert server.to_dict() == {"issuer": "https://as.example"}
    assert server == oc.ServerMetadata.from_dict({"issuer": "https://as.example"})


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "issuer"),
        ({"issuer": ""}, "issuer"),
        ({"issuer": 5}, "issuer"),
        ({"issuer": "https://a", "token_endpoint": 5}, "token_endpoint"),
        ({"issuer": "https://a", "scopes_supported": "openid"}, "scopes_supported"),
        ({"issuer": "https://a", "scopes_supported": [1]}, "scopes_supported"),
        (
            {"issuer": "https://a", "authorization_response_iss_parameter_supported": "true"},
            "authorization_response_iss_parameter_supported",
        ),
        ({"issuer": "https://a", "mtls_endpoint_aliases": ["x"]}, "mtls_endpoint_aliases"),
        ({"issuer": "https://a", "mtls_endpoint_aliases": {"a": 1}}, "mtls_endpoint_aliases"),
    ],
)
def test_wrongly_typed_known_member_names_the_field(
    document: dict[str, object], field: str
) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.ServerMetadata.from_dict(document)
    assert info.value.field == field
    assert field in str(info.value)


@pytest.mark.parametrize("document", [None, [], "issuer"])
def test_from_dict_needs_a_mapping(document: object) -> None:
    with pytest.raises(oc.MalformedResponseError):
        oc.ServerMetadata.from_dict(document)  # type: ignore[arg-type]


def test_non_string_keys_are_ignored() -> None:
    server = oc.ServerMetadata.from_dict({"issuer": "https://a", 5: "x"})  # type: ignore[dict-item]
    assert dict(server.extra) == {}
