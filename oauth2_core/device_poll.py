"""Device polling (RFC 8628 §3.4, §3.5): ask the token endpoint until the user decides.

:func:`device_code_grant_request` / :func:`process_device_poll_response` are one
poll; :func:`device_poll_flow` polls at the server's pace, waiting with
:class:`~oauth2_core.Wait` steps. Outcomes the client can continue from are
values (:class:`Pending`, :class:`SlowDown`); the ones it cannot are errors
(:class:`AccessDeniedError`, :class:`DeviceCodeExpiredError`, any other
:class:`EndpointError`).
"""

from __future__ import annotations

import datetime as _dt

from oauth2_core._http import HttpRequest, HttpResponse, TimedFlow
from oauth2_core._params import Params
from oauth2_core.client import Client
from oauth2_core.device_authorization import DeviceAuthorization
from oauth2_core.dpop import DPoPKey
from oauth2_core.dpop_nonce import DPoPNonces
from oauth2_core.errors import DeviceCodeExpiredError, UsageError
from oauth2_core.grants import endpoint_request
from oauth2_core.metadata import ServerMetadata
from oauth2_core.polling import SLOW_DOWN_INCREMENT as SLOW_DOWN_INCREMENT
from oauth2_core.polling import (
    Pending,
    SlowDown,
    poll_flow,
    process_poll_response,
)
from oauth2_core.token import Token

__all__ = [
    "DEVICE_CODE_GRANT_TYPE",
    "Pending",
    "SlowDown",
    "device_code_grant_request",
    "device_poll_flow",
    "process_device_poll_response",
]

#: The ``grant_type`` of the device code grant (RFC 8628 §3.4).
DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


def device_code_grant_request(
    server: ServerMetadata,
    client: Client,
    auth: DeviceAuthorization,
    *,
    now: _dt.datetime | None = None,
    **params: object,
) -> HttpRequest:
    """One poll of the token endpoint (RFC 8628 §3.4).

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client that started the device authorization.
        auth: From :func:`process_device_authorization_response`.
        now: When the request is sent; required for JWT client authentication.
        **params: Extra parameters.

    Returns:
        The request. Next: :func:`process_device_poll_response`.
    """
    if not isinstance(auth, DeviceAuthorization):
        raise UsageError("auth must be the DeviceAuthorization from the device endpoint")
    body: Params = [("grant_type", DEVICE_CODE_GRANT_TYPE), ("device_code", auth.device_code)]
    return endpoint_request(
        server, client, endpoint="token_endpoint", params=body, extra=params, now=now
    )


def process_device_poll_response(response: HttpResponse) -> Token | Pending | SlowDown:
    """Read the answer to one poll (RFC 8628 §3.5).

    Returns:
        The :class:`Token` once the user approved; :class:`Pending` while they
        have not; :class:`SlowDown` when the server asks to poll less often.

    Raises:
        AccessDeniedError: the user refused (``access_denied``).
        DeviceCodeExpiredError: the device code expired (``expired_token``).
        EndpointError: any other error; MalformedResponseError: as
            ``process_token_response``.
    """
    return process_poll_response(response, expired=DeviceCodeExpiredError)


def _expired(status: int | None) -> DeviceCodeExpiredError:
    return DeviceCodeExpiredError(
        "device code expired before the user approved", error="expired_token", status=status
    )


def device_poll_flow(
    server: ServerMetadata,
    client: Client,
    auth: DeviceAuthorization,
    *,
    now: _dt.datetime | None = None,
    dpop_key: DPoPKey | None = None,
    dpop_nonce: str | None = None,
    dpop_nonces: DPoPNonces | None = None,
    require_dpop_binding: bool = False,
    **params: object,
) -> TimedFlow[Token]:
    """Poll the token endpoint until the user decides (RFC 8628 §3.4, §3.5).

    The loop of :func:`oauth2_core.polling.poll_flow`, shared with CIBA: waits
    ``auth.interval`` (a :class:`~oauth2_core.Wait` step, whose answer dates
    the poll: a JWT client assertion, a DPoP proof) before each poll; every
    ``slow_down`` adds 5 seconds to the interval for good; a 429 or 503 with
    ``Retry-After`` waits that long (at least the interval). No poll is sent
    at or after ``auth.expires_at``: the flow raises
    :class:`DeviceCodeExpiredError` instead, without waiting when the last
    answer's ``received_at`` (``auth.issued_at`` before the first) plus the
    wait is already too late. With ``dpop_key`` every poll carries a fresh
    DPoP proof (RFC 9449 §5) and a nonce challenge is answered at once, once
    (§8), by :func:`~oauth2_core.dpop.dpop_send_flow`.

    Args:
        server: Server metadata with ``token_endpoint``.
        client: The client that started the device authorization.
        auth: From :func:`process_device_authorization_response`.
        now: The current time, read only when ``auth`` has no ``issued_at``
            (built by hand, or saved without it): an expired one is then refused
            before any wait or poll. Each poll is dated by its ``Wait``.
        dpop_key: The DPoP private key (``generate_dpop_key``), or ``None``.
        dpop_nonce: The authorization server's last DPoP nonce, if known.
        dpop_nonces: Your per-origin DPoP nonces (read and kept up to date).
        require_dpop_binding: Refuse a token that is not ``DPoP``-bound
            (RFC 9449 §5; FAPI 2.0 Security Profile §5.3.2.1). Needs ``dpop_key``.
        **params: Extra parameters of every poll.

    Returns:
        The token (``token_type`` ``DPoP`` when the server bound it to the key).
        Next: nothing; the flow is run by ``oauth2_transports.run`` / ``arun``.

    Raises:
        AccessDeniedError, DeviceCodeExpiredError, EndpointError,
        MalformedResponseError: as :func:`process_device_poll_response`.
        UsageError: a bad ``auth`` or key.
    """
    if not isinstance(auth, DeviceAuthorization):
        raise UsageError("auth must be the DeviceAuthorization from the device endpoint")

    def build(when: _dt.datetime) -> HttpRequest:
        return device_code_grant_request(server, client, auth, now=when, **params)

    return (
        yield from poll_flow(
            build,
            process_device_poll_response,
            interval=auth.interval,
            expires_at=auth.expires_at,
            # Saved or built without issued_at: the caller's now, so an expired
            # code is refused before the first wait, never polled.
            issued_at=auth.issued_at if auth.issued_at is not None else now,
            expired=_expired,
            dpop_key=dpop_key,
            dpop_nonce=dpop_nonce,
            dpop_nonces=dpop_nonces,
            require_dpop_binding=require_dpop_binding,
        )
    )
