"""Device authorization (RFC 8628 §3.1, §3.2): start the grant, read what it grants.

:func:`device_authorization_request` / :func:`process_device_authorization_response`
give a :class:`DeviceAuthorization` (saved and restored with ``to_dict`` /
``from_dict``); show ``user_code`` and ``verification_uri`` to the user, then
poll (:mod:`oauth2_core.device_poll`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core._http import HttpRequest, HttpResponse
from oauth2_core._params import Params, scope_string
from oauth2_core._parse import (
    add_seconds,
    optional_seconds,
    optional_str,
    parse_body,
    raise_for_error,
    require_object,
)
from oauth2_core._saved import check_aware, frozen_extra, saved_time, to_interval
from oauth2_core.client import Client
from oauth2_core.errors import MalformedResponseError, UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.metadata import ServerMetadata

__all__ = [
    "DeviceAuthorization",
    "device_authorization_request",
    "process_device_authorization_response",
]

#: RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
DEFAULT_INTERVAL = 5.0
#: A poll storm helps nobody: a smaller ``interval`` from the server is raised to this.
MIN_INTERVAL = 1.0

# The members of a device authorization answer we model; the rest go to ``extra``.
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
    expires_at: _dt.datetime = attrs.field(kw_only=True, validator=check_aware)
    interval: float = attrs.field(default=DEFAULT_INTERVAL, converter=to_interval, kw_only=True)
    issued_at: _dt.datetime | None = attrs.field(default=None, validator=check_aware, kw_only=True)
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, converter=frozen_extra, hash=False, kw_only=True
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
            expires_at=saved_time(data, "expires_at", what="device authorization", required=True),
            interval=interval,
            issued_at=saved_time(data, "issued_at", what="device authorization", required=False),
            extra=extra,
        )

    def __repr__(self) -> str:
        return (
            f"DeviceAuthorization(device_code=<redacted>, user_code={self.user_code!r}, "
            f"verification_uri={self.verification_uri!r}, "
            f"expires_at={self.expires_at.isoformat()!r}, interval={self.interval!r})"
        )

    __str__ = __repr__


def device_authorization_request(
    server: ServerMetadata,
    client: Client,
    *,
    scope: object = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Start a device authorization (RFC 8628 §3.1).

    The client authenticates as at the token endpoint (a public client sends
    its ``client_id``).

    Args:
        server: Server metadata with ``device_authorization_endpoint``.
        client: The client.
        scope: A string or an iterable of strings.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters (``resource`` ...); a list repeats the parameter.

    Returns:
        The request. Next: :func:`process_device_authorization_response`.

    Raises:
        UsageError: no device authorization endpoint, plain http, a bad parameter.
    """
    body: Params = []
    scope_value = scope_string(scope)
    if scope_value:
        body.append(("scope", scope_value))
    return endpoint_request(
        server,
        client,
        endpoint="device_authorization_endpoint",
        params=body,
        extra=params,
        now=now,
    )


def _required_str(data: Mapping[str, object], name: str, status: int) -> str:
    value = optional_str(data, name, status=status)
    if not value:
        raise MalformedResponseError(
            f"device authorization response has no string member {name!r}",
            field=name,
            status=status,
        )
    return value


def process_device_authorization_response(response: HttpResponse) -> DeviceAuthorization:
    """Read a device authorization answer (RFC 8628 §3.2).

    Args:
        response: The device authorization endpoint's answer.

    Returns:
        The device authorization; ``expires_at`` is ``received_at + expires_in``.
        Next: show ``user_code`` and ``verification_uri``, then
        :func:`device_poll_flow` (or :func:`device_code_grant_request`).

    Raises:
        EndpointError: an error object or an error status.
        MalformedResponseError: a required member missing or of the wrong type
            (``expires_in`` is required), named in ``field``.
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="device authorization")
    data = require_object(response, data, endpoint="device authorization")
    status = response.status
    device_code = _required_str(data, "device_code", status)
    user_code = _required_str(data, "user_code", status)
    if data.get("verification_uri") is None and data.get("verification_url") is not None:
        # Google's device endpoint answers `verification_url` (an early draft's name).
        verification_uri = _required_str(data, "verification_url", status)
    else:
        verification_uri = _required_str(data, "verification_uri", status)
    complete = optional_str(data, "verification_uri_complete", status=status) or None
    expires_in = optional_seconds(data, "expires_in", status=status)
    if expires_in is None:
        raise MalformedResponseError(
            "device authorization response has no member 'expires_in'",
            field="expires_in",
            status=status,
        )
    interval = optional_seconds(data, "interval", status=status)
    received = response.received_at
    return DeviceAuthorization(
        device_code,
        user_code,
        verification_uri,
        verification_uri_complete=complete,
        expires_at=add_seconds(received, expires_in),
        interval=DEFAULT_INTERVAL if interval is None else max(interval, MIN_INTERVAL),
        issued_at=received,
        extra={k: v for k, v in data.items() if k not in _STANDARD},
    )
