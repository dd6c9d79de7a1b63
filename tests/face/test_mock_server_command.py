"""``oauth2 mock-server``, the login page, and a mock server on a chosen port.

The round trip runs two real processes, as a user would: ``oauth2 mock-server``
and ``oauth2 token --grant authorization_code`` with its loopback listener; the
test is the browser (it reads the URL the command prints, signs in on the
login page and delivers the redirect to the listener).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from face_helpers import call

import oauth2_core as oc
from oauth2_transports.cli._mock_server import READY
from oauth2_transports.client import OAuth2Client
from oauth2_transports.testing import MockAuthorizationServer

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oauth2_process(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "oauth2_transports", *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def read_until(stream: object, pattern: str) -> tuple[str, re.Match[str]]:
    """Lines from a child's pipe until one matches (the child's own timeout ends a hang)."""
    seen = ""
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        seen += line
        found = re.search(pattern, line)
        if found:
            return seen, found
    raise AssertionError(f"{pattern!r} never came; got:\n{seen}")


@pytest.fixture
def mock_server_process() -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    port = free_port()
    proc = oauth2_process("mock-server", "--port", str(port))
    try:
        banner, _ = read_until(proc.stdout, re.escape(READY))
        yield proc, port, banner
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def sign_in(url: str, *, username: str, password: str, action: str = "approve") -> str:
    """What a person does in the browser: open the page, fill the form, click. The Location."""
    page = call("GET", url)
    assert page.status == 200, page.status
    text = page.data.decode()
    assert "Sign in" in text and "Approve" in text and "Deny" in text
    login = re.search(r"name='mock_login' value='([^']+)'", text)
    assert login is not None
    answer = call(
        "POST",
        url.split("?")[0],
        form={"mock_login": login.group(1), "username": username, "password": password,
              "action": action},
    )  # fmt: skip
    assert answer.status == 302, (answer.status, answer.data[:300])
    return str(answer.headers["Location"])


def test_mock_server_command_serves_the_cli_code_flow_until_ctrl_c(
    mock_server_process: tuple[subprocess.Popen[str], int, str],
) -> None:
    server, port, banner = mock_server_process
    issuer = f"http://127.0.0.1:{port}"
    assert f"issuer     {issuer}" in banner
    assert "app-secret" in banner and "alice     password wonderland" in banner
    assert "published demo credentials" in banner

    cli = oauth2_process(
        "token", "--grant", "authorization_code", "--issuer", issuer, "--client-id", "cli",
        "--scope", "openid profile", "--no-browser", "--callback-timeout", "60",
    )  # fmt: skip
    try:
        _, found = read_until(cli.stderr, r"^\s+(http://127\.0\.0\.1:\d+/authorize\?\S+)$")
        url = found.group(1)
        assert parse_qs(urlsplit(url).query)["client_id"] == ["cli"]
        location = sign_in(url, username="alice", password="wonderland")
        assert location.startswith("http://127.0.0.1:") and "/callback?code=" in location
        delivered = call("GET", location)  # the browser follows the redirect to the CLI
        assert delivered.status == 200
        out, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    assert cli.returncode == 0, err
    token = json.loads(out)
    assert token["scope"] == ["openid", "profile"]
    assert token["id_token"]  # validated by the command (signature, nonce, at_hash)

    userinfo = subprocess.run(
        [sys.executable, "-m", "oauth2_transports", "userinfo", "--issuer", issuer,
         "--token-stdin"],
        input=out, capture_output=True, text=True, env=ENV, timeout=60, check=False,
    )  # fmt: skip
    assert userinfo.returncode == 0, userinfo.stderr
    assert json.loads(userinfo.stdout)["sub"] == "alice"

    server.send_signal(signal.SIGINT)
    rest, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "oauth2 mock-server: stopped" in rest


def test_mock_server_command_stops_on_sigterm(
    mock_server_process: tuple[subprocess.Popen[str], int, str],
) -> None:
    server, port, _ = mock_server_process
    meta = call("GET", f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server")
    assert json.loads(meta.data)["issuer"] == f"http://127.0.0.1:{port}"
    server.send_signal(signal.SIGTERM)
    rest, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "stopped" in rest


def test_mock_server_command_stops_on_ctrl_c_when_started_in_the_background() -> None:
    """A shell starts `oauth2 mock-server &` with SIGINT ignored; kill -INT still stops it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "oauth2_transports", "mock-server", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `cmd &` does
    )
    try:
        read_until(server.stdout, re.escape(READY))
        server.send_signal(signal.SIGINT)
        rest, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0
    assert "stopped" in rest


def post_json(url: str, body: bytes) -> urllib3.BaseHTTPResponse:
    return urllib3.request("POST", url, body=body, headers={"Content-Type": "application/json"})


