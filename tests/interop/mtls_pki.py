"""A throw-away PKI for the mutual-TLS interop tests (RFC 8705), made at test time.

Nothing here is committed: :func:`make_pki` writes fresh keys and certificates
into a temporary folder for one test session. Stdlib and ``cryptography`` only;
nothing here imports ``oauth2_core``.

* ``ca.pem``: the test CA. The server trusts it for client certificates and the
  clients trust it for the server certificate.
* ``server.pem`` / ``server-key.pem``: the server, for ``127.0.0.1`` and ``localhost``
  (subjectAltName IP and DNS; the tests only ever connect to 127.0.0.1).
* ``client.pem`` / ``client-key.pem``: CA-signed, for ``tls_client_auth``; its
  subject is :data:`CLIENT_SUBJECT_DN` and its SAN the DNS name :data:`CLIENT_SAN_DNS`.
* ``other-client.pem`` / ``other-client-key.pem``: CA-signed, but with another
  subject and SAN: no ``tls_client_auth`` registration matches it.
* ``self-signed.pem`` / ``self-signed-key.pem``: for ``self_signed_tls_client_auth``.
* ``other-self-signed.pem`` / ``other-self-signed-key.pem``: a certificate no
  client registered (the "wrong certificate").
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The RFC 4514 subject DN the ``mtls-dn-client`` registration expects (clients.json).
CLIENT_SUBJECT_DN = "CN=mtls-client,O=oauth2-core interop"
#: The SAN dNSName the ``mtls-san-client`` registration expects (clients.json).
CLIENT_SAN_DNS = "mtls-client.example.test"


@dataclass(frozen=True)
class CertFiles:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path

    @property
    def pair(self) -> tuple[str, str]:
        return str(self.cert), str(self.key)

    def thumbprint(self) -> str:
        """``x5t#S256`` of the certificate (RFC 8705 §3.1): base64url SHA-256 of the DER."""
        der = x509.load_pem_x509_certificate(self.cert.read_bytes()).public_bytes(
            serialization.Encoding.DER
        )
        return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Pki:
    """The files :func:`make_pki` wrote."""

    folder: Path
    ca: Path
    server: CertFiles
    client: CertFiles
    other_client: CertFiles
    self_signed: CertFiles
    other_self_signed: CertFiles


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "oauth2-core interop"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(
    folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> CertFiles:
    files = CertFiles(folder / f"{stem}.pem", folder / f"{stem}-key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key.chmod(0o600)
    return files


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    *,
    issuer: x509.Name | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    ca: bool = False,
    san: list[x509.GeneralName] | None = None,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if issuer_key is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_pki(folder: Path) -> Pki:
    """Write a CA, a server certificate and four client certificates into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("oauth2-core interop test CA")
    ca_cert = _certificate(ca_name, ca_key, ca=True)
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    def signed(
        stem: str, subject: x509.Name, san: list[x509.GeneralName], usage: x509.ObjectIdentifier
    ) -> CertFiles:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(subject, key, issuer=ca_name, issuer_key=ca_key, san=san, usage=usage)
        return _write(folder, stem, cert, key)

    def self_signed(stem: str, common_name: str) -> CertFiles:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(_name(common_name), key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
        return _write(folder, stem, cert, key)

    server = signed(
        "server",
        _name("127.0.0.1"),
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    client = signed(
        "client",
        x509.Name.from_rfc4514_string(CLIENT_SUBJECT_DN),
        [x509.DNSName(CLIENT_SAN_DNS)],
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    other_client = signed(
        "other-client",
        _name("someone else"),
        [x509.DNSName("someone-else.example.test")],
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    return Pki(
        folder=folder,
        ca=ca_path,
        server=server,
        client=client,
        other_client=other_client,
        self_signed=self_signed("self-signed", "mtls-self-signed-client"),
        other_self_signed=self_signed("other-self-signed", "someone else"),
    )
