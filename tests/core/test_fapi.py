"""FAPI 2.0 Security Profile, client side: what profile='fapi2' refuses and turns on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

SERVER = oc.ServerMetadata(
    "https://as.example",
    authorization_endpoint="https://as.example/authorize",
    token_endpoint="https://as.example/token",
    pushed_authorization_request_endpoint="https://as.example/par",
)
ES256 = oc.generate_dpop_key("ES256")
PS256 = oc.generate_dpop_key("PS256")
RS256 = oc.generate_dpop_key("RS256")
KEYS = {alg: oc.generate_dpop_key(alg) for alg in ("ES256", "PS256", "RS256", "EdDSA", "ES384")}
KEYS = {alg: {"kid": key["kty"], **key} for alg, key in KEYS.items()}
PKJ = oc.Client("app", auth_method="private_key_jwt", signing_key=ES256)
MTLS = oc.Client("app", auth_method="tls_client_auth")


def test_a_setup_that_meets_the_profile_turns_par_and_iss_on() -> None:
    server = oc.fapi2_server(SERVER, PKJ, dpop_key=ES256)
    assert server.require_pushed_authorization_requests is True
    assert server.authorization_response_iss_parameter_supported is True
    assert oc.fapi2_server(SERVER, MTLS, dpop_key=None).issuer == SERVER.issuer  # mTLS-bound
    ps256 = oc.Client("a", auth_method="private_key_jwt", signing_key=PS256)
    assert oc.fapi2_server(SERVER, ps256, dpop_key=oc.generate_dpop_key("EdDSA")).issuer


@pytest.mark.parametrize(
    ("server", "client", "dpop_key", "match"),
    [
        (SERVER, oc.Client("app", "secret"), ES256, "client authentication"),
        (
            SERVER,
            oc.Client("app", "secret", auth_method="client_secret_jwt"),
            ES256,
            "client authentication",
        ),
        (SERVER, oc.Client("app"), ES256, "client authentication"),  # public clients
        (SERVER, PKJ, None, "sender-constrained"),  # no DPoP, no mTLS
        (
            oc.ServerMetadata("https://as.example", token_endpoint="https://as.example/t"),
            PKJ,
            ES256,
            "pushed_authorization",
        ),
        (
            SERVER,
            oc.Client("app", auth_method="private_key_jwt", signing_key=RS256),
            ES256,
            "RS256",
        ),
        (SERVER, PKJ, RS256, "DPoP key"),
    ],
)
def test_what_the_profile_refuses(
    server: oc.ServerMetadata, client: oc.Client, dpop_key: Any, match: str
) -> None:
    with pytest.raises(oc.UsageError, match=match) as info:
        oc.fapi2_server(server, client, dpop_key=dpop_key)
    assert "fapi2" in str(info.value)


def test_a_signer_cannot_be_checked() -> None:
    class Signer:
        def sign(self, claims: object, headers: object) -> str:
            return "x.y.z"

    client = oc.Client("app", auth_method="private_key_jwt", signer=Signer())
    with pytest.raises(oc.UsageError, match="Signer"):
        oc.fapi2_server(SERVER, client, dpop_key=ES256)


def test_authorization_requests_need_par_and_s256() -> None:
    pending = oc.new_pending_authorization(PKJ)
    oc.check_fapi2_authorization(pending, par=None)
    oc.check_fapi2_authorization(pending, par=True)
    with pytest.raises(oc.UsageError, match="par=False"):
        oc.check_fapi2_authorization(pending, par=False)
    plain = oc.new_pending_authorization(PKJ, code_challenge_method="plain")
    with pytest.raises(oc.UsageError, match="S256"):
        oc.check_fapi2_authorization(plain, par=True)


def test_iss_is_then_required_in_the_callback() -> None:
    """RFC 9207 §2.4: with the flag on, a callback without iss is refused."""
    server = oc.fapi2_server(SERVER, PKJ, dpop_key=ES256)
    pending = oc.new_pending_authorization(PKJ, state="s")
    with pytest.raises(oc.CallbackValidationError):
        oc.parse_callback({"code": "c", "state": "s"}, server=server, pending=pending)
    code = oc.parse_callback(
        {"code": "c", "state": "s", "iss": SERVER.issuer}, server=server, pending=pending
    )
    assert code.code == "c"


@given(
    method=st.sampled_from(sorted(oc.client.AUTH_METHODS)),
    dpop=st.sampled_from([None, "ES256", "PS256", "RS256", "EdDSA", "ES384"]),
    par=st.booleans(),
)
def test_property_accepted_exactly_when_the_profile_can_be_met(
    method: str, dpop: str | None, par: bool
) -> None:
    """fapi2_server accepts a setup iff auth is private_key_jwt/mTLS, tokens are bound (DPoP or
    mTLS), the server has PAR and every key signs with PS256, ES256 or EdDSA."""
    secret = (
        "s"
        if method in ("client_secret_basic", "client_secret_post", "client_secret_jwt")
        else None
    )
    client = oc.Client(
        "app",
        secret,
        auth_method=method,
        signing_key=ES256 if method == "private_key_jwt" else None,
    )
    server = SERVER if par else oc.ServerMetadata("https://as.example")
    key = None if dpop is None else KEYS[dpop]
    mtls = method in ("tls_client_auth", "self_signed_tls_client_auth")
    expected = (
        (method == "private_key_jwt" or mtls)
        and (key is not None or mtls)
        and par
        and (dpop is None or dpop in ("ES256", "PS256", "EdDSA"))
    )
    try:
        oc.fapi2_server(server, client, dpop_key=key)
    except oc.UsageError:
        assert not expected
    else:
        assert expected


def _signed(key: dict[str, Any], claims: dict[str, Any]) -> str:
    from oauth2_core.jose import load_signing_key, sign_jwt

    return sign_jwt(load_signing_key(key), claims, {"kid": key["kid"]})


def _public(key: dict[str, Any]) -> dict[str, Any]:
    private = {"d", "p", "q", "dp", "dq", "qi"}
    return {name: value for name, value in key.items() if name not in private}


def test_what_the_server_signs_is_accepted_only_with_the_profiles_algorithms() -> None:
    """§5.4.1: an ID token or a JARM response signed RS256 is refused under the profile,
    even where the server lists RS256; PS256 / ES256 / EdDSA pass."""
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    listed = ["RS256", "PS256", "ES256"]
    server = oc.ServerMetadata.from_dict(
        {
            **SERVER.to_dict(),
            "id_token_signing_alg_values_supported": listed,
            "authorization_signing_alg_values_supported": listed,
            "introspection_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": listed,
        }
    )
    fapi = oc.fapi2_server(server, PKJ, dpop_key=ES256)
    assert fapi.id_token_signing_alg_values_supported == ("PS256", "ES256")
    assert fapi.authorization_signing_alg_values_supported == ("PS256", "ES256")
    assert fapi.introspection_signing_alg_values_supported == ()  # nothing it signs passes
    assert fapi.extra["userinfo_signing_alg_values_supported"] == ["PS256", "ES256"]
    unlisted = oc.fapi2_server(SERVER, PKJ, dpop_key=ES256)
    assert set(unlisted.id_token_signing_alg_values_supported or ()) == oc.FAPI2_ALGS
    jwks = {"keys": [_public(KEYS["RS256"]), _public(KEYS["ES256"])]}
    pending = oc.new_pending_authorization(PKJ, state="s", nonce="n")
    base = {"iss": server.issuer, "aud": "app", "iat": int(now.timestamp())}
    id_claims = {**base, "sub": "alice", "nonce": "n", "exp": int(now.timestamp()) + 300}
    rs = _signed(KEYS["RS256"], id_claims)
    oc.validate_id_token(rs, server=server, client=PKJ, jwks=jwks, nonce="n", now=now)
    with pytest.raises(oc.IdTokenError) as caught:
        oc.validate_id_token(rs, server=fapi, client=PKJ, jwks=jwks, nonce="n", now=now)
    assert caught.value.check == "alg"
    es = _signed(KEYS["ES256"], id_claims)
    oc.validate_id_token(es, server=fapi, client=PKJ, jwks=jwks, nonce="n", now=now)
    jarm = {**base, "exp": int(now.timestamp()) + 60, "code": "c", "state": "s"}
    callback = {"response": _signed(KEYS["RS256"], jarm)}
    got = oc.parse_callback(callback, server=server, pending=pending, jwks=jwks, now=now)
    assert got.code == "c"
    with pytest.raises(oc.CallbackValidationError) as refused:
        oc.parse_callback(callback, server=fapi, pending=pending, jwks=jwks, now=now)
    assert isinstance(refused.value.__cause__, oc.IdTokenError)
    assert refused.value.__cause__.check == "alg"
    es_callback = {"response": _signed(KEYS["ES256"], jarm)}
    assert oc.parse_callback(es_callback, server=fapi, pending=pending, jwks=jwks, now=now).code
