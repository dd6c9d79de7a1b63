"""An integrator with a transport of their own never loads urllib3 (issue 14, item 7).

Each check runs in a fresh interpreter, so earlier imports cannot hide a regression.
"""

from __future__ import annotations

import subprocess
import sys


def _check(code: str) -> None:
    subprocess.run([sys.executable, "-I", "-c", code], check=True, timeout=120)


def test_a_custom_transport_user_never_imports_urllib3() -> None:
    _check(
        "import sys\n"
        "import oauth2_core as oc, oauth2_transports as ot\n"
        "from oauth2_transports import OAuth2Client, TokenManager, run, arun, TransportError\n"
        "class Mine:\n"
        "    def send(self, request): raise TransportError('offline')\n"
        "server = oc.ServerMetadata('https://as.example', token_endpoint='https://as.example/t')\n"
        "c = OAuth2Client(server, oc.Client('app', 's3cr3t'), transport=Mine())\n"
        "try: c.client_credentials()\n"
        "except TransportError: pass\n"
        "assert 'urllib3' not in sys.modules, 'urllib3 was imported'\n"
    )


def test_the_default_transport_loads_on_first_use() -> None:
    _check(
        "import sys, oauth2_core as oc, oauth2_transports as ot\n"
        "assert 'urllib3' not in sys.modules\n"
        "server = oc.ServerMetadata('https://as.example', token_endpoint='https://as.example/t')\n"
        "c = ot.OAuth2Client(server, oc.Client('app', 's3cr3t'))\n"
        "assert type(c.transport) is ot.Urllib3Transport\n"
        "assert 'urllib3' in sys.modules\n"
    )
