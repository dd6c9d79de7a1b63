"""Keys held by a KMS or HSM (``external_signing_key``): DPoP proofs and client assertions.

The "KMS" here is a ``cryptography`` private key the library never sees: only a
callback that signs what it is given, returning DER for ECDSA as most KMS APIs do.
Every JWS is verified by PyJWT with the public key alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import parse_qsl

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import oauth2_core as oc

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
SERVER = oc.ServerMetadata("https://as.example.com", token_endpoint="https://as.example.com/token")
HASHES = {"ES256": hashes.SHA256, "ES384": hashes.SHA384, "ES512": hashes.SHA512}
CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def kms_ec(alg: str) -> tuple[dict[str, str], Callable[[bytes], bytes], list[bytes]]:
    """(public JWK, DER-returning sign callback, what it was asked to sign)."""
    private = ec.generate_private_key(CURVES[alg]())
    public = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    asked: list[bytes] = []

    def sign(data: bytes) -> bytes:
        asked.append(data)
        return private.sign(data, ec.ECDSA(HASHES[alg]()))  # ASN.1 DER

    return public, sign, asked


def kms_rsa() -> tuple[dict[str, str], Callable[[bytes], bytes]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return public, lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def verify(token: str, public: dict[str, str], alg: str, **options: object) -> dict[str, object]:
    key = jwt.PyJWK(public, algorithm=alg)
    return jwt.decode(  # type: ignore[no-any-return]
        token, key, algorithms=[alg], options={"verify_iat": False, **options}
    )


@pytest.mark.parametrize("alg", sorted(CURVES))
def test_dpop_proof_signed_by_the_kms_verifies_with_the_public_key(alg: str) -> None:
    public, sign, asked = kms_ec(alg)
    key = oc.external_signing_key(public_jwk=public, sign=sign)
    proof = oc.dpop_proof(key, "POST", "https://as.example.com/token?x=1", now=T0)
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == alg  # implied by the curve
    assert header["jwk"] == {k: public[k] for k in ("crv", "kty", "x", "y")}
    claims = verify(proof, public, alg)
    assert claims["htm"] == "POST"
    assert claims["htu"] == "https://as.example.com/token"
    assert claims["iat"] == int(T0.timestamp())
    assert asked == [proof.rsplit(".", 1)[0].encode("ascii")]  # the JWS signing input
    assert oc.dpop_jkt(key) == oc.dpop_jkt(public)


def test_a_raw_r_s_signature_is_used_as_it_is() -> None:
    public, der_sign, _ = kms_ec("ES256")

    def raw_sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(der_sign(data))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    key = oc.external_signing_key(public_jwk=public, sign=raw_sign)
    verify(oc.dpop_proof(key, "GET", "https://rs.example.com/", now=T0), public, "ES256")


def test_dpop_token_request_carries_the_kms_proof() -> None:
    public, sign, _ = kms_ec("ES256")
    key = oc.external_signing_key(public_jwk=public, sign=sign)
    request = oc.client_credentials_grant_request(SERVER, oc.Client("app", "s"))
    signed = oc.dpop_request(request, key, now=T0)
    verify(signed.headers["dpop"], public, "ES256")


def test_private_key_jwt_assertion_signed_by_the_kms() -> None:
    public, sign = kms_rsa()
    key = oc.external_signing_key(public_jwk={**public, "kid": "kms-1"}, sign=sign)
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=key)
    request = oc.client_credentials_grant_request(SERVER, client, now=T0)
    assertion = dict(parse_qsl(request.body.decode()))["client_assertion"]
    assert jwt.get_unverified_header(assertion)["kid"] == "kms-1"
    claims = verify(assertion, public, "RS256", verify_exp=False, verify_aud=False)
    assert claims["iss"] == claims["sub"] == "app"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"public_jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}}, "public"),
        ({"public_jwk": {"kty": "oct", "k": "c2VjcmV0"}}, "public"),
        ({"public_jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, "alg": "RS256"}, "alg"),
        ({"public_jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, "alg": "HS256"}, "alg"),
        ({"public_jwk": {"kty": "EC", "crv": "P-256", "x": "a"}}, "public key member"),
        ({"public_jwk": "not a jwk"}, "JWK dict"),
        ({"public_jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, "sign": None}, "call"),
    ],
)
def test_bad_external_keys_are_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"sign": lambda data: b"sig", **kwargs}
    with pytest.raises(oc.UsageError, match=message):
        oc.external_signing_key(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("answer", [None, "text", b"", b"\x30\x02\x00"])
def test_a_signer_returning_no_signature_is_a_usage_error(answer: object) -> None:
    public, _, _ = kms_ec("ES256")
    key = oc.external_signing_key(public_jwk=public, sign=lambda data: answer)  # type: ignore[arg-type,return-value]
    with pytest.raises(oc.UsageError, match="external signer"):
        oc.dpop_proof(key, "GET", "https://rs.example.com/", now=T0)


def test_repr_names_the_key_as_external() -> None:
    public, sign, _ = kms_ec("ES256")
    key = oc.external_signing_key(public_jwk=public, sign=sign, kid="k1")
    assert repr(key) == "SigningKey(alg='ES256', kid='k1', key=<external>)"
