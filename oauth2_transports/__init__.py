"""oauth2_transports: send oauth2_core's requests over real HTTP."""

from oauth2_transports._driver import arun, run
from oauth2_transports._transport import AsyncTransport, Transport, TransportError

__all__ = ["AsyncTransport", "Transport", "TransportError", "arun", "run"]
