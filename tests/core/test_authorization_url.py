"""authorization_url and new_pending_authorization (RFC 6749 §4.1.1, RFC 7636 §4.3)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

import oauth2_core as oc

SERVER = oc.ServerMetadata(
    issuer="https://as.example", authorization_endpoint="https://as.example/authorize"
)
CLIENT = oc.Client("app", "s3cr3t", redirect_uri="https://app.example/cb")
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
PENDING = oc.new_pending_authorization(CLIENT, state="st", code_verifier=VERIFIER, nonce="nn")


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_defaults_send_pkce_s256_and_state() -> None:
    query = dict(_query(oc.authorization_url(SERVER, CLIENT, PENDING)))
    assert query == {
        "response_type": "code",
        "client_id": "app",
        "redirect_uri": "https://app.example/cb",
        "state": "st",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }


def test_plain_challenge_method() -> None:
    pending = oc.new_pending_authorization(
        CLIENT, state="st", code_verifier=VERIFIER, code_challenge_method="plain"
    )
    query = dict(_query(oc.authorization_url(SERVER, CLIENT, pending)))
    assert query["code_challenge"] == VERIFIER and query["code_challenge_method"] == "plain"


def test_pkce_off_sends_no_challenge() -> None:
    pending = oc.new_pending_authorization(CLIENT, pkce=False)
    assert pending.code_verifier is None
    names = {k for k, _ in _query(oc.authorization_url(SERVER, CLIENT, pending))}
    assert "code_challenge" not in names and "code_challenge_method" not in names


def test_endpoint_query_is_kept() -> None:
    server = oc.ServerMetadata(
        issuer="https://as.example",
        authorization_endpoint="https://as.example/authorize?tenant=t1&p=B2C_1_signin",
    )
    url = oc.authorization_url(server, CLIENT, PENDING)
    query = _query(url)
    assert query[:2] == [("tenant", "t1"), ("p", "B2C_1_signin")]
    assert ("client_id", "app") in query
    assert urlsplit(url).path == "/authorize"


@pytest.mark.parametrize(
    "name",
    [
        "state",
        "client_id",
        "redirect_uri",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "response_type",
    ],
)
def test_keyword_colliding_with_library_parameter_is_refused(name: str) -> None:
    with pytest.raises(oc.UsageError, match=name):
        oc.authorization_url(SERVER, CLIENT, PENDING, **{name: "x"})


def test_list_values_repeat_the_parameter() -> None:
    # RFC 8707 §2: several resource parameters.
    url = oc.authorization_url(SERVER, CLIENT, PENDING, resource=["a", "b"])
    assert [v for k, v in _query(url) if k == "resource"] == ["a", "b"]


def test_extra_parameter_values_are_sent_verbatim() -> None:
    url = oc.authorization_url(
        SERVER,
        CLIENT,
        PENDING,
        prompt="consent",
        login_hint="a+b@ex ample.com&x=y#z",
        ui_locales="fr-CA ü",
        max_age=0,
        skip=None,
        flag=True,
    )
    query = _query(url)
    assert ("prompt", "consent") in query
    assert ("login_hint", "a+b@ex ample.com&x=y#z") in query
    assert ("ui_locales", "fr-CA ü") in query
    assert ("max_age", "0") in query
    assert ("flag", "true") in query
    assert "skip" not in dict(query)
    assert "+" not in urlsplit(url).query.replace("%2B", "")  # spaces as %20, never "+"


def test_nonce_only_when_openid_in_scope() -> None:
    with_openid = dict(_query(oc.authorization_url(SERVER, CLIENT, PENDING, scope="openid email")))
    assert with_openid["nonce"] == "nn"
    assert with_openid["scope"] == "openid email"
    without = dict(_query(oc.authorization_url(SERVER, CLIENT, PENDING, scope="email")))
    assert "nonce" not in without
    # "openidx" is not "openid": scope is compared token by token.
    lookalike = dict(_query(oc.authorization_url(SERVER, CLIENT, PENDING, scope="openidx")))
    assert "nonce" not in lookalike


def test_scope_as_list_and_from_pending() -> None:
    url = oc.authorization_url(SERVER, CLIENT, PENDING, scope=["openid", "profile"])
    assert dict(_query(url))["scope"] == "openid profile"
    pending = oc.new_pending_authorization(CLIENT, scope=["a", "b"])
    assert dict(_query(oc.authorization_url(SERVER, CLIENT, pending)))["scope"] == "a b"


def test_authorization_details_sent_as_json() -> None:
    # RFC 9396 §2: authorization_details is a JSON array.
    details = [{"type": "payment_initiation", "instructedAmount": {"currency": "EUR"}}]
    url = oc.authorization_url(SERVER, CLIENT, PENDING, authorization_details=details)
    assert json.loads(dict(_query(url))["authorization_details"]) == details


def test_redirect_uri_from_pending_overrides_client_default() -> None:
    pending = oc.new_pending_authorization(CLIENT, redirect_uri="https://app.example/other")
    query = dict(_query(oc.authorization_url(SERVER, CLIENT, pending)))
    assert query["redirect_uri"] == "https://app.example/other"


def test_no_redirect_uri_anywhere_sends_none() -> None:
    client = oc.Client("app")
    pending = oc.new_pending_authorization(client)
    assert "redirect_uri" not in dict(_query(oc.authorization_url(SERVER, client, pending)))


def test_par_request_uri_sends_only_client_id_and_request_uri() -> None:
    # RFC 9126 §4.
    url = oc.authorization_url(SERVER, CLIENT, PENDING, request_uri="urn:ietf:params:oauth:x")
    assert _query(url) == [("client_id", "app"), ("request_uri", "urn:ietf:params:oauth:x")]


@pytest.mark.parametrize(
    "endpoint",
    [None, "/authorize", "https://as.example/authorize#frag", "ftp://as.example/a", "https://[::1"],
)
def test_bad_authorization_endpoint_is_a_usage_error(endpoint: str | None) -> None:
    server = oc.ServerMetadata("https://as.example", authorization_endpoint=endpoint)
    with pytest.raises(oc.UsageError):
        oc.authorization_url(server, CLIENT, PENDING)


@pytest.mark.parametrize("value", [b"bytes", 1.5, object(), [1.5]])
def test_unsendable_parameter_value_is_a_usage_error(value: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.authorization_url(SERVER, CLIENT, PENDING, thing=value)


def test_new_pending_authorization_generates_fresh_secrets() -> None:
    first = oc.new_pending_authorization(CLIENT)
    second = oc.new_pending_authorization(CLIENT)
    assert first.state != second.state
    assert first.code_verifier != second.code_verifier
    assert first.nonce != second.nonce
    assert first.redirect_uri == "https://app.example/cb"
    assert first.code_challenge_method == "S256"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code_verifier": "too-short"},
        {"code_verifier": "x" * 129},
        {"code_verifier": "!" * 43},
        {"pkce": False, "code_verifier": VERIFIER},
        {"state": ""},
        {"nonce": ""},
        {"code_challenge_method": "S512"},
        {"scope": ["has space"]},
    ],
)
def test_new_pending_authorization_rejects_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(oc.UsageError):
        oc.new_pending_authorization(CLIENT, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "saved",
    [
        "not a mapping",
        {},
        {"state": "s"},
        {"state": "s", "nonce": ""},
        {"state": "s", "nonce": "n", "code_verifier": 5},
        {"state": "s", "nonce": "n", "code_challenge_method": "S512"},
    ],
)
def test_pending_from_dict_rejects_what_it_did_not_save(saved: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.PendingAuthorization.from_dict(saved)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "endpoint",
    ["http://as.example/authorize", "http://10.0.0.1/authorize", "http://[2001:db8::1]/a"],
)
def test_plain_http_authorization_endpoint_is_refused(endpoint: str) -> None:
    """RFC 9700 §2.6: state, challenge and scope would cross the network in the clear."""
    server = oc.ServerMetadata("https://as.example", authorization_endpoint=endpoint)
    with pytest.raises(oc.UsageError, match="allow_insecure_http"):
        oc.authorization_url(server, CLIENT, PENDING)
    lax = oc.Client(
        "app", "s3cr3t", redirect_uri="https://app.example/cb", allow_insecure_http=True
    )
    assert oc.authorization_url(server, lax, PENDING).startswith(endpoint + "?")


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:8080/authorize", "http://[::1]/authorize", "http://localhost/a"]
)
def test_loopback_http_authorization_endpoint_is_allowed(endpoint: str) -> None:
    server = oc.ServerMetadata("http://127.0.0.1", authorization_endpoint=endpoint)
    assert oc.authorization_url(server, CLIENT, PENDING).startswith(endpoint + "?")


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb",
        "http://127.0.0.1:53412/cb",  # RFC 8252 §7.3: loopback listener, any port
        "http://[::1]:8000/",
        "http://localhost/cb",
        "com.example.app:/oauth2redirect",  # RFC 8252 §7.1: private-use scheme
    ],
)
def test_acceptable_redirect_uris(uri: str) -> None:
    pending = oc.new_pending_authorization(CLIENT, redirect_uri=uri)
    assert ("redirect_uri", uri) in _query(oc.authorization_url(SERVER, CLIENT, pending))


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://app.example/cb", "allow_insecure_http"),
        ("http://192.168.1.10/cb", "allow_insecure_http"),
        ("/cb", "absolute"),
        ("app.example/cb", "absolute"),
        ("https://app.example/cb#frag", "fragment"),
        ("https://app.example/cb#", "fragment"),
        ("https:///cb", "no host"),
        ("https://[::1/cb", "read differently"),
        # Parser differentials (issue 12): a browser reads these hosts as attacker.example.
        ("http://attacker.example\\@127.0.0.1/cb", "backslash"),
        ("http://attacker.example@127.0.0.1/cb", "user information"),
        ("http://127.0.0.1\t.attacker.example/cb", "control"),
        ("http://127.1/cb", "dotted-quad"),
        ("http:127.0.0.1/cb", "'//'"),
        ("http://localhost./cb", "read differently"),
        ("javascript:alert(1)//", "'javascript' scheme"),
        ("data:text/html,x", "'data' scheme"),
    ],
)
def test_unsafe_redirect_uri_is_refused_before_anything_is_sent(uri: str, message: str) -> None:
    """RFC 6749 §3.1.2 (absolute, no fragment) and RFC 9700 §2.6 / RFC 8252 §8.3
    (plain http only to loopback): refused when the attempt starts, and again when a
    restored pending authorization is turned into a URL or a PAR request."""
    with pytest.raises(oc.UsageError, match=message):
        oc.new_pending_authorization(CLIENT, redirect_uri=uri)
    with pytest.raises(oc.UsageError, match=message):
        oc.new_pending_authorization(oc.Client("app", redirect_uri=uri))
    restored = oc.PendingAuthorization.from_dict({**PENDING.to_dict(), "redirect_uri": uri})
    with pytest.raises(oc.UsageError, match=message):
        oc.authorization_url(SERVER, CLIENT, restored)
    par_server = oc.ServerMetadata(
        "https://as.example", pushed_authorization_request_endpoint="https://as.example/par"
    )
    with pytest.raises(oc.UsageError, match=message):
        oc.pushed_authorization_request(par_server, CLIENT, restored)


def test_plain_http_redirect_uri_allowed_with_the_per_client_opt_out() -> None:
    lax = oc.Client("app", redirect_uri="http://app.example/cb", allow_insecure_http=True)
    pending = oc.new_pending_authorization(lax)
    assert ("redirect_uri", "http://app.example/cb") in _query(
        oc.authorization_url(SERVER, lax, pending)
    )
