"""``python -m oauth2_transports``: the ``oauth2`` command."""

from __future__ import annotations

import sys

from oauth2_transports.cli import main

if __name__ == "__main__":
    sys.exit(main())
