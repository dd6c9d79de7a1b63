"""Testing helpers for code built on oauth2-core.

:mod:`oauth2_core.testing.strategies` ships hypothesis strategies (tokens,
token responses, server metadata, callbacks, arbitrary HTTP responses) so an
integrator can property-test their own code. It needs ``hypothesis``;
``import oauth2_core`` (and this package) never imports it.
"""
