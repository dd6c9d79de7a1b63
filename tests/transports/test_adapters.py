"""What each adapter does beyond the shared contract: objects passed in, defaults, messages.

Every test talks to the contract suite's loopback server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests
import urllib3

import oauth2_transports
from oauth2_core import HttpRequest, HttpResponse, OAuth2Error, UsageError
from oauth2_transports import (
    AsyncHttpxTransport,
    HttpxTransport,
    RequestsTransport,
    TransportError,
    Urllib3Transport,
)
from oauth2_transports.testing._server import LoopbackServer, payload

SyncSend = Callable[[HttpRequest], HttpResponse]


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sessions passed in trust the environment; keep loopback requests off any proxy.
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def _get(url: str, **headers: str) -> HttpRequest:
    return HttpRequest("GET", url, headers=headers)


def _plant_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))


def _sync_sender(name: str, **kwargs: object) -> tuple[SyncSend, Callable[[], None]]:
    """One adapter with the given settings, as a plain sync ``send`` and a ``close``."""
    if name != "AsyncHttpxTransport":
        transport = getattr(oauth2_transports, name)(**kwargs)
        return transport.send, transport.close
    atransport = AsyncHttpxTransport(**kwargs)  # type: ignore[arg-type]
    # One loop for the transport's whole life: httpx's pool is bound to its loop.
    loop = asyncio.new_event_loop()

    def send(request: HttpRequest) -> HttpResponse:
        return loop.run_until_complete(atransport.send(request))

    def close() -> None:
        loop.run_until_complete(atransport.aclose())
        loop.close()

    return send, close


ADAPTERS = ["Urllib3Transport", "RequestsTransport", "HttpxTransport", "AsyncHttpxTransport"]


@pytest.fixture(params=ADAPTERS)
def make_sender(request: pytest.FixtureRequest) -> Iterator[Callable[..., SyncSend]]:
    """``make_sender(**settings)``: one adapter's ``send`` (async ones run to completion)."""
    closers: list[Callable[[], None]] = []

    def make(**kwargs: object) -> SyncSend:
        send, close = _sync_sender(request.param, **kwargs)
        closers.append(close)
        return send

    yield make
    for close in closers:
        close()


# -- settings shared by all adapters ------------------------------------------------


def test_default_cap_is_one_mebibyte(
    server: LoopbackServer, make_sender: Callable[..., SyncSend]
) -> None:
    send = make_sender()
    assert send(_get(server.url("/bytes/1048576"))).body == payload(1_048_576)
    with pytest.raises(TransportError, match=r"response body exceeds 1048576 bytes"):
        send(_get(server.url("/bytes/1048577")))


def test_default_clock_is_aware_utc_now(
    server: LoopbackServer, make_sender: Callable[..., SyncSend]
) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    received_at = make_sender()(_get(server.url("/empty"))).received_at
    assert received_at.utcoffset() == dt.timedelta(0)
    assert before <= received_at <= dt.datetime.now(dt.timezone.utc)


def test_naive_clock_is_a_usage_error(
    server: LoopbackServer, make_sender: Callable[..., SyncSend]
) -> None:
    send = make_sender(clock=lambda: dt.datetime(2030, 1, 1))
    with pytest.raises(UsageError, match="timezone-aware"):
        send(_get(server.url("/empty")))


