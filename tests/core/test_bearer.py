"""Bearer token usage (RFC 6750 §2) and WWW-Authenticate challenges (RFC 9110 §11.6.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

TOKEN = "mF_9.B5f-4.1JqM"  # RFC 6750 §2 examples


def get(url: str = "https://server.example.com/resource") -> oc.HttpRequest:
    return oc.HttpRequest("GET", url, {"accept": "application/json"})


# --- bearer_authorize ----------------------------------------------------------------------


def test_header_rfc_6750_2_1_example() -> None:
    request = oc.bearer_authorize(get(), TOKEN)
    assert request.headers["authorization"] == "Bearer mF_9.B5f-4.1JqM"
    assert request.headers["accept"] == "application/json"
    assert request.url == "https://server.example.com/resource"
    assert TOKEN not in repr(request)


def test_header_is_the_default_and_replaces_an_old_one() -> None:
    old = oc.HttpRequest("GET", "https://rs/x", {"Authorization": "Bearer old"})
    request = oc.bearer_authorize(old, oc.Token(TOKEN))
    assert request.headers.get_all("authorization") == [f"Bearer {TOKEN}"]
    assert old.headers["authorization"] == "Bearer old"  # the input is unchanged


def test_body_rfc_6750_2_2_example() -> None:
    post = oc.HttpRequest(
        "POST",
        "https://server.example.com/resource",
        {"content-type": "application/x-www-form-urlencoded"},
    )
    request = oc.bearer_authorize(post, TOKEN, method="body")
    assert request.body == b"access_token=mF_9.B5f-4.1JqM"
    assert "authorization" not in request.headers


def test_body_is_appended_to_a_form_body() -> None:
    post = oc.HttpRequest(
        "PUT",
        "https://rs/x",
        {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"a=1&b=%2B",
    )
    request = oc.bearer_authorize(post, TOKEN, method="body")
    assert request.body == b"a=1&b=%2B&access_token=mF_9.B5f-4.1JqM"


def test_body_on_an_empty_request_sets_the_content_type() -> None:
    request = oc.bearer_authorize(oc.HttpRequest("POST", "https://rs/x"), TOKEN, method="body")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body == b"access_token=mF_9.B5f-4.1JqM"


@pytest.mark.parametrize(
    "request_",
    [
        oc.HttpRequest("GET", "https://rs/x"),  # §2.2: GET MUST NOT be used
        oc.HttpRequest("HEAD", "https://rs/x"),
        oc.HttpRequest("POST", "https://rs/x", {"content-type": "application/json"}, b"{}"),
        oc.HttpRequest("POST", "https://rs/x", {}, b"a=1"),  # a body of unknown type
        oc.HttpRequest(
            "POST",
            "https://rs/x",
            {"content-type": "application/x-www-form-urlencoded"},
            "é=1".encode(),
        ),
        oc.HttpRequest(
            "POST",
            "https://rs/x",
            {"content-type": "application/x-www-form-urlencoded"},
            b"access_token=other",
        ),
    ],
)
def test_body_refusals(request_: oc.HttpRequest) -> None:
    with pytest.raises(oc.UsageError):
        oc.bearer_authorize(request_, TOKEN, method="body")


def test_query_rfc_6750_2_3_example() -> None:
    request = oc.bearer_authorize(get(), TOKEN, method="query")
    assert request.url == "https://server.example.com/resource?access_token=mF_9.B5f-4.1JqM"
    assert request.headers["cache-control"] == "no-store"  # §2.3 SHOULD


def test_query_keeps_the_existing_query_and_fragment() -> None:
    request = oc.bearer_authorize(get("https://rs/x?a=1#top"), TOKEN, method="query")
    assert request.url == "https://rs/x?a=1&access_token=mF_9.B5f-4.1JqM#top"
    with pytest.raises(oc.UsageError):
        oc.bearer_authorize(get("https://rs/x?access_token=z"), TOKEN, method="query")


@pytest.mark.parametrize("token_type", ["DPoP", "N_A", "mac"])
def test_non_bearer_tokens_are_refused(token_type: str) -> None:
    token = oc.Token("secret-token-value", token_type=token_type)
    with pytest.raises(oc.UsageError) as info:
        oc.bearer_authorize(get(), token)
    assert "secret-token-value" not in str(info.value)


def test_token_type_is_case_insensitive() -> None:
    request = oc.bearer_authorize(get(), oc.Token(TOKEN, token_type="bearer"))
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("value", ["", "tok en", "tok\r\nX-Evil: 1", "t\u00e9"])
def test_tokens_that_cannot_be_sent_are_refused(value: str) -> None:
    with pytest.raises(oc.UsageError) as info:
        oc.bearer_authorize(get(), value)
    if value:
        assert value not in str(info.value)


def test_bad_arguments() -> None:
    with pytest.raises(oc.UsageError):
        oc.bearer_authorize(get(), TOKEN, method="cookie")  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        oc.bearer_authorize("https://rs", TOKEN)  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        oc.bearer_authorize(get(), 42)  # type: ignore[arg-type]


# --- WWW-Authenticate --------------------------------------------------------------------


def test_rfc_6750_3_example_realm_only() -> None:
    [challenge] = oc.parse_www_authenticate('Bearer realm="example"')
    assert challenge == oc.BearerChallenge(
        scheme="Bearer", realm="example", params={"realm": "example"}
    )


def test_rfc_6750_3_example_invalid_token() -> None:
    value = (
        'Bearer realm="example", error="invalid_token", '
        'error_description="The access token expired"'
    )
    [challenge] = oc.parse_bearer_challenge(value)
    assert challenge.realm == "example"
    assert challenge.error == "invalid_token"
    assert challenge.error_description == "The access token expired"
    assert challenge.error_uri is None
    assert challenge.scope is None


def test_insufficient_scope_with_scope() -> None:
    [challenge] = oc.parse_bearer_challenge(
        'Bearer error="insufficient_scope", scope="read write", error_uri="https://e/x"'
    )
    assert challenge.error == "insufficient_scope"
    assert challenge.scope == ("read", "write")
    assert challenge.error_uri == "https://e/x"


def test_several_challenges_in_one_field() -> None:
    value = 'Bearer realm="a", error="invalid_token", DPoP algs="ES256 PS256"'
    challenges = oc.parse_www_authenticate(value)
    assert [c.scheme for c in challenges] == ["Bearer", "DPoP"]
    assert challenges[0].params == {"realm": "a", "error": "invalid_token"}
    assert challenges[1].params == {"algs": "ES256 PS256"}
    assert [c.scheme for c in oc.parse_bearer_challenge(value)] == ["Bearer"]


def test_rfc_9110_11_6_1_example() -> None:
    value = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'
    newauth, basic = oc.parse_www_authenticate(value)
    assert newauth.scheme == "Newauth"
    assert newauth.params == {"realm": "apps", "type": "1", "title": 'Login to "apps"'}
    assert basic.scheme == "Basic"
    assert basic.realm == "simple"


def test_rfc_9449_7_1_dpop_nonce_challenge() -> None:
    [challenge] = oc.parse_www_authenticate(
        'DPoP error="use_dpop_nonce", '
        'error_description="Resource server requires nonce in DPoP proof"'
    )
    assert challenge.scheme == "DPoP"
    assert challenge.error == "use_dpop_nonce"


def test_quoted_strings_may_hold_commas_and_escapes() -> None:
    [challenge] = oc.parse_www_authenticate(
        'Bearer error_description="say \\"hi\\", then \\\\ go", realm=x'
    )
    assert challenge.error_description == 'say "hi", then \\ go'
    assert challenge.realm == "x"


def test_token68() -> None:
    negotiate, bearer = oc.parse_www_authenticate(
        'Negotiate YWxhZGRpbjpvcGVu+/c2FtZQ==, Bearer realm="x"'
    )
    assert negotiate.token68 == "YWxhZGRpbjpvcGVu+/c2FtZQ=="
    assert negotiate.params == {}
    assert bearer.realm == "x"


def test_scheme_and_parameter_names_are_case_insensitive() -> None:
    [challenge] = oc.parse_bearer_challenge('bearer REALM="a", Error=invalid_token')
    assert challenge.scheme == "bearer"
    assert challenge.realm == "a"
    assert challenge.error == "invalid_token"


def test_first_occurrence_of_a_parameter_wins() -> None:
    [challenge] = oc.parse_www_authenticate('Bearer error="a", error="b"')
    assert challenge.error == "a"


def test_repeated_fields_joined_by_headers_parse_like_one() -> None:
    headers = oc.Headers(
        [("WWW-Authenticate", 'Bearer realm="a"'), ("WWW-Authenticate", 'DPoP algs="ES256"')]
    )
    assert [c.scheme for c in oc.parse_www_authenticate(headers["www-authenticate"])] == [
        "Bearer",
        "DPoP",
    ]


def test_quirk_oidc_core_5_3_3_challenge_without_scheme() -> None:
    """OpenID Connect Core §5.3.3's example omits the scheme; keep the parameters anyway."""
    [challenge] = oc.parse_www_authenticate(
        'error="invalid_token", error_description="The Access Token expired"'
    )
    assert challenge.scheme == ""
    assert challenge.error == "invalid_token"
    assert oc.parse_bearer_challenge('error="invalid_token"') == []


