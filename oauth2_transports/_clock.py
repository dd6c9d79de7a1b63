"""The transports' clock: how time enters ``HttpResponse.received_at`` (DESIGN §1).

The core never reads the clock; every adapter stamps each response from an
injectable :data:`Clock`, checked by :func:`stamp`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from oauth2_core import UsageError

__all__ = ["Clock", "stamp", "utc_now"]

Clock = Callable[[], _dt.datetime]
"""Returns the current time as a timezone-aware datetime."""


def utc_now() -> _dt.datetime:
    """The current time as an aware UTC datetime: the adapters' default clock."""
    return _dt.datetime.now(_dt.timezone.utc)


def stamp(clock: Clock) -> _dt.datetime:
    """Read ``clock`` for ``HttpResponse.received_at``, as an aware UTC datetime.

    Raises:
        UsageError: The clock returned something other than an aware datetime.
    """
    now = clock()
    if not isinstance(now, _dt.datetime) or now.utcoffset() is None:
        raise UsageError("the transport clock must return a timezone-aware datetime")
    return now.astimezone(_dt.timezone.utc)
