"""The rules the requests and httpx auth hooks share (RFC 6750 §2.1 and §3.1, RFC 9449).

:func:`authorization_header` and :func:`should_retry_401` are RFC 6750's (which
header to send; which 401 a new token can fix); :class:`DPoPSigner` and
:func:`next_retry` add RFC 9449's (a proof per request, a nonce per resource
server, the nonce retry), with :class:`RetryBudget` keeping each request to one
resend. What a nonce is, which answer asks for one and which origin it belongs
to is decided in the core (:mod:`oauth2_core.dpop_nonce`): the hooks only hand
it the HTTP library's header values.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable
from typing import Literal

from oauth2_core import (
    DPoPNonces,
    Token,
    UsageError,
    parse_www_authenticate,
)
from oauth2_core.dpop import DPoPKey, dpop_proof, target_uri
from oauth2_core.dpop_nonce import dpop_nonce_challenge_fields
from oauth2_core.jose import SigningKey, load_signing_key, parse_compact
from oauth2_core.token import token_scheme

__all__ = [
    "DPoPSigner",
    "RetryBudget",
    "authorization_header",
    "expected_authorization",
    "is_dpop",
    "next_retry",
    "proof_is_stale",
    "should_retry_401",
]


def authorization_header(token: Token) -> str:
    """The ``Authorization`` value for ``token`` (RFC 6750 §2.1).

    Raises:
        UnsupportedTokenTypeError: a token type neither Bearer nor DPoP.
        UsageError: a DPoP-bound token, or an access token with characters a
            header cannot carry.
    """
    if token_scheme(token) == "DPoP":
        raise UsageError(
            "a DPoP-bound token needs a DPoP proof with each request (RFC 9449), "
            "not a Bearer header"
        )
    value = token.access_token
    # RFC 6750 §2.1 b64token is visible ASCII; CR LF would inject a header.
    if not value or not all("\x21" <= ch <= "\x7e" for ch in value):
        raise UsageError("the access token is empty or has characters a bearer token cannot have")
    return f"Bearer {value}"


def should_retry_401(www_authenticate: list[str], *, dpop: bool = False) -> bool:
    """Whether a 401 is worth one refresh and retry (DESIGN §7, RFC 6750 §3.1).

    Yes unless a Bearer challenge (with ``dpop``: a Bearer or a DPoP one, RFC 9449
    §7.1) names an error other than ``invalid_token`` (``insufficient_scope`` needs
    another grant, ``invalid_request`` another request, ``invalid_dpop_proof`` or
    a nonce challenge another proof, not another token).

    Args:
        www_authenticate: Every ``WWW-Authenticate`` field value of the response.
        dpop: Whether the request carried a DPoP-bound token.
    """
    schemes = {"bearer", "dpop"} if dpop else {"bearer"}
    errors = {
        challenge.error
        for value in www_authenticate
        for challenge in parse_www_authenticate(value)
        if challenge.scheme.lower() in schemes and challenge.error
    }
    return not (errors - {"invalid_token"})


def is_dpop(token: Token) -> bool:
    """Whether ``token`` is DPoP-bound (``token_type`` DPoP, RFC 9449 §5).

    Raises:
        UnsupportedTokenTypeError: neither Bearer nor DPoP: the hooks send nothing.
    """
    return token_scheme(token) == "DPoP"


def expected_authorization(token: Token) -> str:
    """The ``Authorization`` value a hook sends with ``token`` (RFC 6750 §2.1, RFC 9449 §7.1).

    The hooks compare it with what a 401 answered: after a redirect to another
    origin the HTTP library dropped the header, so that 401 is not about our token.
    """
    if is_dpop(token):
        return f"DPoP {token.access_token}"
    return authorization_header(token)


class DPoPSigner:
    """The DPoP side of an auth hook (RFC 9449 §7.1, §9).

    Builds the ``Authorization: DPoP <token>`` and ``DPoP`` header fields of each
    request (a fresh proof: ``htm``, ``htu``, ``ath``, new ``jti``, ``iat`` from the
    clock given) and keeps the last nonce of every origin in a core
    :class:`~oauth2_core.DPoPNonces`, since a resource server's nonce is good
    for that server only. Thread-safe.

    Args:
        key: The key given to the hook explicitly, or ``None`` (then the token
            manager's client's ``dpop_key`` is used).
    """

    def __init__(self, key: DPoPKey | None) -> None:
        self._key = key
        self._lock = threading.Lock()
        self._loaded: tuple[object, SigningKey] | None = None
        self._nonces = DPoPNonces()
        if key is not None:
            self.signing_key(None)  # a bad key fails now, not on the first request

    @property
    def nonces(self) -> DPoPNonces:
        """The per-origin nonces this signer reads and keeps (RFC 9449 §8.2, §9).

        The ``for_resource`` hooks hand the same map to their code exchange and
        refreshes: one origin, one nonce, whoever learnt it.
        """
        return self._nonces

    def signing_key(self, client_key: object) -> SigningKey:
        """The key given to the hook, else ``client_key``, loaded (once) for signing.

        Raises:
            UsageError: neither is set, or the key is unusable.
        """
        key = self._key if self._key is not None else client_key
        if key is None:
            raise UsageError(
                "a DPoP-bound token (token_type DPoP) needs a DPoP proof with each request "
                "(RFC 9449): pass OAuth2Auth(..., dpop_key=key) or give the client its dpop_key"
            )
        with self._lock:
            if self._loaded is None or self._loaded[0] is not key:
                self._loaded = (key, load_signing_key(key, purpose="the DPoP key"))
            return self._loaded[1]

    def headers(
        self,
        token: Token,
        method: str,
        url: str,
        *,
        client_key: object,
        clock: Callable[[], _dt.datetime],
    ) -> dict[str, str]:
        """``Authorization`` and ``DPoP`` for one send of a request with ``token``.

        Args:
            token: A DPoP-bound token.
            method: The request method (``htm``).
            url: The request URL (``htu`` drops query and fragment).
            client_key: The client's ``dpop_key``, used when none was given explicitly.
            clock: Dates the proof (``iat``).

        Raises:
            UsageError: no key, or an access token a header cannot carry.
        """
        signing = self.signing_key(client_key)
        nonce = self._nonces.get(url)
        proof = dpop_proof(
            signing, method, url, now=clock(), nonce=nonce, access_token=token.access_token
        )
        return {"Authorization": f"DPoP {token.access_token}", "DPoP": proof}

    def remember(self, url: str, nonce_values: list[str]) -> str | None:
        """Keep the nonce an answer from ``url`` carries (RFC 9449 §9); return it, or ``None``.

        ``nonce_values``: the answer's ``DPOP_NONCE_FIELD`` header values.
        """
        return self._nonces.remember(url, nonce_values)


def proof_is_stale(proof: str | None, method: str, url: str) -> bool:
    """Whether the ``DPoP`` proof a request carries was made for another request.

    requests and httpx follow redirects inside one call, copying the header
    fields: the redirected request then carries the proof of the first one, whose
    ``htm`` / ``htu`` (RFC 9449 §4.2) no longer match. The proof is our own; its
    payload is read, not verified.
    """
    if not proof:
        return False
    try:
        claims = parse_compact(proof).claims()
        return bool(claims.get("htm") != method or claims.get("htu") != target_uri(url))
    except (ValueError, UsageError):
        return False


class RetryBudget:
    """What one request may still do after a 401: one nonce, one proof, one refresh retry.

    Each happens at most once, in any order, so a request is sent at most four
    times and never loops.
    """

    def __init__(self) -> None:
        self.nonce = True
        self.proof = True
        self.refresh = True


def next_retry(
    budget: RetryBudget,
    *,
    dpop: bool,
    www_authenticate: list[str],
    nonce_values: list[str],
    can_refresh: bool,
    stale_proof: bool = False,
) -> Literal["nonce", "proof", "refresh"] | None:
    """What to do about a 401 to our own, re-sendable request (RFC 6750 §3.1, RFC 9449 §9).

    ``"nonce"``: a DPoP request answered with a nonce challenge (the core's
    ``dpop_nonce_challenge_fields``): send again with a proof carrying the
    new nonce (once). ``"refresh"``: invalidate the token, get a new one and send
    again (once; see :func:`should_retry_401`). ``"proof"``: the request was
    redirected (same origin: our ``Authorization`` went along) and carried the
    proof of the first URL (``stale_proof``, see :func:`proof_is_stale`): sign a
    proof for this request and send it again (once). ``None``: give the 401 to
    the caller. The caller has checked the status, that the header was ours and
    that the body can be sent twice; this function spends the budget.
    """
    if dpop and stale_proof and budget.proof:
        budget.proof = False
        return "proof"
    if (
        dpop
        and budget.nonce
        and dpop_nonce_challenge_fields(www_authenticate=www_authenticate, dpop_nonce=nonce_values)
        is not None
    ):
        budget.nonce = False
        return "nonce"
    if can_refresh and budget.refresh and should_retry_401(www_authenticate, dpop=dpop):
        budget.refresh = False
        return "refresh"
    return None
