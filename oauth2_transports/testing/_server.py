"""A loopback HTTP server for the transport contract suite (stdlib only).

It listens on 127.0.0.1, on a free port, in a background thread, records every
request it receives, and answers by path:

================================  ===============================================
``/echo...``                      200, the request as JSON (method, target,
                                  headers, base64 body); any path below it
``/empty``, ``/no-content``       200 with an empty body; 204
``/status/<code>``                that status, a small JSON body
``/redirect/<code>``              that 3xx status, ``Location: /redirect-target``
``/redirect-target``              200 (a transport that follows redirects hits it)
``/repeated``                     401, ``WWW-Authenticate`` and ``Set-Cookie`` twice
``/bytes/<n>[?status=<code>]``    ``payload(n)`` with a Content-Length (and a Location)
``/chunked/<n>``                  ``payload(n)``, chunked transfer coding
``/gzip/<n>``                     ``payload(n)``, gzip content coding
``/deflate/<n>``                  ``payload(n)``, deflate content coding (zlib)
``/raw-deflate/<n>``              ``payload(n)``, deflate as some servers send it (raw)
``/gzip-zeros/<n>``               ``n`` zero bytes, gzip content coding (a "bomb")
``/coded/<codings>/<n>``          ``payload(n)`` with those content codings applied
                                  in order (``gzip,deflate``; ``raw-deflate``)
``/coded-zeros/<codings>/<n>``    ``n`` (a multiple of 1 MiB) zero bytes, coded so
                                  (``gzip,gzip``: a few KB for a GiB, a "bomb")
``/labelled/<coding>``            a few bytes labelled with that content coding
``/drip-head``, ``/drip-body``    the head, or the body, one byte every 0.5 s
``/bad-gzip``                     ``Content-Encoding: gzip`` on bytes that are not
``/sleep``                        waits until the server stops (or 10 s), then 200
``/truncated``                    announces 100 bytes, sends 10, closes
``/malformed``                    a status line that is not HTTP
================================  ===============================================
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import ssl
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs

import attrs

__all__ = ["LoopbackServer", "RecordedRequest", "payload"]

_PIECE = 65_536


def payload(size: int) -> bytes:
    """``size`` bytes cycling through every byte value (binary-safe, compressible)."""
    cycle = bytes(range(256))
    return (cycle * (size // 256 + 1))[:size]


@functools.lru_cache(maxsize=4)
def gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (about a thousandth of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(min(size, _PIECE))
    out = [
        compressor.compress(block[: min(_PIECE, size - done)]) for done in range(0, size, _PIECE)
    ]
    return b"".join(out) + compressor.flush()


def _code(data: bytes, coding: str) -> bytes:
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(coding, -zlib.MAX_WBITS)
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


@functools.lru_cache(maxsize=8)
def coded_zeros(size: int, codings: str) -> bytes:
    """``size`` zero bytes (a multiple of 1 MiB) with the content ``codings`` applied.

    The first coding is built from one compressed MiB repeated (each piece ends
    in a full flush, so the pieces stand alone): a GiB costs a CRC, not a deflate.
    """
    first, *rest = codings.split(",")
    mib = 1 << 20
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = raw.compress(bytes(mib)) + raw.flush(zlib.Z_FULL_FLUSH)
    stream = piece * (size // mib) + b"\x03\x00"  # then an empty final block
    crc = 0
    for _ in range(size // mib):
        crc = zlib.crc32(bytes(mib), crc)
    if first == "gzip":
        trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
        body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream + trailer
    else:  # zlib-wrapped deflate: header, stream, Adler-32
        adler = 1
        for _ in range(size // mib):
            adler = zlib.adler32(bytes(mib), adler)
        body = b"\x78\xda" + stream + adler.to_bytes(4, "big")
    for coding in rest:
        body = _code(body, coding)
    return body


@attrs.frozen
class RecordedRequest:
    """A request as it arrived: method, request-target, header fields, body bytes."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def path(self) -> str:
        """The request-target without its query."""
        return self.target.partition("?")[0]

    def header_values(self, name: str) -> list[str]:
        """Every value received for the field ``name`` (case-insensitive)."""
        return [v for n, v in self.headers if n == name.lower()]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    recorded: list[RecordedRequest]
    lock: threading.Lock
    released: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hang up on purpose (body cap, timeouts): nothing to report.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        recorded = RecordedRequest(
            method=self.command,
            target=self.path,
            headers=tuple((n.lower(), v) for n, v in self.headers.items()),
            body=self._read_body(),
        )
        with self.server.lock:
            self.server.recorded.append(recorded)
        try:
            self._route(recorded)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # http.server dispatches on these names.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    def _answer(
        self, status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            for start in range(0, len(body), _PIECE):
                self.wfile.write(body[start : start + _PIECE])

    def _route(self, req: RecordedRequest) -> None:
        first, _, rest = req.path.lstrip("/").partition("/")
        json_type = (("Content-Type", "application/json"),)
        if first == "echo":
            echo = {
                "method": req.method,
                "target": req.target,
                "headers": [list(field) for field in req.headers],
                "body": base64.b64encode(req.body).decode("ascii"),
            }
            self._answer(200, json.dumps(echo).encode(), json_type)
        elif first == "empty":
            self._answer(200)
        elif first == "no-content":
            self._answer(204)
        elif first == "status":
            self._answer(int(rest), json.dumps({"status": int(rest)}).encode(), json_type)
        elif first == "redirect":
            self._answer(int(rest), b"moved", (("Location", "/redirect-target"),))
        elif first == "redirect-target":
            self._answer(200, b"followed")
        elif first == "repeated":
            self._answer(
                401,
                b'{"error": "invalid_token"}',
                (
                    *json_type,
                    ("WWW-Authenticate", 'Bearer realm="contract", error="invalid_token"'),
                    ("WWW-Authenticate", 'DPoP algs="ES256"'),
                    ("Set-Cookie", "first=1; Path=/"),
                    ("Set-Cookie", "second=2; Path=/"),
                ),
            )
        elif first == "bytes":
            status = int(parse_qs(req.target.partition("?")[2]).get("status", ["200"])[0])
            self._answer(status, payload(int(rest)), (("Location", "/redirect-target"),))
        elif first == "chunked":
            self._chunked(payload(int(rest)))
        elif first == "gzip":
            self._answer(200, gzip.compress(payload(int(rest))), (("Content-Encoding", "gzip"),))
        elif first in ("deflate", "raw-deflate"):
            # RFC 9110 §8.4.1.2: zlib-wrapped; some servers send raw deflate instead.
            wbits = zlib.MAX_WBITS if first == "deflate" else -zlib.MAX_WBITS
            compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
            body = compressor.compress(payload(int(rest))) + compressor.flush()
            self._answer(200, body, (("Content-Encoding", "deflate"),))
        elif first == "gzip-zeros":
            self._answer(200, gzip_zeros(int(rest)), (("Content-Encoding", "gzip"),))
        elif first == "coded":
            codings, _, size = rest.partition("/")
            body = payload(int(size))
            for coding in codings.split(","):
                body = _code(body, coding)
            label = codings.replace("raw-deflate", "deflate").replace(",", ", ")
            self._answer(200, body, (("Content-Encoding", label),))
        elif first == "coded-zeros":
            codings, _, size = rest.partition("/")
            label = codings.replace(",", ", ")
            self._answer(200, coded_zeros(int(size), codings), (("Content-Encoding", label),))
        elif first == "labelled":
            self._answer(200, b"\x1f\x8b\x08\x00coded?", (("Content-Encoding", rest),))
        elif first in ("drip-head", "drip-body"):
            self._drip(first == "drip-head")
        elif first == "bad-gzip":
            self._answer(200, b"these bytes are not gzip", (("Content-Encoding", "gzip"),))
        elif first == "sleep":
            self.server.released.wait(10)
            self._answer(200, b"late")
        elif first == "truncated":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
        elif first == "malformed":
            self.close_connection = True
            self.wfile.write(b"NOT-HTTP garbage\r\n\r\n")
        else:
            self._answer(404, b"no such route")

    def _drip(self, head: bool) -> None:
        """A byte every 0.5 s (for 30 s at most): each read succeeds, the answer never ends."""
        self.close_connection = True
        data = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Slow: " + b"x" * 80
        if not head:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            data = b"{" + b" " * 98 + b"}"
        for byte in data[:60]:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.server.released.wait(0.5):
                return

    def _chunked(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), _PIECE):
            piece = body[start : start + _PIECE]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")


class LoopbackServer:
    """The contract suite's HTTP server on ``127.0.0.1`` (use as a context manager).

    Args:
        ssl_context: A server-side context to serve HTTPS instead of HTTP.

    Attributes:
        port: The port it listens on.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._scheme = "http"
        if ssl_context is not None:
            self._scheme = "https"
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self._server.recorded = []
        self._server.lock = threading.Lock()
        self._server.released = threading.Event()
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def url(self, target: str) -> str:
        """The absolute URL of ``target`` (a path, with any query) on this server."""
        return f"{self._scheme}://127.0.0.1:{self.port}{target}"

    @property
    def recorded(self) -> list[RecordedRequest]:
        """The requests received so far, in order."""
        with self._server.lock:
            return list(self._server.recorded)

    def hits(self, path: str) -> int:
        """How many requests arrived for ``path`` (query ignored)."""
        return sum(1 for r in self.recorded if r.path == path)

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Release sleeping handlers, stop serving and close the listening socket."""
        self._server.released.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
