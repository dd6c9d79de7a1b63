"""The shell side of the pages: which lines set up an environment, and background commands.

A ``console`` block's commands run with bash through :meth:`doc_reader.Reader.run_shell`; the
lines matched here are treated apart.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from dataclasses import dataclass

from oauth2_transports.cli._mock_server import READY

SETUP_COMMAND = re.compile(
    r"^(pip3? |python3? -m (venv|pip) |\. \.venv/|npm |\(cd tests/interop && npm ci\)|"
    r"(HYPOTHESIS_PROFILE=\w+ )?python -m pytest\b|(PYTHON=\S+ )?(\./dev|python3? dev) )"
)
"""Shell lines that set up an environment (install, create a venv, run the test suite):
counted and reported, not run by the docs test."""

BACKGROUND_MOCK = re.compile(r"^(?P<command>oauth2 mock-server\b.*?)\s*&$")
"""The one background command the pages may show: a mock server for the commands after it."""


@dataclass(frozen=True)
class Shell:
    """What one command line did."""

    command: str
    returncode: int
    stdout: str
    stderr: str


class Background:
    """A command the page starts in the background, with its output read as it comes."""

    def __init__(self, command: str, proc: subprocess.Popen[str]) -> None:
        self.command = command
        self.proc = proc
        self.output: list[str] = []
        self.ready = threading.Event()
        self._reading = threading.Thread(target=self._read, daemon=True)
        self._reading.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            if READY in line:
                self.ready.set()

    def stop(self) -> int:
        """SIGINT to the pid (Ctrl-C), then SIGKILL if it has not exited in 30 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reading.join(timeout=10)
        return code
