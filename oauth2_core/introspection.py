"""Token introspection (RFC 7662)."""

from __future__ import annotations

import datetime as _dt
import types
from collections.abc import Mapping
from typing import Any

import attrs

from oauth2_core._http import HttpRequest, HttpResponse
from oauth2_core._parse import (
    finite_number,
    optional_str,
    parse_body,
    raise_for_error,
    require_object,
)
from oauth2_core.client import Client
from oauth2_core.errors import MalformedResponseError, UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.metadata import ServerMetadata

__all__ = ["Introspection", "introspection_request", "process_introspection_response"]

_STANDARD = frozenset(
    {
        "active",
        "scope",
        "client_id",
        "username",
        "token_type",
        "exp",
        "iat",
        "nbf",
        "sub",
        "aud",
        "iss",
        "jti",
    }
)


def _to_extra(value: object) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))  # type: ignore[call-overload]


@attrs.frozen
class Introspection:
    """What the server says about a token (RFC 7662 §2.2).

    Only ``active`` is always present; an inactive token carries nothing else
    worth trusting.
    """

    active: bool
    scope: tuple[str, ...] | None = None
    client_id: str | None = None
    username: str | None = None
    token_type: str | None = None
    exp: _dt.datetime | None = None
    iat: _dt.datetime | None = None
    nbf: _dt.datetime | None = None
    sub: str | None = None
    aud: tuple[str, ...] | None = None
    iss: str | None = None
    jti: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_to_extra, hash=False)


def introspection_request(
    server: ServerMetadata,
    client: Client,
    token: str,
    *,
    token_type_hint: str | None = None,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """Ask the server about ``token`` (RFC 7662 §2.1).

    ``now`` (when the request is sent) is required for JWT client authentication.

    Returns:
        The request. Next: :func:`process_introspection_response`.
    """
    if not isinstance(token, str) or not token:
        raise UsageError("token must be a non-empty string")
    body = [("token", token)]
    if token_type_hint is not None:
        body.append(("token_type_hint", token_type_hint))
    return endpoint_request(
        server, client, endpoint="introspection_endpoint", params=body, extra=params, now=now
    )


def _time(data: Mapping[str, object], name: str, status: int) -> _dt.datetime | None:
    value = data.get(name)
    if value is None:
        return None
    seconds = finite_number(value) if not isinstance(value, str) else None
    if seconds is None:
        raise MalformedResponseError(
            f"member {name!r} must be a NumericDate", field=name, status=status
        )
    try:
        return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedResponseError(
            f"member {name!r} is out of range", field=name, status=status
        ) from exc


def process_introspection_response(response: HttpResponse) -> Introspection:
    """Read an introspection answer (RFC 7662 §2.2).

    Raises:
        EndpointError: an error object or error status (401 for bad client auth).
        MalformedResponseError: no boolean ``active``, or a member of the wrong type.
    """
    data = parse_body(response)
    raise_for_error(response, data, endpoint="introspection")
    data = require_object(response, data, endpoint="introspection")
    return introspection_from_object(data, status=response.status)


def introspection_from_object(data: Mapping[str, object], *, status: int) -> Introspection:
    """The :class:`Introspection` of an RFC 7662 §2.2 JSON object (plain or from a JWT).

    Raises:
        MalformedResponseError: no boolean ``active``, or a member of the wrong type.
    """
    active = data.get("active")
    if not isinstance(active, bool):
        raise MalformedResponseError(
            "member 'active' must be a boolean", field="active", status=status
        )
    scope = optional_str(data, "scope", status=status)
    aud_value = data.get("aud")
    aud: tuple[str, ...] | None
    if aud_value is None:
        aud = None
    elif isinstance(aud_value, str):
        aud = (aud_value,)
    elif isinstance(aud_value, list) and all(isinstance(a, str) for a in aud_value):
        aud = tuple(aud_value)
    else:
        raise MalformedResponseError(
            "member 'aud' must be a string or an array of strings", field="aud", status=status
        )
    return Introspection(
        active=active,
        scope=tuple(scope.split()) if scope is not None else None,
        client_id=optional_str(data, "client_id", status=status),
        username=optional_str(data, "username", status=status),
        token_type=optional_str(data, "token_type", status=status),
        exp=_time(data, "exp", status),
        iat=_time(data, "iat", status),
        nbf=_time(data, "nbf", status),
        sub=optional_str(data, "sub", status=status),
        aud=aud,
        iss=optional_str(data, "iss", status=status),
        jti=optional_str(data, "jti", status=status),
        extra={k: v for k, v in data.items() if k not in _STANDARD},
    )
