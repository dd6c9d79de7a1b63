"""The ``oauth2`` command, run in-process against the mock server (and once as a subprocess)."""

from __future__ import annotations

import io
import json
import re
import shlex
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from face_helpers import browser, call

from oauth2_transports.cli import main, system_browser
from oauth2_transports.testing import MockAuthorizationServer

ENV = {"APP_SECRET": "app-secret", "POST_SECRET": "post-secret", "ALICE_PASSWORD": "wonderland"}


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> dict[str, object]:
        data = json.loads(self.out)
        assert isinstance(data, dict)
        return data


def oauth2(*argv: str, stdin: str = "", **hooks: object) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(argv),
        stdout=out,
        stderr=err,
        stdin=io.StringIO(stdin),
        environ=ENV,
        **hooks,  # type: ignore[arg-type]
    )
    return Result(code, out.getvalue(), err.getvalue())


def _app(server: MockAuthorizationServer) -> list[str]:
    return ["--issuer", server.issuer, "--client-id", "app", "--client-secret-env", "APP_SECRET"]


def _token(server: MockAuthorizationServer, *extra: str) -> Result:
    return oauth2("token", "--grant", "client_credentials", *_app(server), *extra)


# -- help and usage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["discover"], ["token"], ["revoke"], ["introspect"], ["userinfo"], ["demo"]]
)
def test_help_everywhere(command: list[str]) -> None:
    result = oauth2(*command, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: oauth2")


def test_console_script_help() -> None:
    script = Path(sys.executable).with_name("oauth2")
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert "token" in done.stdout
    assert "exit codes" in done.stdout


def test_python_dash_m(server: MockAuthorizationServer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oauth2_transports", "discover", server.issuer, "--format", "env"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"OAUTH2_ISSUER={server.issuer}" in done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["token"],  # no --grant: argparse
        ["token", "--grant", "magic"],
        ["token", "--grant", "client_credentials", "--issuer", "http://127.0.0.1:1"],  # no id
        ["token", "--grant", "client_credentials", "--client-id", "app"],  # no issuer
        ["discover", "ftp://example.com"],
        ["token", "--grant", "password", "--client-id", "x", "--token-endpoint", "https://a/t"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    assert oauth2(*argv).code == 2


def test_missing_secret_variable_is_a_usage_error(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "client_credentials", "--issuer", server.issuer,
        "--client-id", "app", "--client-secret-env", "NOT_SET",
    )  # fmt: skip
    assert result.code == 2
    assert "NOT_SET" in result.err


def test_two_secret_sources_are_a_usage_error(server: MockAuthorizationServer) -> None:
    result = _token(server, "--client-secret-stdin")
    assert result.code == 2


# -- discovery and output formats -----------------------------------------------------------


def test_discover(server: MockAuthorizationServer) -> None:
    result = oauth2("discover", server.issuer)
    assert result.code == 0
    assert result.json()["token_endpoint"] == server.url("/token")
    table = oauth2("discover", server.issuer, "--format", "table")
    assert re.search(r"^issuer\s+http://127\.0\.0\.1", table.out, re.MULTILINE)


def test_token_formats(server: MockAuthorizationServer) -> None:
    as_json = _token(server, "--scope", "read write").json()
    assert as_json["token_type"] == "Bearer"
    assert as_json["scope"] == ["read", "write"]
    assert 3500 < as_json["expires_in"] <= 3600  # type: ignore[operator]
    env = _token(server, "--format", "env").out
    values = dict(line.split("=", 1) for line in env.splitlines())
    assert values["OAUTH2_TOKEN_TYPE"] == "Bearer"
    assert values["OAUTH2_ACCESS_TOKEN"].startswith("mock_at_")
    header = _token(server, "--format", "header").out
    assert re.fullmatch(r"Authorization: Bearer mock_at_\S+\n", header)
    table = _token(server, "--format", "table").out
    assert re.search(r"^token_type\s+Bearer$", table, re.MULTILINE)


def test_env_format_is_shell_safe(server: MockAuthorizationServer) -> None:
    env = _token(server, "--format", "env", "--scope", "read write").out
    assert "OAUTH2_SCOPE='read write'" in env
    assert shlex.split(env)  # parses as shell words


def test_client_secret_post_and_resource(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "client_credentials", "--issuer", server.issuer,
        "--client-id", "post-app", "--client-secret-env", "POST_SECRET",
        "--auth-method", "client_secret_post",
        "--resource", "urn:a", "--resource", "urn:b", "--param", "audience=api",
    )  # fmt: skip
    assert result.code == 0, result.err
    sent = server.requests[-1]
    assert sent.form_list("resource") == ["urn:a", "urn:b"]
    assert sent.form["audience"] == "api"


def test_secret_from_file_and_stdin(server: MockAuthorizationServer, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("app-secret\n")
    base = ["token", "--grant", "client_credentials", "--issuer", server.issuer]
    from_file = oauth2(*base, "--client-id", "app", "--client-secret-file", str(secret_file))
    assert from_file.code == 0, from_file.err
    from_stdin = oauth2(*base, "--client-id", "app", "--client-secret-stdin", stdin="app-secret\n")
    assert from_stdin.code == 0, from_stdin.err


def test_secret_on_the_command_line_warns(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "client_credentials", "--issuer", server.issuer,
        "--client-id", "app", "--client-secret", "app-secret",
    )  # fmt: skip
    assert result.code == 0
    assert "warning" in result.err
    assert "app-secret" not in result.err


def test_endpoints_without_discovery(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "client_credentials", "--client-id", "app",
        "--client-secret-env", "APP_SECRET", "--token-endpoint", server.url("/token"),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert [r.path for r in server.requests] == ["/token"]


# -- grants -------------------------------------------------------------------------------------


def test_password_grant_from_stdin(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "password", *_app(server), "--username", "alice",
        "--password-stdin", stdin="wonderland\n",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json()["refresh_token"]


def test_authorization_code_with_the_loopback_listener(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "authorization_code", "--issuer", server.issuer,
        "--client-id", "cli", "--scope", "openid profile",
        open_browser=browser(),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json()["id_token"]
    authorize = next(r for r in server.requests if r.path == "/authorize")
    assert authorize.query["code_challenge_method"] == "S256"
    redirect = urlsplit(authorize.query["redirect_uri"])
    assert (redirect.hostname, redirect.path) == ("127.0.0.1", "/callback")
    assert redirect.port not in (None, 0)
    # The last request is the JWKS fetch that validates the ID token.
    exchange = next(r for r in reversed(server.requests) if r.form.get("grant_type"))
    assert exchange.form["redirect_uri"] == authorize.query["redirect_uri"]
    assert exchange.form["code_verifier"]


class _FollowPrintedUrl(io.StringIO):
    """A terminal user: reads the URL the command prints and opens it in a browser."""

    def write(self, text: str) -> int:
        found = re.search(r"(http://\S+/authorize\?\S+)", text)
        if found:
            threading.Thread(target=browser(), args=(found.group(1),), daemon=True).start()
        return super().write(text)


def test_authorization_code_no_browser_prints_the_url(server: MockAuthorizationServer) -> None:
    out, err = io.StringIO(), _FollowPrintedUrl()
    code = main(
        ["token", "--grant", "authorization_code", "--issuer", server.issuer,
         "--client-id", "cli", "--no-browser", "--callback-timeout", "20"],
        stdout=out, stderr=err, environ=ENV,
    )  # fmt: skip
    assert code == 0, err.getvalue()
    assert "Open this URL" in err.getvalue()


def test_denied_authorization_exits_3(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "authorization_code", "--issuer", server.issuer,
        "--client-id", "cli", "--param", "login_hint=deny", open_browser=browser(),
    )  # fmt: skip
    assert result.code == 3
    assert "access_denied" in result.err


def test_device_flow(server: MockAuthorizationServer) -> None:
    calls: list[float] = []

    def sleep(seconds: float) -> None:  # approve after the first pending poll
        calls.append(seconds)
        if len(calls) == 2:
            server.approve_device(server.pending_user_codes()[0])

    result = oauth2(
        "token", "--grant", "device", "--issuer", server.issuer, "--client-id", "cli",
        "--scope", "read", sleep=sleep,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json()["scope"] == ["read"]
    assert "enter the code" in result.err
    assert server.url("/device") in result.err
    assert "Waiting for approval" in result.err
    assert [r.error for r in server.requests if r.path == "/token"] == [
        "authorization_pending",
        None,
    ]


def test_refresh_revoke_introspect_userinfo_chain(
    server: MockAuthorizationServer, tmp_path: Path
) -> None:
    first = oauth2(
        "token", "--grant", "password", *_app(server), "--username", "alice",
        "--password-env", "ALICE_PASSWORD", "--scope", "openid read",
    )  # fmt: skip
    saved = tmp_path / "token.json"
    saved.write_text(first.out)
    refreshed = oauth2("token", "--grant", "refresh", *_app(server), "--token-file", str(saved))
    assert refreshed.code == 0, refreshed.err
    assert refreshed.json()["refresh_token"] != first.json()["refresh_token"]
    saved.write_text(refreshed.out)

    claims = oauth2("userinfo", "--issuer", server.issuer, "--token-file", str(saved))
    assert claims.json()["sub"] == "alice"
    info = oauth2("introspect", *_app(server), "--token-file", str(saved), "--format", "env")
    assert "OAUTH2_ACTIVE=true" in info.out
    access = str(refreshed.json()["access_token"])
    revoked = oauth2("revoke", *_app(server), "--token-stdin", stdin=access + "\n")
    assert revoked.json() == {"revoked": True}
    after = oauth2("introspect", *_app(server), "--token-file", str(saved))
    assert after.json() == {"active": False}
    gone = oauth2("userinfo", "--issuer", server.issuer, "--token-file", str(saved))
    assert gone.code == 3
    assert "invalid_token" in gone.err


def test_revoke_a_refresh_token_by_hint(server: MockAuthorizationServer, tmp_path: Path) -> None:
    token = oauth2(
        "token", "--grant", "password", *_app(server), "--username", "alice",
        "--password-env", "ALICE_PASSWORD",
    )  # fmt: skip
    saved = tmp_path / "token.json"
    saved.write_text(token.out)
    revoked = oauth2(
        "revoke", *_app(server), "--token-file", str(saved), "--token-type-hint", "refresh_token"
    )
    assert revoked.code == 0
    assert server.requests[-1].form["token"] == token.json()["refresh_token"]
    assert (
        oauth2("token", "--grant", "refresh", *_app(server), "--token-file", str(saved)).code == 3
    )


def test_header_format_is_only_for_tokens(server: MockAuthorizationServer) -> None:
    result = oauth2("introspect", *_app(server), "--token-stdin", "--format", "header", stdin="x")
    assert result.code == 2


# -- failures and their exit codes ------------------------------------------------------------


def test_wrong_secret_exits_3_without_the_secret(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--grant", "client_credentials", "--issuer", server.issuer,
        "--client-id", "app", "--client-secret-stdin", stdin="hunter2-not-it\n",
    )  # fmt: skip
    assert result.code == 3
    assert "invalid_client" in result.err
    assert "hunter2" not in result.err + result.out


def test_retryable_refusal_says_so(server: MockAuthorizationServer) -> None:
    server.fail_next(status=503, retry_after=3, path="/token")
    result = _token(server)
    assert result.code == 3
    assert "retry after 3 s" in result.err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_network_error_exits_4() -> None:
    result = oauth2("discover", f"http://127.0.0.1:{_closed_port()}")
    assert result.code == 4
    assert result.err.startswith("oauth2: error:")


def test_dropped_connection_exits_4(server: MockAuthorizationServer) -> None:
    server.drop_next(path="/token")
    assert _token(server).code == 4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux display detection")
def test_no_display_means_print_the_url() -> None:
    assert system_browser({})("http://127.0.0.1:1/authorize") is False


def test_resource_url_runs_the_chain(server: MockAuthorizationServer) -> None:
    """``oauth2 token --resource-url``: RFC 9728, RFC 7591, PKCE + resource=, loopback redirect."""
    result = oauth2("token", "--resource-url", server.resource_url, open_browser=browser())
    assert result.code == 0, result.err
    token = result.json()["access_token"]
    paths = [r.path for r in server.requests]
    assert paths.count("/register") == 1 and paths.count("/authorize") == 1
    authorize = next(r for r in server.requests if r.path == "/authorize")
    assert authorize.query["resource"] == server.resource_url
    assert urlsplit(authorize.query["redirect_uri"]).hostname == "127.0.0.1"
    answer = call("GET", server.resource_url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200


def test_resource_url_with_a_pre_registered_client(server: MockAuthorizationServer) -> None:
    result = oauth2(
        "token", "--resource-url", server.resource_url, "--client-id", "cli",
        open_browser=browser(),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "/register" not in [r.path for r in server.requests]


def test_token_without_grant_or_resource_url_is_a_usage_error() -> None:
    result = oauth2("token", "--issuer", "https://as.example")
    assert result.code == 2
    assert "--grant" in result.err
