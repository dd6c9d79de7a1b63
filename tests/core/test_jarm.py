"""JWT-secured authorization responses (JARM): verified before anything is read."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from typing import Any

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core import testing as scripted
from oauth2_core.testing import json_response

ISSUER = "https://accounts.example.com"
SERVER = oc.ServerMetadata(
    ISSUER,
    authorization_endpoint=ISSUER + "/authorize",
    jwks_uri=ISSUER + "/jwks",
    authorization_signing_alg_values_supported=["ES256", "HS256"],
)
CLIENT = oc.Client(
    "s6BhdRkqt3", "a-client-secret-of-at-least-32-bytes", redirect_uri="https://app.example/cb"
)
# JARM §4.1.1's example code and state.
CODE = "PyyFaux2o7Q0YfXBU32jhw.5FXSQpvr8akv9CeRDSd0QA"
STATE = "S8NJ7uqk5fY4EjNvP_G_FtyJu6pUsvH9jsYni9dMAJw"
PENDING = oc.new_pending_authorization(CLIENT, state=STATE)
EXP = 1311281970  # JARM §4.1.1's example exp
NOW = dt.datetime.fromtimestamp(EXP - 30, dt.timezone.utc)
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())


def jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    data = jwt.get_algorithm_by_name("ES256").to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, "alg": "ES256"}


JWKS = {"keys": [jwk(KEY, "k1")]}


def claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": "s6BhdRkqt3",
        "exp": EXP,
        "code": CODE,
        "state": STATE,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(body: dict[str, object], key: Any = KEY, kid: str = "k1") -> str:
    return jwt.encode(body, key, algorithm="ES256", headers={"kid": kid})


def parse(callback: object, **kwargs: Any) -> oc.AuthorizationCode:
    options: dict[str, Any] = {"server": SERVER, "pending": PENDING, "jwks": JWKS, "now": NOW}
    options.update(kwargs)
    return oc.parse_callback(callback, **options)


def check_of(error: pytest.ExceptionInfo[oc.CallbackValidationError]) -> str:
    cause = error.value.__cause__
    assert isinstance(cause, oc.IdTokenError)
    return cause.check


def test_jarm_example_response_in_the_query() -> None:
    """JARM §4.1.1: the example claims, signed, in the query (response_mode=query.jwt)."""
    code = parse(f"https://app.example/cb?response={signed(claims())}")
    assert code.code == CODE and code.state == STATE and code.iss == ISSUER
    assert "response" not in code.params and "exp" not in code.params


@pytest.mark.parametrize("form", ["fragment", "mapping", "body"])
def test_fragment_and_form_post_responses(form: str) -> None:
    token = signed(claims())
    callback: object = {
        "fragment": f"https://app.example/cb#response={token}",
        "mapping": {"response": token},
        "body": f"response={token}".encode(),
    }[form]
    assert parse(callback).code == CODE


def test_error_arrives_inside_the_jwt() -> None:
    """JARM §2.2: errors are signed responses too; raised after state and iss checks."""
    body = claims(code=None, error="access_denied", error_description="the user said no")
    with pytest.raises(oc.AuthorizationError) as caught:
        parse({"response": signed(body)})
    assert caught.value.error == "access_denied"
    assert caught.value.error_description == "the user said no"


def test_a_tampered_response_is_refused() -> None:
    header, _, signature = signed(claims()).split(".")
    evil = base64.urlsafe_b64encode(json.dumps(claims(code="evil")).encode()).rstrip(b"=")
    with pytest.raises(oc.CallbackValidationError) as caught:
        parse({"response": f"{header}.{evil.decode()}.{signature}"})
    assert check_of(caught) == "signature"


def test_an_unsigned_response_is_refused() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")
    with pytest.raises(oc.CallbackValidationError) as caught:
        parse({"response": unsigned})
    assert check_of(caught) == "alg"


def test_a_response_signed_by_another_key_is_refused() -> None:
    with pytest.raises(oc.CallbackValidationError) as caught:
        parse({"response": signed(claims(), key=OTHER)})
    assert check_of(caught) == "signature"


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"iss": None}, "iss"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": None}, "aud"),
        ({"exp": EXP - 3600}, "exp"),
        ({"exp": None}, "exp"),
    ],
)
def test_iss_aud_and_exp_are_checked(changes: dict[str, object], check: str) -> None:
    with pytest.raises(oc.CallbackValidationError) as caught:
        parse({"response": signed(claims(**changes))})
    assert check_of(caught) == check


def test_state_inside_the_jwt_must_match() -> None:
    with pytest.raises(oc.CallbackValidationError, match="state"):
        parse({"response": signed(claims(state="other"))})


def test_parameters_next_to_the_response_are_never_read() -> None:
    code = parse(f"https://app.example/cb?code=injected&response={signed(claims())}")
    assert code.code == CODE


def test_a_plain_callback_is_refused_when_a_signed_one_is_expected() -> None:
    with pytest.raises(oc.CallbackValidationError, match="JARM"):
        parse(f"https://app.example/cb?code={CODE}&state={STATE}&iss={ISSUER}")


def test_a_signed_callback_without_keys_is_a_usage_error() -> None:
    with pytest.raises(oc.UsageError, match="jwks="):
        oc.parse_callback({"response": signed(claims())}, server=SERVER, pending=PENDING)


def test_pending_saved_without_client_id_needs_the_client() -> None:
    saved = {**PENDING.to_dict(), "client_id": None}
    old = oc.PendingAuthorization.from_dict(saved)
    with pytest.raises(oc.UsageError, match="client="):
        parse({"response": signed(claims())}, pending=old)
    assert parse({"response": signed(claims())}, pending=old, client=CLIENT).code == CODE
    assert oc.PendingAuthorization.from_dict(PENDING.to_dict()) == PENDING


def test_hmac_signed_response_with_the_client_secret_where_advertised() -> None:
    token = jwt.encode(claims(), CLIENT.client_secret, algorithm="HS256")
    assert parse({"response": token}, client=CLIENT).code == CODE
    plain_server = oc.ServerMetadata(ISSUER)  # advertises nothing: never HMAC
    with pytest.raises(oc.CallbackValidationError):
        parse({"response": token}, client=CLIENT, server=plain_server)


def test_encrypted_responses_are_refused_plainly() -> None:
    # Whoever wrote the callback is at fault, not the caller: a CallbackError (audit 17).
    with pytest.raises(oc.CallbackValidationError) as info:
        parse({"response": "a.b.c.d.e"})
    assert check_of(info) == "format" and "JWE" in str(info.value.__cause__)


# --- the flow: keys fetched when needed -----------------------------------------------------


def drive(flow: Any, answers: list[oc.HttpResponse]) -> tuple[Any, list[oc.HttpRequest]]:
    sent: list[oc.HttpRequest] = []
    try:
        request = next(flow)
        while True:
            sent.append(request.request)
            request = flow.send(answers.pop(0))
    except StopIteration as done:
        return done.value, sent


def test_flow_fetches_the_key_set_then_verifies() -> None:
    cache = oc.JwksCache()
    flow = oc.authorization_response_flow(
        {"response": signed(claims())},
        server=SERVER,
        client=CLIENT,
        pending=PENDING,
        now=NOW,
        jwks_cache=cache,
    )
    code, sent = drive(flow, [json_response(200, JWKS, received_at=NOW)])
    assert code.code == CODE
    assert [r.url for r in sent] == [ISSUER + "/jwks"]
    assert cache.jwks is not None


def test_flow_refetches_once_after_key_rotation_then_fails() -> None:
    cache = oc.JwksCache({"keys": [jwk(OTHER, "old")]})
    flow = oc.authorization_response_flow(
        {"response": signed(claims(), kid="new")},
        server=SERVER,
        client=CLIENT,
        pending=PENDING,
        now=NOW,
        jwks_cache=cache,
    )
    with pytest.raises(oc.CallbackValidationError):
        drive(flow, [json_response(200, {"keys": [jwk(OTHER, "old")]}, received_at=NOW)])


def test_flow_refetches_once_on_unknown_kid_and_not_within_the_interval() -> None:
    """After key rotation: one fetch of the set; then a made-up kid inside the interval: none."""
    cache = oc.JwksCache(
        {"keys": [jwk(OTHER, "old")]},
        fetched_at=NOW - dt.timedelta(seconds=60),
        min_refetch_interval=30,
    )

    def flow(kid: str) -> Any:
        return oc.authorization_response_flow(
            {"response": signed(claims(), kid=kid)},
            server=SERVER,
            client=CLIENT,
            pending=PENDING,
            now=NOW,
            jwks_cache=cache,
        )

    driven = scripted.drive(flow("k1"), [json_response(200, JWKS, received_at=NOW)])
    assert driven.result.code == CODE
    assert [r.url for r in driven.requests] == [ISSUER + "/jwks"]
    with pytest.raises(oc.CallbackValidationError) as info:
        scripted.drive(flow("made-up"), [])  # the set is fresh: no request
    assert check_of(info) == "kid"


@pytest.mark.parametrize(
    "name", ["code", "state", "iss", "error", "error_description", "error_uri"]
)
@pytest.mark.parametrize("value", [123, True, ["x"], {"x": 1}])
def test_a_response_parameter_that_is_not_a_string_is_refused(name: str, value: object) -> None:
    """JARM §2.1 carries RFC 6749 §4.1.2's parameters, strings: never their JSON text."""
    body = claims(code=None, error="access_denied") if name.startswith("error") else claims()
    body[name] = value
    # PyJWT's encode refuses a non-string iss: sign the JSON payload as a plain JWS.
    token = jwt.api_jws.encode(json.dumps(body).encode(), KEY, "ES256", {"kid": "k1"})
    with pytest.raises(oc.CallbackValidationError) as info:
        parse({"response": token})
    assert check_of(info) == name
    assert repr(value) not in str(info.value)


