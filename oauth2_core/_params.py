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
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from oauth2_core.errors import UsageError

__all__ = ["Params", "add_params", "encode_form", "scope_string"]

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


def encode_form(params: Params) -> bytes:
    """``application/x-www-form-urlencoded`` bytes (UTF-8, space as ``+``).

    Raises:
        UsageError: a value is not a string (urlencode would send its repr).
    """
    for name, value in params:
        if not isinstance(value, str):
            raise UsageError(f"parameter {name!r} must be a string")
    return urlencode(params).encode("ascii")
