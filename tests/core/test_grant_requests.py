"""Token endpoint request builders, parameters, PKCE (RFC 6749 §4, §6; RFC 7636; RFC 8707)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

import oauth2_core as oc
from oauth2_core._params import add_params, encode_form, scope_string

SERVER = oc.ServerMetadata(issuer="https://as.example", token_endpoint="https://as.example/token")
CLIENT = oc.Client("app", "s3cr3t", redirect_uri="https://app.example/cb")
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def _form(request: oc.HttpRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)


def _code(pending: oc.PendingAuthorization, code: str = "c0de") -> oc.AuthorizationCode:
    return oc.parse_callback({"code": code, "state": pending.state}, server=SERVER, pending=pending)


def test_every_request_is_a_json_accepting_form_post() -> None:
    # GitHub answers form-encoded without Accept: application/json.
    request = oc.client_credentials_grant_request(SERVER, CLIENT)
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"


def test_code_grant_sends_verifier_and_redirect_uri_from_pending() -> None:
    # RFC 7636 §4.5 and RFC 6749 §4.1.3 (redirect_uri when it was in the authorization request).
    pending = oc.new_pending_authorization(
        CLIENT, code_verifier=VERIFIER, redirect_uri="https://app.example/other"
    )
    form = _form(oc.authorization_code_grant_request(SERVER, CLIENT, _code(pending), pending))
    assert form == [
        ("grant_type", "authorization_code"),
        ("code", "c0de"),
        ("redirect_uri", "https://app.example/other"),
        ("code_verifier", VERIFIER),
    ]


def test_code_grant_without_pkce_or_redirect_uri() -> None:
    client = oc.Client("app", "s")
    pending = oc.new_pending_authorization(client, pkce=False)
    form = dict(_form(oc.authorization_code_grant_request(SERVER, client, _code(pending), pending)))
    assert "code_verifier" not in form and "redirect_uri" not in form


def test_code_grant_needs_the_checked_code() -> None:
    pending = oc.new_pending_authorization(CLIENT)
    with pytest.raises(oc.UsageError, match="parse_callback"):
        oc.authorization_code_grant_request(SERVER, CLIENT, "raw-code", pending)  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        oc.authorization_code_grant_request(SERVER, CLIENT, _code(pending), {})  # type: ignore[arg-type]


def test_code_grant_refuses_overriding_its_own_parameters() -> None:
    pending = oc.new_pending_authorization(CLIENT)
    with pytest.raises(oc.UsageError, match="code_verifier"):
        oc.authorization_code_grant_request(
            SERVER, CLIENT, _code(pending), pending, code_verifier="x"
        )


def test_refresh_grant_with_token_or_string_and_narrower_scope() -> None:
    form = _form(oc.refresh_token_grant_request(SERVER, CLIENT, "rt", scope=["a", "b"]))
    assert form == [("grant_type", "refresh_token"), ("refresh_token", "rt"), ("scope", "a b")]
    with pytest.raises(oc.UsageError, match="refresh_token"):
        oc.refresh_token_grant_request(SERVER, CLIENT, oc.Token("at"))
    with pytest.raises(oc.UsageError):
        oc.refresh_token_grant_request(SERVER, CLIENT, "")


def test_password_grant_requires_strings() -> None:
    with pytest.raises(oc.UsageError):
        oc.password_grant_request(SERVER, CLIENT, "alice", None)  # type: ignore[arg-type]


def test_token_request_for_any_grant_type() -> None:
    # RFC 6749 §4.5 extension grants; RFC 8707 repeated resource.
    request = oc.token_request(
        SERVER, CLIENT, "urn:ietf:params:oauth:grant-type:example", resource=["r1", "r2"], n=3
    )
    assert _form(request) == [
        ("grant_type", "urn:ietf:params:oauth:grant-type:example"),
        ("resource", "r1"),
        ("resource", "r2"),
        ("n", "3"),
    ]
    with pytest.raises(oc.UsageError):
        oc.token_request(SERVER, CLIENT, "")
    with pytest.raises(oc.UsageError, match="grant_type"):
        oc.client_credentials_grant_request(SERVER, CLIENT, grant_type="password")


def test_extra_parameters_none_is_left_out_and_json_for_details() -> None:
    details = [{"type": "account_information"}]
    request = oc.client_credentials_grant_request(
        SERVER, CLIENT, scope=None, audience=None, authorization_details=details
    )
    form = dict(_form(request))
    assert "audience" not in form and "scope" not in form
    assert json.loads(form["authorization_details"]) == details


def test_scope_string() -> None:
    assert scope_string(None) is None
    assert scope_string("  a   b ") == "a b"
    assert scope_string(("a", "b")) == "a b"
    assert scope_string(x for x in ["a"]) == "a"
    for bad in (5, b"a b", {"a": 1}, ["a b"], [""], [1]):
        with pytest.raises(oc.UsageError):
            scope_string(bad)


def test_add_params_encodings() -> None:
    params: list[tuple[str, str]] = []
    add_params(
        params,
        {"t": True, "f": False, "i": 7, "s": "x", "l": ("a", "b"), "d": {"k": "v"}, "n": None},
        reserved=(),
    )
    assert params == [
        ("t", "true"),
        ("f", "false"),
        ("i", "7"),
        ("s", "x"),
        ("l", "a"),
        ("l", "b"),
        ("d", '{"k":"v"}'),
    ]
    with pytest.raises(oc.UsageError, match="claims"):
        add_params([], {"claims": {1, 2}}, reserved=())
    with pytest.raises(oc.UsageError):
        add_params([], {"x": 1.5}, reserved=())


def test_encode_form_uses_plus_for_space_and_refuses_non_strings() -> None:
    assert encode_form([("a", "b c"), ("é", "&=")]) == b"a=b+c&%C3%A9=%26%3D"
    with pytest.raises(oc.UsageError, match="'a'"):
        encode_form([("a", 5)])  # type: ignore[list-item]


def test_code_challenge_rejects_bad_input() -> None:
    for bad in ("short", "x" * 129, "é" * 43, " " * 43, None, 43):
        with pytest.raises(oc.UsageError):
            oc.code_challenge(bad)  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        oc.code_challenge(VERIFIER, "S512")
    assert oc.code_challenge(VERIFIER, "plain") == VERIFIER


# --- revocation and introspection beyond the RFC examples ----------------------------------


def test_revocation_and_introspection_refuse_empty_tokens() -> None:
    server = oc.ServerMetadata(
        "https://as.example",
        revocation_endpoint="https://as.example/r",
        introspection_endpoint="https://as.example/i",
    )
    for build in (oc.revocation_request, oc.introspection_request):
        with pytest.raises(oc.UsageError):
            build(server, CLIENT, "")
        with pytest.raises(oc.UsageError):
            build(server, CLIENT, None)  # type: ignore[arg-type]
        with pytest.raises(oc.UsageError, match="client_secret"):
            build(server, CLIENT, "t", client_secret="other")


def test_revocation_without_endpoint_names_it() -> None:
    with pytest.raises(oc.UsageError, match="revocation_endpoint"):
        oc.revocation_request(SERVER, CLIENT, "t")