def test_a_numeric_state_does_not_match_its_json_text() -> None:
    """*audit*: a state of 123 became "123" and matched a pending state "123"."""
    pending = oc.new_pending_authorization(CLIENT, state="123")
    with pytest.raises(oc.CallbackValidationError) as info:
        parse({"response": signed(claims(state=123))}, pending=pending)
    assert check_of(info) == "state"
    flow: Any = oc.authorization_response_flow(
        {"response": signed(claims(state=123))},
        server=SERVER,
        client=CLIENT,
        pending=pending,
        now=NOW,
        jwks_cache=oc.JwksCache(JWKS),
    )
    with pytest.raises(oc.CallbackValidationError) as info:
        scripted.drive(flow, [])
    assert check_of(info) == "state"


def test_flow_checks_a_plain_callback_without_any_request() -> None:
    flow = oc.authorization_response_flow(
        f"https://app.example/cb?code={CODE}&state={STATE}",
        server=SERVER,
        client=CLIENT,
        pending=PENDING,
        now=NOW,
    )
    code, sent = drive(flow, [])
    assert code.code == CODE and sent == []


def test_flow_refuses_a_plain_callback_when_signed_is_required() -> None:
    flow = oc.authorization_response_flow(
        f"https://app.example/cb?code={CODE}&state={STATE}",
        server=SERVER,
        client=CLIENT,
        pending=PENDING,
        now=NOW,
        jwks_cache=oc.JwksCache(JWKS),
        require_signed=True,
    )
    with pytest.raises(oc.CallbackValidationError):
        drive(flow, [])


