"""What the kiosk and the assistance relay agree on (issue 13 point 3), defined once for both sides.

Paths under ``/api/v1/assist``: the agent polls for a mediator's request with its device token; the
window then speaks to the relay for that one session with the session key the poll handed out:
``answer`` (the resident's « Oui » or « Non »), ``frame`` (an image of the kiosk's own page),
``events`` (the mediator's points and messages, long-polled) and ``end``.
"""

from __future__ import annotations

ASSIST_PREFIX = "/api/v1/assist"
POLL_PATH = ASSIST_PREFIX + "/poll"
MAX_POLL_WAIT_S = 25
MAX_EVENTS_WAIT_S = 20
MAX_FRAME_BYTES = 256 * 1024
MAX_FRAME_SIDE_PX = 4096
FRAME_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
MESSAGE_MAX_CHARS = 200
MEDIATOR_TITLES = ("médiatrice", "médiateur")
# Why a session ends. The kiosk may send these four; the others are the server's or the mediator's.
KIOSK_END_REASONS = ("resident", "session_end", "idle", "unreachable")


def session_path(session_id: int, what: str) -> str:
    return f"{ASSIST_PREFIX}/{int(session_id)}/{what}"


def image_size(image: bytes, image_type: str) -> tuple[int, int] | None:
    """Width and height read from a PNG's or a baseline/progressive JPEG's header; None if malformed."""
    if not image.startswith(FRAME_TYPES.get(image_type, b"\x00")):
        return None
    if image_type == "image/png":
        if len(image) < 24 or image[12:16] != b"IHDR":
            return None
        return int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    position = 2
    while position + 9 < len(image):
        if image[position] != 0xFF:
            return None
        marker = image[position + 1]
        length = int.from_bytes(image[position + 2:position + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(image[position + 7:position + 9], "big"), int.from_bytes(image[position + 5:position + 7], "big")
        if length < 2:
            return None
        position += 2 + length
    return None


def validate_event(event: object) -> list[str]:
    """An event from the mediator (``point`` at x, y in 0..1, or a short ``message``)."""
    if not isinstance(event, dict):
        return ["/: must be an object"]
    kind = event.get("kind")
    if kind == "point":
        errors = []
        for axis in ("x", "y"):
            value = event.get(axis)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                errors.append(f"/{axis}: must be a number from 0 to 1")
        return errors
    if kind == "message":
        text = event.get("text")
        if not isinstance(text, str) or not text.strip():
            return ["/text: must be a non-empty string"]
        if len(text) > MESSAGE_MAX_CHARS:
            return [f"/text: at most {MESSAGE_MAX_CHARS} characters"]
        if any(ord(char) < 32 for char in text):
            return ["/text: no control characters"]
        return []
    return ["/kind: must be 'point' or 'message'"]
