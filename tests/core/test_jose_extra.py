"""The optional extra ``oauth2-core[jwt]``: never imported by ``import oauth2_core``; a
JOSE feature used without it raises ``UsageError`` naming the extra.

Each case runs in a fresh interpreter, with PyJWT (or cryptography) made
unimportable by ``sys.modules[name] = None`` before ``oauth2_core`` is imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import datetime as dt, sys
{block}
import oauth2_core as oc
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SERVER = oc.ServerMetadata("https://as.example", token_endpoint="https://as.example/token",
                           jwks_uri="https://as.example/jwks")
JWK = {{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "d": "d"}}
PEM = "-----BEGIN PRIVATE KEY-----\\nMIGH\\n-----END PRIVATE KEY-----\\n"
"""


def run(code: str, *, block: str = "") -> subprocess.CompletedProcess[str]:
    program = PRELUDE.format(block=block) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )


def test_import_oauth2_core_imports_neither_pyjwt_nor_cryptography() -> None:
    result = run(
        """
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("jwt", "cryptography"))
        assert not loaded, loaded
        import oauth2_core.jose, oauth2_core.dpop, oauth2_core.id_token, oauth2_core.jwks
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("jwt", "cryptography"))
        assert not loaded, loaded
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


FEATURES = {
    "private_key_jwt JWK": (
        "oc.client_credentials_grant_request(SERVER, oc.Client('a', "
        "auth_method='private_key_jwt', signing_key=JWK), now=T0)"
    ),
    "private_key_jwt PEM": (
        "oc.client_credentials_grant_request(SERVER, oc.Client('a', "
        "auth_method='private_key_jwt', signing_key=PEM), now=T0)"
    ),
    "generate_dpop_key": "oc.generate_dpop_key()",
    "dpop_proof": "oc.dpop_proof(JWK, 'GET', 'https://rs/', now=T0)",
    "validate_id_token": (
        "oc.validate_id_token('eyJhbGciOiJFUzI1NiJ9.e30.c2ln', server=SERVER, "
        "client=oc.Client('a'), jwks={'keys': [{k: v for k, v in JWK.items() if k != 'd'}]}, "
        "nonce=None, now=T0)"
    ),
}
MISSING = {
    "PyJWT": "sys.modules['jwt'] = None",
    "cryptography": "sys.modules['cryptography'] = None",
}


@pytest.mark.parametrize("missing", sorted(MISSING))
@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_features_without_the_extra_name_it(feature: str, missing: str) -> None:
    result = run(
        f"""
        try:
            {FEATURES[feature]}
        except oc.UsageError as exc:
            print(exc)
        else:
            print("no error")
        """,
        block=MISSING[missing],
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'oauth2-core[jwt]'" in result.stdout


def test_hmac_and_a_custom_signer_work_without_the_extra() -> None:
    """client_secret_jwt and a KMS-backed Signer need no PyJWT."""
    result = run(
        """
        from urllib.parse import parse_qsl

        class Kms:
            def sign(self, claims, headers):
                return "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"

        for client in (
            oc.Client("a", "secret", auth_method="client_secret_jwt"),
            oc.Client("a", auth_method="private_key_jwt", signer=Kms()),
        ):
            request = oc.client_credentials_grant_request(SERVER, client, now=T0)
            assert dict(parse_qsl(request.body.decode()))["client_assertion"].count(".") == 2
        assert "jwt" in sys.modules and sys.modules["jwt"] is None
        print("ok")
        """,
        block=MISSING["PyJWT"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
