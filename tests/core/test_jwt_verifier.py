"""The one JWT verifier under every ID token and signed answer (RFC 7515 §4.1.11, RFC 7519 §4.1).

Every token here is really signed with a key of the JWK set, so each rejection
comes from the header or time check under test, never from the signature.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import jwt
import pytest
from test_jose_id_token import (
    CLIENT,
    EC_KEY,
    JWKS,
    NOW,
    RSA_KEY,
    SERVER,
    T0,
    claims,
    mint,
    rejected,
    validate,
)
from test_signed_userinfo import JWKS as USERINFO_JWKS
from test_signed_userinfo import KEY as USERINFO_KEY
from test_signed_userinfo import SERVER as USERINFO_SERVER
from test_signed_userinfo import T0 as USERINFO_T0
from test_signed_userinfo import answer

import oauth2_core as oc
from oauth2_core.jose import load_signing_key, sign_jwt
from oauth2_core.jws_verify import check_header, check_time_claims
from oauth2_core.signed_userinfo import userinfo_response_flow, validate_signed_userinfo


def with_header(**header: object) -> str:
    """A valid ID token, really signed (RS256, kid rsa-1), with extra header members."""
    return jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1", **header})


# --- crit (RFC 7515 §4.1.11) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        # "If any of the listed extension Header Parameters are not understood and
        # supported by the recipient, then the JWS is invalid": we understand none.
        {"crit": ["exp-ext"], "exp-ext": 1700000000},
        {"crit": ["http://example.invalid/UNDEFINED"], "http://example.invalid/UNDEFINED": True},
        {"crit": []},  # "Producers MUST NOT use the empty list"
        {"crit": "exp-ext", "exp-ext": 1},  # not an array
        {"crit": [7]},
        {"crit": ["ext", "ext"], "ext": 1},  # duplicates
        {"crit": ["alg"]},  # standard names MUST NOT be listed
        {"crit": ["kid"]},
        {"crit": ["missing-ext"]},  # listed but not in the header
        {"crit": None},
    ],
)
def test_a_critical_header_we_do_not_understand_rejects_the_id_token(
    header: dict[str, object],
) -> None:
    assert rejected(with_header(**header)) == "crit"


def test_rfc7515_appendix_e_example_crit_is_rejected() -> None:
    """RFC 7515 App. E: a JWS with crit naming an unsupported extension "must be rejected"."""
    token = with_header(crit=["http://example.invalid/UNDEFINED"])
    with pytest.raises(oc.IdTokenError) as info:
        validate(token)
    assert info.value.check == "crit"
    assert "crit" in str(info.value)


def test_b64_false_is_rejected_with_or_without_crit() -> None:
    """RFC 7797 unencoded payloads are not supported: never read one as claims."""
    signer = load_signing_key({**rsa_private_jwk(), "kid": "rsa-1"})
    assert rejected(sign_jwt(signer, claims(), {"b64": False})) == "b64"
    assert rejected(sign_jwt(signer, claims(), {"b64": "false"})) == "b64"
    # PyJWT's own b64=False token lists b64 in crit: refused there already.
    assert rejected(sign_jwt(signer, claims(), {"b64": False, "crit": ["b64"]})) == "crit"


def rsa_private_jwk() -> dict[str, str]:
    data = jwt.get_algorithm_by_name("RS256").to_jwk(RSA_KEY, as_dict=True)
    return {k: v for k, v in data.items() if isinstance(v, str)}


def test_b64_true_is_the_default_and_accepted() -> None:
    assert validate(with_header(b64=True)).sub == "248289761001"


def test_header_checks_standalone() -> None:
    assert check_header({"alg": "ES256", "kid": "k", "typ": "JWT"}) == "ES256"
    for header in ({"alg": "none"}, {"alg": "NONE"}, {}, {"alg": 1}, {"alg": "RS256", "kid": 1}):
        with pytest.raises(oc.IdTokenError):
            check_header(header)


# --- time claims (RFC 7519 §4.1.4-6) -------------------------------------------------------


def test_nbf_in_the_future_rejects_the_id_token() -> None:
    """RFC 7519 §4.1.5: the JWT "MUST NOT be accepted for processing" before nbf."""
    assert rejected(mint(nbf=NOW + 3600)) == "nbf"
    assert rejected(mint(nbf=NOW + 61)) == "nbf"  # beyond the default 60 s leeway
    assert rejected(mint(nbf=NOW + 5), leeway=0) == "nbf"


def test_nbf_within_the_leeway_or_past_is_accepted() -> None:
    assert validate(mint(nbf=NOW + 60)).sub == "248289761001"  # the same leeway as exp
    assert validate(mint(nbf=NOW - 10)).sub == "248289761001"
    assert validate(mint(nbf=NOW), leeway=0).sub == "248289761001"


@pytest.mark.parametrize("nbf", ["soon", True, None, [1], 1e300, float("nan")])
def test_nbf_that_is_not_a_numeric_date_rejects(nbf: object) -> None:
    if nbf is None:  # claims() drops None: send a JSON null by hand
        token = jwt.encode(
            {**claims(), "nbf": None}, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"}
        )
        # JSON null: the claim is absent for every practical purpose
        assert validate(token).sub == "248289761001"
        return
    if isinstance(nbf, float) and nbf != nbf:  # NaN is not valid JSON: PyJWT refuses it
        return
    assert rejected(mint(nbf=nbf)) == "nbf"


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"exp": NOW - 61}, "exp"),
        ({"exp": NOW}, "exp"),
        ({"exp": "1e20"}, "exp"),
        ({"iat": NOW + 61}, "iat"),
        ({"iat": "now"}, "iat"),
        ({"nbf": NOW + 120}, "nbf"),
    ],
)
def test_time_claims_of_every_id_token(changes: dict[str, object], check: str) -> None:
    assert rejected(mint(**changes), leeway=0 if changes.get("exp") == NOW else 60) == check


def test_time_claims_standalone() -> None:
    found = check_time_claims({"exp": NOW + 10, "iat": NOW, "nbf": NOW}, now=T0, leeway=0)
    assert found["nbf"] == T0
    assert check_time_claims({}, now=T0, leeway=0, required=()) == {}
    with pytest.raises(oc.IdTokenError) as info:
        check_time_claims({"iat": NOW}, now=T0, leeway=0)
    assert info.value.check == "exp"
    with pytest.raises(oc.UsageError):
        check_time_claims({}, now=dt.datetime(2026, 1, 1), leeway=0, required=())
    with pytest.raises(oc.UsageError):
        check_time_claims({}, now=T0, leeway=301, required=())


# --- signed UserInfo goes through the same checks --------------------------------------------


UI_NOW = int(USERINFO_T0.timestamp())


def signed_userinfo(payload: dict[str, object], **header: object) -> str:
    return jwt.encode(payload, USERINFO_KEY, algorithm="ES256", headers={"kid": "k1", **header})


@pytest.mark.parametrize(
    ("payload", "header", "check"),
    [
        ({"sub": "alice"}, {"crit": ["exp-ext"], "exp-ext": 1}, "crit"),
        ({"sub": "alice"}, {"crit": []}, "crit"),
        ({"sub": "alice", "nbf": UI_NOW + 3600}, {}, "nbf"),
        ({"sub": "alice", "exp": UI_NOW - 3600}, {}, "exp"),
        ({"sub": "alice", "iat": UI_NOW + 3600}, {}, "iat"),
        ({"sub": "alice", "exp": "later"}, {}, "exp"),
    ],
)
def test_signed_userinfo_header_and_time_claims(
    payload: dict[str, object], header: dict[str, object], check: str
) -> None:
    text = signed_userinfo(payload, **header)
    with pytest.raises(oc.IdTokenError) as info:
        validate_signed_userinfo(
            text, server=USERINFO_SERVER, client=CLIENT, jwks=USERINFO_JWKS, now=USERINFO_T0
        )
    assert info.value.check == check
    # The flow checks at the answer's received_at (T0), with the same verifier.
    flow = userinfo_response_flow(
        answer(text),
        server=USERINFO_SERVER,
        client=CLIENT,
        jwks_cache=oc.JwksCache(USERINFO_JWKS),
    )
    with pytest.raises(oc.IdTokenError) as again:
        next(flow)
    assert again.value.check == check


def test_signed_userinfo_without_time_claims_is_fine() -> None:
    info = validate_signed_userinfo(
        signed_userinfo({"sub": "alice", "exp": UI_NOW + 60, "nbf": UI_NOW - 60}),
        server=USERINFO_SERVER,
        client=CLIENT,
        jwks=USERINFO_JWKS,
        now=USERINFO_T0,
    )
    assert info.sub == "alice"


# --- the class of bug: no verifier can skip these checks ---------------------------------------

CORE = Path(oc.__file__).parent
#: The signature primitives; only the one verifier may call them.
PRIMITIVES = frozenset({"verify_signature", "matching_keys", "hmac_key"})
ALLOWED = {
    "jws_verify.py",  # the one verifier
    "jose.py",  # defines them, and signs (client assertions, hmac_key)
    "jwks.py",  # defines matching_keys; its cache looks keys up
    "client.py",  # signs client assertions with hmac_key (client_secret_jwt)
}


def test_no_core_module_verifies_a_signature_outside_the_one_verifier() -> None:
    """A new JWT verifier must go through ``verify_jwt``, so it gets crit, nbf, exp, iat."""
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        if path.name in ALLOWED or "testing" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = None
            if isinstance(node, ast.Name):
                name = node.id
            elif isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.alias):
                name = node.name
            if name in PRIMITIVES:
                offenders.append(f"{path.name}: {name}")
    assert not offenders, offenders


def test_every_verifier_rejects_the_same_forgeries() -> None:
    """The ID token and the signed UserInfo answer share one header and time check."""
    signer = load_signing_key(EC_KEY)
    forged = sign_jwt(signer, claims(), {"kid": "ec-1", "crit": ["x"], "x": 1})
    assert rejected(forged) == "crit"
    server = oc.ServerMetadata(SERVER.issuer, jwks_uri=SERVER.jwks_uri)
    with pytest.raises(oc.IdTokenError) as info:
        validate_signed_userinfo(forged, server=server, client=CLIENT, jwks=JWKS, now=T0)
    assert info.value.check == "crit"
