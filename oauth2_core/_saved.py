"""Field checks shared by the polling grants' saved values (RFC 8628 §3.2, CIBA Core 1.0 §7.3).

``DeviceAuthorization`` and ``BackchannelAuthentication`` hold the same kinds of
field (an interval, aware datetimes, extra members) and round-trip through
``to_dict``/``from_dict`` the same way; these are their one set of converters.
"""

from __future__ import annotations

import datetime as _dt
import math
import types
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core.errors import UsageError

__all__ = ["check_aware", "frozen_extra", "saved_time", "to_interval"]


def frozen_extra(value: object) -> Mapping[str, Any]:
    """A read-only copy of the extra members."""
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


def check_aware(_inst: object, attr: attrs.Attribute[Any], value: _dt.datetime | None) -> None:
    """attrs validator: ``None`` or a timezone-aware datetime."""
    if value is not None and (not isinstance(value, _dt.datetime) or value.utcoffset() is None):
        raise UsageError(f"{attr.name} must be a timezone-aware datetime")


def to_interval(value: object) -> float:
    """A polling interval in seconds: a non-negative, finite number."""
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


def saved_time(data: Mapping[str, Any], name: str, *, what: str, required: bool) -> Any:
    """The aware datetime saved (ISO 8601) under ``name`` by ``to_dict``, or ``None``.

    Raises:
        UsageError: missing when ``required``, not ISO 8601, or without a UTC
            offset; the message names ``what`` was saved and the field.
    """
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise UsageError(f"saved {what} has an invalid {name!r}")
    try:
        when = _dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"saved {what} has an invalid {name!r}") from exc
    if when.utcoffset() is None:
        raise UsageError(f"saved {what} {name!r} has no UTC offset")
    return when
