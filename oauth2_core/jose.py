"""JOSE for the core: compact JWS, signing keys and client assertions.

* the compact JWS serialization (RFC 7515 §7.1), written here so that HMAC
  (``client_secret_jwt``) and a custom :class:`~oauth2_core.client.Signer` need
  nothing extra;
* private keys for signing (a JWK dict, RFC 7517; a PEM; a ``cryptography``
  key) and the ``alg`` they imply (RFC 7518 §3.1);
* client assertions for ``private_key_jwt`` / ``client_secret_jwt``
  (RFC 7523 §2.2 and §3, OpenID Connect Core §9).

Asymmetric keys need the optional extra ``oauth2-core[jwt]`` (PyJWT with
``cryptography``). It is imported only when such a key is used, so
``import oauth2_core`` never imports it; without it those features raise
:class:`UsageError` naming the extra.

The core never reads the clock (DESIGN §1): every function that stamps a JWT
takes ``now``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hmac
import json
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

import attrs

from oauth2_core._random import new_jti
from oauth2_core.errors import UsageError
from oauth2_core.jwks import HMAC_ALGS, PUBLIC_MEMBERS, default_alg, jwk_fits_alg, public_jwk

if TYPE_CHECKING:
    from oauth2_core.client import Client

__all__ = [
    "ASSERTION_LIFETIME",
    "CompactJws",
    "EXTRA_HINT",
    "SigningKey",
    "b64url_decode",
    "b64url_encode",
    "client_assertion",
    "encode_compact",
    "hmac_key",
    "jwa_algorithm",
    "load_signing_key",
    "numeric_date",
    "parse_compact",
    "require_jwt",
    "sign_jwt",
    "verify_signature",
]

#: What to install for the asymmetric JOSE features.
EXTRA_HINT = "pip install 'oauth2-core[jwt]'"
#: Seconds a client assertion is valid: short, as RFC 7523 §3 item 4 advises.
ASSERTION_LIFETIME = 60

_EC_CURVE_ALGS = {
    "secp256r1": "ES256",
    "secp384r1": "ES384",
    "secp521r1": "ES512",
    "secp256k1": "ES256K",
}
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def require_jwt() -> ModuleType:
    """Import PyJWT (with ``cryptography``), or say which extra to install.

    Raises:
        UsageError: PyJWT or ``cryptography`` is missing; names ``oauth2-core[jwt]``.
    """
    try:
        import jwt
        from jwt.algorithms import has_crypto
    except ImportError as exc:
        raise UsageError(f"this feature needs PyJWT: {EXTRA_HINT}") from exc
    if not has_crypto:
        raise UsageError(f"this feature needs PyJWT with cryptography: {EXTRA_HINT}")
    return jwt


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2).

    Raises:
        ValueError: characters outside the alphabet, padding, or an impossible length.
    """
    if not set(text) <= _B64URL or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def numeric_date(now: _dt.datetime) -> int:
    """``now`` as a JWT NumericDate (RFC 7519 §2): whole seconds since the epoch.

    Raises:
        UsageError: ``now`` is not a timezone-aware datetime.
    """
    if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
        raise UsageError("now must be a timezone-aware datetime (UTC)")
    return int(now.timestamp())


