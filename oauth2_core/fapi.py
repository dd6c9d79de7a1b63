"""The FAPI 2.0 Security Profile, client side (FAPI 2.0 Security Profile §5.3.2, §5.4).

One switch, ``profile="fapi2"`` on the high-level clients, runs these checks:

* :func:`fapi2_server` refuses, before any request, a setup that cannot meet
  the profile: client authentication other than ``private_key_jwt`` or mTLS
  (§5.3.2.1: "shall support and use ... MTLS or private_key_jwt"), tokens that
  are not sender-constrained (§5.3.2.1: DPoP or mTLS), a server without PAR
  (§5.3.2.2: "shall use pushed authorization requests"), a signing key outside
  PS256, ES256 and EdDSA (§5.4.1). It returns the server metadata with PAR and
  the RFC 9207 ``iss`` check required, and with only PS256, ES256 and EdDSA
  accepted for what the server signs (ID tokens, JARM responses, signed
  introspection and userinfo answers), so every later step follows the profile.
* :func:`check_fapi2_authorization` refuses an authorization request that would
  leave the profile: no PAR, or PKCE other than S256 (§5.3.2.2).
* :func:`check_dpop_binding` refuses a token answer to a DPoP request that is
  not ``DPoP``-bound (§5.3.2.1: sender-constrained tokens only; RFC 9449 §5
  lets a server answer ``Bearer``), before anyone uses the token. The flows
  run it with ``require_dpop_binding=True``, which :func:`dpop_binding_required`
  turns on for the profile.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from oauth2_core.client import MTLS_AUTH_METHODS, Client
from oauth2_core.errors import TokenBindingError, UsageError
from oauth2_core.jose import load_signing_key
from oauth2_core.metadata import ServerMetadata
from oauth2_core.pending import PendingAuthorization
from oauth2_core.token import Token, normalize_token_type

__all__ = [
    "FAPI2_ALGS",
    "check_dpop_binding",
    "check_fapi2_authorization",
    "dpop_binding_required",
    "fapi2_server",
]

#: FAPI 2.0 Security Profile §5.4.1: "shall use PS256, ES256 or EdDSA (using the Ed25519
#: variant) algorithms".
FAPI2_ALGS = frozenset({"PS256", "ES256", "EdDSA"})
_AUTH_METHODS = frozenset({"private_key_jwt", *MTLS_AUTH_METHODS})


def _refuse(message: str) -> UsageError:
    return UsageError(f"profile='fapi2' {message} (FAPI 2.0 Security Profile)")


def _check_alg(key: object, purpose: str) -> None:
    alg = load_signing_key(key, purpose=purpose).alg
    if alg not in FAPI2_ALGS:
        raise _refuse(f"needs {purpose} to sign with PS256, ES256 or EdDSA, not {alg} (§5.4.1)")


def fapi2_server(
    server: ServerMetadata, client: Client, *, dpop_key: object | None
) -> ServerMetadata:
    """Refuse a setup that cannot meet FAPI 2.0; the server metadata that enforces it.

    Args:
        server: The authorization server's metadata.
        client: The client registration.
        dpop_key: The client's DPoP key, or ``None`` (then mTLS must bind the tokens).

    Returns:
        ``server`` with ``require_pushed_authorization_requests`` and
        ``authorization_response_iss_parameter_supported`` set: every
        authorization request is pushed and every callback must carry the
        issuer (RFC 9207 §2.4); and with the ``*_signing_alg_values_supported``
        lists for ID tokens, authorization responses, introspection and
        userinfo cut down to PS256 / ES256 / EdDSA (§5.4.1): a JWT the server
        signs otherwise is refused.

    Raises:
        UsageError: client authentication other than ``private_key_jwt`` or
            mTLS; no DPoP key and no mTLS; no PAR endpoint; a client assertion
            ``signer`` that cannot be checked; a signing or DPoP key outside
            PS256 / ES256 / EdDSA.
    """
    if not isinstance(server, ServerMetadata) or not isinstance(client, Client):
        raise UsageError("fapi2_server needs a ServerMetadata and a Client")
    if client.auth_method not in _AUTH_METHODS:
        raise _refuse(
            "needs client authentication by private_key_jwt, tls_client_auth or "
            f"self_signed_tls_client_auth, not {client.auth_method!r} (§5.3.2.1)"
        )
    mtls = client.auth_method in MTLS_AUTH_METHODS or client.use_mtls_endpoint_aliases
    if dpop_key is None and not mtls:
        raise _refuse("needs sender-constrained tokens: pass dpop_key= or use mTLS (§5.3.2.1)")
    if not server.pushed_authorization_request_endpoint:
        raise _refuse("needs a server with pushed_authorization_request_endpoint (§5.3.2.2)")
    if client.auth_method == "private_key_jwt":
        if client.signer is not None:
            raise _refuse(
                "cannot check a Signer's algorithm; give signing_key= (a JWK, PEM or "
                "external_signing_key with PS256, ES256 or EdDSA)"
            )
        _check_alg(client.signing_key, "signing_key")
    if dpop_key is not None:
        _check_alg(dpop_key, "the DPoP key")
    # §5.4.1: "shall use PS256, ES256 or EdDSA (using the Ed25519 variant)": what
    # the server signs for us (ID tokens, JARM responses, signed introspection
    # and userinfo) is verified with those algorithms only, whatever it lists.
    userinfo = server.extra.get("userinfo_signing_alg_values_supported")
    return attrs.evolve(
        server,
        require_pushed_authorization_requests=True,
        authorization_response_iss_parameter_supported=True,
        id_token_signing_alg_values_supported=_fapi2_algs(
            server.id_token_signing_alg_values_supported
        ),
        authorization_signing_alg_values_supported=_fapi2_algs(
            server.authorization_signing_alg_values_supported
        ),
        introspection_signing_alg_values_supported=_fapi2_algs(
            server.introspection_signing_alg_values_supported
        ),
        extra={
            **server.extra,
            "userinfo_signing_alg_values_supported": list(
                _fapi2_algs(userinfo if isinstance(userinfo, list) else None)
            ),
        },
    )


def _fapi2_algs(advertised: Iterable[object] | None) -> tuple[str, ...]:
    """The advertised algorithms FAPI 2.0 allows, in their order; all three if none listed.

    Empty when the server lists only others: every signature is then refused
    (an ``IdTokenError`` naming ``alg``) rather than accepted outside the profile.
    """
    if advertised is None:
        return tuple(sorted(FAPI2_ALGS))
    return tuple(alg for alg in advertised if isinstance(alg, str) and alg in FAPI2_ALGS)


def check_fapi2_authorization(pending: PendingAuthorization, *, par: bool | None) -> None:
    """Refuse an authorization request FAPI 2.0 forbids (§5.3.2.2).

    Args:
        pending: The pending authorization (its PKCE verifier and method).
        par: The caller's ``par=`` choice; ``False`` is refused.

    Raises:
        UsageError: ``par=False``, or PKCE missing or not S256.
    """
    if par is False:
        raise _refuse("pushes every authorization request; par=False is not allowed (§5.3.2.2)")
    if pending.code_verifier is None or pending.code_challenge_method != "S256":
        raise _refuse("needs PKCE with S256 (§5.3.2.2)")


def check_dpop_binding(token: Token, *, status: int | None = None) -> Token:
    """``token`` when the server bound it to the DPoP key (``token_type`` ``DPoP``, RFC 9449 §5).

    RFC 9449 §5 lets a server ignore the proof and answer ``Bearer``; the FAPI
    2.0 Security Profile §5.3.2.1 does not ("shall only issue sender-constrained
    access tokens"). The flows call this with ``require_dpop_binding=True``
    right after the answer is read, before the ID token is checked or anyone
    sees the token.

    Args:
        token: The token a DPoP-proofed request got.
        status: The answer's HTTP status, for the error.

    Returns:
        ``token``, unchanged.

    Raises:
        TokenBindingError: any other ``token_type`` (it names the type).
    """
    if normalize_token_type(token.token_type) != "DPoP":
        raise TokenBindingError(token.token_type, status=status)
    return token


def dpop_binding_required(
    *, profile: str | None, dpop_key: object | None, require_dpop_binding: bool = False
) -> bool:
    """Whether the token answers to this client's DPoP requests must be ``DPoP``-bound.

    With ``profile="fapi2"`` and a DPoP key: FAPI 2.0 Security Profile §5.3.2.1
    accepts sender-constrained tokens only (with mTLS instead, the binding is
    the certificate's and not visible in ``token_type``). Elsewhere RFC 9449 §5
    lets the server answer ``Bearer``, so only the explicit
    ``require_dpop_binding=True`` asks for it.

    Raises:
        UsageError: ``require_dpop_binding`` without a DPoP key.
    """
    if require_dpop_binding and dpop_key is None:
        raise UsageError("require_dpop_binding needs a dpop_key: nothing would bind the token")
    return require_dpop_binding or (profile == "fapi2" and dpop_key is not None)
