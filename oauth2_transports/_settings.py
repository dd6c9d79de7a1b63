"""The bounds every adapter applies: timeout and body cap (DESIGN §3).

A transport has a default timeout and caps the body it reads, so a slow or
oversized answer from an authorization server ends in a ``TransportError``
instead of a hung or swollen process.
"""

from __future__ import annotations

from oauth2_core import UsageError

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_TIMEOUT", "check_settings"]

#: Seconds allowed to connect, and between two reads of the response; also the
#: default overall deadline of one request (connect to last body byte).
DEFAULT_TIMEOUT = 30.0
#: The body cap: golang.org/x/oauth2 reads at most 1 MiB of a token response.
DEFAULT_MAX_BODY_BYTES = 1_048_576


def check_settings(timeout: float, max_body_bytes: int) -> None:
    """Reject settings no transport can honour.

    Raises:
        UsageError: ``timeout`` is not positive or ``max_body_bytes`` is negative.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise UsageError("timeout must be a positive number of seconds")
    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
        raise UsageError("max_body_bytes must be an int")
    if max_body_bytes < 0:
        raise UsageError("max_body_bytes must not be negative")
