"""Tolerant, honest decoding of endpoint answers (shared by every processor).

Bodies may be JSON (RFC 6749 §5.1) or, from some providers, form-encoded:
GitHub answers ``application/x-www-form-urlencoded`` unless asked for JSON, and
old Facebook Graph versions answer ``access_token=...&expires=...`` as
``text/plain``. Anything else (an HTML error page, an empty body) is reported
as what it is, never as "missing access token".
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from typing import NoReturn
from urllib.parse import parse_qsl

from oauth2_core._http import HttpResponse
from oauth2_core.errors import (
    EndpointError,
    MalformedResponseError,
    parse_retry_after,
    printable,
)

__all__ = [
    "MAX_EXPIRES_IN",
    "add_seconds",
    "describe_body",
    "optional_seconds",
    "optional_str",
    "parse_body",
    "raise_for_error",
    "seconds_value",
]

_MAX_DEPTH = 64
#: The largest duration taken from a server (``expires_in`` and the like), in
#: seconds, either sign: 2**31 - 1; anything beyond is clamped (DESIGN §7).
MAX_EXPIRES_IN = 2**31 - 1


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"non-standard JSON constant {name}")


# Built once: json.loads with a keyword builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _json_object(text: str) -> dict[str, object] | None:
    # ``text`` is stripped already: raw_decode, and refuse anything after the value
    # (what ``decode`` does, minus two whitespace scans).
    try:
        value, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and Python's int-string length limit.
        return None
    return value if end == len(text) and isinstance(value, dict) else None


def _looks_nested_too_deep(text: str) -> bool:
    # The caller checked first that there are more openers than _MAX_DEPTH
    # (depth never exceeds their number): only then is this scan needed.
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > _MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _form_object(text: str) -> dict[str, object] | None:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=200)
    except ValueError:
        return None
    result: dict[str, object] = {}
    for key, value in pairs:
        result.setdefault(key, value)  # first wins; duplicates are not meaningful here
    return result or None


def describe_body(response: HttpResponse) -> str:
    """Say what arrived, for messages: media type and size, never the content."""
    kind = response.content_type or "no content type"
    if not response.body:
        return f"an empty body ({kind})"
    return f"a body of {len(response.body)} bytes ({kind})"


def parse_body(response: HttpResponse) -> dict[str, object] | None:
    """Decode a JSON or form-encoded object body; ``None`` when it is neither.

    JSON is recognised by media type (``application/json`` or ``+json``) or by
    the body's first character; form bodies by media type
    (``application/x-www-form-urlencoded``, ``text/plain``) or, without a media
    type, by shape.
    """
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # The usual answer has nothing around the object to strip.
    braced = text[:1] == "{" and text[-1:] == "}"
    stripped = text if braced else text.lstrip("\ufeff").strip()
    # The usual answer first: an object body is JSON whatever its media type says.
    if stripped.startswith("{"):
        if stripped.count("{") + stripped.count("[") > _MAX_DEPTH and _looks_nested_too_deep(
            stripped
        ):
            return None
        parsed = _json_object(stripped)
        if parsed is not None:
            return parsed
    ctype = response.content_type
    if ctype == "application/json" or ctype.endswith("+json"):
        return None  # a JSON media type without a JSON object (an array, text, broken JSON)
    if ctype in ("application/x-www-form-urlencoded", "text/plain", "") and "=" in stripped:
        return _form_object(stripped)
    return None


def optional_str(data: Mapping[str, object], name: str, *, status: int) -> str | None:
    """A member that must be a string when present (``null`` counts as absent)."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedResponseError(
            f"member {name!r} must be a string, got {type(value).__name__}",
            field=name,
            status=status,
        )
    return value


def seconds_value(value: object, name: str, *, status: int) -> float:
    """A member holding seconds: a number or numeric string, clamped to ±``MAX_EXPIRES_IN``.

    Raises:
        MalformedResponseError: not a number (non-numeric, NaN, infinite), naming ``name``.
    """
    seconds = finite_number(value)
    if seconds is None:
        raise MalformedResponseError(
            f"member {name!r} must be a number of seconds", field=name, status=status
        )
    return max(min(seconds, float(MAX_EXPIRES_IN)), -float(MAX_EXPIRES_IN))


def optional_seconds(data: Mapping[str, object], name: str, *, status: int) -> float | None:
    """:func:`seconds_value` of a member, or ``None`` when absent, ``null`` or ``""``."""
    value = data.get(name)
    if value is None or value == "":
        return None
    return seconds_value(value, name, status=status)


def _retry_after(response: HttpResponse) -> float | None:
    # Only read on the error paths: a successful answer needs no Retry-After.
    return parse_retry_after(response.headers.get("retry-after"), response.received_at)


def raise_for_error(
    response: HttpResponse, data: dict[str, object] | None, *, endpoint: str
) -> None:
    """Raise :class:`EndpointError` for an RFC 6749 §5.2 error object or an error status.

    An error object is an error at any status: Slack answers HTTP 200 with
    ``{"ok": false, "error": "invalid_code"}``.
    """
    status = response.status
    if data is not None and isinstance(data.get("error"), str) and data["error"]:
        retry_after = _retry_after(response)
        error = str(data["error"])
        description = data.get("error_description")
        uri = data.get("error_uri")
        description = description if isinstance(description, str) else None
        uri = uri if isinstance(uri, str) else None
        message = f"{endpoint} endpoint answered HTTP {status} {printable(error, 80)}"
        if description:
            message += f": {printable(description)}"
        raise EndpointError(
            message,
            error=error,
            status=status,
            error_description=description,
            error_uri=uri,
            retry_after=retry_after,
        )
    if not 200 <= status < 300:
        raise EndpointError(
            f"{endpoint} endpoint answered HTTP {status} with {describe_body(response)}",
            error=None,
            status=status,
            retry_after=_retry_after(response),
        )


def require_object(
    response: HttpResponse, data: dict[str, object] | None, *, endpoint: str
) -> dict[str, object]:
    """The decoded body of a 2xx answer, or a :class:`MalformedResponseError` saying what came."""
    if data is None:
        raise MalformedResponseError(
            f"{endpoint} endpoint answered HTTP {response.status} with "
            f"{describe_body(response)}, not a JSON object",
            status=response.status,
        )
    return data


def finite_number(value: object) -> float | None:
    """``value`` as a finite float when it is a JSON number or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(min(max(value, -(2**63)), 2**63))
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            # Digit strings longer than this are clamped by the caller's bound anyway.
            if text.isascii() and text.isdigit():
                return float(2**63)
            return None
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def add_seconds(when: _dt.datetime, seconds: float) -> _dt.datetime:
    """``when + seconds`` as an aware UTC datetime, clamped to the calendar's ends.

    For ``expires_at = received_at + expires_in`` and the like: a server may send
    any number, and a stamp may sit near ``datetime.min`` / ``max``.
    """
    try:
        delta = _dt.timedelta(seconds=seconds)
        if when.tzinfo is _dt.timezone.utc:
            return when + delta  # the usual stamp (every transport's clock): one addition
        # Offset from the epoch first: aware subtraction never overflows, astimezone() can.
        return _EPOCH + ((when - _EPOCH) + delta)
    except OverflowError:
        edge = _dt.datetime.max if seconds > 0 else _dt.datetime.min
        return edge.replace(tzinfo=_dt.timezone.utc)
