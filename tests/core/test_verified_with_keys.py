"""The one "verify, fetch the JWK set once more on an unknown kid" loop, driven by hand.

``verified_with_keys_flow`` is what the ID token, signed UserInfo, JARM, RFC 9701
and RFC 9068 flows share; each of them has its own scripted test of the same
rules in its test module. Here the check is a plain function of the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest

import oauth2_core as oc
from oauth2_core.testing import drive, json_response

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SERVER = oc.ServerMetadata("https://op.example", jwks_uri="https://op.example/jwks")
NEW_SET = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "new"}]}


Check = Callable[[Mapping[str, Any] | None], str]


def needs(kid: str) -> Check:
    """A check that succeeds with a set holding ``kid`` and fails "kid" otherwise."""

    def verify(keys: Mapping[str, Any] | None) -> str:
        found = [k for k in (keys or {}).get("keys", []) if k.get("kid") == kid]
        if not found:
            raise oc.IdTokenError("no key fits", check="kid")
        return kid

    return verify


def flow(check: Check, cache: oc.JwksCache) -> Any:
    return oc.verified_with_keys_flow(check, server=SERVER, cache=cache, now=NOW)


def test_the_set_is_fetched_when_the_cache_has_none_then_reused() -> None:
    cache = oc.JwksCache()
    driven = drive(flow(needs("new"), cache), [json_response(200, NEW_SET, received_at=NOW)])
    assert driven.result == "new"
    assert [r.url for r in driven.requests] == ["https://op.example/jwks"]
    assert drive(flow(needs("new"), cache), []).result == "new"  # cached: nothing sent


def test_an_unknown_kid_refetches_once_then_fails_without_a_loop() -> None:
    cache = oc.JwksCache({"keys": []}, fetched_at=NOW - dt.timedelta(seconds=60))
    with pytest.raises(oc.IdTokenError) as info:
        # One answer scripted: a second fetch would be an AssertionError of drive().
        drive(flow(needs("made-up"), cache), [json_response(200, NEW_SET, received_at=NOW)])
    assert info.value.check == "kid"


def test_no_refetch_inside_the_interval() -> None:
    cache = oc.JwksCache(NEW_SET, fetched_at=NOW - dt.timedelta(seconds=10))
    with pytest.raises(oc.IdTokenError) as info:
        drive(flow(needs("made-up"), cache), [])
    assert info.value.check == "kid"


def test_other_failures_never_fetch() -> None:
    def bad_signature(keys: Mapping[str, Any] | None) -> str:
        raise oc.IdTokenError("bad", check="signature")

    with pytest.raises(oc.IdTokenError) as info:
        drive(flow(bad_signature, oc.JwksCache()), [])
    assert info.value.check == "signature"


def test_a_failed_fetch_is_recorded_against_the_interval() -> None:
    cache = oc.JwksCache()
    with pytest.raises(oc.EndpointError):
        drive(
            flow(needs("new"), cache),
            [json_response(500, {"error": "server_error"}, received_at=NOW)],
        )
    assert not cache.may_refetch(NOW + dt.timedelta(seconds=29))


def test_closing_before_the_answer_records_nothing() -> None:
    """AccessTokenVerifier probes for a cached key with next() and closes the flow."""
    cache = oc.JwksCache()
    probe = flow(needs("new"), cache)
    assert next(probe).request.url == "https://op.example/jwks"
    probe.close()
    assert cache.jwks is None and cache.may_refetch(NOW)
