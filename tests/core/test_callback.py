"""parse_callback (RFC 6749 §4.1.2, §4.1.2.1, §10.12; RFC 9207; DESIGN §7 check order)."""

from __future__ import annotations

import pytest

import oauth2_core as oc

SERVER = oc.ServerMetadata(issuer="https://as.example")
ISS_SERVER = oc.ServerMetadata(
    issuer="https://as.example", authorization_response_iss_parameter_supported=True
)
CLIENT = oc.Client("app", redirect_uri="https://app.example/cb")
PENDING = oc.new_pending_authorization(CLIENT, state="xyz")


def _parse(callback: object, server: oc.ServerMetadata = SERVER) -> oc.AuthorizationCode:
    return oc.parse_callback(callback, server=server, pending=PENDING)


@pytest.mark.parametrize(
    "callback",
    [
        "https://app.example/cb?code=abc&state=xyz",
        "https://app.example/cb?state=xyz&code=abc",
        "  https://app.example/cb?code=abc&state=xyz\n",
        "/cb?code=abc&state=xyz",
        "code=abc&state=xyz",
        "?code=abc&state=xyz",
        "#code=abc&state=xyz",
        "https://app.example/cb#code=abc&state=xyz",  # response_mode=fragment
        b"https://app.example/cb?code=abc&state=xyz",
        {"code": "abc", "state": "xyz"},  # response_mode=form_post
        {"code": ["abc"], "state": ("xyz",)},
        # RFC 8252 §7.1 private-use scheme redirects (issue 12, item 13)
        "com.example.app:/oauth2redirect?code=abc&state=xyz",
        "com.example.app:oauth2redirect?code=abc&state=xyz",
        "com.example.app:/oauth2redirect#code=abc&state=xyz",
        "my-app+v2.test:/cb?code=abc&state=xyz",
        "http://127.0.0.1:8765/callback?code=abc&state=xyz",
    ],
)
def test_every_callback_shape_is_accepted(callback: object) -> None:
    code = _parse(callback)
    assert (code.code, code.state, code.iss) == ("abc", "xyz", None)


def test_other_parameters_are_kept() -> None:
    code = _parse("https://app.example/cb?code=abc&state=xyz&session_state=s1&x=%20y")
    assert dict(code.params) == {"session_state": "s1", "x": " y"}


def test_percent_encoded_values_are_decoded() -> None:
    pending = oc.new_pending_authorization(CLIENT, state="a b+c/=")
    code = oc.parse_callback(
        "https://app.example/cb?code=c%2Bd&state=a+b%2Bc%2F%3D", server=SERVER, pending=pending
    )
    assert code.code == "c+d"


def test_error_redirect_raises_authorization_error() -> None:
    with pytest.raises(oc.AuthorizationError) as info:
        _parse(
            "https://app.example/cb?error=access_denied&error_description=User+said+no"
            "&error_uri=https%3A%2F%2Fas.example%2Ferr&state=xyz"
        )
    error = info.value
    assert (error.error, error.error_description, error.error_uri) == (
        "access_denied",
        "User said no",
        "https://as.example/err",
    )
    assert "access_denied" in str(error) and "User said no" in str(error)
    assert isinstance(error, oc.CallbackError)


def test_error_redirect_in_fragment() -> None:
    with pytest.raises(oc.AuthorizationError) as info:
        _parse("https://app.example/cb#error=login_required&state=xyz")
    assert info.value.error == "login_required"


@pytest.mark.parametrize(
    "callback",
    [
        "code=abc&state=xyz&code=def",
        "code=abc&state=xyz&state=xyz",
        "code=abc&state=xyz&iss=a&iss=a",
        "code=abc&state=xyz&foo=1&foo=2",
        {"code": ["abc", "def"], "state": "xyz"},
    ],
)
def test_duplicate_parameters_are_refused(callback: object) -> None:
    # RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    with pytest.raises(oc.CallbackValidationError, match="more than once"):
        _parse(callback)


@pytest.mark.parametrize(
    "callback",
    [
        "code=abc&state=xy",
        "code=abc&state=xyzz",
        "code=abc&state=XYZ",
        "code=abc&state=",
        "code=abc",
        "https://app.example/cb",
        "",
        {},
    ],
)
def test_state_mismatch_or_missing_is_refused(callback: object) -> None:
    with pytest.raises(oc.CallbackValidationError, match="state"):
        _parse(callback)


@pytest.mark.parametrize("callback", ["error=access_denied&state=bad", "error=access_denied"])
def test_state_is_checked_before_error(callback: str) -> None:
    # DESIGN §7: a forged error redirect must not be reported as the server's error.
    with pytest.raises(oc.CallbackValidationError):
        _parse(callback)


