"""Test kit for integrators: the transport contract suite (DESIGN.md §3, §8).

``from oauth2_transports.testing import TransportContract`` and subclass it to
check a custom transport against a real loopback HTTP server. This subpackage
imports pytest; ``import oauth2_transports`` never imports it.
"""

import importlib
from typing import TYPE_CHECKING

# The mock server needs only the stdlib: `oauth2 demo` and the pytest plugin
# import it without pulling in pytest or the contract suite.
from oauth2_transports.testing.mock_server import (
    MockAuthorizationServer,
    MockClient,
    MockUser,
    RecordedRequest,
)

if TYPE_CHECKING:
    from oauth2_transports.testing.contract import (
        ContractHarness,
        MakeTransport,
        TransportContract,
    )

__all__ = [
    "ContractHarness",
    "MakeTransport",
    "MockAuthorizationServer",
    "MockClient",
    "MockUser",
    "RecordedRequest",
    "TransportContract",
]

_CONTRACT = frozenset({"ContractHarness", "MakeTransport", "TransportContract"})


def __getattr__(name: str) -> object:
    # The contract suite imports pytest: load it only when asked for.
    if name not in _CONTRACT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import pytest

    # The suite's plain asserts get pytest's detailed failure messages.
    pytest.register_assert_rewrite("oauth2_transports.testing.contract")
    return getattr(importlib.import_module("oauth2_transports.testing.contract"), name)