@pytest.mark.parametrize(
    "settings", [{"timeout": 0}, {"timeout": -1.0}, {"max_body_bytes": -1}, {"timeout": True}]
)
@pytest.mark.parametrize("cls", [Urllib3Transport, RequestsTransport, HttpxTransport])
def test_bad_settings_are_usage_errors(cls: type, settings: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        cls(**settings)


def test_bad_settings_are_usage_errors_async() -> None:
    with pytest.raises(UsageError):
        AsyncHttpxTransport(timeout=0)


def test_error_messages_name_the_failure(
    server: LoopbackServer, make_sender: Callable[..., SyncSend]
) -> None:
    send = make_sender(timeout=0.25, max_body_bytes=1000)
    # The read timeout and the overall deadline (= timeout) expire together: either names it.
    # The query (it may carry a code) shows only as "?…".
    timed_out = (
        r"^timed out( \(\w+\))?: GET http://127\.0\.0\.1:\d+/sleep\?…"
        r"( \(the 0\.25 s deadline .*\))?$"
    )
    with pytest.raises(TransportError, match=timed_out):
        send(_get(server.url("/sleep?code=abc")))
    with pytest.raises(TransportError, match=r"^response body exceeds 1000 bytes: GET http://"):
        send(_get(server.url("/bytes/1001")))
    with pytest.raises(TransportError, match=r"^undecodable body \(\w+\): GET http://"):
        send(_get(server.url("/bad-gzip")))
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/token"
        refused = r"^connection failed \(\w+\): GET http://"
        with pytest.raises(TransportError, match=refused) as info:
            send(_get(url))
    assert isinstance(info.value, OAuth2Error)


def test_tls_failure_is_named(server: LoopbackServer, make_sender: Callable[..., SyncSend]) -> None:
    # A TLS handshake with a plain HTTP server fails on the client side.
    with pytest.raises(TransportError, match=r"^TLS failure") as info:
        make_sender()(_get(f"https://127.0.0.1:{server.port}/echo"))
    assert info.value.__cause__ is not None


def test_invalid_url_is_a_transport_error(make_sender: Callable[..., SyncSend]) -> None:
    with pytest.raises(TransportError) as info:
        make_sender()(_get("ftp://127.0.0.1/token?code=secret"))
    assert "secret" not in str(info.value)


# -- TLS settings pass through -----------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oauth2-core loopback")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(tls_files: tuple[Path, Path]) -> Iterator[LoopbackServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    with LoopbackServer(ssl_context=context) as running:
        yield running


def test_unknown_certificate_is_a_tls_failure(
    tls_server: LoopbackServer, make_sender: Callable[..., SyncSend]
) -> None:
    with pytest.raises(TransportError, match=r"^TLS failure"):
        make_sender()(_get(tls_server.url("/echo")))
    assert tls_server.recorded == []


def test_urllib3_pool_ca_certs_are_used(
    tls_server: LoopbackServer, tls_files: tuple[Path, Path]
) -> None:
    pool = urllib3.PoolManager(ca_certs=str(tls_files[0]))
    assert Urllib3Transport(pool).send(_get(tls_server.url("/echo"))).status == 200
    pool.clear()


def test_requests_session_verify_is_used_whatever_the_environment(
    tls_server: LoopbackServer, tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With Session.request, this variable would override session.verify.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    with requests.Session() as session:
        session.verify = str(tls_files[0])
        assert RequestsTransport(session).send(_get(tls_server.url("/echo"))).status == 200


def test_requests_ca_bundle_variable_counts_only_for_sessions_that_trust_env(
    tls_server: LoopbackServer, tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files[0]))
    with requests.Session() as session:  # trust_env defaults to true
        assert RequestsTransport(session).send(_get(tls_server.url("/echo"))).status == 200
    with RequestsTransport() as own, pytest.raises(TransportError, match=r"^TLS failure"):
        own.send(_get(tls_server.url("/echo")))


def test_httpx_client_verify_is_used(
    tls_server: LoopbackServer, tls_files: tuple[Path, Path]
) -> None:
    context = ssl.create_default_context(cafile=str(tls_files[0]))
    with httpx.Client(verify=context) as client:
        assert HttpxTransport(client).send(_get(tls_server.url("/echo"))).status == 200


@pytest.fixture
def mtls_server(tls_files: tuple[Path, Path]) -> Iterator[LoopbackServer]:
    """HTTPS that demands a client certificate (RFC 8705 §2), trusting our self-signed one."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(tls_files[0]))
    with LoopbackServer(ssl_context=context) as running:
        yield running


def _mtls_send(
    name: str, tls_files: tuple[Path, Path], stack: contextlib.ExitStack, *, with_cert: bool
) -> SyncSend:
    """An adapter configured the library's own way for a CA bundle and, maybe, a client cert."""
    cert, key = (str(f) for f in tls_files)
    context = ssl.create_default_context(cafile=cert)
    if with_cert:
        context.load_cert_chain(cert, key)
    if name == "Urllib3Transport":
        files = {"cert_file": cert, "key_file": key} if with_cert else {}
        pool = urllib3.PoolManager(ca_certs=cert, **files)
        stack.callback(pool.clear)
        return Urllib3Transport(pool).send
    if name == "RequestsTransport":
        session = stack.enter_context(requests.Session())
        session.verify = cert
        if with_cert:
            session.cert = (cert, key)
        return RequestsTransport(session).send
    if name == "HttpxTransport":
        return HttpxTransport(stack.enter_context(httpx.Client(verify=context))).send

    def send(request: HttpRequest) -> HttpResponse:
        async def go() -> HttpResponse:
            async with AsyncHttpxTransport(httpx.AsyncClient(verify=context)) as transport:
                return await transport.send(request)

        return asyncio.run(go())

    return send


@pytest.mark.parametrize("name", ADAPTERS)
def test_client_certificate_passes_through_from_the_wrapped_client(
    name: str, mtls_server: LoopbackServer, tls_files: tuple[Path, Path]
) -> None:
    """mTLS (RFC 8705): the certificate is the HTTP library's setting; the adapter must
    neither drop it nor need its own option for it."""
    with contextlib.ExitStack() as stack:
        without = _mtls_send(name, tls_files, stack, with_cert=False)
        with pytest.raises(TransportError):
            without(_get(mtls_server.url("/echo")))
        with_cert = _mtls_send(name, tls_files, stack, with_cert=True)
        response = with_cert(_get(mtls_server.url("/echo")))
    assert response.status == 200
    assert mtls_server.hits("/echo") == 1


# -- urllib3 ---------------------------------------------------------------------------


def test_urllib3_uses_the_pool_given_and_keeps_it_open(server: LoopbackServer) -> None:
    pool = urllib3.PoolManager(headers={"User-Agent": "pool-agent/1"})
    with Urllib3Transport(pool) as transport:
        transport.send(_get(server.url("/echo")))
        transport.send(_get(server.url("/echo"), **{"user-agent": "core-agent/2"}))
    assert [r.header_values("user-agent") for r in server.recorded] == [
        ["pool-agent/1"],
        ["core-agent/2"],
    ]
    assert len(pool.pools) == 1  # close() left the caller's pool alone
    pool.clear()


def test_urllib3_ignores_the_pools_retries_and_redirects(server: LoopbackServer) -> None:
    retry = urllib3.Retry(total=3, redirect=3, status_forcelist=[503], backoff_factor=0)
    pool = urllib3.PoolManager(retries=retry)
    transport = Urllib3Transport(pool)
    assert transport.send(_get(server.url("/status/503"))).status == 503
    assert transport.send(_get(server.url("/redirect/302"))).status == 302
    assert server.hits("/status/503") == 1
    assert server.hits("/redirect-target") == 0


def test_urllib3_proxy_manager_is_honoured(server: LoopbackServer) -> None:
    # The loopback server plays the proxy: it receives the absolute-form target.
    proxy = urllib3.ProxyManager(server.url("/"))
    transport = Urllib3Transport(proxy)
    transport.send(_get("http://as.example.invalid/token?x=1"))
    assert server.recorded[0].target == "http://as.example.invalid/token?x=1"
    proxy.clear()


def test_urllib3_sends_repeated_request_fields_apart(server: LoopbackServer) -> None:
    request = HttpRequest("GET", server.url("/echo"), headers=[("x-a", "1"), ("x-a", "2")])
    Urllib3Transport().send(request)
    assert server.recorded[0].header_values("x-a") == ["1", "2"]


# -- requests --------------------------------------------------------------------------


def test_planted_netrc_is_effective_for_plain_requests(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: the netrc the tests plant is one requests would use, so they prove something."""
    _plant_netrc(tmp_path, monkeypatch)
    requests.get(server.url("/echo"), timeout=5)
    assert server.recorded[0].header_values("authorization") == [
        "Basic bmV0cmMtdXNlcjpuZXRyYy1wYXNzd29yZA=="
    ]


def test_requests_session_given_never_adds_netrc_credentials(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plant_netrc(tmp_path, monkeypatch)
    with requests.Session() as session:  # trust_env is true: it would read the netrc
        RequestsTransport(session).send(_get(server.url("/echo")))
    assert server.recorded[0].header_values("authorization") == []


def test_requests_session_given_is_used_but_not_its_auth_or_cookies(
    server: LoopbackServer,
) -> None:
    session = requests.Session()
    session.headers["User-Agent"] = "session-agent/1"
    session.auth = ("session-user", "session-password")
    session.cookies.set("jar", "cookie")
    transport = RequestsTransport(session)
    transport.send(_get(server.url("/repeated")))
    transport.send(_get(server.url("/echo"), authorization="Bearer core"))
    arrived = server.recorded[-1]
    assert arrived.header_values("user-agent") == ["session-agent/1"]
    assert arrived.header_values("authorization") == ["Bearer core"]
    assert arrived.header_values("cookie") == []
    assert dict(session.cookies) == {"jar": "cookie"}  # no cookies from responses either
    transport.close()
    adapter = session.get_adapter(server.url("/"))
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert len(adapter.poolmanager.pools) == 1  # close() left the caller's session open
    session.close()


def test_requests_session_proxies_are_honoured(server: LoopbackServer) -> None:
    with requests.Session() as session:
        session.trust_env = False
        session.proxies = {"http": server.url("/")}
        RequestsTransport(session).send(_get("http://as.example.invalid/token?x=1"))
    assert server.recorded[0].target == "http://as.example.invalid/token?x=1"


def test_requests_joins_repeated_request_fields(server: LoopbackServer) -> None:
    # requests takes a mapping: one field, values joined as RFC 9110 §5.3 allows.
    request = HttpRequest("GET", server.url("/echo"), headers=[("x-a", "1"), ("x-a", "2")])
    RequestsTransport().send(request)
    assert server.recorded[0].header_values("x-a") == ["1, 2"]


# -- httpx -----------------------------------------------------------------------------


def test_httpx_client_given_is_used_but_not_its_auth_cookies_or_redirects(
    server: LoopbackServer,
) -> None:
    client = httpx.Client(
        headers={"User-Agent": "client-agent/1"},
        auth=("client-user", "client-password"),
        cookies={"jar": "cookie"},
        follow_redirects=True,
    )
    transport = HttpxTransport(client)
    assert transport.send(_get(server.url("/redirect/302"))).status == 302
    transport.send(_get(server.url("/echo")))
    arrived = server.recorded[-1]
    assert arrived.header_values("user-agent") == ["client-agent/1"]
    assert arrived.header_values("authorization") == []
    assert arrived.header_values("cookie") == []
    assert server.hits("/redirect-target") == 0
    transport.close()
    assert not client.is_closed
    client.close()


def test_httpx_never_turns_url_userinfo_into_credentials(server: LoopbackServer) -> None:
    url = f"http://user:password@127.0.0.1:{server.port}/echo"
    HttpxTransport().send(_get(url))
    assert server.recorded[0].header_values("authorization") == []


def test_httpx_client_proxy_is_honoured(server: LoopbackServer) -> None:
    with httpx.Client(proxy=server.url("/")) as client:
        HttpxTransport(client).send(_get("http://as.example.invalid/token?x=1"))
    assert server.recorded[0].target == "http://as.example.invalid/token?x=1"


def test_async_httpx_client_given_is_used_and_left_open(server: LoopbackServer) -> None:
    async def scenario() -> httpx.AsyncClient:
        client = httpx.AsyncClient(headers={"User-Agent": "async-agent/1"}, auth=("u", "p"))
        async with AsyncHttpxTransport(client) as transport:
            response = await transport.send(_get(server.url("/echo")))
        assert json.loads(response.body)["method"] == "GET"
        assert not client.is_closed
        await client.aclose()
        return client

    asyncio.run(scenario())
    assert server.recorded[0].header_values("user-agent") == ["async-agent/1"]
    assert server.recorded[0].header_values("authorization") == []


def test_own_httpx_clients_are_closed() -> None:
    with HttpxTransport() as transport:
        pass
    with pytest.raises(UsageError, match="closed"):  # a typed error, not httpx's RuntimeError
        transport.send(_get("http://127.0.0.1:9/"))


# -- the package ---------------------------------------------------------------------


def test_importing_the_package_imports_neither_requests_httpx_nor_pytest() -> None:
    code = (
        "import sys, oauth2_transports\n"
        "loaded = {'requests', 'httpx', 'pytest'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
        "assert oauth2_transports.HttpxTransport.__module__ == 'oauth2_transports.httpx'\n"
        "assert 'httpx' in sys.modules and 'requests' not in sys.modules\n"
        "from oauth2_transports import RequestsTransport\n"
        "assert 'requests' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_the_package_leaves_out_what_sync_token_users_never_need() -> None:
    """asyncio (~40 ms), the cookie jar, JOSE and the lifecycle modules load on first use."""
    code = (
        "import sys, oauth2_transports, oauth2_core\n"
        "heavy = {'asyncio', 'http.cookiejar', 'jwt', 'cryptography', 'oauth2_core.jose',\n"
        "         'oauth2_transports.manager', 'oauth2_transports.cli'}\n"
        "loaded = heavy & set(sys.modules)\n"
        "assert not loaded, loaded\n"
        "oauth2_transports.AsyncTokenManager\n"
        "assert 'oauth2_transports.manager' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lazy_names_resolve_and_unknown_names_fail() -> None:
    assert oauth2_transports.RequestsTransport is RequestsTransport
    assert oauth2_transports.AsyncHttpxTransport is AsyncHttpxTransport
    with pytest.raises(AttributeError):
        _ = oauth2_transports.NoSuchTransport  # type: ignore[attr-defined]
    for name in oauth2_transports.__all__:
        assert getattr(oauth2_transports, name) is not None