# --- properties -----------------------------------------------------------------------------


@given(code=st.text(min_size=1, max_size=60), extra=st.text(max_size=30))
def test_signed_responses_round_trip(code: str, extra: str) -> None:
    """Round trip: whatever the server signs comes back out, and only that."""
    result = parse({"response": signed(claims(code=code, session_state=extra))})
    assert result.code == code
    assert result.params == {"session_state": extra}


@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: "response=" + t))
def test_any_callback_with_keys_ends_in_a_value_or_an_oauth2_error(data: object) -> None:
    """Totality: any bytes, as a signed-response callback, never crash."""
    with contextlib.suppress(oc.OAuth2Error):
        parse(data)


# --- a client registered for signed responses (JARM §3) ---------------------------------------

JARM_CLIENT = oc.Client(
    "s6BhdRkqt3",
    "a-client-secret-of-at-least-32-bytes",
    redirect_uri="https://app.example/cb",
    authorization_signed_response_alg="ES256",
)


def test_a_jarm_client_asks_for_the_jwt_response_mode() -> None:
    server = attrs.evolve(SERVER, issuer=ISSUER)
    url = oc.authorization_url(server, JARM_CLIENT, PENDING, scope="read")
    assert "response_mode=jwt" in url
    url = oc.authorization_url(server, JARM_CLIENT, PENDING, response_mode="form_post.jwt")
    assert "response_mode=form_post.jwt" in url and "response_mode=jwt&" not in url
    with pytest.raises(oc.UsageError, match="JARM mode"):
        oc.authorization_url(server, JARM_CLIENT, PENDING, response_mode="query")


