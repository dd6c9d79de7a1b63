"""The helpers the adapters share: URL redaction, the clock check, bounded inflation."""

from __future__ import annotations

import datetime as dt
import gzip
import zlib

import pytest

from oauth2_core import HttpRequest, UsageError
from oauth2_core._http import safe_url
from oauth2_transports import TransportError
from oauth2_transports._body import CHUNK_SIZE, Inflater, read_body
from oauth2_transports._clock import stamp
from oauth2_transports._failures import transport_error


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://as.example/token?code=secret#frag", "https://as.example/token?…"),
        ("https://as.example/token#frag", "https://as.example/token"),
        ("https://user:pass@as.example:8443/t", "https://as.example:8443/t"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1", "<unparseable url>"),
    ],
)
def test_safe_url_drops_credentials_query_and_fragment(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_transport_error_names_method_and_url_only() -> None:
    request = HttpRequest(
        "POST", "https://as.example/token?code=c0de", {"authorization": "Basic c2Vj"}, b"pw=x"
    )
    error = transport_error("timed out", request)
    assert str(error) == "timed out: POST https://as.example/token?…"


def test_stamp_returns_utc_and_rejects_naive_clocks() -> None:
    east = dt.timezone(dt.timedelta(hours=2))
    moment = dt.datetime(2030, 1, 1, 12, tzinfo=east)
    assert stamp(lambda: moment) == moment
    assert stamp(lambda: moment).tzinfo == dt.timezone.utc
    with pytest.raises(UsageError):
        stamp(lambda: dt.datetime(2030, 1, 1))


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", _raw_deflate)],
)
def test_inflater_yields_bounded_pieces(coding: str, encode: object) -> None:
    """A 10 MiB body coded in a few KiB comes out in pieces of at most CHUNK_SIZE."""
    data = bytes(10 * 1024 * 1024)
    coded = encode(data)  # type: ignore[operator]
    pieces = list(Inflater(coding).inflate([coded[:10], coded[10:]]))
    assert max(map(len, pieces)) <= CHUNK_SIZE
    assert b"".join(pieces) == data


def test_inflater_rejects_what_is_not_gzip() -> None:
    with pytest.raises(zlib.error):
        list(Inflater("gzip").inflate([b"not gzip at all"]))


def test_read_body_decodes_plain_bodies_itself_and_caps_them() -> None:
    request = HttpRequest("GET", "https://as.example/")
    assert read_body(request, 10, None, raw=[b"as is"]) == b"as is"
    assert read_body(request, 10, "identity", raw=[b"as is"]) == b"as is"
    assert read_body(request, 100, "gzip", raw=[gzip.compress(b"zipped")]) == b"zipped"
    with pytest.raises(TransportError, match="exceeds 3 bytes"):
        read_body(request, 3, "identity", raw=[b"ab", b"cd"])
