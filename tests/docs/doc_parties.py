"""The reader's other parties on loopback: the API the pages call, and the keys of others.

- :class:`ApiServer` is ``https://api.example``: it wants a token and says so the RFC 6750 way;
- :class:`IdentityProvider` signs the JWTs the mock's JWT bearer grant trusts (RFC 7523);
- :func:`kms` is a signing key "in a KMS" (its public JWK and a sign callback);
- :func:`client_certificates` writes the PEM files docs/howto/mtls.md loads (a CA, a client
  certificate and its key), made now by the interop tests' ``mtls_pki``.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from oauth2_transports.testing import MockAuthorizationServer


class _Api(BaseHTTPRequestHandler):
    """``https://api.example``: 200 to a request with a token, 401 ``invalid_token`` without.

    The token comes in the Authorization field (``Bearer``, ``DPoP``) or, as the Graph API of
    requests-oauth2's days took it, in the ``access_token`` query parameter (RFC 6750 §2.3).
    """

    seen: list[str]

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization", "")
        self.server.seen.append(authorization)  # type: ignore[attr-defined]
        in_query = "access_token" in parse_qs(urlsplit(self.path).query)
        ok = authorization.startswith(("Bearer ", "DPoP ")) or in_query
        body = json.dumps({"items": []} if ok else {"error": "invalid_token"}).encode()
        self.send_response(200 if ok else 401)
        if not ok:
            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ApiServer:
    """A resource server on a free loopback port; ``seen`` lists the Authorization fields."""

    def __init__(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
        self.seen: list[str] = []
        self._httpd.seen = self.seen  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class IdentityProvider:
    """The party whose JWTs the mock's JWT bearer grant trusts (RFC 7523): an EC P-256 key."""

    issuer = "https://idp.example"

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = ec.generate_private_key(ec.SECP256R1())

    def trust(self) -> dict[str, dict[str, object]]:
        """``trusted_issuers`` for the mock: this issuer and its public key."""
        from jwt.algorithms import ECAlgorithm

        return {self.issuer: json.loads(ECAlgorithm.to_jwk(self._key.public_key()))}

    def assertion(self, server: MockAuthorizationServer, *, subject: str) -> str:
        """A fresh single-use assertion for ``server``, valid for five minutes (§3)."""
        import jwt

        now = int(server.now())
        claims = {"iss": self.issuer, "sub": subject, "aud": server.issuer, "iat": now}
        claims.update(exp=now + 300, jti=secrets.token_urlsafe(16))
        return jwt.encode(claims, self._key, algorithm="ES256")


_KMS: list[tuple[dict[str, str], Callable[[bytes], bytes]]] = []


def kms() -> tuple[dict[str, str], Callable[[bytes], bytes]]:
    """A key "in a KMS": its public JWK and a callback that signs bytes (DER ECDSA)."""
    if not _KMS:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from jwt.algorithms import ECAlgorithm

        key = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        public["alg"] = "ES256"

        def sign(data: bytes) -> bytes:
            return key.sign(data, ec.ECDSA(hashes.SHA256()))

        _KMS.append((public, sign))
    return _KMS[0]


def client_certificates(folder: Path) -> None:
    """Write ``ca.pem``, ``client.pem`` and ``client-key.pem`` (and more) into ``folder``.

    docs/howto/mtls.md builds each transport's TLS settings from them (RFC 8705 §2); the
    same throw-away PKI as tests/interop/test_mtls.py, which runs the calls over HTTPS.
    """
    source = Path(__file__).resolve().parents[1] / "interop" / "mtls_pki.py"
    spec = importlib.util.spec_from_file_location("_doc_mtls_pki", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    module.make_pki(folder)
