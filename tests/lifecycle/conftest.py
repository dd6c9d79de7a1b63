"""Fixtures for the token lifecycle tests: a loopback token server, a clock, a real Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import oauth2_core as oc
from oauth2_transports import OAuth2Client, Urllib3Transport

from ._token_server import FakeClock, TokenServer


@pytest.fixture
def server() -> Iterator[TokenServer]:
    with TokenServer() as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(server: TokenServer, clock: FakeClock | None = None) -> OAuth2Client:
    """A sync client of the loopback server; its transport stamps time with ``clock``."""
    transport = Urllib3Transport(clock=clock) if clock is not None else Urllib3Transport()
    return OAuth2Client(server.metadata, oc.Client("app", "s3cr3t"), transport=transport)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_redis(exe: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    import redis

    log = workdir / "redis.log"
    for _attempt in range(3):
        port = _free_port()
        argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        argv += ["no", "--dir", str(workdir), "--logfile", str(log)]
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        for _ in range(400):
            if proc.poll() is not None:
                break  # the port was taken meanwhile: try another
            try:
                if client.ping():
                    client.close()
                    return proc, port
            except redis.ConnectionError:
                time.sleep(0.025)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    pytest.fail(f"redis-server did not start: {text}", pytrace=False)


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real redis-server on 127.0.0.1 for this session, stopped by its pid at the end.

    Fails (never skips) when redis-server is missing: CI installs it (.ci/run).
    """
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(
            "redis-server is not installed; the Redis tests need a real server: "
            "apt-get install -y redis-server (.ci/run installs it)",
            pytrace=False,
        )
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.fail("redis-py is missing: pip install -e '.[dev]'", pytrace=False)
    proc, port = _start_redis(exe, tmp_path_factory.mktemp("redis"))
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
