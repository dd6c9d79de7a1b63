"""Crashes found by fuzzing (``python -m tests.fuzz.run``), one named test each.

Each test states the crashing input in readable form: the fuzzer's bytes mean
something only to the harness decoder of the day, so they are not replayed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest

import oauth2_core as oc
from oauth2_core.device import DeviceAuthorization

SAVED = {
    "device_code": "dc",
    "user_code": "UC-1",
    "verification_uri": "https://as.example/device",
    "expires_at": "2024-05-01T12:00:00+00:00",
}


def test_fuzz_device_authorization_from_dict_huge_int_interval() -> None:
    """A saved ``interval`` of 10**400 (valid JSON) made ``float()`` raise OverflowError.

    atheris, harness ``DeviceAuthorization.from_dict``, artifact crash-ed06c8d7c06a8354.
    """
    with pytest.raises(oc.UsageError):
        DeviceAuthorization.from_dict({**SAVED, "interval": 10**400})


@pytest.mark.parametrize("interval", [float("inf"), 10**400])
def test_fuzz_device_authorization_rejects_an_interval_no_poll_could_wait(interval: float) -> None:
    """Found with the crash above: Infinity passed the ``>= 0`` check, and a poll flow would
    have asked the driver to sleep forever."""
    with pytest.raises(oc.UsageError):
        DeviceAuthorization(
            "dc",
            "UC-1",
            "https://as.example/device",
            expires_at=dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc),
            interval=interval,
        )


def test_fuzz_device_authorization_large_finite_interval_is_still_accepted() -> None:
    """The fix rejects only what cannot be waited for, not a merely long interval."""
    saved = DeviceAuthorization.from_dict({**SAVED, "interval": 10**6})
    assert saved.interval == 1e6


def _hs256(claims: dict[str, object], secret: str) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    signing_input = (
        f"{b64(json.dumps({'alg': 'HS256'}).encode())}.{b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.mark.parametrize("claim", ["exp", "iat", "auth_time"])
def test_fuzz_id_token_numeric_date_of_10_to_the_400_is_an_id_token_error(claim: str) -> None:
    """A signed ID token with ``exp`` (``iat``, ``auth_time``) = 10**400, valid JSON, made
    ``float()`` raise OverflowError instead of ``IdTokenError`` (check = the claim)."""
    secret = "k" * 32
    server = oc.ServerMetadata(
        issuer="https://as.example",
        token_endpoint="https://as.example/token",
        id_token_signing_alg_values_supported=["HS256"],
    )
    claims: dict[str, object] = {
        "iss": "https://as.example",
        "aud": "app",
        "sub": "alice",
        "exp": 1714568400,
        "iat": 1714564800,
        "auth_time": 1714564800,
    }
    claims[claim] = 10**400
    with pytest.raises(oc.IdTokenError) as info:
        oc.validate_id_token(
            _hs256(claims, secret),
            server=server,
            client=oc.Client("app", secret),
            jwks=None,
            nonce=None,
            now=dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc),
            max_age=3600,
        )
    assert info.value.check == claim