@pytest.mark.parametrize(
    ("value", "schemes"),
    [
        ("", []),
        ("   ,, ,", []),
        ("Bearer", ["Bearer"]),
        ("Bearer,", ["Bearer"]),
        ('Bearer realm="unterminated', ["Bearer"]),
        ('"just a string"', []),
        ("Bearer realm=a error=b", ["Bearer"]),
        ("=== , Basic", ["Basic"]),
        ("Basic, Bearer", ["Basic", "Bearer"]),
    ],
)
def test_best_effort_on_odd_input(value: str, schemes: list[str]) -> None:
    assert [c.scheme for c in oc.parse_www_authenticate(value)] == schemes


def test_non_str_is_a_usage_error() -> None:
    with pytest.raises(oc.UsageError):
        oc.parse_www_authenticate(b"Bearer")  # type: ignore[arg-type]
    with pytest.raises(oc.UsageError):
        oc.parse_bearer_challenge(None)  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(st.text())
def test_property_parse_www_authenticate_is_total(value: str) -> None:
    """Any text parses to a list of challenges; nothing but UsageError is ever raised."""
    challenges = oc.parse_www_authenticate(value)
    assert all(isinstance(c, oc.BearerChallenge) for c in challenges)


@given(st.text(alphabet=' ,="\\\t' + "Bearer realm=x" + "abc/+="))
def test_property_total_on_header_shaped_text(value: str) -> None:
    """Text made of the grammar's own characters never trips the parser either."""
    for challenge in oc.parse_www_authenticate(value):
        assert challenge.scheme == "" or all(ch in TCHARS for ch in challenge.scheme)


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


challenge_st = st.tuples(
    st.text(alphabet=TCHARS, min_size=1, max_size=8),
    st.dictionaries(
        st.text(alphabet="abcdefghij_", min_size=1, max_size=6),
        st.text(max_size=12),
        max_size=4,
    ),
)


@given(st.lists(challenge_st, max_size=4))
def test_property_serialized_challenges_round_trip(
    challenges: list[tuple[str, dict[str, str]]],
) -> None:
    """Challenges serialized per RFC 9110 §11.6.1 (quoted values) parse back to the same
    schemes and parameters."""
    text = ", ".join(
        scheme + (" " + ", ".join(f"{k}={quote(v)}" for k, v in params.items()) if params else "")
        for scheme, params in challenges
    )
    parsed = oc.parse_www_authenticate(text)
    assert [(c.scheme, dict(c.params)) for c in parsed] == challenges
