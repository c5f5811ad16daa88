"""The hand-over of a mediator's request from the agent to the window: one file, ``offer.json``, in the
``assistance`` folder of the events directory the two already share. Written whole (temporary name,
then rename); the window takes it (reads, checks and deletes it) and ignores a stale or invalid one.
It holds no resident data: the mediator's name, the session id and key, the relay's address.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from kiosk.protocol.assist import MEDIATOR_TITLES

log = logging.getLogger(__name__)

FOLDER = "assistance"
MAX_FILE_BYTES = 4096
MAX_AGE_S = 100  # the server gives up on an unanswered request after 120 s


def validate_offer(offer: object, now: float) -> list[str]:
    if not isinstance(offer, dict):
        return ["the offer is not an object"]
    errors = []
    if not isinstance(offer.get("id"), int) or isinstance(offer.get("id"), bool) or offer["id"] <= 0:
        errors.append("id: a positive integer")
    name = offer.get("mediator")
    if not isinstance(name, str) or not 0 < len(name) <= 40 or any(ord(char) < 32 for char in name):
        errors.append("mediator: 1 to 40 printable characters")
    if offer.get("title") not in MEDIATOR_TITLES:
        errors.append("title: médiatrice or médiateur")
    if not isinstance(offer.get("key"), str) or not 20 <= len(offer["key"]) <= 100:
        errors.append("key: 20 to 100 characters")
    if not isinstance(offer.get("relay_url"), str) or not offer["relay_url"].startswith(("https://", "http://")):
        errors.append("relay_url: an http(s) address")
    at = offer.get("offered_at")
    if not isinstance(at, (int, float)) or not now - MAX_AGE_S <= at <= now + 5:
        errors.append("offered_at: too old or in the future")
    return errors


class OfferDrop:
    def __init__(self, events_dir: str | os.PathLike) -> None:
        self.directory = Path(events_dir) / FOLDER
        self.path = self.directory / "offer.json"

    def put(self, offer: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / ".offer.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o660)
        try:
            os.write(fd, json.dumps(offer, ensure_ascii=False).encode())
        finally:
            os.close(fd)
        os.rename(temporary, self.path)

    def take(self, now: float | None = None) -> dict | None:
        """The waiting offer if valid and fresh (the file is deleted either way), or None."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
            os.unlink(self.path)
        except FileNotFoundError:
            return None
        except OSError as error:
            log.error("could not take the assistance request %s: %s", self.path, error)
            return None
        try:
            offer = json.loads(raw) if len(raw) <= MAX_FILE_BYTES else None
        except ValueError:
            offer = None
        errors = validate_offer(offer, time.time() if now is None else now)
        if errors:
            log.warning("an assistance request was ignored: %s", "; ".join(errors))
            return None
        return offer
