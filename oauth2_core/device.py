"""The device authorization grant (RFC 8628), in one namespace.

Steps: :func:`device_authorization_request` /
:func:`process_device_authorization_response` (§3.1, §3.2) give a
:class:`DeviceAuthorization` (:mod:`oauth2_core.device_authorization`); show
``user_code`` and ``verification_uri`` to the user; then poll the token
endpoint with :func:`device_code_grant_request` /
:func:`process_device_poll_response` (§3.4, §3.5), or let
:func:`device_poll_flow` do the polling (:mod:`oauth2_core.device_poll`).

Polling outcomes the client can continue from are values (:class:`Pending`,
:class:`SlowDown`); the ones it cannot are errors (:class:`AccessDeniedError`,
:class:`DeviceCodeExpiredError`, any other :class:`EndpointError`).
"""

from __future__ import annotations

from oauth2_core.device_authorization import (
    DEFAULT_INTERVAL,
    MIN_INTERVAL,
    DeviceAuthorization,
    device_authorization_request,
    process_device_authorization_response,
)
from oauth2_core.device_poll import (
    DEVICE_CODE_GRANT_TYPE,
    SLOW_DOWN_INCREMENT,
    Pending,
    SlowDown,
    device_code_grant_request,
    device_poll_flow,
    process_device_poll_response,
)

__all__ = [
    "DEFAULT_INTERVAL",
    "DEVICE_CODE_GRANT_TYPE",
    "MIN_INTERVAL",
    "SLOW_DOWN_INCREMENT",
    "DeviceAuthorization",
    "Pending",
    "SlowDown",
    "device_authorization_request",
    "device_code_grant_request",
    "device_poll_flow",
    "process_device_authorization_response",
    "process_device_poll_response",
]
