"""The agent's side of remote assistance: a thread that waits, in a bounded long-poll over the agent's
outbound link, for a mediator's request, and hands it to the window (:mod:`kiosk.assist.offers`).

The device token never leaves the agent: the window gets only the request's own session key. When the
server is unreachable (or too old to know ``/api/v1/assist/poll``) the thread waits longer before the
next try, so an offline kiosk spends nothing on it. A check-in answer carrying the ``assist`` hint cuts
that wait short (:meth:`AssistWatch.wake`): the link works again and a mediator is waiting.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from kiosk.assist.offers import OfferDrop
from kiosk.protocol.assist import POLL_PATH

log = logging.getLogger("kiosk.agent")

POLL_WAIT_S = 20
RETRY_S = (5, 30, 120, 600)  # after 1, 2, 3, 4+ failures in a row


def poll_once(client, token: str, wait_s: int = POLL_WAIT_S) -> dict | None:
    """One long-poll: the request waiting for this kiosk, or None. Raises the client's ServerUnreachable."""
    status, _headers, raw = client.get(f"{POLL_PATH}?wait={wait_s}", token, max_bytes=4096)
    if status != 200:
        raise LookupError(f"HTTP {status}")
    document = json.loads(raw)
    assist = document.get("assist") if isinstance(document, dict) else None
    return assist if isinstance(assist, dict) else None


class AssistWatch:
    def __init__(self, settings, credentials, stop: threading.Event, client_factory=None) -> None:
        from kiosk.agent.uploader import FleetClient
        self.settings, self.credentials, self.stop = settings, credentials, stop
        self.client = (client_factory or FleetClient)(settings.fleet_url, settings.ca_file)
        self.offers = OfferDrop(settings.events_dir)
        self.failures = 0
        self.woken = threading.Event()

    def wake(self) -> None:
        """The check-in answer says a mediator waits: poll at once, whatever the failures before."""
        self.woken.set()

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when stopped or woken."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and not self.woken.is_set() and time.monotonic() < deadline:
            self.woken.wait(min(1.0, deadline - time.monotonic()))
        if self.woken.is_set():
            self.woken.clear()
            self.failures = 0

    def run(self) -> None:
        while not self.stop.is_set():
            credentials = self.credentials()
            if credentials is None:
                self.stop.wait(30)
                continue
            try:
                assist = poll_once(self.client, credentials.token)
                self.failures = 0
            except Exception as error:  # noqa: BLE001 - unreachable, refused, garbled: wait, never stop
                self.client.close()
                self.failures += 1
                if self.failures == 1:
                    log.info("remote assistance: no poll this time (%s)", error)
                self._pause(RETRY_S[min(self.failures, len(RETRY_S)) - 1])
                continue
            if assist is not None:
                offer = {**assist, "relay_url": self.settings.fleet_url, "offered_at": time.time(),
                         "ca_file": str(self.settings.ca_file) if self.settings.ca_file else None}
                try:
                    self.offers.put(offer)
                    log.info("remote assistance requested by %s: asking the resident", str(assist.get("mediator"))[:40])
                except OSError as error:
                    log.error("could not hand the assistance request to the window: %s", error)
                continue  # a request is handed out once: wait for the next one at once

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="assist-watch", daemon=True)
        thread.start()
        return thread
