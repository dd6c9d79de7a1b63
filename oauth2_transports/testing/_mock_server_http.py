"""The mock server's HTTP plumbing: a threaded stdlib server that can be stopped cleanly.

Each connection runs in a daemon thread. :meth:`MockHTTPServer.close` stops the
accept loop, shuts down every open connection (idle keep-alive ones too) and
waits for the handler threads, so a test leaves no socket behind.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from oauth2_transports.testing._mock_model import Answer, RecordedRequest

__all__ = ["MockHTTPServer", "default_issuer", "parse_request"]

MAX_BODY = 1 << 20
MAX_DRAIN = 16 << 20
Responder = Callable[[BaseHTTPRequestHandler, bytes], "Answer | None"]


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_qsl(text, keep_blank_values=True, max_num_fields=1000))
    except ValueError:
        return ()


def parse_request(handler: BaseHTTPRequestHandler, body: bytes) -> RecordedRequest:
    """The request as the mock server records it."""
    target = urlsplit(handler.path)
    headers: dict[str, str] = {}
    for name, value in handler.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    query = _pairs(target.query)
    form: tuple[tuple[str, str], ...] = ()
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = _pairs(body.decode("utf-8", "replace"))
    return RecordedRequest(
        method=handler.command,
        path=target.path,
        query=dict(reversed(query)),  # first value wins
        headers=headers,
        form=dict(reversed(form)),
        form_pairs=form,
        body=body,
        query_pairs=query,
    )


def default_issuer(host: str, port: int) -> str:
    """``http://<host>:<port>``; a wildcard address announces loopback instead."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: MockHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as pooled clients expect
    timeout = 30  # idle keep-alive connections end by themselves

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a test tool does not write to stderr."""

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            # Read what was sent so the client sees the 413 rather than a reset connection.
            while length > 0 and length <= MAX_DRAIN:
                length -= len(self.rfile.read(min(length, 65536))) or length
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            body = None
        if body is None:
            self.send_error(413 if self.headers.get("Content-Length") else 400)
            self.close_connection = True
            return
        answer = self.server.responder(self, body)
        if answer is None:  # drop_next(): hang up without a word
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def do_PUT(self) -> None:
        """Answered 405 by the router."""
        self._serve()

    def do_DELETE(self) -> None:
        """Answered 405 by the router."""
        self._serve()


class MockHTTPServer(socketserver.TCPServer):
    """A loopback TCP server with one daemon thread per connection and a clean :meth:`close`."""

    allow_reuse_address = True
    request_queue_size = 128  # many clients connecting at once must not wait on SYN retries

    def __init__(self, responder: Responder, host: str = "127.0.0.1", port: int = 0) -> None:
        self.responder = responder
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._process, args=(request, client_address), daemon=True)
        with self._lock:
            self._connections[request] = thread
        thread.start()

    def _process(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: S110 - a client hanging up mid-answer is not our failure
            pass
        finally:
            with self._lock:
                self._connections.pop(request, None)
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silent: clients that hang up are normal in timeout tests."""

    def close(self) -> None:
        """Stop accepting, hang up every connection, wait for the handler threads."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.shutdown()
        with self._lock:
            connections = list(self._connections.items())
        for sock, _ in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in connections:
            thread.join(timeout=5)
        self.server_close()
