"""The example transport in docs/custom-transport.md passes the whole contract suite."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

import pytest

from oauth2_transports.testing import TransportContract

_DOC = Path(__file__).resolve().parents[2] / "docs" / "custom-transport.md"


def _example() -> types.ModuleType:
    """The first Python block of the page, run as a module."""
    block = re.search(r"```python\n(.*?)```", _DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    module = types.ModuleType("docs_custom_transport")
    exec(compile(block.group(1), str(_DOC), "exec"), module.__dict__)
    return module


class TestDocumentedHttpClientTransport(TransportContract):
    @pytest.fixture
    def make_transport(self) -> Any:
        transport_class = _example().HttpClientTransport

        def make(*, clock: Any, max_body_bytes: int, timeout: float) -> Any:
            return transport_class(clock=clock, max_body_bytes=max_body_bytes, timeout=timeout)

        return make