def test_iss_checked_when_present_even_if_not_advertised() -> None:
    assert _parse("code=abc&state=xyz&iss=https%3A%2F%2Fas.example").iss == "https://as.example"
    with pytest.raises(oc.CallbackValidationError, match="iss"):
        _parse("code=abc&state=xyz&iss=https%3A%2F%2Fevil.example")


def test_iss_required_when_server_advertises_it() -> None:
    # RFC 9207 §2.4: clients MUST reject a response without iss when the server says it sends one.
    with pytest.raises(oc.CallbackValidationError, match="iss"):
        _parse("code=abc&state=xyz", server=ISS_SERVER)
    code = _parse("code=abc&state=xyz&iss=https%3A%2F%2Fas.example", server=ISS_SERVER)
    assert code.iss == "https://as.example"


def test_iss_compared_exactly() -> None:
    # RFC 9207 §2.4: simple string comparison (RFC 3986 §6.2.1).
    for other in ("https://as.example/", "https://AS.example", "https://as.example "):
        with pytest.raises(oc.CallbackValidationError):
            _parse({"code": "abc", "state": "xyz", "iss": other}, server=ISS_SERVER)


def test_iss_mismatch_on_error_redirect_is_a_validation_error() -> None:
    # DESIGN §7: mix-up defence wins over the error the redirect carries.
    with pytest.raises(oc.CallbackValidationError):
        _parse("error=access_denied&state=xyz&iss=https%3A%2F%2Fevil.example")
    with pytest.raises(oc.CallbackValidationError):
        _parse("error=access_denied&state=xyz", server=ISS_SERVER)


def test_check_order_duplicates_then_state_then_iss_then_error() -> None:
    # duplicates beat a bad state
    with pytest.raises(oc.CallbackValidationError, match="more than once"):
        _parse("state=bad&error=x&error=y&iss=evil")
    # a bad state beats a bad iss
    with pytest.raises(oc.CallbackValidationError, match="state"):
        _parse("state=bad&error=x&iss=evil")
    # a bad iss beats the error
    with pytest.raises(oc.CallbackValidationError, match="iss"):
        _parse("state=xyz&error=x&iss=evil")
    # all checks passed: the error is reported
    with pytest.raises(oc.AuthorizationError):
        _parse("state=xyz&error=x&iss=https%3A%2F%2Fas.example")


@pytest.mark.parametrize("callback", ["state=xyz", "state=xyz&code=", "state=xyz&foo=bar"])
def test_no_code_and_no_error_is_refused(callback: str) -> None:
    with pytest.raises(oc.CallbackValidationError, match="code"):
        _parse(callback)


def test_invalid_utf8_bytes_are_a_validation_error() -> None:
    with pytest.raises(oc.CallbackValidationError):
        _parse(b"code=\xff&state=xyz")


def test_too_many_parameters_are_a_validation_error() -> None:
    with pytest.raises(oc.CallbackValidationError):
        _parse("state=xyz&code=c&" + "&".join(f"p{i}=v" for i in range(200)))


@pytest.mark.parametrize(
    "callback", [None, 5, ["code=abc"], {"code": 5, "state": "xyz"}, {1: "x"}, {"state": b"xyz"}]
)
def test_wrong_argument_types_are_usage_errors(callback: object) -> None:
    with pytest.raises(oc.UsageError):
        _parse(callback)


def test_unparseable_url_is_a_validation_error() -> None:
    with pytest.raises(oc.CallbackValidationError):
        _parse("https://[::1/cb?code=abc&state=xyz")


def test_lone_surrogate_state_is_a_mismatch_not_a_crash() -> None:
    with pytest.raises(oc.CallbackValidationError, match="state"):
        _parse({"code": "abc", "state": "\ud800"})


def test_private_use_scheme_redirect_completes_a_native_login() -> None:
    """RFC 8252 §7.1: a redirect URI that check_redirect_uri accepts can be parsed back."""
    native = oc.Client("native", redirect_uri="com.example.app:/oauth2redirect")
    pending = oc.new_pending_authorization(native, state="S1")
    code = oc.parse_callback(
        "com.example.app:/oauth2redirect?code=C1&state=S1", server=SERVER, pending=pending
    )
    assert (code.code, code.state) == ("C1", "S1")
    with pytest.raises(oc.AuthorizationError):
        oc.parse_callback(
            "com.example.app:/oauth2redirect?error=access_denied&state=S1",
            server=SERVER,
            pending=pending,
        )
