"""The transport contract (DESIGN.md §3) as a pytest suite to subclass.

Every transport, ours or an integrator's, must: send the request verbatim; never
follow redirects; never retry; return every status as a response; keep repeated
response header fields; cap the decoded body after every content coding; time
out, and (when it has a ``deadline`` attribute) end every request by that
overall deadline however slowly the server sends; stamp ``received_at``
from its clock; turn library errors into ``TransportError`` (``raise ... from``)
with messages that carry no credential; never add ``.netrc`` credentials or
cookies. :class:`TransportContract` checks each of these against a real HTTP
server on 127.0.0.1 (``_server.LoopbackServer``).

Usage::

    import pytest
    from oauth2_transports.testing import TransportContract

    class TestMyTransport(TransportContract):
        @pytest.fixture
        def make_transport(self):
            def make(*, clock, max_body_bytes, timeout):
                return MyTransport(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)
            return make

The factory is always called with the three keyword arguments. It may return a
sync transport or an async one (``async def send``): async sends run on an
event loop owned by the suite, so pytest-asyncio is not needed. The suite closes
every transport it made (``aclose()`` or ``close()`` when present).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from oauth2_core import HttpRequest
from oauth2_transports._transport import TransportError
from oauth2_transports.testing._harness import ContractHarness, MakeTransport
from oauth2_transports.testing._server import LoopbackServer, RecordedRequest, payload

__all__ = ["ContractHarness", "MakeTransport", "TransportContract"]

#: Values planted in failing requests; no error message may contain them.
SECRETS = ("Bearer hdr-SECRET", "dpop-SECRET", "body-SECRET", "query-SECRET")


def _get(url: str, **headers: str) -> HttpRequest:
    return HttpRequest("GET", url, headers=headers)


class TransportContract:
    """The transport contract; subclass it and provide a ``make_transport`` fixture.

    Class attributes an integrator may adjust:
        contract_max_body_bytes: The body cap the suite configures and tests.
        allowed_added_headers: Header fields a transport may add to a request
            (those its HTTP library needs), lower case.
    """

    contract_max_body_bytes: ClassVar[int] = 1_048_576
    allowed_added_headers: ClassVar[frozenset[str]] = frozenset(
        {"host", "user-agent", "accept-encoding", "connection", "content-length"}
    )

    @pytest.fixture
    def contract(self, make_transport: MakeTransport) -> Iterator[ContractHarness]:
        """A harness wired to a fresh loopback server."""
        with LoopbackServer() as server:
            harness = ContractHarness(make_transport, server, self.contract_max_body_bytes)
            try:
                yield harness
            finally:
                harness.close()

    def _only(self, contract: ContractHarness) -> RecordedRequest:
        recorded = contract.server.recorded
        assert len(recorded) == 1, f"expected one request, got {len(recorded)}"
        return recorded[0]

    def _assert_verbatim(self, sent: HttpRequest, arrived: RecordedRequest) -> None:
        assert arrived.method == sent.method
        assert arrived.body == sent.body
        for name in sent.headers:
            assert arrived.header_values(name) == sent.headers.get_all(name), name
        added = {name for name, _ in arrived.headers} - set(sent.headers)
        assert added <= self.allowed_added_headers, f"headers added: {sorted(added)}"

    # -- the request goes out verbatim ------------------------------------------

    def test_request_arrives_verbatim(self, contract: ContractHarness) -> None:
        target = "/echo/token?a=1&b=x%20y&c=%2B+&d=&resource=urn%3Aone&resource=urn%3Atwo"
        request = HttpRequest(
            "POST",
            contract.server.url(target),
            headers={
                "authorization": "Basic Y2xpZW50OnNlY3JldA==",
                "content-type": "application/x-www-form-urlencoded",
                "accept": "application/json",
                "dpop": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
                "x-contract": "value with  spaces; and=stuff",
            },
            body=b"grant_type=authorization_code&code=a%20b+c%2Bd&redirect_uri=https%3A%2F%2Fa",
        )
        response = contract.send(contract.transport(), request)
        arrived = self._only(contract)
        assert arrived.target == target
        self._assert_verbatim(request, arrived)
        assert response.status == 200
        assert json.loads(response.body)["target"] == target

    def test_non_ascii_utf8_body_arrives_verbatim(self, contract: ContractHarness) -> None:
        body = '{"name": "Zoë", "city": "Zürich", "mark": "✓ 漢字"}'.encode()
        request = HttpRequest(
            "POST",
            contract.server.url("/echo"),
            headers={"content-type": "application/json; charset=utf-8"},
            body=body,
        )
        contract.send(contract.transport(), request)
        self._assert_verbatim(request, self._only(contract))

    def test_large_request_body_arrives_verbatim(self, contract: ContractHarness) -> None:
        request = HttpRequest("POST", contract.server.url("/echo"), body=payload(300_000))
        contract.send(contract.transport(), request)
        self._assert_verbatim(request, self._only(contract))

    @pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
    def test_method_arrives_verbatim(self, contract: ContractHarness, method: str) -> None:
        request = HttpRequest(method, contract.server.url("/echo?x=1"))
        response = contract.send(contract.transport(), request)
        assert response.status == 200
        self._assert_verbatim(request, self._only(contract))

    def test_netrc_credentials_are_never_added(
        self, contract: ContractHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        netrc = tmp_path / ".netrc"
        netrc.write_text(
            "machine 127.0.0.1 login netrc-user password netrc-password\n"
            "default login netrc-user password netrc-password\n"
        )
        netrc.chmod(0o600)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("NETRC", str(netrc))
        contract.send(contract.transport(), _get(contract.server.url("/echo")))
        assert self._only(contract).header_values("authorization") == []

    def test_cookies_are_neither_kept_nor_sent(self, contract: ContractHarness) -> None:
        transport = contract.transport()
        contract.send(transport, _get(contract.server.url("/repeated")))
        contract.send(transport, _get(contract.server.url("/echo")))
        assert contract.server.recorded[-1].header_values("cookie") == []

    def test_concurrent_sends_keep_requests_apart(self, contract: ContractHarness) -> None:
        requests = [_get(contract.server.url(f"/echo?n={n}"), **{"x-n": str(n)}) for n in range(16)]
        responses = contract.send_many(contract.transport(), requests)
        for n, response in enumerate(responses):
            echo = json.loads(response.body)
            assert echo["target"] == f"/echo?n={n}"
            assert ["x-n", str(n)] in echo["headers"]

    # -- every status is a response -------------------------------------------

    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    def test_redirect_is_returned_not_followed(
        self, contract: ContractHarness, status: int
    ) -> None:
        request = HttpRequest("POST", contract.server.url(f"/redirect/{status}"), body=b"a=b")
        response = contract.send(contract.transport(), request)
        assert response.status == status
        assert response.headers["location"] == "/redirect-target"
        assert response.body == b"moved"
        assert contract.server.hits("/redirect-target") == 0

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503])
    def test_error_status_is_returned_not_raised(
        self, contract: ContractHarness, status: int
    ) -> None:
        response = contract.send(
            contract.transport(), _get(contract.server.url(f"/status/{status}"))
        )
        assert response.status == status
        assert response.content_type == "application/json"
        assert json.loads(response.body) == {"status": status}
        assert len(contract.server.recorded) == 1  # and not retried

    def test_repeated_response_headers_are_kept(self, contract: ContractHarness) -> None:
        response = contract.send(contract.transport(), _get(contract.server.url("/repeated")))
        assert response.status == 401
        assert response.headers.get_all("www-authenticate") == [
            'Bearer realm="contract", error="invalid_token"',
            'DPoP algs="ES256"',
        ]
        assert response.headers.get_all("set-cookie") == ["first=1; Path=/", "second=2; Path=/"]

    # -- the body ---------------------------------------------------------------

    def test_binary_body_is_returned_exactly(self, contract: ContractHarness) -> None:
        response = contract.send(contract.transport(), _get(contract.server.url("/bytes/70001")))
        assert response.body == payload(70001)

    @pytest.mark.parametrize("target", ["/empty", "/no-content"])
    def test_empty_body_is_empty_bytes(self, contract: ContractHarness, target: str) -> None:
        response = contract.send(contract.transport(), _get(contract.server.url(target)))
        assert response.status in (200, 204)
        assert response.body == b""

    def test_head_response_has_empty_body(self, contract: ContractHarness) -> None:
        request = HttpRequest("HEAD", contract.server.url("/echo"))
        response = contract.send(contract.transport(), request)
        assert response.status == 200
        assert response.body == b""

    @pytest.mark.parametrize("kind", ["bytes", "chunked", "gzip"])
    def test_body_exactly_at_the_cap_is_accepted(
        self, contract: ContractHarness, kind: str
    ) -> None:
        cap = contract.max_body_bytes
        response = contract.send(contract.transport(), _get(contract.server.url(f"/{kind}/{cap}")))
        assert response.body == payload(cap)

    @pytest.mark.parametrize("kind", ["bytes", "chunked", "gzip"])
    @pytest.mark.parametrize("over", [1, 1_048_576])
    def test_body_over_the_cap_raises(
        self, contract: ContractHarness, kind: str, over: int
    ) -> None:
        # gzip: a few kilobytes on the wire, more than the cap once decoded.
        size = contract.max_body_bytes + over
        with pytest.raises(TransportError):
            contract.send(contract.transport(), _get(contract.server.url(f"/{kind}/{size}")))

    @pytest.mark.parametrize("status", [302, 401, 500])
    def test_cap_applies_whatever_the_status(self, contract: ContractHarness, status: int) -> None:
        size = contract.max_body_bytes + 1
        url = contract.server.url(f"/bytes/{size}?status={status}")
        with pytest.raises(TransportError):
            contract.send(contract.transport(), _get(url))
        assert contract.server.hits("/redirect-target") == 0

    def test_decompression_bomb_is_stopped_at_the_cap(self, contract: ContractHarness) -> None:
        # 64 cap's worth of zeros, about 64 KiB on the wire per MiB of cap. The body
        # must be inflated piece by piece and dropped at the cap, not inflated whole.
        cap = contract.max_body_bytes
        url = contract.server.url(f"/gzip-zeros/{64 * cap}")
        transport = contract.transport()
        tracemalloc.start()
        try:
            with pytest.raises(TransportError):
                contract.send(transport, _get(url))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 16 * cap, f"{peak} bytes allocated while reading"

    @pytest.mark.parametrize("codings", ["gzip,gzip", "gzip,deflate"])
    def test_stacked_coding_bomb_is_stopped(self, contract: ContractHarness, codings: str) -> None:
        # A few KB that inflate to 1 GiB through two codings: decoding must stop at
        # the cap (or refuse the codings), never decode a whole layer first.
        url = contract.server.url(f"/coded-zeros/{codings}/{1 << 30}")
        transport = contract.transport()
        tracemalloc.start()
        try:
            with pytest.raises(TransportError):
                contract.send(transport, _get(url))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 16 * contract.max_body_bytes, f"{peak} bytes allocated while reading"

    def test_transport_still_works_after_a_body_over_the_cap(
        self, contract: ContractHarness
    ) -> None:
        transport = contract.transport(max_body_bytes=1000)
        with pytest.raises(TransportError):
            contract.send(transport, _get(contract.server.url("/bytes/200000")))
        response = contract.send(transport, _get(contract.server.url("/bytes/1000")))
        assert response.body == payload(1000)

    @pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
    def test_compressed_body_is_decoded(self, contract: ContractHarness, coding: str) -> None:
        url = contract.server.url(f"/{coding}/200000")
        assert contract.send(contract.transport(), _get(url)).body == payload(200000)

    # -- failures become TransportError ----------------------------------------

    def test_refused_connection_raises_transport_error(self, contract: ContractHarness) -> None:
        with socket.socket() as bound:  # bound but not listening: connections are refused
            bound.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{bound.getsockname()[1]}/token"
            with pytest.raises(TransportError) as info:
                contract.send(contract.transport(), _get(url))
        assert info.value.__cause__ is not None

    def test_timeout_raises_transport_error(self, contract: ContractHarness) -> None:
        with pytest.raises(TransportError) as info:
            contract.send(contract.transport(timeout=0.5), _get(contract.server.url("/sleep")))
        assert info.value.__cause__ is not None
        assert contract.server.hits("/sleep") == 1  # and not retried

    @pytest.mark.parametrize("target", ["/drip-head", "/drip-body"])
    def test_deadline_ends_a_request_that_drips(
        self, contract: ContractHarness, target: str
    ) -> None:
        # One byte every 0.5 s: every read succeeds in time, only an overall
        # deadline ends the request. Skipped for transports without ``deadline``.
        transport = contract.transport(timeout=1.5)
        deadline = getattr(transport, "deadline", None)
        if deadline is None:
            pytest.skip("the transport has no deadline attribute")
        assert deadline <= 1.5, "the deadline defaults to the timeout"
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            contract.send(transport, _get(contract.server.url(target)))
        assert time.monotonic() - started < deadline + 1.5

    @pytest.mark.parametrize("target", ["/bad-gzip", "/truncated", "/malformed"])
    def test_broken_response_raises_transport_error(
        self, contract: ContractHarness, target: str
    ) -> None:
        with pytest.raises(TransportError) as info:
            contract.send(contract.transport(), _get(contract.server.url(target)))
        assert info.value.__cause__ is not None

    @pytest.mark.parametrize("failure", ["refused", "timeout", "too-large", "bad-gzip"])
    def test_error_message_names_the_url_and_no_secret(
        self, contract: ContractHarness, failure: str
    ) -> None:
        cap = contract.max_body_bytes
        path = {"timeout": "/sleep", "too-large": f"/bytes/{cap + 1}", "bad-gzip": "/bad-gzip"}
        with socket.socket() as bound:
            bound.bind(("127.0.0.1", 0))
            if failure == "refused":
                base = f"http://127.0.0.1:{bound.getsockname()[1]}"
            else:
                base = contract.server.url("")
            url = base + path.get(failure, "/token")
            request = HttpRequest(
                "POST",
                f"{url}?code=query-SECRET",
                headers={"authorization": "Bearer hdr-SECRET", "dpop": "dpop-SECRET"},
                body=b"client_secret=body-SECRET",
            )
            with pytest.raises(TransportError) as info:
                contract.send(contract.transport(timeout=0.25), request)
        assert url in str(info.value)
        for secret in SECRETS:
            assert secret not in str(info.value)
            assert secret not in repr(info.value)

    # -- the clock ----------------------------------------------------------------

    def test_received_at_comes_from_the_clock(self, contract: ContractHarness) -> None:
        when = dt.datetime(2030, 7, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)
        transport = contract.transport(clock=lambda: when)
        response = contract.send(transport, _get(contract.server.url("/echo")))
        assert response.received_at == when
        assert response.received_at.utcoffset() == dt.timedelta(0)

    def test_received_at_is_utc_whatever_the_clock_zone(self, contract: ContractHarness) -> None:
        when = dt.datetime(2030, 7, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        transport = contract.transport(clock=lambda: when)
        response = contract.send(transport, _get(contract.server.url("/status/500")))
        assert response.received_at == when
        assert response.received_at.utcoffset() == dt.timedelta(0)
