"""The interop fixture's own set-up: npm ci only when due, one line when node is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import oidc_server as _oidc

_REPO = Path(__file__).resolve().parents[2]


def _write_lock(path: Path, packages: dict[str, dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"lockfileVersion": 3, "packages": packages}), encoding="utf-8")


def test_npm_ci_is_due_exactly_when_node_modules_differs_from_the_lock(tmp_path: Path) -> None:
    lock = {
        "": {"name": "interop"},
        "node_modules/oidc-provider": {"version": "9.13.3"},
        "node_modules/fsevents": {"version": "2.3.3", "optional": True},  # macOS only
    }
    _write_lock(tmp_path / "package-lock.json", lock)
    assert not _oidc.dependencies_installed(tmp_path)  # no node_modules yet

    record = tmp_path / "node_modules" / ".package-lock.json"
    _write_lock(record, {"node_modules/oidc-provider": {"version": "9.13.3"}})
    assert _oidc.dependencies_installed(tmp_path)  # the other platform's package is no reason

    _write_lock(record, {"node_modules/oidc-provider": {"version": "9.13.2"}})
    assert not _oidc.dependencies_installed(tmp_path)  # a pull changed the lock

    _write_lock(
        record,
        {"node_modules/oidc-provider": {"version": "9.13.3"}, "node_modules/x": {"version": "1"}},
    )
    assert not _oidc.dependencies_installed(tmp_path)  # the lock dropped a package


def test_after_the_fixture_set_up_nothing_is_due(oidc_server: _oidc.OidcServer) -> None:
    """The fixture's npm ci leaves node_modules matching the lock: the next run installs nothing."""
    assert _oidc.dependencies_installed()


def test_without_node_one_test_says_so_and_the_others_do_not_run(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PATH"] = str(tmp_path)  # no node, no npm
    env["PYTHONPATH"] = str(_REPO)
    smoke = _REPO / "tests" / "interop" / "test_server_smoke.py"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(smoke), "-p", "no:cacheprovider", "-q"],
        cwd=_REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 1, out  # a failed run, not a skipped one
    assert out.count("ERROR at setup") == 1, out
    assert "Node.js 20+ (`node`) is not on PATH: install it" in out
    last = out.strip().splitlines()[-1]
    assert "1 error" in last and "deselected" in last and "passed" not in last, last
