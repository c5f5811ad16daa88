"""A resident's call-back request ("Être rappelé(e)", issue 13), defined once for both sides.

The shell checks what the resident typed (kindly, in French) and writes a request; the agent carries it
through its spool to ``POST /api/v1/callbacks``; the fleet server checks it again here, at its boundary.
A request holds only what the mediator needs to call back: how to call the person, a French phone number,
a subject from a short list, a time slot from the mediator's hours. No page, no site, nothing else.
Dependency-free (the agent stays light), like :mod:`kiosk.protocol.validate`.
"""

from __future__ import annotations

import math
import re

from kiosk.protocol import API_PREFIX, FUTURE_TOLERANCE_S, OLDEST_TIMESTAMP, PROTOCOL_VERSION

CALLBACK_PATH = API_PREFIX + "/callbacks"
MAX_NAME_CHARS = 60
MAX_PHONE_INPUT_CHARS = 30
# The subjects a resident chooses from (key -> what the resident and the staff read).
SUBJECTS = {"impots": "Impôts", "sante": "Santé", "retraite": "Retraite", "papiers": "Papiers",
            "emploi": "Emploi", "autre": "Autre chose"}
ASAP = "asap"  # "dès que possible", within the mediator's hours
SLOT = re.compile(r"^(asap|(mo|tu|we|th|fr|sa|su) ([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9])$")
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
PHONE = re.compile(r"^0[1-9]( [0-9]{2}){4}$")  # how a request carries it: « 06 12 34 56 78 »
FIELDS = {"protocol", "request_id", "made_at", "name", "phone", "subject", "slot"}
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def normalize_phone(text: str) -> str | None:
    """A French number as « 06 12 34 56 78 », from 0612345678, 06.12.34.56.78, +33 6 12 34 56 78,
    +33 (0)6…, 0033 6…; None when it is not one."""
    if not isinstance(text, str) or len(text) > MAX_PHONE_INPUT_CHARS:
        return None
    digits = _SEPARATORS.sub("", text).replace("(0)", "")
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    if not re.fullmatch(r"0[1-9][0-9]{8}", digits):
        return None
    return " ".join(digits[index:index + 2] for index in range(0, 10, 2))


def clean_name(text: str) -> str:
    """The name as typed, with runs of spaces made one and no control characters."""
    return " ".join(_CONTROL.sub(" ", text).split())


def validate_callback(doc, latest: float) -> list[str]:
    """Every problem of a request document, as JSON pointers with a reason; empty when valid."""
    if not isinstance(doc, dict):
        return ["/: a call-back request must be a JSON object"]
    errors = [f"/{key}: unknown field" for key in sorted(set(doc) - FIELDS, key=str)[:10]]
    errors += [f"/{key}: missing" for key in sorted(FIELDS - set(doc))]
    if "protocol" in doc and doc["protocol"] != PROTOCOL_VERSION:
        errors.append(f"/protocol: must be {PROTOCOL_VERSION}")
    request_id = doc.get("request_id")
    if "request_id" in doc and not (isinstance(request_id, str) and REQUEST_ID.match(request_id)):
        errors.append("/request_id: must be 32 lower-case hexadecimal digits")
    made_at = doc.get("made_at")
    if "made_at" in doc and not (isinstance(made_at, (int, float)) and not isinstance(made_at, bool)
                                 and math.isfinite(made_at) and OLDEST_TIMESTAMP <= made_at <= latest):
        errors.append("/made_at: must be a Unix time, not in the future")
    name = doc.get("name")
    if "name" in doc and not (isinstance(name, str) and 0 < len(name) <= MAX_NAME_CHARS
                              and name == clean_name(name)):
        errors.append(f"/name: must be 1 to {MAX_NAME_CHARS} characters, no control characters")
    phone = doc.get("phone")
    if "phone" in doc and not (isinstance(phone, str) and PHONE.match(phone)):
        errors.append("/phone: must be a French number written « 0X XX XX XX XX »")
    if "subject" in doc and doc["subject"] not in SUBJECTS:
        errors.append(f"/subject: must be one of {', '.join(SUBJECTS)}")
    slot = doc.get("slot")
    if "slot" in doc and not (isinstance(slot, str) and SLOT.match(slot)):
        errors.append("/slot: must be 'asap' or a day key and a range (e.g. 'mo 09:00-12:00')")
    return errors


def latest_allowed(now: float) -> float:
    return now + FUTURE_TOLERANCE_S
