"""DPoP (RFC 9449): keys, proofs, requests and the use_dpop_nonce retry flows.

Proofs are decoded with PyJWT against the ``jwk`` in their own header and every
claim is checked. Flows are driven by hand with scripted responses.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.jose import b64url_decode

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(seconds=2)
T2 = T0 + dt.timedelta(seconds=4)
SERVER = oc.ServerMetadata("https://as.example.com", token_endpoint="https://as.example.com/token")
CLIENT = oc.Client("app", auth_method="none")
EC_KEY = oc.generate_dpop_key("ES256")
RSA_KEY = oc.generate_dpop_key("RS256")
ED_KEY = oc.generate_dpop_key("EdDSA")
KEYS = {"ES256": EC_KEY, "RS256": RSA_KEY, "EdDSA": ED_KEY}
# RFC 9449 §7.1: the access token of the example and its "ath".
RFC_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC_ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


def decode_proof(proof: str) -> tuple[dict[str, object], dict[str, object]]:
    """Verify a proof with the key in its own header (RFC 9449 §4.3 step 9)."""
    header = jwt.get_unverified_header(proof)
    public = jwt.PyJWK(header["jwk"], algorithm=header["alg"])
    claims = jwt.decode(proof, public, algorithms=[header["alg"]], options={"verify_iat": False})
    return header, claims


def json_response(status: int, data: object, when: dt.datetime, **headers: str) -> oc.HttpResponse:
    fields = {"content-type": "application/json", **headers}
    return oc.HttpResponse(status, fields, json.dumps(data).encode(), when)


NONCE_ERROR = {
    "error": "use_dpop_nonce",
    "error_description": "Authorization server requires nonce",
}
TOKEN = {"access_token": "at-1", "token_type": "DPoP", "expires_in": 60, "refresh_token": "rt-2"}


# --- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"])
def test_generated_keys_are_private_jwks_with_their_alg(alg: str) -> None:
    key = EC_KEY if alg == "ES256" else oc.generate_dpop_key(alg)
    assert key["alg"] == alg
    assert "d" in key
    assert all(isinstance(v, str) for v in key.values())
    assert json.loads(json.dumps(key)) == key
    assert key["d"] not in repr(key)
    assert key["d"] not in str(key)
    header, _ = decode_proof(oc.dpop_proof(key, "GET", "https://rs.example/", now=T0))
    assert header["alg"] == alg


def test_unknown_alg_is_refused() -> None:
    with pytest.raises(oc.UsageError, match="alg must be one of"):
        oc.generate_dpop_key("HS256")


def test_jkt_is_the_rfc_7638_thumbprint() -> None:
    """RFC 7638 §3.1's example key and thumbprint; the private part does not change it."""
    key = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
        "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5"
        "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08q"
        "NLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awa"
        "pJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert oc.dpop_jkt(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    jkt = oc.dpop_jkt(EC_KEY)
    assert jkt == oc.dpop_jkt({k: v for k, v in EC_KEY.items() if k != "d"})
    url = oc.authorization_url(
        SERVER.__class__("https://as", authorization_endpoint="https://as/authorize"),
        oc.Client("app", redirect_uri="https://app/cb"),
        oc.new_pending_authorization(oc.Client("app", redirect_uri="https://app/cb")),
        dpop_jkt=jkt,
    )
    assert ("dpop_jkt", jkt) in parse_qsl(urlsplit(url).query)


# --- proofs ----------------------------------------------------------------------------------


def test_proof_for_a_token_request() -> None:
    proof = oc.dpop_proof(EC_KEY, "POST", "https://as.example.com/token", now=T0, jti="j-1")
    header, claims = decode_proof(proof)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "ES256"
    assert header["jwk"] == {k: EC_KEY[k] for k in ("kty", "crv", "x", "y")}
    assert set(header) == {"typ", "alg", "jwk"}
    assert claims == {
        "jti": "j-1",
        "htm": "POST",
        "htu": "https://as.example.com/token",
        "iat": int(T0.timestamp()),
    }


