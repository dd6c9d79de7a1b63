"""Another library's blocks (requests-oauthlib, Authlib), run in a process of their own.

docs/migrating.md shows where a migration starts: the same task written with another
library, next to the oauth2-core version. Those blocks run too, against the same mock server,
but apart from the page's namespace (``token`` is a dict there and a ``Token`` here, as for a
reader of one tab) and apart from the test process: oauthlib refuses an ``http://`` token
endpoint unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set, and that variable is set only in the
environment of this worker process, never in the test's.

:class:`Peer` is the test's side: one worker per library and page, stopped by its pid. The
worker (``python doc_peer.py``) reads one JSON line of settings (the loopback URLs), then one
JSON line per block, runs it in its namespace and answers one JSON line. Names the blocks
leave open are filled the way :mod:`doc_reader` fills them: the registered client and secret,
the mock's endpoints, and ``request.url`` from really following the last authorization URL.
"""

from __future__ import annotations

import builtins
import http.client
import json
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Peer:
    """A worker process that runs one library's blocks of one page, in order."""

    def __init__(self, name: str, settings: dict[str, str], env: dict[str, str]) -> None:
        self.name = name
        self._proc = subprocess.Popen(
            [sys.executable, "-u", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._proc.stderr is not None
        self._stderr: list[str] = []
        self._drain = threading.Thread(
            target=self._stderr.extend, args=(self._proc.stderr,), daemon=True
        )
        self._drain.start()
        self._send(settings)

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def run(self, page: str, source: str, seeds: dict[str, str]) -> None:
        """Run one block; raise ``AssertionError`` with the worker's traceback if it failed."""
        self._send({"page": page, "source": source, "seeds": seeds})
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(timeout=10)
            output = "".join(self._stderr)[-2000:]
            code = self._proc.returncode
            raise AssertionError(f"the {self.name} worker exited {code}:\n{output}")
        answer = json.loads(line)
        if answer.get("error"):
            raise AssertionError(f"in the {self.name} worker:\n{answer['error']}")

    def close(self) -> None:
        """End the worker: end of input, then its pid is killed if it does not exit."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._drain.join(timeout=5)
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()


# -- the worker ---------------------------------------------------------------------------


@dataclass
class WebRequest:
    """The request a web framework hands to a view: the URL the browser came back to."""

    url: str
    session: dict[str, object] = field(default_factory=dict)

    @property
    def args(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}


class _Namespace(dict[str, Any]):
    def __init__(self, providers: dict[str, Callable[[_Namespace], object]]) -> None:
        super().__init__(__name__="docs:peer", __builtins__=builtins)
        self.providers = providers
        self.followed: set[str] = set()

    def __missing__(self, name: str) -> Any:
        provide = self.providers.get(name)
        if provide is None or hasattr(builtins, name):
            raise KeyError(name)
        value = provide(self)
        if name != "request":  # each callback is a new trip through the browser
            self[name] = value
        return value


def _follow(url: str) -> str:
    """The browser: GET the authorization URL, return where the server redirects."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1", url  # loopback only
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("GET", parts.path + "?" + parts.query)
        answer = connection.getresponse()
        answer.read()
        location = answer.getheader("Location")
    finally:
        connection.close()
    assert answer.status in (302, 303) and location, f"authorize answered {answer.status}"
    return location


def _providers(settings: dict[str, str]) -> dict[str, Callable[[_Namespace], object]]:
    def constant(value: object) -> Callable[[_Namespace], object]:
        return lambda _ns: value

    def request(ns: _Namespace) -> object:
        authorize = settings["authorization_endpoint"] + "?"
        for name in ("authorization_url", "uri", "url"):
            url = dict.get(ns, name)
            if isinstance(url, str) and url.startswith(authorize) and url not in ns.followed:
                ns.followed.add(url)
                return WebRequest(_follow(url), ns["session"])
        raise KeyError("request: the block produced no authorization URL to follow")

    saved: list[object] = []
    providers: dict[str, Callable[[_Namespace], object]] = {
        name: constant(value) for name, value in settings.items()
    }
    providers.update(
        request=request,
        session=lambda _ns: {},
        save=constant(saved.append),  # the application's token store
    )
    return providers


def main() -> None:
    """Run blocks sent on stdin, one JSON line each; answer each on stdout."""
    reply = sys.stdout
    sys.stdout = sys.stderr  # what a block prints must not mix with the answers
    settings = json.loads(sys.stdin.readline())
    ns = _Namespace(_providers(settings))
    for line in sys.stdin:
        block = json.loads(line)
        ns.update(block["seeds"])
        try:
            exec(compile(block["source"], block["page"], "exec"), ns)
            answer: dict[str, str] = {}
        except BaseException:
            answer = {"error": traceback.format_exc(limit=-8)}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


if __name__ == "__main__":
    main()
