"""A small stdlib socket server that misbehaves on purpose, for fault-injection tests.

It listens on 127.0.0.1 (a free port) in a thread, records every request, and
answers each one with the next scripted :class:`Fault` (or the default answer
when the script is empty). Raw sockets, not ``http.server``, because the faults
are below HTTP: a reset mid-body, a connection that never answers, a body cut
short. Every answer closes the connection (``Connection: close``).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections import deque
from types import TracebackType

import attrs

__all__ = ["Fault", "FaultServer", "Recorded", "closed_port", "token_json"]


def token_json(access_token: str = "at-good", **members: object) -> bytes:
    """A successful RFC 6749 §5.1 token response body."""
    body: dict[str, object] = {"access_token": access_token, "token_type": "Bearer"}
    body.update(members)
    return json.dumps(body).encode()


@attrs.frozen
class Fault:
    """What to do with one request.

    ``kind``: ``"answer"`` (send status, headers, body), ``"reset"`` (announce
    ``Content-Length: 1000``, send 10 bytes, then RST with ``SO_LINGER`` 0),
    ``"hang"`` (never answer), ``"truncated"`` (announce 100 bytes, send 10, close
    cleanly), ``"oversize"`` (a 5 MiB body).
    """

    kind: str = "answer"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    body: bytes = attrs.field(factory=token_json)

    @classmethod
    def ok(cls, access_token: str = "at-good", **members: object) -> Fault:
        return cls(body=token_json(access_token, **members))

    @classmethod
    def html(cls, status: int, *extra: tuple[str, str]) -> Fault:
        page = f"<html><body><h1>{status}</h1>Something went wrong.</body></html>".encode()
        return cls(status=status, headers=(("Content-Type", "text/html"), *extra), body=page)

    @classmethod
    def redirect(cls, status: int, location: str) -> Fault:
        return cls(status=status, headers=(("Location", location),), body=b"")

    @classmethod
    def error(cls, status: int, code: str, *extra: tuple[str, str]) -> Fault:
        body = json.dumps({"error": code}).encode()
        return cls(status=status, headers=(("Content-Type", "application/json"), *extra), body=body)


@attrs.frozen
class Recorded:
    """A request as it arrived."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name.lower()), None)


_REASONS = {200: "OK", 302: "Found", 307: "Temporary Redirect", 429: "Too Many Requests"}


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed: connecting is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class FaultServer:
    """A loopback server answering each request with the next scripted :class:`Fault`."""

    def __init__(self, default: Fault | None = None) -> None:
        self._default = default if default is not None else Fault.ok()
        self._script: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.requests: list[Recorded] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, name="FaultServer", daemon=True)
        self._acceptor.start()

    def url(self, path: str = "/token") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *faults: Fault) -> None:
        """Answer the next requests with ``faults``, in order."""
        with self._lock:
            self._script.extend(faults)

    def _next(self) -> Fault:
        with self._lock:
            return self._script.popleft() if self._script else self._default

    # -- serving ------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket) -> Recorded | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = tuple(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:])
        )
        length = int(next((v for n, v in headers if n == "content-length"), "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return Recorded(method, target, headers, body)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            request = self._read_request(conn)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            self._act(conn, self._next())
        except OSError:
            pass  # the client gave up first (after its body cap, say): fine
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    @staticmethod
    def _head(status: int, headers: tuple[tuple[str, str], ...], length: int) -> bytes:
        reason = _REASONS.get(status, "Status")
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{n}: {v}" for n, v in headers)]
        lines += [f"Content-Length: {length}", "Connection: close", "", ""]
        return "\r\n".join(lines).encode("latin-1")

    def _act(self, conn: socket.socket, fault: Fault) -> None:
        json_type = (("Content-Type", "application/json"),)
        if fault.kind == "answer":
            conn.sendall(self._head(fault.status, fault.headers, len(fault.body)) + fault.body)
        elif fault.kind == "reset":
            conn.sendall(self._head(200, json_type, 1000) + b'{"access_t')
            # SO_LINGER on with a zero timeout: close() sends RST, not FIN.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif fault.kind == "truncated":
            conn.sendall(self._head(200, json_type, 100) + b'{"access_t')
            conn.shutdown(socket.SHUT_WR)
        elif fault.kind == "hang":
            self._stopping.wait(30)
        elif fault.kind == "oversize":
            size = 5 * 1024 * 1024
            conn.sendall(self._head(200, json_type, size))
            piece = b" " * 65536
            for _ in range(size // len(piece)):
                conn.sendall(piece)
        else:  # pragma: no cover - a typo in a test
            raise AssertionError(f"unknown fault {fault.kind!r}")

    # -- life cycle ---------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._acceptor.join(timeout=5)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