def _json_bytes(value: Mapping[str, object]) -> bytes:
    try:
        return json.dumps(dict(value), separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise UsageError("JWT header and claims must be JSON-serializable") from exc


def encode_compact(
    header: Mapping[str, object], claims: Mapping[str, object], sign: Callable[[bytes], bytes]
) -> str:
    """The compact serialization of a JWS over ``claims`` (RFC 7515 §7.1)."""
    signing_input = f"{b64url_encode(_json_bytes(header))}.{b64url_encode(_json_bytes(claims))}"
    signature = sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            # RFC 7515 §5.2 item 4: reject duplicate members (a second "alg" could
            # mean one thing to us and another to the signer).
            raise ValueError("duplicate member")
        result[name] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError("non-standard JSON constant")


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:
        raise ValueError("not a JSON object") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


@attrs.frozen(repr=False)
class CompactJws:
    """A parsed, not yet verified, compact JWS (RFC 7515 §7.1).

    Attributes:
        header: The protected header.
        payload: The payload bytes.
        signing_input: ``BASE64URL(header) || '.' || BASE64URL(payload)``.
        signature: The signature bytes.
    """

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    def claims(self) -> dict[str, Any]:
        """The payload as a JSON object (RFC 7519 §7.2 item 10).

        Raises:
            ValueError: the payload is not a JSON object.
        """
        return _json_object(self.payload)

    def __repr__(self) -> str:
        return f"CompactJws(alg={self.header.get('alg')!r}, kid={self.header.get('kid')!r})"


def parse_compact(token: str) -> CompactJws:
    """Split and decode a compact JWS without verifying it.

    Raises:
        ValueError: not three base64url parts, or a header that is not a JSON object.
    """
    if not isinstance(token, str) or not token.isascii():
        raise ValueError("not a compact JWS")
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    header = _json_object(b64url_decode(parts[0]))
    return CompactJws(
        header=header,
        payload=b64url_decode(parts[1]),
        signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
        signature=b64url_decode(parts[2]),
    )


def jwa_algorithm(alg: str) -> Any:
    """PyJWT's implementation of the JWS algorithm ``alg`` (RFC 7518 §3.1)."""
    return require_jwt().algorithms.get_default_algorithms()[alg]


@attrs.frozen(repr=False)
class SigningKey:
    """A private key ready to sign, with the ``alg`` and ``kid`` to put in the header.

    Build it with :func:`load_signing_key`; its ``repr`` never shows the key.
    """

    alg: str
    kid: str | None
    key: object = attrs.field(eq=False)

    def sign(self, signing_input: bytes) -> bytes:
        """The JWS signature over ``signing_input`` (RFC 7515 §5.1)."""
        digest = HMAC_ALGS.get(self.alg)
        if digest is not None:
            if not isinstance(self.key, bytes):  # pragma: no cover - built by _hmac_key
                raise UsageError("an HMAC key must be bytes")
            return hmac.new(self.key, signing_input, digest).digest()
        return bytes(jwa_algorithm(self.alg).sign(signing_input, self.key))

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK with only public members (RFC 7517 §4).

        Raises:
            UsageError: a symmetric key, which has no public half.
        """
        if self.alg in HMAC_ALGS:
            raise UsageError("a symmetric key has no public part")
        public = self.key.public_key()  # type: ignore[attr-defined]
        return public_jwk(jwa_algorithm(self.alg).to_jwk(public, as_dict=True))

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r}, key=<redacted>)"

    __str__ = __repr__


def hmac_key(secret: str, alg: str = "HS256") -> SigningKey:
    """An HMAC key from a client secret's UTF-8 octets (OpenID Connect Core §10.1)."""
    return SigningKey(alg=alg, kid=None, key=secret.encode("utf-8"))


def _not_symmetric(purpose: str) -> UsageError:
    hint = ""
    if purpose == "private_key_jwt":
        hint = "; a client secret signs with auth_method='client_secret_jwt'"
    return UsageError(
        f"{purpose} needs an asymmetric private key (EC, RSA or Ed25519), not a shared secret"
        + hint
    )


def _from_jwk(jwk: dict[str, Any], purpose: str) -> SigningKey:
    alg = jwk.get("alg")
    if jwk.get("kty") == "oct" or (isinstance(alg, str) and alg.upper().startswith("HS")):
        raise _not_symmetric(purpose)
    if jwk.get("kty") not in PUBLIC_MEMBERS:
        raise UsageError(f"{purpose}: the JWK must have kty EC, RSA or OKP")
    if "d" not in jwk:
        raise UsageError(f"{purpose} needs a private key; the JWK has no private part")
    if alg is None:
        alg = default_alg(jwk)
    if not isinstance(alg, str) or not jwk_fits_alg(jwk, alg):
        raise UsageError(f"{purpose}: the JWK's alg does not fit its kty and crv")
    jwt = require_jwt()
    try:
        key = jwa_algorithm(alg).from_jwk(jwk)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        # `from None`: PyJWT's messages may quote the JWK, private part included.
        raise UsageError(f"{purpose}: the JWK is not a valid private key") from None
    if jwk.get("kty") == "RSA" and key.key_size < 2048:
        raise UsageError(f"{purpose}: RSA keys must be 2048 bits or more (RFC 7518 §3.3)")
    kid = jwk.get("kid")
    return SigningKey(alg=alg, kid=kid if isinstance(kid, str) and kid else None, key=key)


def _from_object(key: object, purpose: str) -> SigningKey:
    require_jwt()
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = _EC_CURVE_ALGS.get(key.curve.name)
        if alg is None:
            raise UsageError(f"{purpose}: unsupported elliptic curve")
    elif isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise UsageError(f"{purpose}: RSA keys must be 2048 bits or more (RFC 7518 §3.3)")
        alg = "RS256"
    elif isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        alg = "EdDSA"
    else:
        raise UsageError(
            f"{purpose} needs a private key: a JWK dict, a PEM string or a cryptography "
            "EC, RSA or Ed25519 private key"
        )
    return SigningKey(alg=alg, kid=None, key=key)


def _from_pem(data: bytes, purpose: str) -> SigningKey:
    if b"-----BEGIN" not in data:
        raise _not_symmetric(purpose)
    require_jwt()
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UsageError(
            f"{purpose} needs an unencrypted PEM private key (a public key or a "
            "certificate cannot sign)"
        ) from None
    return _from_object(key, purpose)


def load_signing_key(key: object, *, purpose: str = "signing_key") -> SigningKey:
    """Load a private key and find its ``alg`` and ``kid``.

    Args:
        key: A private JWK dict (its ``alg`` and ``kid`` are used when present),
            a PEM private key (``alg`` from the key: EC P-256/P-384/P-521 ->
            ES256/ES384/ES512, RSA -> RS256, Ed25519 -> EdDSA), a
            ``cryptography`` private key object, or a :class:`SigningKey`.
        purpose: Names the setting in error messages.

    Returns:
        The key, ready to sign.

    Raises:
        UsageError: a symmetric or public key, a key that does not fit its
            ``alg``, or the ``oauth2-core[jwt]`` extra is missing. Messages never
            show the key.
    """
    if isinstance(key, SigningKey):
        return key
    if isinstance(key, Mapping):
        return _from_jwk(dict(key), purpose)
    if isinstance(key, str):
        return _from_pem(key.encode("utf-8"), purpose)
    if isinstance(key, bytes):
        return _from_pem(key, purpose)
    return _from_object(key, purpose)


def sign_jwt(key: SigningKey, claims: Mapping[str, object], headers: Mapping[str, object]) -> str:
    """A compact JWS of ``claims`` signed with ``key`` (``alg`` and ``kid`` from the key)."""
    header: dict[str, object] = {"alg": key.alg, **headers}
    if key.kid and "kid" not in header:
        header["kid"] = key.kid
    return encode_compact(header, claims, key.sign)


def verify_signature(jws: CompactJws, alg: str, jwk: Mapping[str, object]) -> bool:
    """Check an asymmetric signature with the public part of ``jwk``.

    The caller has already checked that ``alg`` fits the JWK
    (:func:`jwk_fits_alg`); only the public members are used.

    Raises:
        ValueError: the JWK cannot be turned into a key.
        UsageError: the ``oauth2-core[jwt]`` extra is missing.
    """
    jwt = require_jwt()
    from cryptography.hazmat.primitives.asymmetric import rsa

    algorithm = jwa_algorithm(alg)
    try:
        key = algorithm.prepare_key(algorithm.from_jwk(public_jwk(jwk)))
    except (jwt.PyJWTError, UsageError, ValueError, TypeError, KeyError):
        raise ValueError("unusable JWK") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        # RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used".
        raise ValueError("RSA key shorter than 2048 bits")
    return bool(algorithm.verify(jws.signing_input, key, jws.signature))


def client_assertion(
    client: Client, audience: str, *, now: _dt.datetime, jti: str | None = None
) -> str:
    """A signed client assertion JWT (RFC 7523 §2.2 and §3, OpenID Connect Core §9).

    Claims: ``iss`` = ``sub`` = client_id, ``aud``, a unique ``jti``, ``iat`` =
    ``now`` and ``exp`` = ``now`` + 60 s. ``client_secret_jwt`` signs with HS256
    over the secret; ``private_key_jwt`` with ``signing_key`` (a private key, or a
    KMS/HSM key from :func:`~oauth2_core.external_key.external_signing_key`, the
    same key type DPoP takes). ``client.signer``, when set, is the adapter for a
    signer that returns the whole JWT (it adds ``alg`` and ``kid`` itself).

    Args:
        client: A client whose ``auth_method`` is ``private_key_jwt`` or ``client_secret_jwt``.
        audience: The ``aud`` (the issuer, or the token endpoint URL).
        now: The signing time, an aware datetime; the core never reads the clock.
        jti: The JWT ID; a fresh random one by default.

    Returns:
        The compact JWT, for the ``client_assertion`` parameter.

    Raises:
        UsageError: no usable key, ``now`` missing or naive, or the extra missing.
    """
    iat = numeric_date(now)
    claims: dict[str, object] = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": audience,
        "jti": jti or new_jti(),
        "iat": iat,
        "exp": iat + ASSERTION_LIFETIME,
    }
    headers = {"typ": "JWT"}
    if client.signer is not None:
        signed = client.signer.sign(claims, headers)
        if not isinstance(signed, str) or signed.count(".") != 2:
            raise UsageError("Client.signer.sign must return a compact JWS string")
        return signed
    if client.auth_method == "client_secret_jwt":
        key = hmac_key(client.client_secret or "")
    else:
        key = load_signing_key(client.signing_key, purpose="private_key_jwt")
    return sign_jwt(key, claims, headers)
