"""Device polling with DPoP proofs (RFC 8628 §3.4 with RFC 9449 §5, §8).

The flow is driven by hand with scripted answers; every proof is verified with
PyJWT against the ``jwk`` in its own header and its claims are checked.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qsl

import jwt
import pytest
from poll_steps import first_poll, reply

import oauth2_core as oc

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


SERVER = oc.ServerMetadata(
    issuer="https://as.example.com",
    token_endpoint="https://as.example.com/token?tenant=7",
    device_authorization_endpoint="https://as.example.com/device",
)
PUBLIC = oc.Client("device-app", auth_method="none")
KEY = oc.generate_dpop_key("ES256")
TOKEN = {"access_token": "at-1", "token_type": "DPoP", "expires_in": 60}
NONCE_ERROR = {"error": "use_dpop_nonce", "error_description": "nonce required"}


def authorization(
    interval: float = 5, issued_at: dt.datetime | None = T0
) -> oc.DeviceAuthorization:
    return oc.DeviceAuthorization(
        "dc-1",
        "WDJB-MJHT",
        "https://as.example.com/activate",
        expires_at=T0 + dt.timedelta(minutes=10),
        interval=interval,
        issued_at=issued_at,
    )


def answer(status: int, data: object, at: dt.datetime, **headers: str) -> oc.HttpResponse:
    fields = {"content-type": "application/json", **headers}
    return oc.HttpResponse(status, fields, json.dumps(data).encode(), at)


def proof_of(send: oc.Send) -> tuple[dict[str, object], dict[str, object]]:
    """Verify the poll's proof with the key in its own header (RFC 9449 §4.3)."""
    proof = send.request.headers.get("dpop")
    assert proof is not None, "every poll carries a DPoP proof"
    header = jwt.get_unverified_header(proof)
    public = jwt.PyJWK(header["jwk"], algorithm=header["alg"])
    claims = jwt.decode(proof, public, algorithms=[header["alg"]], options={"verify_iat": False})
    return header, claims


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_every_poll_carries_a_fresh_proof_and_the_latest_nonce() -> None:
    """Proofs on every poll; use_dpop_nonce is retried at once; DPoP-Nonce is carried on."""
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY)
    sends = [first_poll(flow, T0)]
    sends.append(reply(flow, answer(400, NONCE_ERROR, at(6), **{"dpop-nonce": "n1"})))
    sends.append(reply(flow, answer(400, {"error": "authorization_pending"}, at(7))))
    sends.append(
        reply(flow, answer(400, {"error": "authorization_pending"}, at(13), **{"dpop-nonce": "n2"}))
    )
    with pytest.raises(StopIteration) as done:
        reply(flow, answer(200, TOKEN, at(19)))
    token = done.value.value
    assert isinstance(token, oc.Token) and token.token_type == "DPoP"

    # The nonce answer is not the user's: the next poll goes at once; then the interval.
    assert [s.delay for s in sends] == [5.0, 0.0, 5.0, 5.0]
    headers, claims = zip(*(proof_of(s) for s in sends), strict=True)
    assert all(h["typ"] == "dpop+jwt" and h["alg"] == "ES256" for h in headers)
    assert all("d" not in h["jwk"] for h in headers)
    assert all(c["htm"] == "POST" for c in claims)
    # RFC 9449 §4.2: htu without query and fragment.
    assert all(c["htu"] == "https://as.example.com/token" for c in claims)
    assert [c.get("nonce") for c in claims] == [None, "n1", "n1", "n2"]
    # Dated like the poll: the previous answer's received_at plus the delay.
    assert [c["iat"] for c in claims] == [int(at(s).timestamp()) for s in (5, 6, 12, 18)]
    assert len({c["jti"] for c in claims}) == 4
    assert all("ath" not in c for c in claims)  # no access token is sent with a poll
    for send in sends:
        body = dict(parse_qsl(send.request.body.decode()))
        assert body["grant_type"] == oc.DEVICE_CODE_GRANT_TYPE
        assert body["device_code"] == "dc-1"


def test_a_known_nonce_goes_into_the_first_poll() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY, dpop_nonce="n0")
    _, claims = proof_of(first_poll(flow, T0))
    assert claims["nonce"] == "n0"
    flow.close()


def test_a_second_nonce_demand_in_a_row_is_an_error_not_a_loop() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY)
    first_poll(flow, T0)
    reply(flow, answer(400, NONCE_ERROR, at(6), **{"dpop-nonce": "n1"}))
    with pytest.raises(oc.EndpointError) as caught:
        reply(flow, answer(400, NONCE_ERROR, at(7), **{"dpop-nonce": "n2"}))
    assert caught.value.error == "use_dpop_nonce"


