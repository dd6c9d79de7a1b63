"""The fuzz harnesses in the test suite: never silently skipped.

* Every harness runs under hypothesis (``st.binary()``, bounded by the
  profile's ``max_examples``) in every run, atheris or not.
* With atheris installed, the runner (``python -m tests.fuzz.run``) fuzzes every
  harness coverage-guided for about 20 seconds in all; without it, the same
  runner runs its hypothesis engine instead, so the command itself stays tested.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import oauth2_core as oc

from .harnesses import HARNESSES, Input

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (sys.executable, "-m", "tests.fuzz.run")
HAVE_ATHERIS = importlib.util.find_spec("atheris") is not None


@pytest.mark.parametrize("name", sorted(HARNESSES))
@given(data=st.binary(max_size=2048))
def test_harness_lets_only_oauth2_errors_escape(name: str, data: bytes) -> None:
    """Any bytes, through any harness, end in a value or an OAuth2Error (DESIGN §6)."""
    HARNESSES[name](data)


@given(data=st.binary(max_size=512), size=st.integers(min_value=0, max_value=300))
def test_input_reads_stay_in_range(data: bytes, size: int) -> None:
    """The decoder never fails, whatever the bytes, and picks within bounds."""
    inp = Input(data)
    assert 0 <= inp.below(size + 1) <= size
    assert len(inp.blob(size)) <= size
    inp.text()
    inp.rest()
    assert inp.byte() == 0  # past the end: zeros


def test_every_processor_of_the_core_has_a_harness() -> None:
    """A new ``process_*`` / ``parse_*`` function must come with a harness."""
    wanted = {
        name
        for name in oc.__all__
        if name.startswith(("process_", "parse_")) and name != "parse_bearer_challenge"
    }
    assert wanted <= set(HARNESSES)
    assert {"Token.from_dict", "ServerMetadata.from_dict", "PendingAuthorization.from_dict"} <= set(
        HARNESSES
    )


def test_runner_fuzzes_every_harness() -> None:
    """``python -m tests.fuzz.run``: atheris when installed, else its hypothesis engine."""
    engine = "atheris" if HAVE_ATHERIS else "hypothesis"
    seconds = "16" if HAVE_ATHERIS else "8"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [*RUNNER, "--seconds", seconds, "--engine", engine, "--jobs", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    summary = result.stdout.splitlines()
    for name in HARNESSES:
        line = next(line for line in summary if line.startswith(name + " "))
        assert line.split()[1] == engine
        assert line.endswith(" ok"), line
        assert int(line.split()[3]) > 0, line  # it executed inputs
    assert f"{len(HARNESSES)} harnesses, 0 crash(es)" in summary[-1]
