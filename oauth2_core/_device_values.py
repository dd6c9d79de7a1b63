"""The device grant's values (RFC 8628 §3.2, §3.5): what the device endpoint grants
and what a poll can answer besides a token.

:class:`DeviceAuthorization` (saved and restored with ``to_dict`` / ``from_dict``),
:class:`Pending` and :class:`SlowDown`. The steps and the polling flow that make and
read them are in :mod:`oauth2_core.device`, which re-exports these names.
"""

from __future__ import annotations

import datetime as _dt
import math
import types
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core.errors import UsageError

__all__ = [
    "DEFAULT_INTERVAL",
    "DEVICE_CODE_GRANT_TYPE",
    "MIN_INTERVAL",
    "SLOW_DOWN_INCREMENT",
    "DeviceAuthorization",
    "Pending",
    "SlowDown",
]

#: The ``grant_type`` of the device code grant (RFC 8628 §3.4).
DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
DEFAULT_INTERVAL = 5.0
#: RFC 8628 §3.5: on ``slow_down`` "the interval MUST be increased by 5 seconds".
SLOW_DOWN_INCREMENT = 5.0
#: A poll storm helps nobody: a smaller ``interval`` from the server is raised to this.
MIN_INTERVAL = 1.0

_STANDARD = frozenset(
    {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_url",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
)


def _to_extra(value: object) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


def _check_aware(_inst: object, attr: attrs.Attribute[Any], value: _dt.datetime | None) -> None:
    if value is not None and (not isinstance(value, _dt.datetime) or value.utcoffset() is None):
        raise UsageError(f"{attr.name} must be a timezone-aware datetime")


def _to_interval(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise UsageError("interval must be a non-negative number of seconds")
    # A saved dict may hold 10**400 (float() overflows) or Infinity (a poll never sent).
    try:
        interval = float(value)
    except OverflowError:
        interval = math.inf
    if not math.isfinite(interval):
        raise UsageError("interval must be a finite number of seconds")
    return interval


@attrs.frozen(repr=False)
class DeviceAuthorization:
    """A device authorization response (RFC 8628 §3.2).

    Attributes:
        device_code: The device verification code (secret; never shown by ``repr``).
        user_code: The code the user types at ``verification_uri``.
        verification_uri: Where the user goes.
        verification_uri_complete: The same page with ``user_code`` filled in
            (for a QR code), or ``None``.
        expires_at: When ``device_code`` expires (``received_at + expires_in``).
        interval: Seconds to wait between polls (default 5).
        issued_at: When the response arrived (its ``received_at``), or ``None``
            for one built by hand; :func:`device_poll_flow` uses it to check the
            first poll against ``expires_at``.
        extra: Every other member of the response.
    """

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None = attrs.field(default=None, kw_only=True)
    expires_at: _dt.datetime = attrs.field(kw_only=True, validator=_check_aware)
    interval: float = attrs.field(default=DEFAULT_INTERVAL, converter=_to_interval, kw_only=True)
    issued_at: _dt.datetime | None = attrs.field(default=None, validator=_check_aware, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_to_extra, hash=False, kw_only=True
    )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict for :meth:`from_dict`. It holds the device code: keep it private."""
        result: dict[str, Any] = {
            "device_code": self.device_code,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "expires_at": self.expires_at.isoformat(),
            "interval": self.interval,
        }
        if self.verification_uri_complete is not None:
            result["verification_uri_complete"] = self.verification_uri_complete
        if self.issued_at is not None:
            result["issued_at"] = self.issued_at.isoformat()
        if self.extra:
            result["extra"] = dict(self.extra)
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceAuthorization:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            UsageError: the mapping is not a saved device authorization.
        """
        if not isinstance(data, Mapping):
            raise UsageError("DeviceAuthorization.from_dict needs a mapping")
        for name in ("device_code", "user_code", "verification_uri"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise UsageError(f"saved device authorization has no string {name!r}")
        complete = data.get("verification_uri_complete")
        if complete is not None and not isinstance(complete, str):
            raise UsageError(
                "saved device authorization has an invalid 'verification_uri_complete'"
            )
        interval = data.get("interval", DEFAULT_INTERVAL)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)):
            raise UsageError("saved device authorization has an invalid 'interval'")
        extra = data.get("extra") or {}
        if not isinstance(extra, Mapping):
            raise UsageError("saved device authorization has an invalid 'extra'")
        return cls(
            data["device_code"],
            data["user_code"],
            data["verification_uri"],
            verification_uri_complete=complete,
            expires_at=_saved_time(data, "expires_at", required=True),
            interval=interval,
            issued_at=_saved_time(data, "issued_at", required=False),
            extra=extra,
        )

    def __repr__(self) -> str:
        return (
            f"DeviceAuthorization(device_code=<redacted>, user_code={self.user_code!r}, "
            f"verification_uri={self.verification_uri!r}, "
            f"expires_at={self.expires_at.isoformat()!r}, interval={self.interval!r})"
        )

    __str__ = __repr__


def _saved_time(data: Mapping[str, Any], name: str, *, required: bool) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise UsageError(f"saved device authorization has an invalid {name!r}")
    try:
        when = _dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"saved device authorization has an invalid {name!r}") from exc
    if when.utcoffset() is None:
        raise UsageError(f"saved device authorization {name!r} has no UTC offset")
    return when


@attrs.frozen
class Pending:
    """``authorization_pending``: the user has not finished yet; poll again (RFC 8628 §3.5)."""


@attrs.frozen
class SlowDown:
    """``slow_down``: poll again, with the interval raised for good (RFC 8628 §3.5).

    Attributes:
        increment: Seconds to add to the interval, for this and every later
            poll: 5, as the RFC says.
    """

    increment: float = SLOW_DOWN_INCREMENT
