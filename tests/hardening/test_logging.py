"""Logging: one DEBUG record per request, no secret in any record, no handlers configured.

Every flow runs against a loopback server with unique sentinel secrets (client
secret, tokens, code, PKCE verifier, password). The checks cover every record
any logger emits while the flows run (urllib3, requests and httpx log too), in
the message, the arguments and the formatted line.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import oauth2_core as oc
from oauth2_core.flows import step_flow
from oauth2_transports import (
    AsyncHttpxTransport,
    AsyncOAuth2Client,
    HttpxTransport,
    OAuth2Client,
    RequestsTransport,
    Urllib3Transport,
    arun,
    run,
)

from ._fault_server import Fault, FaultServer, closed_port

CLIENT_SECRET = "SNTL-client-secret-a1b2"
PASSWORD = "SNTL-password-c3d4"
CODE = "SNTL-code-e5f6"
VERIFIER = "SNTL-verifier-" + "v" * 40  # RFC 7636: 43..128 characters
STATE = "SNTL-state-g7h8"
NONCE = "SNTL-nonce-i9j0"
ACCESS_TOKENS = [f"SNTL-access-{n}-k1l2" for n in range(6)]
REFRESH_TOKENS = [f"SNTL-refresh-{n}-m3n4" for n in range(6)]
QUERY_TOKEN = "SNTL-query-token-o5p6"

SENTINELS = [
    CLIENT_SECRET,
    PASSWORD,
    CODE,
    VERIFIER,
    STATE,
    NONCE,
    QUERY_TOKEN,
    *ACCESS_TOKENS,
    *REFRESH_TOKENS,
    # The Basic credentials as they go on the wire.
    base64.b64encode(f"log-app:{CLIENT_SECRET}".encode()).decode(),
]

RECORD = re.compile(
    r"^(?P<method>GET|POST) (?P<url>http://127\.0\.0\.1:\d+/[a-z]+)(?P<query>\?…)? "
    r"-> (?P<status>\d{3}|failed) \(\d+\.\d ms\)$"
)


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _token(n: int) -> Fault:
    return Fault.ok(ACCESS_TOKENS[n], refresh_token=REFRESH_TOKENS[n], expires_in=3600)


def _script(server: FaultServer) -> None:
    """The answers, in the order :func:`_flows` sends its requests."""
    server.script(
        _token(0),  # client credentials
        _token(1),  # password
        _token(2),  # code exchange
        _token(3),  # refresh
        Fault(body=b"", headers=()),  # revocation
        Fault(body=json.dumps({"active": True}).encode()),  # introspection
        Fault(body=json.dumps({"sub": "alice"}).encode()),  # userinfo, token in the query
        Fault.error(400, "invalid_grant"),  # a refused refresh
    )


def _metadata(server: FaultServer) -> oc.ServerMetadata:
    return oc.ServerMetadata(
        issuer=f"http://127.0.0.1:{server.port}",
        authorization_endpoint=server.url("/authorize"),
        token_endpoint=server.url("/token"),
        revocation_endpoint=server.url("/revoke"),
        introspection_endpoint=server.url("/introspect"),
        userinfo_endpoint=server.url("/userinfo"),
    )


APP = oc.Client("log-app", CLIENT_SECRET, redirect_uri="http://127.0.0.1:9/cb")
PENDING = oc.new_pending_authorization(APP, state=STATE, code_verifier=VERIFIER, nonce=NONCE)
CALLBACK = f"http://127.0.0.1:9/cb?code={CODE}&state={STATE}"


def _userinfo_in_query(server: FaultServer) -> oc.Flow[dict[str, Any]]:
    # RFC 6750 §2.3 puts the token in the query: the log must show the URL without it.
    request = oc.bearer_authorize(
        oc.HttpRequest("GET", server.url("/userinfo")), QUERY_TOKEN, method="query"
    )
    return step_flow(request, lambda r: json.loads(r.body))


def _sync_flows(c: OAuth2Client, server: FaultServer) -> None:
    c.client_credentials(scope="read")
    c.password("alice", PASSWORD, scope="read")
    token = c.exchange_code(PENDING, CALLBACK)
    c.refresh(token)
    c.revoke(ACCESS_TOKENS[3], token_type_hint="access_token")
    c.introspect(REFRESH_TOKENS[3])
    run(_userinfo_in_query(server), c.transport)
    with pytest.raises(oc.EndpointError):
        c.refresh(oc.Token(ACCESS_TOKENS[4], refresh_token=REFRESH_TOKENS[4]))
    # The network fails: the record says "failed".
    c.server = oc.ServerMetadata(issuer=c.server.issuer, token_endpoint=_dead_endpoint())
    with pytest.raises(oc.OAuth2Error):
        c.refresh(oc.Token(ACCESS_TOKENS[5], refresh_token=REFRESH_TOKENS[5]))


async def _async_flows(c: AsyncOAuth2Client, server: FaultServer) -> None:
    await c.client_credentials(scope="read")
    await c.password("alice", PASSWORD, scope="read")
    token = await c.exchange_code(PENDING, CALLBACK)
    await c.refresh(token)
    await c.revoke(ACCESS_TOKENS[3], token_type_hint="access_token")
    await c.introspect(REFRESH_TOKENS[3])
    await arun(_userinfo_in_query(server), c.transport)
    with pytest.raises(oc.EndpointError):
        await c.refresh(oc.Token(ACCESS_TOKENS[4], refresh_token=REFRESH_TOKENS[4]))
    c.server = oc.ServerMetadata(issuer=c.server.issuer, token_endpoint=_dead_endpoint())
    with pytest.raises(oc.OAuth2Error):
        await c.refresh(oc.Token(ACCESS_TOKENS[5], refresh_token=REFRESH_TOKENS[5]))


def _dead_endpoint() -> str:
    return f"http://127.0.0.1:{closed_port()}/token"


#: (method, path, status) of every request the flows above send, in order.
EXPECTED = [
    ("POST", "/token", "200"),
    ("POST", "/token", "200"),
    ("POST", "/token", "200"),
    ("POST", "/token", "200"),
    ("POST", "/revoke", "200"),
    ("POST", "/introspect", "200"),
    # The query (it holds the token) is left out; "?…" says there was one.
    ("GET", "/userinfo?…", "200"),
    ("POST", "/token", "400"),
    ("POST", "/token", "failed"),
]


def _run_flows(adapter: str, server: FaultServer) -> None:
    _script(server)
    meta = _metadata(server)
    if adapter == "async-httpx":

        async def go() -> None:
            async with AsyncHttpxTransport(timeout=5) as transport:
                await _async_flows(AsyncOAuth2Client(meta, APP, transport), server)

        asyncio.run(go())
        return
    transports = {
        "urllib3": Urllib3Transport,
        "requests": RequestsTransport,
        "httpx": HttpxTransport,
    }
    with transports[adapter](timeout=5) as transport:
        _sync_flows(OAuth2Client(meta, APP, transport), server)


_FORMAT = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")


def _texts(record: logging.LogRecord) -> list[str]:
    """Everything a handler could write from ``record``."""
    texts = [str(record.msg), repr(record.args), _FORMAT.format(record)]
    texts += [repr(v) for v in vars(record).values()]
    return texts


ADAPTERS = ["urllib3", "requests", "httpx", "async-httpx"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_one_debug_record_per_request(
    adapter: str, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _run_flows(adapter, server)
    ours = [r for r in caplog.records if r.name == "oauth2_transports"]
    assert all(r.levelno == logging.DEBUG for r in ours)
    seen = []
    for record in ours:
        match = RECORD.match(record.getMessage())
        assert match, record.getMessage()
        path = "/" + match["url"].rsplit("/", 1)[1] + (match["query"] or "")
        seen.append((match["method"], path, match["status"]))
    assert seen == EXPECTED
    assert len(server.requests) == len(EXPECTED) - 1  # the last one never connected


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_no_secret_in_any_log_record(
    adapter: str, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _run_flows(adapter, server)
    assert len(caplog.records) >= len(EXPECTED)
    leaks = {
        (record.name, sentinel)
        for record in caplog.records
        for text in _texts(record)
        for sentinel in SENTINELS
        if sentinel in text
    }
    # Known and outside our control: urllib3 (DEBUG) and httpx (INFO) log the full
    # request URL, so a token sent in the query (RFC 6750 §2.3, which warns about
    # exactly this) reaches their loggers. Our own records never carry it.
    third_party_query = {(name, s) for name, s in leaks if s == QUERY_TOKEN}
    assert not any(name.startswith("oauth2") for name, _ in third_party_query)
    assert leaks - third_party_query == set()
    # The sentinels did go over the wire: the absence above is not an accident.
    wire = b"".join(r.target.encode() + r.body + repr(r.headers).encode() for r in server.requests)
    for sentinel in (CLIENT_SECRET, PASSWORD, CODE, VERIFIER, QUERY_TOKEN, REFRESH_TOKENS[2]):
        assert (
            sentinel.encode() in wire or base64.b64encode(f"log-app:{sentinel}".encode()) in wire
        ), sentinel


def test_nothing_is_logged_at_info_level(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _run_flows("urllib3", server)
    assert [r for r in caplog.records if r.name.startswith("oauth2")] == []


_IMPORT_ALL = """
import importlib, json, logging
import oauth2_core, oauth2_transports
for name in ["oauth2_core.retry", "oauth2_core.flows", "oauth2_transports.httpx",
             "oauth2_transports.requests", "oauth2_transports.urllib3",
             "oauth2_transports.manager", "oauth2_transports.store", "oauth2_transports.compat",
             "oauth2_transports.client", "oauth2_transports.testing"]:
    importlib.import_module(name)
loggers = {n: l for n, l in logging.Logger.manager.loggerDict.items()
           if isinstance(l, logging.Logger) and n.startswith("oauth2")}
print(json.dumps({
    "handlers": {n: len(l.handlers) for n, l in loggers.items()},
    "levels": {n: l.level for n, l in loggers.items()},
    "propagate": {n: l.propagate for n, l in loggers.items()},
    "root": len(logging.getLogger().handlers),
}))
"""


def test_importing_the_packages_configures_no_logging() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-W", "error", "-c", _IMPORT_ALL],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    state = json.loads(result.stdout)
    assert "oauth2_transports" in state["handlers"]
    assert all(count == 0 for count in state["handlers"].values()), state["handlers"]
    assert all(level == logging.NOTSET for level in state["levels"].values()), state["levels"]
    assert all(state["propagate"].values())
    assert state["root"] == 0
