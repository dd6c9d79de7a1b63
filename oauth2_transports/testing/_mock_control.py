"""Scripting faults over HTTP, for a mock server running as its own process.

``oauth2 mock-server`` (and ``MockAuthorizationServer(control=True)``) answer
``POST /_mock/faults`` with a JSON object naming one of the server's fault methods
and its keyword arguments, so a test suite in another process or container can
script failures the way Python tests call :meth:`MockAuthorizationServer.fail_next`::

    curl -X POST http://127.0.0.1:9400/_mock/faults \\
         -d '{"fault": "fail_next", "status": 503, "path": "/token"}'

``{"fault": "clear"}`` removes every pending fault. The path is outside the
issuer's endpoints, is never recorded as a request, and exists only when enabled.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler

from oauth2_transports.testing._mock_model import Answer, json_answer

__all__ = ["CONTROL_PATH", "FAULTS", "control_answer"]

#: Where the control endpoint listens (under the issuer's path, if it has one).
CONTROL_PATH = "/_mock/faults"
#: The fault methods that can be scripted, and the keyword arguments each takes.
FAULTS: Mapping[str, frozenset[str]] = {
    "fail_next": frozenset(
        {
            "n",
            "status",
            "error",
            "error_description",
            "retry_after",
            "body",
            "content_type",
            "path",
        }
    ),
    "delay_next": frozenset({"n", "seconds", "path"}),
    "drop_next": frozenset({"n", "path"}),
    "answer_next": frozenset({"quirk", "n", "error", "path"}),
    "slow_down_next": frozenset({"n"}),
    "deny_next": frozenset({"n"}),
    "echo_next": frozenset({"n", "status", "error", "www_authenticate", "path"}),
    "rotate_dpop_nonce": frozenset(),  # RFC 9449 §8.2: a new nonce, the old one refused
    "clear": frozenset(),
}
_SCALARS = (str, int, float, bool, type(None))


def _refuse(message: str) -> Answer:
    return json_answer(400, {"error": "invalid_request", "error_description": message})


def control_answer(
    handler: BaseHTTPRequestHandler, body: bytes, call: Callable[[str, dict[str, object]], None]
) -> Answer:
    """Run one scripted fault from a ``POST /_mock/faults`` request.

    Args:
        handler: The request (only ``POST`` is accepted).
        body: Its JSON body: ``{"fault": name, **keyword_arguments}``.
        call: Calls the server's fault method ``name`` with the arguments.

    Returns:
        204 when the fault is armed; 400 naming what is wrong; 405 for other methods.
    """
    if handler.command != "POST":
        return json_answer(405, {"error": "method_not_allowed"})
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return _refuse("the body must be a JSON object")
    if not isinstance(data, dict) or not isinstance(data.get("fault"), str):
        return _refuse('the body must be a JSON object with a "fault" name')
    name = data.pop("fault")
    allowed = FAULTS.get(name)
    if allowed is None:
        return _refuse(f"unknown fault; expected one of {sorted(FAULTS)}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        return _refuse(f"{name} takes no {', '.join(unknown)}; it takes {sorted(allowed)}")
    if not all(isinstance(value, _SCALARS) for value in data.values()):
        return _refuse("fault arguments must be strings, numbers, booleans or null")
    try:
        call(name, data)
    except (TypeError, ValueError) as exc:
        return _refuse(f"{name}: {exc}")
    return Answer(204)
