"""Testing helpers for code built on oauth2-core.

* :func:`json_response` and :func:`drive` (from :mod:`oauth2_core.testing.scripted`):
  answer a flow's requests with scripted responses, no network, no sleeping;
* :mod:`oauth2_core.testing.strategies`: hypothesis strategies (tokens, token
  responses, server metadata, callbacks, arbitrary HTTP responses) so an
  integrator can property-test their own code. It needs ``hypothesis``;
  ``import oauth2_core`` (and this package) never imports it.
"""

from oauth2_core.testing.scripted import RECEIVED_AT, Driven, drive, json_response

__all__ = ["RECEIVED_AT", "Driven", "drive", "json_response"]