def test_a_jarm_client_refuses_a_plain_callback_even_without_keys() -> None:
    """Downgrade: a plain redirect never reaches the code for a JARM client."""
    plain = f"https://app.example/cb?code={CODE}&state={STATE}"
    with pytest.raises(oc.CallbackValidationError, match="signed 'response'"):
        parse(plain, client=JARM_CLIENT)
    with pytest.raises(oc.UsageError, match="jwks="):
        oc.parse_callback(
            {"response": signed(claims())}, server=SERVER, pending=PENDING, client=JARM_CLIENT
        )


def test_a_jarm_client_accepts_only_its_registered_alg() -> None:
    hs = jwt.encode(claims(), "a-client-secret-of-at-least-32-bytes", algorithm="HS256")
    assert parse({"response": hs}, client=CLIENT).code == CODE  # the server lists HS256
    with pytest.raises(oc.CallbackValidationError) as error:
        parse({"response": hs}, client=JARM_CLIENT)
    assert check_of(error) == "alg"
    assert parse({"response": signed(claims())}, client=JARM_CLIENT).code == CODE


def test_registered_alg_must_name_an_algorithm() -> None:
    for alg in ("none", "", "NONE"):
        with pytest.raises(oc.UsageError, match="authorization_signed_response_alg"):
            oc.Client("c", authorization_signed_response_alg=alg)


def _token_answer() -> oc.HttpResponse:
    return json_response(200, {"access_token": "at-1", "token_type": "Bearer"}, received_at=NOW)


def test_exchange_code_flow_verifies_a_signed_response_before_spending_the_code() -> None:
    server = attrs.evolve(SERVER, token_endpoint=ISSUER + "/token")
    flow = oc.exchange_code_flow(
        server,
        CLIENT,
        PENDING,
        {"response": signed(claims())},
        now=NOW,
        validate_id_token=False,
    )
    token, sent = drive(flow, [json_response(200, JWKS, received_at=NOW), _token_answer()])
    assert token.access_token == "at-1"
    assert [r.url for r in sent] == [ISSUER + "/jwks", ISSUER + "/token"]
    assert f"code={CODE}" in sent[1].body.decode()


@pytest.mark.parametrize(
    "callback",
    [
        {"response": signed(claims(), key=OTHER)},  # forged
        {"response": signed(claims(aud="someone-else"))},
        {"response": signed(claims(state="other-state"))},
    ],
)
def test_exchange_code_flow_never_spends_a_code_from_a_bad_signed_response(
    callback: dict[str, str],
) -> None:
    server = attrs.evolve(SERVER, token_endpoint=ISSUER + "/token")
    flow = oc.exchange_code_flow(
        server, CLIENT, PENDING, callback, now=NOW, jwks_cache=oc.JwksCache(JWKS)
    )
    with pytest.raises(oc.CallbackValidationError):
        drive(flow, [_token_answer()])


def test_exchange_code_flow_refuses_a_downgraded_callback_for_a_jarm_client() -> None:
    server = attrs.evolve(SERVER, token_endpoint=ISSUER + "/token")
    flow = oc.exchange_code_flow(
        server,
        JARM_CLIENT,
        PENDING,
        f"https://app.example/cb?code={CODE}&state={STATE}",
        now=NOW,
        jwks_cache=oc.JwksCache(JWKS),
    )
    with pytest.raises(oc.CallbackValidationError):
        drive(flow, [_token_answer()])
