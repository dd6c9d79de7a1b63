"""A plain ``pip install oauth2-core`` (no extras): the demo passes; a missing extra is named early.

Each test runs Python in a subprocess whose import system cannot see PyJWT,
``cryptography``, requests or httpx (a meta path finder that refuses them, as
if they were not installed), then runs the ``oauth2`` command or the client.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from oauth2_transports.testing import MockAuthorizationServer

ROOT = Path(__file__).resolve().parents[2]
HINT = "pip install 'oauth2-core[jwt]'"

# Installed before anything of ours is imported: `import jwt` then fails as on a plain install.
HIDE_EXTRAS = textwrap.dedent(
    """
    import sys

    class HideExtras:
        hidden = ("jwt", "cryptography", "requests", "httpx")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.hidden:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, HideExtras())
    """
)


def _python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", HIDE_EXTRAS + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _oauth2(*argv: str) -> subprocess.CompletedProcess[str]:
    return _python(
        """
        from oauth2_transports.cli import main
        raise SystemExit(main(sys.argv[1:]))
        """,
        *argv,
    )


def test_the_extras_are_really_hidden() -> None:
    done = _python(
        """
        import oauth2_core.jose as jose
        try:
            jose.require_jwt()
        except Exception as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert done.returncode == 0, done.stderr
    assert "UsageError" in done.stdout and HINT in done.stdout


def test_demo_passes_without_pyjwt_and_says_what_it_skipped() -> None:
    done = _oauth2("demo")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert summary == "demo: 14 steps passed, 0 failed, 1 skipped"
    assert "FAILED" not in done.stdout
    assert "- skipped: the scope has openid, and validating the ID token" in done.stdout
    assert HINT in done.stdout


def test_cli_code_flow_with_openid_refuses_before_the_browser(
    server: MockAuthorizationServer,
) -> None:
    done = _oauth2(
        "token",
        "--grant",
        "authorization_code",
        "--issuer",
        server.issuer,
        "--client-id",
        "cli",
        "--scope",
        "openid profile",
        "--no-browser",
        "--callback-timeout",
        "5",
    )
    assert done.returncode == 2, done.stderr
    assert HINT in done.stderr
    assert "Open this URL" not in done.stderr  # no browser, no URL: nothing was started
    assert done.stdout == ""
    # Only discovery reached the server: no authorization request, no PAR, no code spent.
    assert {r.path for r in server.requests} <= {
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    }


def test_client_refuses_openid_before_any_request(server: MockAuthorizationServer) -> None:
    done = _python(
        """
        import oauth2_core as oc
        from oauth2_transports import OAuth2Client
        issuer = sys.argv[1]
        c = OAuth2Client.discover(issuer, oc.Client("cli", redirect_uri="http://127.0.0.1/cb"))
        pending = oc.new_pending_authorization(c.client, scope="openid")
        for name, call in [
            ("url", lambda: c.authorization_url(pending)),
            ("par", lambda: c.authorization_url(pending, par=True)),
            ("exchange", lambda: c.exchange_code(
                pending, f"http://127.0.0.1/cb?code=x&state={pending.state}&iss={issuer}")),
        ]:
            try:
                call()
            except oc.UsageError as exc:
                print(name, "UsageError", exc)
        # Without openid, or with validation off, nothing needs PyJWT.
        print("plain", c.authorization_url(pending, scope="profile").startswith(issuer))
        off = OAuth2Client(c.server, c.client, validate_id_token=False)
        print("off", off.authorization_url(pending).startswith(issuer))
        """,
        server.issuer,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for name in ("url", "par", "exchange"):
        assert any(line.startswith(f"{name} UsageError") and HINT in line for line in lines), lines
    assert "plain True" in lines and "off True" in lines
    paths = [r.path for r in server.requests]
    assert "/par" not in paths and "/token" not in paths


def test_hmac_only_server_needs_no_pyjwt() -> None:
    done = _python(
        """
        import oauth2_core as oc
        server = oc.ServerMetadata(
            "https://as.example", id_token_signing_alg_values_supported=["HS256"]
        )
        oc.check_id_token_support(server, oc.Client("app", "s3cr3t"), scope="openid")
        try:
            oc.check_id_token_support(server, oc.Client("public"), scope="openid")
        except oc.UsageError:
            print("public refused")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "public refused"


def test_dpop_client_names_the_extra_when_built() -> None:
    done = _python(
        """
        import oauth2_core as oc
        from oauth2_transports import OAuth2Client
        server = oc.ServerMetadata("https://as.example", token_endpoint="https://as.example/t")
        key = {"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "d": "d"}
        try:
            OAuth2Client(server, oc.Client("app"), dpop_key=key)
        except oc.UsageError as exc:
            print("refused", exc)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused") and HINT in done.stdout
