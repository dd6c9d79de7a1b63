"""The authority check agrees with every transport's URL parser (issue 12, item 1).

Property: for any URL that ``oauth2_core``'s authority check approves, urllib3,
requests and httpx all parse it and connect to the same host and port. A URL
the parsers disagree on must be refused, never approved with the wrong host
(``http://evil.example:8080\\@127.0.0.1/`` was approved as loopback while
urllib3 sent the credential to evil.example).
"""

from __future__ import annotations

import ipaddress

import httpx
import pytest
import requests
import urllib3
from hypothesis import example, given
from hypothesis import strategies as st

import oauth2_core as oc
from oauth2_core.endpoints import url_origin

# Characters that parsers treat differently, plus ordinary ones.
_TRICKY = (
    "ab.:@[]%\\/?# \t\n\r\x00\x7f-_09x"
    "\u3002\uff0e\uff20\u2100\uff0f\u00e9\u0430\u200b\ufeff"  # IDNA dots and at, look-alikes
)
_HOSTS = st.sampled_from(
    [
        "127.0.0.1",
        "localhost",
        "as.example",
        "[::1]",
        "evil.example",
        "0x7f.1",
        "127.1",
        "2130706433",
        "LOCALHOST",
        "[::ffff:127.0.0.1]",
    ]
)


def _parsed_host(host: str) -> object:
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return host


def _urllib3(url: str) -> tuple[object, int]:
    parts = urllib3.util.parse_url(url)
    assert parts.host is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return _parsed_host(parts.host), port


def _requests(url: str) -> tuple[object, int]:
    prepared = requests.Request("GET", url).prepare()
    assert prepared.url is not None
    # requests' HTTPAdapter picks the pool with urllib3's parse_url of the prepared URL.
    return _urllib3(prepared.url)


def _httpx(url: str) -> tuple[object, int]:
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    # httpcore connects to raw_host.
    return _parsed_host(parsed.raw_host.decode("ascii")), port


def _assert_agrees(url: str) -> None:
    try:
        origin, _ = url_origin(url)
    except oc.UsageError:
        return  # refused: nothing is sent, whatever the parsers think
    if origin.scheme not in ("http", "https"):
        return
    ours = (_parsed_host(origin.host), origin.port)
    for name, parse in (("urllib3", _urllib3), ("requests", _requests), ("httpx", _httpx)):
        try:
            theirs = parse(url)
        except Exception as exc:
            pytest.fail(f"we approved {url!r} but {name} cannot parse it: {exc!r}")
        assert theirs == ours, f"{name} connects to {theirs} for {url!r}; we approved {ours}"


FIXED = [
    "http://attacker.example:8080\\@127.0.0.1/token",
    "http://attacker.example\\@127.0.0.1/cb",
    "http://127.0.0.1\\@attacker.example/",
    "http://attacker.example/\\@127.0.0.1/",
    "http://attacker.example#@127.0.0.1/",
    "http://attacker.example?@127.0.0.1/",
    "http://attacker.example@127.0.0.1/",
    "http://127.0.0.1@attacker.example/",
    "http://127.0.0.1:80@attacker.example/",
    "http://127.0.0.1%2f@attacker.example/",
    "http://attacker%2eexample/",
    "http://127.0.0.1%00.attacker.example/",
    "http://127.0.0.1 .attacker.example/",
    "http://127.0.0.1\t/",
    "http://127.0.0.1\n.attacker.example/",
    "http://attacker.example\u3002127.0.0.1/",
    "http://attacker\uff0eexample/",
    "http://127.0.0.1\uff20attacker.example/",
    "http://[::1]@attacker.example/",
    "http://[::1%25eth0]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.000.0.1/",
    "http://localhost./",
    "http://foo.localhost/",
    "http://127.0.0.1:/",
    "http://127.0.0.1:0/",
    "http://127.0.0.1:65536/",
    "http://127.0.0.1:+80/",
    "http://127.0.0.1::80/",
    "http:127.0.0.1/",
    "http:/127.0.0.1/",
    "http:///127.0.0.1/",
    "HTTP://LOCALHOST:8080/token",
    "http://[0:0::1]:8080/token",
    "http://127.0.0.1:8080/token",
    "https://as.example/token",
    "https://AS.Example:443/token?x=1",
    "https://xn--nxasmq6b.example/token",
    "https://as_1.example/token",
]


@pytest.mark.parametrize("url", FIXED)
def test_fixed_corpus_agrees_with_every_parser(url: str) -> None:
    _assert_agrees(url)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "hTtPs"]),
    before=st.text(alphabet=_TRICKY, max_size=6),
    host=_HOSTS,
    after=st.text(alphabet=_TRICKY, max_size=6),
    tail=st.text(alphabet=_TRICKY + "pth", max_size=8),
)
@example(scheme="http", before="attacker.example:8080\\@", host="127.0.0.1", after="", tail="/")
def test_approved_hosts_agree_with_every_parser(
    scheme: str, before: str, host: str, after: str, tail: str
) -> None:
    """Whatever the check approves, urllib3, requests and httpx connect to that host."""
    _assert_agrees(f"{scheme}://{before}{host}{after}{tail}")


@given(st.text(max_size=40))
def test_arbitrary_text_never_approved_with_another_host(text: str) -> None:
    """Any string: refused, or approved with the host every parser sees."""
    _assert_agrees("http://" + text)
    _assert_agrees(text)


@pytest.mark.parametrize(
    "url",
    [
        "http://attacker.example:8080\\@127.0.0.1/token",
        "http://attacker.example@127.0.0.1/token",
        "http://127.1/token",
        "http://[::ffff:127.0.0.1]/token",
        "http://localhost./token",
    ],
)
def test_parser_tricks_never_pass_as_loopback(url: str) -> None:
    """The audit's proof of concept: none of these is plain-http loopback."""
    server = oc.ServerMetadata(issuer="http://127.0.0.1", token_endpoint=url)
    client = oc.Client("app", "s3cr3t")
    with pytest.raises(oc.UsageError):
        oc.client_credentials_grant_request(server, client)
