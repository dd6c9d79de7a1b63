"""Stepping a polling flow by hand, one poll at a time (device, CIBA and their DPoP variants).

``oauth2_core.testing.drive`` runs a flow to its end; these tests look at each poll as
it goes out, so they answer the flow's ``Wait`` steps themselves, as a driver whose
clock moves on by each wait.
"""

from __future__ import annotations

import datetime as dt

import oauth2_core as oc


def _polled(flow: oc.TimedFlow[oc.Token], step: oc.Send | oc.Wait, clock: dt.datetime) -> oc.Send:
    """Answer the flow's ``Wait`` steps as a driver whose clock reads ``clock`` plus the
    time waited; return the next ``Send``, its ``delay`` the time waited before it."""
    waited = 0.0
    while isinstance(step, oc.Wait):
        waited += step.seconds
        step = flow.send(clock + dt.timedelta(seconds=waited))
    return oc.Send(step.request, delay=step.delay + waited)


def first_poll(flow: oc.TimedFlow[oc.Token], start: dt.datetime) -> oc.Send:
    """Start the flow: its first wait is measured from ``start``."""
    return _polled(flow, next(flow), start)


def reply(flow: oc.TimedFlow[oc.Token], response: oc.HttpResponse) -> oc.Send:
    """Answer the poll with ``response``; the next wait is measured from its ``received_at``."""
    return _polled(flow, flow.send(response), response.received_at)
