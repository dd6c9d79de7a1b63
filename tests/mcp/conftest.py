"""The ``mcp`` package's own server, with its own authorization server, on loopback.

``mcp_server`` (module scope) starts ``python mcp_server.py PORT`` in a
subprocess on 127.0.0.1, waits until its RFC 9728 metadata answers, and stops
that process (by its pid, through ``Popen``) afterwards. Skipped without the
``mcp`` package (a dev extra, Python 3.11+).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="the mcp package (dev extra, Python 3.11+) is not installed")

_SCRIPT = Path(__file__).resolve().parent / "mcp_server.py"


@dataclass(frozen=True)
class McpServer:
    """A running ``mcp`` server: streamable HTTP at :attr:`mcp_url`, issuer :attr:`base_url`."""

    base_url: str
    process: subprocess.Popen[bytes]

    @property
    def mcp_url(self) -> str:
        return self.base_url + "/mcp"

    def counts(self) -> dict[str, int]:
        """Registrations, authorizations and token requests the server's provider saw."""
        with urllib.request.urlopen(self.base_url + "/test/counts", timeout=5) as answer:
            data = json.loads(answer.read())
        return {k: data.get(k, 0) for k in ("registrations", "authorizations", "tokens")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the mcp server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the mcp server did not answer within 30 s")


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpServer]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(_SCRIPT), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + "/.well-known/oauth-protected-resource/mcp", process)
        yield McpServer(base, process)
    finally:
        process.terminate()  # SIGTERM to this pid only
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
