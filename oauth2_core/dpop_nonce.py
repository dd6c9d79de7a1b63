"""DPoP nonces (RFC 9449 §8, §9): the one place that reads them.

A server may require each DPoP proof to carry a nonce it handed out. It hands
one out in the ``DPoP-Nonce`` response header field of any answer (§8.2) and
asks for it with a challenge: an authorization server answers
``{"error": "use_dpop_nonce"}`` (§8), a resource server answers 401 with
``WWW-Authenticate: DPoP error="use_dpop_nonce"`` (§9).

* :func:`latest_dpop_nonce` reads the ``DPoP-Nonce`` values of an answer;
* :func:`dpop_nonce_challenge` (an :class:`HttpResponse`) and
  :func:`dpop_nonce_challenge_fields` (raw header values, for HTTP libraries'
  own responses) recognise a challenge and return the nonce to retry with;
* :class:`DPoPNonces` keeps the last nonce of each origin: a nonce is good for
  the server that gave it only (§9), and the token endpoint, the userinfo
  endpoint and every API may each be another server.

The flows that send with a proof and retry once on a challenge are in
:mod:`oauth2_core.dpop` (:func:`~oauth2_core.dpop.dpop_send_flow`).
"""

from __future__ import annotations

from collections.abc import Iterable

from oauth2_core._http import HttpResponse
from oauth2_core._parse import parse_body
from oauth2_core.bearer import parse_www_authenticate
from oauth2_core.endpoints import Origin, url_origin
from oauth2_core.errors import UsageError

__all__ = [
    "DPOP_NONCE_FIELD",
    "DPoPNonces",
    "dpop_nonce_challenge",
    "dpop_nonce_challenge_fields",
    "is_dpop_nonce",
    "latest_dpop_nonce",
]

#: The response header field that carries a server's nonce (RFC 9449 §8.1), lower case.
DPOP_NONCE_FIELD = "dpop-nonce"
#: The error code of a nonce challenge (RFC 9449 §8, §9).
_USE_DPOP_NONCE = "use_dpop_nonce"


def is_dpop_nonce(value: object) -> bool:
    """Whether ``value`` is a nonce a proof can carry (RFC 9449 §8.1).

    ``nonce = 1*NQCHAR`` with ``NQCHAR = %x21 / %x23-5B / %x5D-7E``: visible
    ASCII without the double quote and the backslash.
    """
    return (
        isinstance(value, str)
        and bool(value)
        and all("\x21" <= c <= "\x7e" and c not in '"\\' for c in value)
    )


def latest_dpop_nonce(values: Iterable[str]) -> str | None:
    """The nonce an answer hands out: its last ``DPoP-Nonce`` value, if valid (RFC 9449 §8.2).

    Args:
        values: Every ``DPoP-Nonce`` field value of the answer, in order
            (``response.headers.get_all(DPOP_NONCE_FIELD)``).

    Returns:
        The nonce, or ``None`` when there is none or it is not a valid nonce.
    """
    last = None
    for value in values:
        last = value
    nonce = last.strip() if isinstance(last, str) else None
    return nonce if is_dpop_nonce(nonce) else None


def dpop_nonce_challenge_fields(
    *, www_authenticate: Iterable[str], dpop_nonce: Iterable[str]
) -> str | None:
    """The nonce a resource server's 401 asks for, from raw header values (RFC 9449 §9).

    A challenge is ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` with a
    valid ``DPoP-Nonce``; without a valid nonce there is nothing to retry with.

    Args:
        www_authenticate: Every ``WWW-Authenticate`` field value.
        dpop_nonce: Every ``DPoP-Nonce`` field value.

    Returns:
        The nonce the next proof must carry, or ``None``.
    """
    nonce = latest_dpop_nonce(dpop_nonce)
    if nonce is None:
        return None
    for value in www_authenticate:
        for challenge in parse_www_authenticate(value):
            if challenge.scheme.lower() == "dpop" and challenge.error == _USE_DPOP_NONCE:
                return nonce
    return None


def dpop_nonce_challenge(response: HttpResponse) -> str | None:
    """The nonce a server asks the next proof to carry, or ``None``.

    An authorization server answers ``{"error": "use_dpop_nonce"}`` (RFC 9449
    §8, HTTP 400); a resource server answers 401 with
    ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` (§9). Both send the nonce
    in the ``DPoP-Nonce`` header field; without a valid one there is nothing
    to retry with. Total: any response gives a value.
    """
    values = response.headers.get_all(DPOP_NONCE_FIELD)
    nonce = latest_dpop_nonce(values)
    if nonce is None:
        return None
    challenge = dpop_nonce_challenge_fields(
        www_authenticate=response.headers.get_all("www-authenticate"), dpop_nonce=values
    )
    if challenge is not None:
        return challenge
    if not 200 <= response.status < 300:
        data = parse_body(response)
        if data is not None and data.get("error") == _USE_DPOP_NONCE:
            return nonce
    return None


def _origin(url: str) -> Origin | None:
    try:
        return url_origin(url)[0]
    except UsageError:
        return None


class DPoPNonces:
    """The last DPoP nonce of each origin (RFC 9449 §8.2, §9), owned by the caller.

    Nonces are per server: the one the token endpoint gave never goes to an
    API. Keys are :class:`~oauth2_core.endpoints.Origin` values from the one
    authority parser (``url_origin``), so ``https://as.example`` and
    ``https://as.example:443/token`` share a nonce. A small mutable map: keep
    one per client (or per auth hook) and pass it to the flows, which read the
    nonce for each request and keep the one each answer hands out. It holds no
    lock: a lost update between threads costs one more nonce challenge, never
    a wrong request. The core keeps no instance of its own.

    A nonce is not a credential: ``repr`` shows the origins only.
    """

    __slots__ = ("_by_origin",)

    def __init__(self) -> None:
        self._by_origin: dict[Origin, str] = {}

    def get(self, url: str) -> str | None:
        """The last nonce of ``url``'s origin, or ``None`` (also for a URL that is not one)."""
        origin = _origin(url)
        return None if origin is None else self._by_origin.get(origin)

    def set(self, url: str, nonce: str | None) -> None:
        """Keep ``nonce`` for ``url``'s origin; ``None`` or an invalid nonce changes nothing.

        Raises:
            UsageError: ``url`` is not an absolute URL the authority parser accepts.
        """
        if nonce is None or not is_dpop_nonce(nonce):
            return
        origin, _ = url_origin(url)
        self._by_origin[origin] = nonce

    def remember(self, url: str, values: Iterable[str]) -> str | None:
        """Keep the nonce an answer from ``url`` hands out (RFC 9449 §8.2, §9).

        Args:
            url: The URL the request went to.
            values: The answer's ``DPoP-Nonce`` field values.

        Returns:
            The nonce kept, or ``None`` when the answer had no valid one (the
            previous nonce of the origin then stays).
        """
        nonce = latest_dpop_nonce(values)
        if nonce is not None:
            origin = _origin(url)
            if origin is not None:
                self._by_origin[origin] = nonce
        return nonce

    def __len__(self) -> int:
        return len(self._by_origin)

    def __repr__(self) -> str:
        return f"DPoPNonces(origins={sorted(str(o) for o in self._by_origin)!r})"
