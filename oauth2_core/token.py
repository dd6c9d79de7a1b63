"""Access token responses (RFC 6749 §5.1, §5.2, §6) and the :class:`Token` value.

Tolerant where real servers differ, strict where it matters:

* JSON or form-encoded bodies (GitHub, old Facebook);
* ``expires_in`` as a number or a numeric string (PayPal), ``null`` or missing,
  and Facebook's ``expires``; NaN, infinity or words are a
  :class:`MalformedResponseError` naming the field; negative means already
  expired; more than 2**31-1 seconds is clamped;
* ``token_type`` compared case-insensitively (``bearer`` is ``Bearer``); any type
  is kept, but only Bearer (RFC 6750) and DPoP (RFC 9449) tokens can be presented
  (:func:`token_scheme`, the one place that decides it);
* an error object is an error at any status (Slack answers HTTP 200);
* only a 2xx answer yields a :class:`Token`.
"""

from __future__ import annotations

import datetime as _dt
import types
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from oauth2_core._http import HttpResponse
from oauth2_core._parse import (
    MAX_EXPIRES_IN,
    add_seconds,
    optional_str,
    parse_body,
    raise_for_error,
    require_object,
    seconds_value,
)
from oauth2_core.errors import MalformedResponseError, UsageError, printable

__all__ = [
    "Token",
    "UnsupportedTokenTypeError",
    "process_refresh_response",
    "process_token_response",
    "token_scheme",
]

_STANDARD = frozenset(
    {"access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"}
)


# Token's constructor calls these only for values not already canonical.


def _to_scope(value: object) -> tuple[str, ...] | None:
    if value is None or type(value) is tuple:
        return value
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(value)  # type: ignore[arg-type]


_NO_EXTRA: Mapping[str, Any] = types.MappingProxyType({})


def _to_extra(value: object) -> Mapping[str, Any]:
    if value is _NO_EXTRA or (type(value) is dict and not value):
        return _NO_EXTRA  # shared, and nobody holds the dict behind it
    # A copy: the caller's mapping may change later, the token must not.
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


_UTC = _dt.timezone.utc


def _check_aware(value: object) -> None:
    if not isinstance(value, _dt.datetime) or value.utcoffset() is None:
        raise UsageError("expires_at must be a timezone-aware datetime or None")


def normalize_token_type(value: str) -> str:
    """Canonical spelling of a token type; unknown types are kept as sent."""
    if value == "Bearer":
        return value
    lowered = value.lower()
    if lowered == "bearer":
        return "Bearer"
    if lowered == "dpop":
        return "DPoP"
    if lowered == "n_a":  # RFC 8693 §2.2.1: not an access token
        return "N_A"
    return value


def _to_token_type(value: object) -> str:
    if not isinstance(value, str):
        raise UsageError("token_type must be a string")
    return normalize_token_type(value)


class UnsupportedTokenTypeError(UsageError):
    """A token whose ``token_type`` this library cannot present to a resource server.

    Only ``Bearer`` (RFC 6750 §2.1) and ``DPoP`` (RFC 9449 §7.1) tokens can be
    sent; anything else (``mac``, RFC 8693 §2.2.1 ``N_A``, which is not an
    access token at all) is refused rather than sent as a Bearer token. Parsing
    stays tolerant: the :class:`Token` keeps the type the server gave.

    Attributes:
        token_type: The type (control characters removed, at most 40 characters).
    """

    def __init__(self, token_type: str) -> None:
        shown = printable(token_type, 40)
        if normalize_token_type(token_type) == "N_A":
            reason = "is not an access token (RFC 8693 §2.2.1)"
        else:
            reason = "is neither Bearer (RFC 6750) nor DPoP (RFC 9449)"
        super().__init__(
            f"the token's token_type {shown!r} {reason}: it cannot be presented to a "
            "resource server, and is never sent as a Bearer token"
        )
        self.token_type = shown


def token_scheme(token: Token) -> Literal["Bearer", "DPoP"]:
    """How ``token`` is presented to a resource server (RFC 6749 §7.1).

    Every place that builds an ``Authorization`` field from a :class:`Token`
    asks here: ``Bearer`` (RFC 6750 §2.1) or ``DPoP`` with a proof (RFC 9449
    §7.1), compared case-insensitively.

    Raises:
        UnsupportedTokenTypeError: any other ``token_type``.
        UsageError: ``token`` is not a :class:`Token`.
    """
    if not isinstance(token, Token):
        raise UsageError("expected an oauth2_core.Token")
    kind = normalize_token_type(token.token_type)
    if kind == "Bearer":
        return "Bearer"
    if kind == "DPoP":
        return "DPoP"
    raise UnsupportedTokenTypeError(token.token_type)


