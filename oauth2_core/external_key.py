"""Private keys that never leave a KMS or HSM, for DPoP proofs and client assertions.

``external_signing_key(alg=..., public_jwk=..., sign=...)`` wraps a signing
callback (a cloud KMS, a PKCS#11 token, a signing service) as a
:class:`~oauth2_core.jose.SigningKey`. It is accepted wherever a private key is:
``OAuth2Client(..., dpop_key=key)``, ``dpop_proof(key, ...)``, ``OAuth2Auth(...,
dpop_key=key)`` (RFC 9449) and ``Client(..., auth_method="private_key_jwt",
signing_key=key)`` (RFC 7523 §2.2). The library builds each JWS signing input
(RFC 7515 §5.1) and the callback returns the signature over it.

ECDSA signatures in a JWS are the fixed-length ``R || S`` of RFC 7518 §3.4; KMS and
PKCS#11 APIs often return ASN.1 DER instead. Either is accepted: a DER signature is
converted (this needs the ``oauth2-core[jwt]`` extra; raw ones need nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from oauth2_core.errors import UsageError
from oauth2_core.jose import SigningKey, require_jwt
from oauth2_core.jwks import PRIVATE_MEMBERS, default_alg, jwk_fits_alg
from oauth2_core.jwks import public_jwk as _public_members

__all__ = ["external_signing_key"]

#: Bytes of one ECDSA coordinate (RFC 7518 §3.4): the signature is twice that.
_EC_COORDINATE = {"ES256": 32, "ES256K": 32, "ES384": 48, "ES512": 66}


@attrs.frozen(repr=False)
class _ExternalKey(SigningKey):
    """A :class:`SigningKey` whose private half stays behind ``sign_with``."""

    public: Mapping[str, str] = attrs.field(kw_only=True)
    sign_with: Callable[[bytes], bytes] = attrs.field(kw_only=True, eq=False)

    def sign(self, signing_input: bytes) -> bytes:
        """The callback's signature over ``signing_input``, in JWS form.

        Raises:
            UsageError: the callback returned something other than a signature.
        """
        signature = self.sign_with(signing_input)
        if not isinstance(signature, (bytes, bytearray)) or not signature:
            raise UsageError("the external signer must return the signature as bytes")
        size = _EC_COORDINATE.get(self.alg)
        if size is not None and len(signature) != 2 * size:
            return _der_to_raw(bytes(signature), size)
        return bytes(signature)

    def public_jwk(self) -> dict[str, str]:
        """The public key given to :func:`external_signing_key`."""
        return dict(self.public)

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r}, key=<external>)"

    __str__ = __repr__


def _der_to_raw(signature: bytes, size: int) -> bytes:
    """An ASN.1 DER ECDSA signature as JWS ``R || S`` (RFC 7518 §3.4)."""
    require_jwt()
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        raise UsageError(
            "the external signer returned neither a raw R||S nor a DER ECDSA signature"
        ) from None
    if r.bit_length() > 8 * size or s.bit_length() > 8 * size:
        raise UsageError("the external signer's ECDSA signature does not fit the alg's curve")
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def external_signing_key(
    *,
    public_jwk: Mapping[str, object],
    sign: Callable[[bytes], bytes],
    alg: str | None = None,
    kid: str | None = None,
) -> SigningKey:
    """A signing key whose private half stays in a KMS or HSM.

    Args:
        public_jwk: The public key as a JWK (EC, RSA or OKP; private members are
            refused). It goes into DPoP proofs (RFC 9449 §4.2) and their thumbprint.
        sign: Called with the JWS signing input (bytes); returns the signature
            for ``alg``: ``R || S`` or DER for ECDSA, PKCS#1 v1.5 for ``RS*``,
            PSS for ``PS*``, raw for ``EdDSA``.
        alg: The JWS algorithm; default: the JWK's ``alg``, else what its key
            type implies (EC by curve, RSA: RS256, OKP: EdDSA).
        kid: The ``kid`` header of client assertions; default: the JWK's.

    Returns:
        The key, for ``dpop_key=`` or ``Client(signing_key=...)``.

    Raises:
        UsageError: a private or symmetric JWK, an ``alg`` that does not fit it,
            or ``sign`` that is not callable.
    """
    if not isinstance(public_jwk, Mapping):
        raise UsageError("public_jwk must be a JWK dict")
    if PRIVATE_MEMBERS & set(public_jwk):
        raise UsageError("public_jwk must hold only the public key; the private part stays out")
    if not callable(sign):
        raise UsageError("sign must be a callable: signing input (bytes) -> signature (bytes)")
    chosen = alg if alg is not None else public_jwk.get("alg") or default_alg(public_jwk)
    if not isinstance(chosen, str) or not jwk_fits_alg(public_jwk, chosen):
        raise UsageError("alg must be an asymmetric JWS algorithm that fits public_jwk")
    named = kid if kid is not None else public_jwk.get("kid")
    return _ExternalKey(
        alg=chosen,
        kid=named if isinstance(named, str) and named else None,
        key=None,
        public=_public_members(public_jwk),
        sign_with=sign,
    )
