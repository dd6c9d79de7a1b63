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

# The polling constants stay importable from here (``as`` marks the re-export);
# they are not part of the package's top-level API.
from oauth2_core.device_authorization import (
    DEFAULT_INTERVAL as DEFAULT_INTERVAL,
)
from oauth2_core.device_authorization import (
    MIN_INTERVAL as MIN_INTERVAL,
)
from oauth2_core.device_authorization import (
    DeviceAuthorization,
    device_authorization_request,
    process_device_authorization_response,
)
from oauth2_core.device_poll import (
    DEVICE_CODE_GRANT_TYPE as _GRANT_TYPE,
)
from oauth2_core.device_poll import (
    SLOW_DOWN_INCREMENT as SLOW_DOWN_INCREMENT,
)
from oauth2_core.device_poll import (
    Pending,
    SlowDown,
    device_code_grant_request,
    device_poll_flow,
    process_device_poll_response,
)

__all__ = [
    "DEVICE_CODE_GRANT_TYPE",
    "DeviceAuthorization",
    "Pending",
    "SlowDown",
    "device_authorization_request",
    "device_code_grant_request",
    "device_poll_flow",
    "process_device_authorization_response",
    "process_device_poll_response",
]

#: The ``grant_type`` of the device code grant (RFC 8628 §3.4).
DEVICE_CODE_GRANT_TYPE = _GRANT_TYPE
