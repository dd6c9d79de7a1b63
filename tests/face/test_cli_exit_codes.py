"""The ``oauth2`` command's rough edges: token JSON on stdin, its own flag in the
plain-http refusal, a documented exit code for a user who does not finish."""

from __future__ import annotations

import io
import json

import pytest

import oauth2_core as oc
from oauth2_transports.cli import EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE, main
from oauth2_transports.testing import MockAuthorizationServer

ENV = {"APP_SECRET": "app-secret"}


def oauth2(*argv: str, stdin: str = "", **hooks: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin), environ=ENV, **hooks)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def _app(server: MockAuthorizationServer) -> list[str]:
    return ["--issuer", server.issuer, "--client-id", "app", "--client-secret-env", "APP_SECRET"]


def test_token_stdin_reads_the_multiline_json_oauth2_token_prints(
    server: MockAuthorizationServer,
) -> None:
    code, printed, err = oauth2("token", "--grant", "client_credentials", *_app(server))
    assert code == EXIT_OK, err
    assert printed.count("\n") > 3  # the pretty-printed JSON, as a pipe would carry it
    code, out, err = oauth2("introspect", *_app(server), "--token-stdin", stdin=printed)
    assert code == EXIT_OK, err
    assert '"active": true' in out


def test_token_stdin_refresh_from_multiline_json(server: MockAuthorizationServer) -> None:
    token = server.issue_token("app", scope="read")
    printed = oc.Token.from_dict(token).to_dict()
    text = json.dumps(printed, indent=2)
    code, out, err = oauth2(
        "token", "--grant", "refresh", *_app(server), "--token-stdin", stdin=text
    )
    assert code == EXIT_OK, err
    assert json.loads(out)["access_token"] != token["access_token"]


def test_a_raw_token_on_stdin_still_works(server: MockAuthorizationServer) -> None:
    access = str(server.issue_token("app")["access_token"])
    code, out, _ = oauth2("introspect", *_app(server), "--token-stdin", stdin=access + "\n")
    assert code == EXIT_OK and '"active": true' in out


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "--grant", "client_credentials", "--token-endpoint", "http://as.example/token",
         "--client-id", "app", "--client-secret-env", "APP_SECRET"],
        ["token", "--grant", "client_credentials", "--issuer", "http://as.example",
         "--client-id", "app", "--client-secret-env", "APP_SECRET"],
        ["discover", "http://as.example"],
    ],
)  # fmt: skip
def test_plain_http_refusal_names_the_cli_flag(argv: list[str]) -> None:
    code, out, err = oauth2(*argv)
    assert code == EXIT_USAGE
    assert "--insecure-http" in err
    assert "allow_insecure_http" not in err and "Client(" not in err
    assert out == ""


def test_the_library_message_still_names_the_keyword() -> None:
    client = oc.Client("app", "s3cr3t")
    server = oc.ServerMetadata("https://as.example", token_endpoint="http://as.example/token")
    with pytest.raises(oc.InsecureHttpError) as caught:
        oc.client_credentials_grant_request(server, client)
    assert "Client(..., allow_insecure_http=True)" in str(caught.value)
    assert caught.value.what == "token_endpoint"
    assert isinstance(caught.value, oc.UsageError)


def test_callback_timeout_has_its_own_exit_code(server: MockAuthorizationServer) -> None:
    code, out, err = oauth2(
        "token", "--grant", "authorization_code", "--issuer", server.issuer,
        "--client-id", "cli", "--no-browser", "--callback-timeout", "0.3",
    )  # fmt: skip
    assert code == EXIT_TIMEOUT == 5
    assert "no authorization redirect arrived within 0.3 s" in err
    assert out == ""
    assert not [r for r in server.requests if r.path == "/token"]


def test_expired_device_code_exits_with_the_timeout_code(server: MockAuthorizationServer) -> None:
    code, _, err = oauth2(
        "token", "--grant", "device", "--issuer", server.issuer, "--client-id", "cli",
        sleep=lambda seconds: server.advance(10_000),  # nobody approves; the code expires
    )  # fmt: skip
    assert code == EXIT_TIMEOUT, err
    assert "expired_token" in err
