"""``oauth2 demo``: every flow against the mock server, a readable transcript, exit 0."""

from __future__ import annotations

import io

from oauth2_transports.cli import main
from oauth2_transports.cli._transcript import Printer


def test_demo_runs_every_step() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["demo"], stdout=out, stderr=err)
    transcript = out.getvalue()
    assert code == 0, transcript
    last = transcript.rstrip().splitlines()[-1]
    assert last == "demo: 15 steps passed, 0 failed"
    for part in (
        "Discovery",
        "PKCE",
        "Device authorization",
        "AuthorizationError",
        "invalid_client",
    ):
        assert part in transcript
    assert "…(redacted)" in transcript
    # The well-known demo secrets never show.
    for secret in ("app-secret", "post-secret", "wonderland"):
        assert secret not in transcript
    # Tokens show four characters at most: no whole mock token appears.
    assert "mock_at_" not in transcript
    assert "mock_rt_" not in transcript


def test_transcript_falls_back_to_ascii() -> None:
    class Ascii(io.StringIO):
        encoding = "ascii"

    out = Ascii()
    Printer(out).line("  ✓ → ← mock…(redacted) RFC 6749 §4.4 ✗")
    assert out.getvalue() == "  ok -> <- mock...(redacted) RFC 6749 ?4.4 XX\n"
