"""Turning keyword arguments into form or query parameters, one way everywhere.

* ``None`` leaves the parameter out;
* a list or tuple of strings repeats the parameter (RFC 8707 ``resource``);
* ``scope`` may be a string or an iterable of strings (joined with spaces);
* ``authorization_details`` (RFC 9396) and other dict / list-of-dict values
  are sent as JSON;
* ints become decimal strings, booleans ``true`` / ``false``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping

from oauth2_core.errors import UsageError

__all__ = ["Params", "add_params", "encode_form", "encode_query", "percent_encode", "scope_string"]

Params = list[tuple[str, str]]

JSON_PARAMS = frozenset({"authorization_details", "claims"})


def scope_string(scope: object) -> str | None:
    """``scope`` as the space-delimited string RFC 6749 §3.3 sends."""
    if scope is None:
        return None
    if isinstance(scope, str):
        return " ".join(scope.split())
    if isinstance(scope, Iterable) and not isinstance(scope, (bytes, Mapping)):
        items = list(scope)
        if all(isinstance(s, str) and s and " " not in s for s in items):
            return " ".join(items)
    raise UsageError("scope must be a string or an iterable of strings without spaces")


def _one(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    raise UsageError(f"parameter {name!r} must be a string, an int or a list of strings")


def add_params(params: Params, extra: Mapping[str, object], *, reserved: Iterable[str]) -> None:
    """Append keyword parameters, refusing those the library sets itself.

    Raises:
        UsageError: a reserved name, or a value that cannot be sent.
    """
    taken = set(reserved)
    for name, value in extra.items():
        if value is None:
            continue
        if name in taken:
            raise UsageError(
                f"parameter {name!r} is set by the library; pass it through its own argument"
            )
        if name == "scope":
            scope = scope_string(value)
            if scope is not None:
                params.append((name, scope))
        elif (
            name in JSON_PARAMS
            or isinstance(value, Mapping)
            or (isinstance(value, (list, tuple)) and any(isinstance(v, Mapping) for v in value))
        ):
            if isinstance(value, str):
                params.append((name, value))
            else:
                try:
                    params.append((name, json.dumps(value, separators=(",", ":"))))
                except (TypeError, ValueError) as exc:
                    raise UsageError(f"parameter {name!r} cannot be sent as JSON") from exc
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                params.append((name, _one(name, item)))
        else:
            params.append((name, _one(name, value)))


# Percent-encoding as urllib.parse.quote does it with safe="": the RFC 3986 §2.3
# unreserved characters pass, every other character is sent as its UTF-8 bytes,
# %XX each. One regex scan and a precomputed table per value instead of
# urlencode's three Python calls per name and value: this is on the path of every
# authorization URL and token request (see tests/bench/bench_core.py).
_NOT_UNRESERVED = re.compile(r"[^A-Za-z0-9\-._~]+")
# The same set as characters: ``value.rstrip(_UNRESERVED)`` is empty exactly when
# nothing in ``value`` needs escaping, and is much cheaper than a regex pass.
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_QUERY_ESCAPES = tuple(f"%{byte:02X}" for byte in range(256))
# application/x-www-form-urlencoded (WHATWG URL §5.2, urlencode's default): space as "+".
_FORM_ESCAPES = tuple("+" if byte == 0x20 else f"%{byte:02X}" for byte in range(256))


def _escape_query(match: re.Match[str]) -> str:
    return "".join([_QUERY_ESCAPES[byte] for byte in match.group().encode("utf-8")])


def _escape_form(match: re.Match[str]) -> str:
    return "".join([_FORM_ESCAPES[byte] for byte in match.group().encode("utf-8")])


def percent_encode(value: str) -> str:
    """``value`` as UTF-8, every byte but the unreserved ones as ``%XX`` (RFC 3986 §2.1).

    The same string as ``urllib.parse.quote(value, safe="")``.
    """
    if not value.rstrip(_UNRESERVED):
        return value
    return _NOT_UNRESERVED.sub(_escape_query, value)


def _encode(params: Params, escape: Callable[[re.Match[str]], str]) -> str:
    sub = _NOT_UNRESERVED.sub
    safe = _UNRESERVED
    parts: list[str] = []
    try:
        for name, value in params:
            if name.rstrip(safe):
                name = sub(escape, name)
            if value.rstrip(safe):
                value = sub(escape, value)
            parts.append(f"{name}={value}")
    except (TypeError, AttributeError):
        # A value that is not a string (the names are the library's): say which.
        for name, value in params:
            if not isinstance(value, str):
                raise UsageError(f"parameter {name!r} must be a string") from None
        raise
    return "&".join(parts)


def encode_query(params: Params) -> str:
    """A URL query (RFC 3986 §3.4): UTF-8, percent-encoded, space as ``%20``.

    ``%20`` rather than ``+``: unambiguous for every server's query parser.

    Raises:
        UsageError: a value is not a string.
    """
    return _encode(params, _escape_query)


def encode_form(params: Params) -> bytes:
    """``application/x-www-form-urlencoded`` bytes (UTF-8, space as ``+``).

    The same bytes as ``urllib.parse.urlencode(params)``.

    Raises:
        UsageError: a value is not a string (urlencode would send its repr).
    """
    return _encode(params, _escape_form).encode("ascii")
