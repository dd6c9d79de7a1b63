"""The ``oauth2`` command under attack (issue 12 items 11, 12 and 14).

- The loopback redirect listener answers only the redirect that carries the
  login's ``state``; anything else a local process or web page sends it gets an
  error page and the login keeps waiting.
- ``--format env`` output, evaluated by a real ``sh``, cannot run code or set a
  variable the server names (``PATH``, ``LD_PRELOAD``).
- Server strings reach the terminal with control and bidi characters escaped.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from face_helpers import call, follow_authorization

from oauth2_transports.cli import EXIT_OK, EXIT_REFUSED, main
from oauth2_transports.testing import MockAuthorizationServer, MockClient, MockUser

# Everything a terminal acts on: C0 but newline, DEL, C1, bidi controls, line separators.
TERMINAL_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def run(*argv: str, stdin: str = "", **hooks: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(argv),
        stdout=out,
        stderr=err,
        stdin=io.StringIO(stdin),
        environ={"APP_SECRET": "app-secret"},
        **hooks,  # type: ignore[arg-type]
    )
    return code, out.getvalue(), err.getvalue()


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    params.update(changes)
    return urlunsplit(parts._replace(query=urlencode(params)))


# -- item 11: the redirect listener --------------------------------------------------------


def test_listener_refuses_a_wrong_state_and_waits_for_the_real_redirect(
    server: MockAuthorizationServer,
) -> None:
    seen: dict[str, object] = {}

    def browser(url: str) -> bool:
        location = follow_authorization(url)
        base = location.split("?", 1)[0]
        root = base.rsplit("/", 1)[0]
        # A page or process that found the port, before the real redirect arrives:
        forged = _with_query(location, state="guessed", code="<script>alert(1)</script>")
        seen["forged"] = call("GET", forged)
        seen["no_state"] = call("GET", base + "?code=x&error=access_denied")
        seen["two_states"] = call("GET", location + "&state=other")
        seen["favicon"] = call("GET", root + "/favicon.ico")
        seen["real"] = call("GET", location)
        return True

    code, out, err = run(
        "token", "--grant", "authorization_code", "--issuer", server.issuer,
        "--client-id", "cli", "--callback-timeout", "30", open_browser=browser,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert json.loads(out)["token_type"] == "Bearer"
    for name in ("forged", "no_state", "two_states"):
        answer = seen[name]
        assert 400 <= answer.status < 500, name  # type: ignore[attr-defined]
        page = answer.data.decode()  # type: ignore[attr-defined]
        assert "complete" not in page.lower() and "<script>" not in page, name
        assert answer.headers["Cache-Control"] == "no-store"  # type: ignore[attr-defined]
    assert seen["favicon"].status == 404  # type: ignore[attr-defined]
    real = seen["real"]
    assert real.status == 200 and "Authorization complete" in real.data.decode()  # type: ignore[attr-defined]
    assert real.headers["Cache-Control"] == "no-store"  # type: ignore[attr-defined]


def test_an_error_redirect_with_the_right_state_ends_the_login(
    server: MockAuthorizationServer,
) -> None:
    def browser(url: str) -> bool:
        location = follow_authorization(url)
        # A forged refusal first (wrong state): ignored, the login goes on.
        forged = _with_query(location, state="guessed", error="access_denied")
        assert call("GET", forged).status == 400
        state = dict(parse_qsl(urlsplit(location).query))["state"]
        refusal = (
            location.split("?", 1)[0]
            + "?"
            + urlencode({"error": "access_denied", "state": state, "iss": server.issuer})
        )
        answer = call("GET", refusal)
        assert answer.status == 200 and "Authorization failed" in answer.data.decode()
        return True

    code, _, err = run(
        "token", "--grant", "authorization_code", "--issuer", server.issuer,
        "--client-id", "cli", "--callback-timeout", "30", open_browser=browser,
    )  # fmt: skip
    assert code == EXIT_REFUSED
    assert "access_denied" in err


# -- item 12: --format env under eval --------------------------------------------------------

HOSTILE_CLAIMS = {
    "PATH": "/tmp/evil",
    "LD_PRELOAD": "/tmp/evil.so",
    "PROMPT_COMMAND": "touch pwned0",
    "$(touch pwned1)": "x",
    "a`touch pwned2`b": "x",
    "x;touch pwned3;y": "x",
    "new\nline": "x",
    "é": "x",
    "name": "$(touch pwned4)",
    "nick": "`touch pwned5`",
    "quote": "'; touch pwned6; '",
    "multi": "one\ntouch pwned7",
    "semi": "a; touch pwned8 #",
}


@pytest.fixture
def hostile() -> MockAuthorizationServer:
    users = (MockUser("mallory", "pw", HOSTILE_CLAIMS),)
    clients = (MockClient("app", "app-secret"),)
    with MockAuthorizationServer(users=users, clients=clients) as running:
        yield running  # type: ignore[misc]


def test_env_output_evaluated_by_sh_runs_nothing_and_sets_only_oauth2_names(
    hostile: MockAuthorizationServer, tmp_path: Path
) -> None:
    access = str(hostile.issue_token("app", user="mallory")["access_token"])
    code, out, err = run(
        "userinfo", "--issuer", hostile.issuer, "--token-stdin", "--format", "env",
        stdin=access + "\n",
    )  # fmt: skip
    assert code == EXIT_OK, err
    for line in out.splitlines():
        assert re.fullmatch(r"OAUTH2_[A-Z0-9_]+=.*", line), line
    sh = shutil.which("sh")
    assert sh is not None
    # set -a: every variable the output sets is exported, so env shows it.
    script = 'set -a; eval "$OAUTH2_TEST_OUTPUT"; set +a; unset OAUTH2_TEST_OUTPUT; env -0'
    environ = {"PATH": os.environ["PATH"], "OAUTH2_TEST_OUTPUT": out}
    done = subprocess.run(
        [sh, "-c", script], cwd=tmp_path, env=environ, capture_output=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []  # no pwned* file: nothing ran
    variables = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    assert variables["PATH"] == os.environ["PATH"]
    assert "LD_PRELOAD" not in variables and "PROMPT_COMMAND" not in variables
    added = {name for name in variables if name.startswith("OAUTH2_")}
    assert {"OAUTH2_PATH", "OAUTH2_LD_PRELOAD", "OAUTH2_SUB", "OAUTH2_NAME"} <= added
    assert variables["OAUTH2_NAME"] == "$(touch pwned4)"  # kept as text, quoted
    assert variables["OAUTH2_QUOTE"] == "'; touch pwned6; '"
    assert variables["OAUTH2_MULTI"] == "one\\ntouch pwned7"  # escaped, one line


# -- item 14: terminal escape sequences --------------------------------------------------------

OSC8 = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
NASTY = f"a{OSC8}\x1b[2J\r\x08\x7f\x9b\u202e\u2066b"


def _assert_terminal_safe(text: str) -> None:
    assert not TERMINAL_CONTROL.search(text), repr(text)


def test_device_strings_and_error_description_are_escaped(
    server: MockAuthorizationServer,
) -> None:
    device = {
        "device_code": "dc-123456",
        "user_code": f"AB{NASTY}",
        "verification_uri": f"https://as.example/device{NASTY}",
        "verification_uri_complete": f"https://as.example/device?c={NASTY}",
        "expires_in": 600,
        "interval": 1,
    }
    server.fail_next(
        path="/device_authorization",
        status=200,
        body=json.dumps(device),
        content_type="application/json",
    )
    server.fail_next(path="/token", status=400, error="access_denied", error_description=NASTY)
    code, out, err = run(
        "token", "--grant", "device", "--issuer", server.issuer, "--client-id", "cli",
        sleep=lambda seconds: None,
    )  # fmt: skip
    assert code == EXIT_REFUSED, err
    _assert_terminal_safe(out + err)
    assert "\\x1b]8;;https://evil.example\\x07" in err  # shown, not dropped
    assert "\\u202e" in err and "AB" in err


@pytest.mark.parametrize("fmt", ["table", "header", "env", "json"])
def test_token_values_are_escaped_in_every_format(
    server: MockAuthorizationServer, fmt: str
) -> None:
    token = {"access_token": f"at{NASTY}", "token_type": "Bearer", f"x{NASTY}": f"v{NASTY}"}
    server.fail_next(
        path="/token", status=200, body=json.dumps(token), content_type="application/json"
    )
    code, out, err = run(
        "token", "--grant", "client_credentials", "--issuer", server.issuer,
        "--client-id", "app", "--client-secret-env", "APP_SECRET", "--format", fmt,
    )  # fmt: skip
    assert code == EXIT_OK, err
    _assert_terminal_safe(out + err)
    if fmt == "json":
        assert json.loads(out)["access_token"] == f"at{NASTY}"  # JSON escapes, data intact
    else:
        assert "\\x1b" in out


@pytest.mark.parametrize("fmt", ["table", "env", "json"])
def test_claims_are_escaped(fmt: str) -> None:
    users = (MockUser("eve", "pw", {f"nick{NASTY}": f"Eve{NASTY}"}),)
    with MockAuthorizationServer(users=users) as running:
        access = str(running.issue_token("app", user="eve")["access_token"])
        code, out, err = run(
            "userinfo", "--issuer", running.issuer, "--token-stdin", "--format", fmt,
            stdin=access + "\n",
        )  # fmt: skip
    assert code == EXIT_OK, err
    _assert_terminal_safe(out)
    assert ("\\u001b" if fmt == "json" else "\\x1b") in out