@attrs.frozen(repr=False, slots=False, init=False)
class Token:
    """An access token and what came with it.

    Every token, parsed ones included, is built by this constructor: it converts
    and checks each field, then fills the instance in one go, so no token is
    ever seen half-built.

    Attributes:
        access_token: The access token (never shown by ``repr``).
        token_type: ``"Bearer"``, ``"DPoP"``, ``"N_A"`` in canonical case (any
            case is accepted); other types are kept as given. See
            :func:`token_scheme` for which ones can be presented.
        expires_at: When it expires (aware UTC datetime), or ``None`` if the
            server did not say.
        refresh_token: The refresh token, or ``None``.
        scope: The granted scope as a tuple, or ``None`` when the server did
            not say (RFC 6749 §5.1: then it is the scope requested).
        id_token: The OpenID Connect ID token (compact JWT), or ``None``.
        extra: Every other member of the response.
        id_token_claims: The claims of ``id_token`` once validated (the high-level
            client's ``exchange_code`` validates it), else ``None``. Derived data:
            not compared, not saved by :meth:`to_dict`.

    Raises:
        UsageError: ``token_type`` is not a string, or ``expires_at`` is not an
            aware datetime.
    """

    access_token: str
    token_type: str = "Bearer"
    expires_at: _dt.datetime | None = None
    refresh_token: str | None = None
    scope: tuple[str, ...] | None = None
    id_token: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=_NO_EXTRA, hash=False)
    id_token_claims: Mapping[str, Any] | None = attrs.field(
        default=None, eq=False, hash=False, kw_only=True
    )

    def __init__(
        self,
        access_token: str,
        token_type: str = "Bearer",
        expires_at: _dt.datetime | None = None,
        refresh_token: str | None = None,
        scope: Iterable[str] | None = None,
        id_token: str | None = None,
        extra: Mapping[str, Any] = _NO_EXTRA,
        *,
        id_token_claims: Mapping[str, Any] | None = None,
    ) -> None:
        # Written out, not generated: each check passes the common, canonical
        # value at the cost of one comparison (parsing builds tokens here too).
        if token_type != "Bearer" or type(token_type) is not str:
            token_type = _to_token_type(token_type)
        if expires_at is not None and (
            type(expires_at) is not _dt.datetime or expires_at.tzinfo is not _UTC
        ):
            _check_aware(expires_at)
        if scope is not None and type(scope) is not tuple:
            scope = _to_scope(scope)
        if extra is not _NO_EXTRA:
            extra = _to_extra(extra)
        # The instance is frozen: its fields are filled here, once, all of them
        # (tests/core/test_token_value.py checks this list against the fields).
        fields = self.__dict__
        fields["access_token"] = access_token
        fields["token_type"] = token_type
        fields["expires_at"] = expires_at
        fields["refresh_token"] = refresh_token
        fields["scope"] = scope
        fields["id_token"] = id_token
        fields["extra"] = extra
        fields["id_token_claims"] = id_token_claims

    def is_expired(self, now: _dt.datetime, *, leeway: float = 0.0) -> bool:
        """Whether the token is expired at ``now``, or will be within ``leeway`` seconds.

        A token without ``expires_at`` never expires by the clock; use it until
        the server refuses it.
        """
        if now.utcoffset() is None:
            raise UsageError("now must be a timezone-aware datetime (UTC)")
        if self.expires_at is None:
            return False
        return now + _dt.timedelta(seconds=leeway) >= self.expires_at

    @property
    def issued_token_type(self) -> str | None:
        """RFC 8693 ``issued_token_type`` (token exchange), or ``None``."""
        value = self.extra.get("issued_token_type")
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` turns it back into an equal token.

        It contains the secrets: store it as you would a password.
        """
        result: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": self.token_type,
        }
        if self.expires_at is not None:
            result["expires_at"] = self.expires_at.isoformat()
        if self.refresh_token is not None:
            result["refresh_token"] = self.refresh_token
        if self.scope is not None:
            result["scope"] = list(self.scope)
        if self.id_token is not None:
            result["id_token"] = self.id_token
        if self.extra:
            result["extra"] = dict(self.extra)
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        """Rebuild a token saved with :meth:`to_dict`.

        ``expires_at`` may be an ISO 8601 string (with offset) or POSIX seconds.

        Raises:
            UsageError: the dict is not a saved token.
        """
        if not isinstance(data, Mapping):
            raise UsageError("Token.from_dict needs a mapping")
        access_token = data.get("access_token")
        if not isinstance(access_token, str):
            raise UsageError("saved token has no string 'access_token'")
        raw_expiry = data.get("expires_at")
        expires_at: _dt.datetime | None
        if raw_expiry is None:
            expires_at = None
        elif isinstance(raw_expiry, str):
            try:
                expires_at = _dt.datetime.fromisoformat(raw_expiry)
            except ValueError as exc:
                raise UsageError("saved token has an invalid 'expires_at'") from exc
            if expires_at.utcoffset() is None:
                raise UsageError("saved token 'expires_at' has no UTC offset")
        elif isinstance(raw_expiry, (int, float)) and not isinstance(raw_expiry, bool):
            try:
                expires_at = _dt.datetime.fromtimestamp(raw_expiry, _dt.timezone.utc)
            except (OverflowError, OSError, ValueError) as exc:
                raise UsageError("saved token has an invalid 'expires_at'") from exc
        else:
            raise UsageError("saved token has an invalid 'expires_at'")
        scope = data.get("scope")
        if scope is not None and not (
            isinstance(scope, str)
            or (isinstance(scope, (list, tuple)) and all(isinstance(s, str) for s in scope))
        ):
            raise UsageError("saved token has an invalid 'scope'")
        extra = data.get("extra") or {}
        if not isinstance(extra, Mapping):
            raise UsageError("saved token has an invalid 'extra'")
        token_type = data.get("token_type", "Bearer")
        for name in ("refresh_token", "id_token"):
            if data.get(name) is not None and not isinstance(data.get(name), str):
                raise UsageError(f"saved token has an invalid {name!r}")
        if not isinstance(token_type, str):
            raise UsageError("saved token has an invalid 'token_type'")
        return cls(
            access_token=access_token,
            token_type=token_type,
            expires_at=expires_at,
            refresh_token=data.get("refresh_token"),
            scope=scope,
            id_token=data.get("id_token"),
            extra=extra,
        )

    def __repr__(self) -> str:
        expires = self.expires_at.isoformat() if self.expires_at else None
        return (
            f"Token(token_type={self.token_type!r}, expires_at={expires!r}, "
            f"scope={self.scope!r}, access_token=<redacted>, "
            f"refresh_token={'<redacted>' if self.refresh_token else None}, "
            f"id_token={'<redacted>' if self.id_token else None}, "
            f"extra_keys={sorted(self.extra)!r})"
        )

    __str__ = __repr__


def _expires_at(data: Mapping[str, object], response: HttpResponse) -> _dt.datetime | None:
    name = "expires_in"
    value = data.get(name)
    if value is None and data.get("expires") is not None:
        # Old Facebook Graph API answers `expires=5183999` instead of `expires_in`.
        name = "expires"
        value = data.get(name)
    if value is None or value == "":
        return None
    seconds: float | None
    if type(value) is int and -MAX_EXPIRES_IN <= value <= MAX_EXPIRES_IN:
        seconds = value  # the usual answer, a JSON integer in range: nothing to check
    else:
        seconds = seconds_value(value, name, status=response.status)
    return add_seconds(response.received_at, seconds)


def _scope(data: Mapping[str, object], status: int) -> tuple[str, ...] | None:
    value = data.get("scope")
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(value.split())
    # Some servers send an array; it means the same.
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MalformedResponseError(
        "member 'scope' must be a space-delimited string", field="scope", status=status
    )


def process_token_response(response: HttpResponse) -> Token:
    """Turn a token endpoint answer into a :class:`Token` (RFC 6749 §5.1).

    Args:
        response: The token endpoint's answer, stamped with ``received_at``.

    Returns:
        The token. ``expires_at`` is ``received_at + expires_in``.

    Raises:
        EndpointError: an RFC 6749 §5.2 error object (at any status) or a non-2xx
            status; ``.retryable`` / ``.reauthorize`` say what to do next.
        MalformedResponseError: a 2xx answer that is not a usable token response
            (HTML, empty, bad member); the message says what arrived.
    """
    data = parse_body(response)
    status = response.status
    if data is None or "error" in data or not 200 <= status < 300:
        # The usual answer skips both: a 2xx JSON object without an error member.
        raise_for_error(response, data, endpoint="token")
        data = require_object(response, data, endpoint="token")
    get = data.get
    access_token = get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise MalformedResponseError(
            "token response has no string member 'access_token'"
            if access_token is None
            else "member 'access_token' must be a non-empty string",
            field="access_token",
            status=status,
        )
    token_type = get("token_type")
    refresh_token = get("refresh_token")
    id_token = get("id_token")
    # Strings (or absent) in the usual answer; anything else gets optional_str's error.
    if not isinstance(token_type, str):
        if token_type is not None:
            optional_str(data, "token_type", status=status)  # raises, naming the member
        token_type = ""
    if not (refresh_token is None or isinstance(refresh_token, str)):
        refresh_token = optional_str(data, "refresh_token", status=status)  # raises
    if not (id_token is None or isinstance(id_token, str)):
        id_token = optional_str(data, "id_token", status=status)  # raises
    # Most answers hold only standard members: then there is nothing to copy.
    expires_in = get("expires_in")
    scope = get("scope")
    # Each member read above that is not None is present: if they account for
    # every key, there is nothing else (a member sent as null takes the long way).
    standard = (
        1
        + (token_type != "")
        + (refresh_token is not None)
        + (id_token is not None)
        + (expires_in is not None)
        + (scope is not None)
    )
    extra = (
        _NO_EXTRA
        if len(data) == standard
        else {k: v for k, v in data.items() if k not in _STANDARD}
    )
    if type(expires_in) is int and -MAX_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
        # The usual answer, a JSON integer in range: nothing more to check.
        received_at = response.received_at
        expires_at: _dt.datetime | None
        try:
            # Every transport stamps UTC: then one addition does it.
            expires_at = (
                received_at + _dt.timedelta(0, expires_in)
                if received_at.tzinfo is _UTC
                else add_seconds(received_at, expires_in)
            )
        except OverflowError:  # a stamp near the calendar's ends
            expires_at = add_seconds(received_at, expires_in)
    else:
        expires_at = _expires_at(data, response)
    if scope is not None:
        scope = tuple(scope.split()) if type(scope) is str else _scope(data, status)
    # Positional: the cheapest call. The constructor still checks every field;
    # the values checked above pass each of its checks with one comparison.
    return Token(
        access_token,
        normalize_token_type(token_type) if token_type else "Bearer",
        expires_at,
        refresh_token or None,
        scope,
        id_token or None,
        extra,
    )


def process_refresh_response(response: HttpResponse, *, previous: Token) -> Token:
    """Process a refresh answer (RFC 6749 §6), keeping what the server may omit.

    The server may omit ``refresh_token`` (then the previous one stays valid),
    ``scope`` (then it is unchanged, §5.1) and ``id_token`` (OpenID Connect
    Core §12.2: "it might not contain an id_token"; then the previous ID token
    and its validated ``id_token_claims`` are kept, so a refresh never loses
    them; the same when it sends the previous ID token again, verbatim). A
    *new* ID token comes back with ``id_token_claims`` ``None``:
    validate it against the previous one with
    ``oauth2_core.id_token_refresh.refreshed_id_token_flow`` (``refresh_flow``
    and the high-level client do) before trusting it.

    Raises:
        EndpointError: as :func:`process_token_response`; ``invalid_grant`` has
            ``reauthorize`` true.
        MalformedResponseError: as :func:`process_token_response`.
    """
    token = process_token_response(response)
    changes: dict[str, Any] = {}
    if token.refresh_token is None and previous.refresh_token is not None:
        changes["refresh_token"] = previous.refresh_token
    if token.scope is None and previous.scope is not None:
        changes["scope"] = previous.scope
    if previous.id_token is not None and token.id_token in (None, previous.id_token):
        # Not sent, or sent again verbatim: the same ID token, so the same claims.
        changes["id_token"] = previous.id_token
        changes["id_token_claims"] = previous.id_token_claims
    return attrs.evolve(token, **changes) if changes else token