def test_proof_for_a_resource_request_has_ath_and_nonce() -> None:
    """RFC 9449 §7.1's example token gives the example's ath."""
    proof = oc.dpop_proof(
        EC_KEY,
        "GET",
        "https://resource.example.org/protectedresource",
        now=T0,
        nonce="eyJ7S_zG.eyJH0-Z.HX4w-7v",
        access_token=RFC_TOKEN,
    )
    _, claims = decode_proof(proof)
    assert claims["ath"] == RFC_ATH
    assert claims["nonce"] == "eyJ7S_zG.eyJH0-Z.HX4w-7v"


@pytest.mark.parametrize(
    ("url", "htu"),
    [
        ("https://server.example.com/token?a=1#frag", "https://server.example.com/token"),
        ("HTTPS://Server.Example.COM:443/Path", "https://server.example.com/Path"),
        ("http://127.0.0.1:8080/cb?x", "http://127.0.0.1:8080/cb"),
        ("http://localhost:80", "http://localhost/"),
        ("https://user:pass@rs.example/r", "https://rs.example/r"),
        ("https://[::1]:8443/r#f", "https://[::1]:8443/r"),
    ],
)
def test_htu_is_the_target_uri_without_query_and_fragment(url: str, htu: str) -> None:
    _, claims = decode_proof(oc.dpop_proof(EC_KEY, "GET", url, now=T0))
    assert claims["htu"] == htu


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("GET", "/relative"), "absolute"),
        (("GET", "ftp://x/y"), "absolute"),
        (("", "https://x/"), "htm"),
        (("GE T", "https://x/"), "htm"),
    ],
)
def test_bad_method_or_url_is_a_usage_error(args: tuple[str, str], match: str) -> None:
    with pytest.raises(oc.UsageError, match=match):
        oc.dpop_proof(EC_KEY, *args, now=T0)


@pytest.mark.parametrize("nonce", ["", 'a"b', "a\\b", "sp ace", "\u00e9"])
def test_bad_nonce_is_a_usage_error(nonce: str) -> None:
    with pytest.raises(oc.UsageError, match="nonce"):
        oc.dpop_proof(EC_KEY, "GET", "https://x/", now=T0, nonce=nonce)


def test_symmetric_and_public_keys_cannot_make_proofs() -> None:
    with pytest.raises(oc.UsageError, match="asymmetric"):
        oc.dpop_proof({"kty": "oct", "k": "c2VjcmV0"}, "GET", "https://x/", now=T0)
    public = {k: v for k, v in EC_KEY.items() if k != "d"}
    with pytest.raises(oc.UsageError, match="private") as info:
        oc.dpop_proof(public, "GET", "https://x/", now=T0)
    assert EC_KEY["x"] not in str(info.value)


URLS = st.builds(
    lambda scheme, host, path, query, fragment: f"{scheme}://{host}/{path}{query}{fragment}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["rs.example", "AS.Example.com:8443", "127.0.0.1:80", "[::1]"]),
    st.text(alphabet="abcXYZ019-._~%/;=", max_size=30),
    st.one_of(st.just(""), st.text(alphabet="abc=&?/#", max_size=20).map(lambda q: "?" + q)),
    st.one_of(st.just(""), st.text(alphabet="abc=&?/#", max_size=20).map(lambda f: "#" + f)),
)
TOKENS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