def test_refusing_the_nonce_just_sent_is_an_error() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY, dpop_nonce="n1")
    first_poll(flow, T0)
    with pytest.raises(oc.EndpointError) as caught:
        reply(flow, answer(400, NONCE_ERROR, at(6), **{"dpop-nonce": "n1"}))
    assert caught.value.error == "use_dpop_nonce"


def test_a_nonce_change_later_is_retried_again() -> None:
    """Once per nonce change: a rotated nonce after a normal answer gets its own retry."""
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY)
    first_poll(flow, T0)
    reply(flow, answer(400, NONCE_ERROR, at(6), **{"dpop-nonce": "n1"}))
    third = reply(flow, answer(400, {"error": "authorization_pending"}, at(7)))
    assert third.delay == 5.0
    fourth = reply(flow, answer(400, NONCE_ERROR, at(13), **{"dpop-nonce": "n2"}))
    assert fourth.delay == 0.0
    assert proof_of(fourth)[1]["nonce"] == "n2"
    flow.close()


def test_a_malformed_nonce_header_is_ignored() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY, dpop_nonce="n0")
    first_poll(flow, T0)
    pending = answer(400, {"error": "authorization_pending"}, at(6), **{"dpop-nonce": 'bad"'})
    assert proof_of(reply(flow, pending))[1]["nonce"] == "n0"
    flow.close()


def test_slow_down_and_denial_still_work_with_dpop() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY)
    first_poll(flow, T0)
    assert reply(flow, answer(400, {"error": "slow_down"}, at(6))).delay == 10.0
    with pytest.raises(oc.AccessDeniedError):
        reply(flow, answer(400, {"error": "access_denied"}, at(16)))


def test_the_proof_and_the_client_assertion_share_the_send_time() -> None:
    secret = "a-client-secret-that-is-long-enough-for-hs256"
    client = oc.Client("app", secret, auth_method="client_secret_jwt")
    flow = oc.device_poll_flow(SERVER, client, authorization(), dpop_key=KEY)
    first = first_poll(flow, T0)
    assertion = dict(parse_qsl(first.request.body.decode()))["client_assertion"]
    assertion_iat = jwt.decode(
        assertion,
        secret,
        algorithms=["HS256"],
        options={"verify_aud": False, "verify_iat": False, "verify_exp": False},
    )["iat"]
    assert proof_of(first)[1]["iat"] == assertion_iat == int(at(5).timestamp())
    flow.close()


def test_without_issued_at_the_wait_dates_the_proofs() -> None:
    """A DeviceAuthorization built by hand has no issued_at: the time the driver
    answers the first Wait with dates the first proof; no ``now=`` is needed."""
    auth = authorization(issued_at=None)
    flow = oc.device_poll_flow(SERVER, PUBLIC, auth, dpop_key=KEY)
    assert proof_of(first_poll(flow, start=at(100)))[1]["iat"] == int(at(105).timestamp())
    flow.close()


def test_the_known_nonce_of_the_token_endpoint_origin_is_used_and_kept() -> None:
    """With the caller's DPoPNonces, the poll uses the token endpoint origin's nonce
    and keeps the one each answer hands out (RFC 9449 §8.2)."""
    nonces = oc.DPoPNonces()
    nonces.set("https://as.example.com/other-path", "n0")  # same origin as the token endpoint
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization(), dpop_key=KEY, dpop_nonces=nonces)
    assert proof_of(first_poll(flow, T0))[1]["nonce"] == "n0"
    reply(flow, answer(400, {"error": "authorization_pending"}, at(6), **{"dpop-nonce": "n5"}))
    assert nonces.get("https://as.example.com:443/") == "n5"
    flow.close()


def test_a_symmetric_key_is_refused() -> None:
    with pytest.raises(oc.UsageError):
        next(
            oc.device_poll_flow(
                SERVER, PUBLIC, authorization(), dpop_key={"kty": "oct", "k": "a2V5"}
            )
        )


def test_without_a_key_no_proof_is_sent() -> None:
    flow = oc.device_poll_flow(SERVER, PUBLIC, authorization())
    first = first_poll(flow, T0)
    assert first.request.headers.get("dpop") is None
    # A nonce demand without DPoP is just an error answer.
    with pytest.raises(oc.EndpointError):
        reply(flow, answer(400, NONCE_ERROR, at(6), **{"dpop-nonce": "n1"}))
