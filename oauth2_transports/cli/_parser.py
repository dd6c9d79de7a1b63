"""The ``oauth2`` command's argument parser (argparse, stdlib only).

Options shared by several subcommands live in parent parsers; every subcommand
has ``--help`` and the exit codes in its epilog.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn, cast

from oauth2_transports.cli._mock_server import add_mock_server_arguments
from oauth2_transports.cli._options import ENDPOINT_FLAGS, Console

__all__ = ["build_parser"]

_EPILOG = """\
exit codes: 0 ok, 2 usage error (also: a missing extra, plain http refused),
3 the server refused (or answered nonsense), 4 network error, 5 the user did not
finish in time (--callback-timeout, device code expired), 1 anything else.
secrets come from --*-env VAR, --*-file PATH or --*-stdin, never the command line.
"""
_GRANTS = ("client_credentials", "password", "authorization_code", "device", "refresh")
_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def _version() -> str:
    try:
        return version("oauth2-core")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _server_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("server")
    group.add_argument("--issuer", metavar="URL", help="the issuer; its metadata is discovered")
    group.add_argument(
        "--openid", action="store_true", help="discover at /.well-known/openid-configuration only"
    )
    for name in ENDPOINT_FLAGS:
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            metavar="URL",
            help="skip discovery and use this endpoint",
        )
    group.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http to non-loopback hosts (never in production)",
    )
    group.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="network timeout"
    )
    return options


def _client_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("client")
    group.add_argument("--client-id", metavar="ID")
    group.add_argument("--client-secret-env", metavar="VAR", help="read the secret from $VAR")
    group.add_argument("--client-secret-file", metavar="PATH", help="read the secret from PATH")
    group.add_argument(
        "--client-secret-stdin", action="store_true", help="read the secret from stdin"
    )
    group.add_argument(
        "--client-secret", metavar="SECRET", help="discouraged: visible in the process list"
    )
    group.add_argument(
        "--auth-method",
        choices=_AUTH_METHODS,
        help="client authentication (default: client_secret_basic with a secret, else none)",
    )
    group.add_argument(
        "--basic-encoding",
        choices=("urlencoded", "raw"),
        default="urlencoded",
        help="how client_secret_basic encodes id and secret (RFC 6749 §2.3.1: urlencoded)",
    )
    return options


def _request_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("request")
    group.add_argument("--scope", help="space-separated scope values")
    group.add_argument(
        "--resource", action="append", metavar="URI", help="RFC 8707 resource (repeatable)"
    )
    group.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="extra parameter (repeatable)"
    )
    return options


def _token_input_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group(
        "token input (a raw token, or the JSON `oauth2 token` prints)"
    )
    group.add_argument("--token-env", metavar="VAR")
    group.add_argument("--token-file", metavar="PATH")
    group.add_argument("--token-stdin", action="store_true")
    return options


def build_parser(console: Console) -> argparse.ArgumentParser:
    """The argument parser; its help and errors go to ``console``."""

    class Parser(argparse.ArgumentParser):
        def _print_message(self, message: str, file: Any = None) -> None:
            if message:
                (console.stderr if file is sys.stderr else console.stdout).write(message)

        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            if message:
                console.stderr.write(message)
            raise SystemExit(status)

    parser = Parser(
        prog="oauth2",
        description="Get, inspect and revoke OAuth 2.0 tokens (oauth2-core).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"oauth2 {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server, client, request = _server_options(), _client_options(), _request_options()
    token_input = _token_input_options()

    def command(
        name: str, text: str, parents: list[argparse.ArgumentParser], formats: Sequence[str]
    ) -> argparse.ArgumentParser:
        cmd: argparse.ArgumentParser = sub.add_parser(
            name,
            help=text,
            description=text,
            parents=cast(Any, parents),
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.add_argument("--format", choices=formats, default="json", help="output format")
        return cmd

    discover = command(
        "discover",
        "fetch and print the server metadata (RFC 8414 / OIDC)",
        [],
        ("json", "env", "table"),
    )
    discover.add_argument("issuer", metavar="ISSUER")
    discover.add_argument("--openid", action="store_true", help="OpenID Connect well-known only")
    discover.add_argument("--insecure-http", action="store_true")
    discover.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")

    token = command(
        "token",
        "get a token",
        [server, client, request, token_input],
        ("json", "env", "header", "table"),
    )
    token.add_argument(
        "--grant", choices=_GRANTS, help="the grant to use (required without --resource-url)"
    )
    token.add_argument(
        "--resource-url",
        metavar="URL",
        help="start from this protected resource: RFC 9728 discovery, RFC 7591 registration "
        "(unless --client-id), the browser and a loopback redirect, resource= (RFC 8707)",
    )
    group = token.add_argument_group("password grant (legacy)")
    group.add_argument("--username")
    group.add_argument("--password-env", metavar="VAR")
    group.add_argument("--password-file", metavar="PATH")
    group.add_argument("--password-stdin", action="store_true")
    group = token.add_argument_group("authorization code grant (browser + loopback redirect)")
    group.add_argument("--no-browser", action="store_true", help="print the URL instead")
    group.add_argument("--port", type=int, default=0, help="loopback port (default: any free one)")
    group.add_argument("--redirect-path", default="/callback", metavar="PATH")
    group.add_argument("--callback-timeout", type=float, default=300.0, metavar="SECONDS")

    revoke = command(
        "revoke",
        "revoke a token (RFC 7009)",
        [server, client, token_input],
        ("json", "env", "table"),
    )
    introspect = command(
        "introspect",
        "ask the server about a token (RFC 7662)",
        [server, client, token_input],
        ("json", "env", "table"),
    )
    for cmd in (revoke, introspect):
        cmd.add_argument("--token-type-hint", choices=("access_token", "refresh_token"))
    command(
        "userinfo",
        "fetch the user's claims (OpenID Connect)",
        [server, token_input],
        ("json", "env", "table"),
    )
    sub.add_parser(
        "demo",
        help="run every flow against a built-in mock server, with a transcript",
        description="Start the mock authorization server (a test tool) on loopback and run "
        "every flow against it, printing what was sent and received (secrets masked).",
    )
    mock = sub.add_parser(
        "mock-server",
        help="serve the mock authorization server (a test tool) until Ctrl-C",
        description="Serve the mock authorization server (a test tool, not a production "
        "server) with discovery, JWKS, every grant, a login page and demo credentials, "
        "until SIGINT (Ctrl-C) or SIGTERM. Prints the issuer, clients and users.",
        epilog="exit codes: 0 stopped by SIGINT or SIGTERM, 2 bad option or address in use.",
    )
    add_mock_server_arguments(mock)
    return parser