@given(
    alg=st.sampled_from(sorted(KEYS)),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    url=URLS,
    token=TOKENS,
)
def test_proofs_verify_htu_has_no_query_or_fragment_and_ath_matches(
    alg: str, method: str, url: str, token: str
) -> None:
    """For any key, method, URL and token: the proof verifies with its own header key,
    the header key is public only, htu has no query or fragment, ath is SHA-256 of the token."""
    header, claims = decode_proof(oc.dpop_proof(KEYS[alg], method, url, now=T0, access_token=token))
    assert "d" not in header["jwk"]  # type: ignore[operator]
    htu = claims["htu"]
    assert isinstance(htu, str)
    assert "?" not in htu
    assert "#" not in htu
    sent, proved = urlsplit(url), urlsplit(htu)
    assert (proved.hostname, proved.port, proved.path) == (
        sent.hostname,
        None if sent.port == {"http": 80, "https": 443}[sent.scheme.lower()] else sent.port,
        sent.path or "/",
    )
    assert claims["htm"] == method
    digest = hashlib.sha256(token.encode("ascii")).digest()
    assert claims["ath"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert b64url_decode(str(claims["ath"])) == digest


# --- dpop_request ----------------------------------------------------------------------------


def test_dpop_request_adds_the_proof_and_the_dpop_authorization() -> None:
    original = oc.HttpRequest(
        "GET", "https://rs.example/data?x=1", {"authorization": "Bearer old", "accept": "*/*"}
    )
    token = oc.Token("at-1", token_type="DPoP")
    request = oc.dpop_request(original, EC_KEY, now=T0, access_token=token, nonce="n-1")
    assert request.headers["authorization"] == "DPoP at-1"
    assert request.headers["accept"] == "*/*"
    assert len(request.headers.get_all("authorization")) == 1
    _, claims = decode_proof(request.headers["dpop"])
    assert claims["htm"] == "GET"
    assert claims["htu"] == "https://rs.example/data"
    assert claims["nonce"] == "n-1"
    assert claims["ath"] == oc.dpop_proof.__globals__["access_token_hash"]("at-1")
    assert "dpop" not in original.headers
    assert request.headers["dpop"] not in repr(request)
    assert "at-1" not in repr(request)


def test_dpop_request_refuses_a_token_the_server_did_not_bind() -> None:
    """RFC 9449 §5: the server may answer Bearer; such a token is sent as Bearer."""
    request = oc.HttpRequest("GET", "https://rs.example/")
    with pytest.raises(oc.UsageError, match="bearer_authorize"):
        oc.dpop_request(request, EC_KEY, now=T0, access_token=oc.Token("at", token_type="Bearer"))


# --- token flow: use_dpop_nonce --------------------------------------------------------------


def test_token_flow_retries_once_with_the_nonce() -> None:
    request = oc.client_credentials_grant_request(SERVER, CLIENT)
    flow = oc.dpop_token_flow(request, EC_KEY, now=T0)
    first = next(flow)
    _, claims = decode_proof(first.request.headers["dpop"])
    assert "nonce" not in claims
    assert claims["iat"] == int(T0.timestamp())
    assert first.request.body == request.body
    second = flow.send(json_response(400, NONCE_ERROR, T1, **{"dpop-nonce": "eyJ7S_zG.eyJH0"}))
    _, retried = decode_proof(second.request.headers["dpop"])
    assert retried["nonce"] == "eyJ7S_zG.eyJH0"
    assert retried["iat"] == int(T1.timestamp())  # dated by the answer that asked
    assert retried["jti"] != claims["jti"]
    with pytest.raises(StopIteration) as done:
        flow.send(json_response(200, TOKEN, T2, **{"dpop-nonce": "next-nonce"}))
    token, nonce = done.value.value
    assert token.access_token == "at-1"
    assert token.token_type == "DPoP"
    assert token.expires_at == T2 + dt.timedelta(seconds=60)
    assert nonce == "next-nonce"


def test_a_second_use_dpop_nonce_is_an_error_not_a_loop() -> None:
    flow = oc.dpop_token_flow(oc.client_credentials_grant_request(SERVER, CLIENT), EC_KEY, now=T0)
    next(flow)
    flow.send(json_response(400, NONCE_ERROR, T1, **{"dpop-nonce": "n-1"}))
    with pytest.raises(oc.EndpointError) as info:
        flow.send(json_response(400, NONCE_ERROR, T2, **{"dpop-nonce": "n-2"}))
    assert info.value.error == "use_dpop_nonce"
    assert info.value.status == 400


def test_use_dpop_nonce_without_a_nonce_header_is_not_retried() -> None:
    flow = oc.dpop_token_flow(oc.client_credentials_grant_request(SERVER, CLIENT), EC_KEY, now=T0)
    next(flow)
    with pytest.raises(oc.EndpointError, match="use_dpop_nonce"):
        flow.send(json_response(400, NONCE_ERROR, T1))


def test_known_nonce_is_sent_first_and_kept_when_the_server_sends_none() -> None:
    flow = oc.dpop_token_flow(
        oc.client_credentials_grant_request(SERVER, CLIENT), EC_KEY, now=T0, nonce="known"
    )
    _, claims = decode_proof(next(flow).request.headers["dpop"])
    assert claims["nonce"] == "known"
    with pytest.raises(StopIteration) as done:
        flow.send(json_response(200, TOKEN, T1))
    assert done.value.value[1] == "known"


def test_a_bearer_answer_is_returned_as_data() -> None:
    """RFC 9449 §5: a server may issue a Bearer token although a proof was sent."""
    flow = oc.dpop_token_flow(oc.client_credentials_grant_request(SERVER, CLIENT), EC_KEY, now=T0)
    next(flow)
    with pytest.raises(StopIteration) as done:
        flow.send(json_response(200, {**TOKEN, "token_type": "Bearer"}, T1))
    token, nonce = done.value.value
    assert token.token_type == "Bearer"
    assert nonce is None


def test_refresh_keeps_the_previous_refresh_token() -> None:
    previous = oc.Token("old", token_type="DPoP", refresh_token="rt-1", scope="a b")
    request = oc.refresh_token_grant_request(SERVER, CLIENT, previous)
    flow = oc.dpop_token_flow(request, EC_KEY, now=T0, previous=previous)
    next(flow)
    with pytest.raises(StopIteration) as done:
        flow.send(json_response(200, {"access_token": "new", "token_type": "DPoP"}, T1))
    token, _ = done.value.value
    assert token.refresh_token == "rt-1"
    assert token.scope == ("a", "b")


def test_a_request_factory_gets_a_fresh_client_assertion_for_the_retry() -> None:
    """With private_key_jwt the retry must not replay the first assertion's jti."""
    client = oc.Client("app", auth_method="private_key_jwt", signing_key=EC_KEY)
    times: list[dt.datetime] = []

    def build(now: dt.datetime) -> oc.HttpRequest:
        times.append(now)
        return oc.client_credentials_grant_request(SERVER, client, now=now)

    flow = oc.dpop_token_flow(build, RSA_KEY, now=T0)
    first = dict(parse_qsl(next(flow).request.body.decode()))["client_assertion"]
    step = flow.send(json_response(400, NONCE_ERROR, T1, **{"dpop-nonce": "n"}))
    second = dict(parse_qsl(step.request.body.decode()))["client_assertion"]
    assert times == [T0, T1]
    payloads = [json.loads(b64url_decode(a.split(".")[1])) for a in (first, second)]
    assert payloads[0]["jti"] != payloads[1]["jti"]
    assert payloads[1]["iat"] == int(T1.timestamp())
    flow.close()


# --- resource flow ---------------------------------------------------------------------------


def test_resource_flow_retries_once_on_a_401_nonce_challenge() -> None:
    request = oc.HttpRequest("GET", "https://rs.example/data")
    token = oc.Token("at-1", token_type="DPoP")
    flow = oc.dpop_resource_flow(request, EC_KEY, token, now=T0)
    first = next(flow)
    assert first.request.headers["authorization"] == "DPoP at-1"
    challenge = oc.HttpResponse(
        401,
        {
            "www-authenticate": 'DPoP error="use_dpop_nonce", '
            'error_description="Resource server requires nonce in DPoP proof"',
            "dpop-nonce": "eyJ7S_zG.eyJH0-Z.HX4w-7v",
        },
        b"",
        T1,
    )
    second = flow.send(challenge)
    _, claims = decode_proof(second.request.headers["dpop"])
    assert claims["nonce"] == "eyJ7S_zG.eyJH0-Z.HX4w-7v"
    assert claims["ath"] == oc.dpop_proof.__globals__["access_token_hash"]("at-1")
    assert claims["iat"] == int(T1.timestamp())
    again = oc.HttpResponse(401, dict(challenge.headers), b"", T2)
    with pytest.raises(StopIteration) as done:
        flow.send(again)
    assert done.value.value is again  # a second challenge is returned, not retried


def test_resource_flow_returns_the_first_answer_when_no_nonce_is_asked() -> None:
    flow = oc.dpop_resource_flow(oc.HttpRequest("GET", "https://rs.example/"), ED_KEY, "at", now=T0)
    next(flow)
    ok = oc.HttpResponse(200, {"dpop-nonce": "next"}, b"{}", T1)
    with pytest.raises(StopIteration) as done:
        flow.send(ok)
    assert done.value.value is ok


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (400, {"dpop-nonce": "n"}, b'{"error":"use_dpop_nonce"}', "n"),
        (401, {"dpop-nonce": "n", "www-authenticate": 'DPoP error="use_dpop_nonce"'}, b"", "n"),
        (401, {"dpop-nonce": "n", "www-authenticate": 'Bearer error="use_dpop_nonce"'}, b"", None),
        (401, {"dpop-nonce": "n", "www-authenticate": 'DPoP error="invalid_token"'}, b"", None),
        (400, {"dpop-nonce": "n"}, b'{"error":"invalid_grant"}', None),
        (400, {}, b'{"error":"use_dpop_nonce"}', None),
        (400, {"dpop-nonce": 'bad"nonce'}, b'{"error":"use_dpop_nonce"}', None),
        (200, {"dpop-nonce": "n"}, b'{"access_token":"x"}', None),
    ],
)
def test_nonce_challenges(
    status: int, headers: dict[str, str], body: bytes, expected: str | None
) -> None:
    response = oc.HttpResponse(status, headers, body, T0)
    assert oc.dpop_nonce_challenge(response) == expected


