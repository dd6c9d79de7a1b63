"""What a CIBA authentication request grants (OpenID Connect CIBA Core 1.0 §7.3).

:class:`BackchannelAuthentication` holds the ``auth_req_id`` (a secret: never in a
``repr``), when it expires and how often to poll. It is saved and restored with
``to_dict`` / ``from_dict`` so a web app can keep it between requests. The steps
that make and use it are in :mod:`oauth2_core.ciba`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core._saved import check_aware, frozen_extra, saved_time, to_interval
from oauth2_core.errors import UsageError

# DEFAULT_CIBA_INTERVAL and CIBA_MIN_INTERVAL serve oauth2_core.ciba; not package API.
__all__ = ["BackchannelAuthentication"]

#: CIBA Core 1.0 §7.3: "If no value is provided, clients MUST use 5 as the default value."
DEFAULT_CIBA_INTERVAL = 5.0
#: A poll storm helps nobody: a smaller ``interval`` from the server is raised to this.
CIBA_MIN_INTERVAL = 1.0


def _check_id(_inst: object, _attr: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise UsageError("auth_req_id must be a non-empty string")


_SAVED = "backchannel authentication"


@attrs.frozen(repr=False)
class BackchannelAuthentication:
    """A successful CIBA authentication request acknowledgement (CIBA Core 1.0 §7.3).

    Attributes:
        auth_req_id: The authentication request id (secret; never shown by ``repr``).
        expires_at: When ``auth_req_id`` expires (``received_at + expires_in``).
        interval: Seconds to wait between polls (5 when the server gives none).
        issued_at: When the answer arrived (its ``received_at``), or ``None``
            for one built by hand; :func:`~oauth2_core.ciba.backchannel_poll_flow`
            checks the first poll against ``expires_at`` with it.
        extra: Every other member of the answer.
    """

    auth_req_id: str = attrs.field(validator=_check_id)
    expires_at: _dt.datetime = attrs.field(kw_only=True, validator=check_aware)
    interval: float = attrs.field(
        default=DEFAULT_CIBA_INTERVAL, converter=to_interval, kw_only=True
    )
    issued_at: _dt.datetime | None = attrs.field(default=None, validator=check_aware, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, converter=frozen_extra, hash=False, kw_only=True
    )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict for :meth:`from_dict`. It holds ``auth_req_id``: keep it private."""
        result: dict[str, Any] = {
            "auth_req_id": self.auth_req_id,
            "expires_at": self.expires_at.isoformat(),
            "interval": self.interval,
        }
        if self.issued_at is not None:
            result["issued_at"] = self.issued_at.isoformat()
        if self.extra:
            result["extra"] = dict(self.extra)
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackchannelAuthentication:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            UsageError: the mapping is not a saved backchannel authentication.
        """
        if not isinstance(data, Mapping):
            raise UsageError("BackchannelAuthentication.from_dict needs a mapping")
        interval = data.get("interval", DEFAULT_CIBA_INTERVAL)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)):
            raise UsageError("saved backchannel authentication has an invalid 'interval'")
        extra = data.get("extra") or {}
        if not isinstance(extra, Mapping):
            raise UsageError("saved backchannel authentication has an invalid 'extra'")
        return cls(
            data.get("auth_req_id"),  # type: ignore[arg-type]  # checked by the validator
            expires_at=saved_time(
                data, "expires_at", what="backchannel authentication", required=True
            ),
            interval=interval,
            issued_at=saved_time(
                data, "issued_at", what="backchannel authentication", required=False
            ),
            extra=extra,
        )

    def __repr__(self) -> str:
        return (
            f"BackchannelAuthentication(auth_req_id=<redacted>, "
            f"expires_at={self.expires_at.isoformat()!r}, interval={self.interval!r})"
        )

    __str__ = __repr__