def test_mock_server_command_takes_scripted_faults_over_http(
    mock_server_process: tuple[subprocess.Popen[str], int, str],
) -> None:
    """A test suite in another process scripts faults: POST /_mock/faults (issue 14 item 2)."""
    _, port, banner = mock_server_process
    base = f"http://127.0.0.1:{port}"
    assert f"POST {base}/_mock/faults" in banner
    fault = {"fault": "fail_next", "status": 503, "retry_after": 7, "path": "/token"}
    assert post_json(f"{base}/_mock/faults", json.dumps(fault).encode()).status == 204
    client = OAuth2Client.discover(base, oc.Client("app", "app-secret"))
    with pytest.raises(oc.EndpointError) as info:
        client.client_credentials(scope="read")
    assert info.value.status == 503 and info.value.retry_after == 7
    assert client.client_credentials(scope="read").access_token  # one request only
    body = json.dumps({"fault": "drop_next", "n": 5}).encode()
    assert post_json(f"{base}/_mock/faults", body).status == 204
    assert post_json(f"{base}/_mock/faults", b'{"fault": "clear"}').status == 204
    assert client.client_credentials(scope="read").access_token  # cleared
    refused = post_json(f"{base}/_mock/faults", b'{"fault": "fail_next", "bogus": 1}')
    assert refused.status == 400 and b"bogus" in refused.data
    assert post_json(f"{base}/_mock/faults", b'{"fault": "rm -rf"}').status == 400
    assert call("GET", f"{base}/_mock/faults").status == 405


def test_the_control_endpoint_is_off_unless_asked_for() -> None:
    with MockAuthorizationServer() as server:
        answer = post_json(server.url("/_mock/faults"), b'{"fault": "clear"}')
        assert answer.status == 404
    with MockAuthorizationServer(control=True) as server:
        assert post_json(server.url("/_mock/faults"), b'{"fault": "deny_next"}').status == 204
        assert server.requests == []  # control requests are not recorded


def test_mock_server_command_refuses_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "oauth2_transports", "mock-server", "--port", str(port)],
            capture_output=True, text=True, env=ENV, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


# -- the login page, in process -------------------------------------------------------


@pytest.fixture
def login_server() -> Iterator[MockAuthorizationServer]:
    with MockAuthorizationServer(login_page=True) as server:
        yield server


def _authorization(server: MockAuthorizationServer, **params: object) -> tuple[str, object]:
    client = oc.Client("cli", redirect_uri="http://127.0.0.1:8765/callback")
    pending = oc.new_pending_authorization(client, scope="profile")
    return oc.authorization_url(server.server_metadata(), client, pending, **params), pending


def test_login_page_wrong_password_then_right(login_server: MockAuthorizationServer) -> None:
    url, _ = _authorization(login_server)
    page = call("GET", url).data.decode()
    login = re.search(r"name='mock_login' value='([^']+)'", page)
    assert login is not None
    endpoint = login_server.url("/authorize")
    form = {"mock_login": login.group(1), "username": "alice", "action": "approve"}
    wrong = call("POST", endpoint, form={**form, "password": "not-it"})
    assert wrong.status == 401 and b"Wrong user name or password" in wrong.data
    right = call("POST", endpoint, form={**form, "password": "wonderland"})
    assert right.status == 302 and "code=" in right.headers["Location"]
    again = call("POST", endpoint, form={**form, "password": "wonderland"})
    assert again.status == 400  # single use: no second code from a reload


def test_login_page_deny_and_prompt_none(login_server: MockAuthorizationServer) -> None:
    url, _ = _authorization(login_server)
    location = sign_in(url, username="bob", password="builder", action="deny")
    assert "error=access_denied" in location
    url, _ = _authorization(login_server, prompt="none")
    silent = call("GET", url)
    assert silent.status == 302 and "error=login_required" in silent.headers["Location"]


def test_login_page_code_is_for_the_user_who_signed_in(
    login_server: MockAuthorizationServer,
) -> None:
    client = oc.Client("cli", redirect_uri="http://127.0.0.1:8765/callback")
    c = OAuth2Client(login_server.server_metadata(), client)
    pending = oc.new_pending_authorization(client, scope="profile")
    location = sign_in(c.authorization_url(pending), username="bob", password="builder")
    token = c.exchange_code(pending, location)
    assert c.userinfo(token).sub == "bob"


# -- a chosen port, issuer and the fixture marker ------------------------------------


def test_python_api_takes_a_port_and_reuses_it() -> None:
    port = free_port()
    for _ in range(2):  # stopped and started again on the same port at once
        with MockAuthorizationServer(port=port) as server:
            assert server.issuer == f"http://127.0.0.1:{port}" and server.port == port
            c = OAuth2Client(server.server_metadata(), server.client("app"))
            assert c.client_credentials(scope="read").access_token


def test_issuer_with_a_path_serves_under_it() -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/realm"
    with MockAuthorizationServer(port=port, issuer=issuer) as server:
        assert server.issuer == issuer
        c = OAuth2Client.discover(issuer, server.client("app"))  # RFC 8414 §3.1 well-known
        assert c.server.token_endpoint == issuer + "/token"
        assert c.client_credentials().access_token
        oidc = call("GET", issuer + "/.well-known/openid-configuration")
        assert json.loads(oidc.data)["issuer"] == issuer
        assert call("GET", f"http://127.0.0.1:{port}/token").status == 404


MARKED_PORT = free_port()


@pytest.mark.mock_authorization_server(port=MARKED_PORT, login_page=True)
def test_fixture_takes_its_options_from_the_marker(
    mock_authorization_server: MockAuthorizationServer,
) -> None:
    assert mock_authorization_server.port == MARKED_PORT
    url, _ = _authorization(mock_authorization_server)
    assert call("GET", url).status == 200  # the login page, not an immediate redirect
