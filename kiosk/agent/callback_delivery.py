"""Delivering the residents' call-back requests from the spool to ``POST /api/v1/callbacks``.

Each request is sent on its own with its request id; the server stores a request id once, so a request
sent again (the answer was lost with the link) is not stored twice: delivered exactly once. A request
leaves the spool as soon as the server answers that it has it, or refuses it as invalid (it would never
be accepted, and it must not stay on the kiosk). Anything else (no link, 5xx) keeps it for the next try.
"""

from __future__ import annotations

import logging

from kiosk.agent.spool import Spool
from kiosk.agent.uploader import FleetClient
from kiosk.protocol.callback import CALLBACK_PATH

log = logging.getLogger("kiosk.agent")
REFUSED_FOR_GOOD = (400, 413, 415, 422)


def deliver_callbacks(spool: Spool, client: FleetClient, token: str) -> int:
    """Send every pending request; returns how many the server now has. Raises ServerUnreachable."""
    delivered = 0
    for request in spool.callbacks():
        answer = client.post(CALLBACK_PATH, request, token)
        if answer.status in (200, 201):
            spool.forget_callback(request["request_id"])
            delivered += 1
        elif answer.status in REFUSED_FOR_GOOD:
            spool.forget_callback(request["request_id"])
            log.error("the server refused a call-back request (HTTP %d): %s; deleted", answer.status,
                      answer.body.get("errors"))
        else:  # 401 (the check-in deals with the token), 404 (an older server): keep it for later
            log.warning("call-back request not delivered (HTTP %d): %s; kept", answer.status, answer.body.get("error"))
            break
    if delivered:
        log.info("%d call-back request(s) delivered", delivered)
    return delivered