@given(
    status=st.integers(min_value=100, max_value=599),
    headers=st.dictionaries(
        st.sampled_from(["dpop-nonce", "www-authenticate", "content-type"]), st.text()
    ),
    body=st.binary(max_size=200),
)
def test_nonce_challenge_never_crashes(status: int, headers: dict[str, str], body: bytes) -> None:
    """Any response gives a nonce or None, never an exception."""
    result = oc.dpop_nonce_challenge(oc.HttpResponse(status, headers, body, T0))
    assert result is None or isinstance(result, str)


def test_dpop_request_takes_the_jti() -> None:
    request = oc.dpop_request(oc.HttpRequest("GET", "https://rs/"), EC_KEY, now=T0, jti="fixed")
    _, claims = decode_proof(request.headers["dpop"])
    assert claims["jti"] == "fixed"


def test_errors_never_show_the_key_or_a_proof() -> None:
    flow = oc.dpop_token_flow(oc.client_credentials_grant_request(SERVER, CLIENT), EC_KEY, now=T0)
    proof = next(flow).request.headers["dpop"]
    with pytest.raises(oc.EndpointError) as info:
        flow.send(json_response(400, {"error": "invalid_dpop_proof"}, T1))
    text = f"{info.value} {info.value!r}"
    assert proof not in text
    assert EC_KEY["d"] not in text
    with pytest.raises(oc.UsageError) as bad:
        oc.dpop_proof({**EC_KEY, "crv": "P-384"}, "GET", "https://rs/", now=T0)
    assert EC_KEY["d"] not in f"{bad.value} {bad.value.__cause__!r} {bad.value.__context__!r}"
