"""``/api/v1/assist/...``: the kiosk's side of consented remote assistance (issue 13 point 3).

``GET poll`` (device token): waits a bounded time for a mediator's request and hands it out once, with
its session key (a request not answered within two minutes ends as "unanswered"). Every other call is for one session and carries that key, never the device token (the
kiosk's window, which shares its page, does not hold the device token). Everything is hostile: sizes,
types, dimensions and reasons are checked here, and each refusal has the API's one error shape.
A frame is kept in the relay's memory only, never on disk, and is dropped when the session ends.
"""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from kiosk.protocol.assist import (ASSIST_PREFIX, FRAME_TYPES, KIOSK_END_REASONS, MAX_EVENTS_WAIT_S,
                                   MAX_FRAME_BYTES, MAX_FRAME_SIDE_PX, MAX_POLL_WAIT_S, image_size)
from provisioning.fleet import assist_log
from provisioning.fleet.assist_relay import init_app as init_relay, relay
from provisioning.fleet.body import read_json
from provisioning.fleet.callback_endpoint import _device_of
from provisioning.fleet.checkin_endpoint import bearer_token
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store.engine import get_engine, write_transaction

blueprint = Blueprint("assist_api", __name__, url_prefix=ASSIST_PREFIX)
blueprint.record_once(lambda state: init_relay(state.app))
MAX_ANSWER_BODY_BYTES = 1024


def idle_s() -> float:
    """The ``assist_idle_minutes`` setting, or ``ASSIST_IDLE_S`` (tests) when set."""
    if "ASSIST_IDLE_S" in current_app.config:
        return float(current_app.config["ASSIST_IDLE_S"])
    return current_app.config["FLEET_SETTINGS"].assist_idle_minutes * 60.0


def _wait(name: str, ceiling: int) -> float:
    raw = request.args.get(name, "0")
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"the query parameter {name} must be a number of seconds", [f"{name}: {raw[:20]}"]) from None
    if not 0 <= value <= ceiling:
        raise ApiError(400, f"the query parameter {name} must be from 0 to {ceiling}", [f"{name}: {raw[:20]}"])
    return value


def end_session(session_id: int, reason: str) -> bool:
    with write_transaction(get_engine()) as conn:
        ended = assist_log.end(conn, session_id, reason, time.time())
    relay().close(session_id, reason)
    relay().forget_waiting()
    return ended


def _session(session_id: int):
    """The session this request's key opens; 401 for a wrong key, 410 once it has ended."""
    key = bearer_token(request.environ)
    with get_engine().connect() as conn:
        row = assist_log.get(conn, session_id)
    if row is not None and row.ended_at is not None:
        raise ApiError(410, "this assistance session has ended", [row.end_reason or "ended"])
    if not assist_log.key_matches(row, key):
        raise ApiError(401, "unknown assistance session or wrong session key")
    if row.started_at is not None:
        reason = "unreachable" if relay().live(session_id) is None else relay().overdue(session_id, idle_s())
        if reason:  # the relay restarted, a side went away, or nothing happened for too long
            end_session(session_id, reason)
            raise ApiError(410, "this assistance session has ended", [reason])
    return row


@blueprint.get("/poll")
def poll():
    engine = get_engine()
    device_id = _device_of(engine, bearer_token(request.environ))
    deadline = time.monotonic() + _wait("wait", MAX_POLL_WAIT_S)
    waiting = relay()
    with waiting.changed:
        waiting.polls += 1
    try:
        return _poll(engine, device_id, deadline, waiting)
    finally:
        with waiting.changed:
            waiting.polls -= 1
            waiting.changed.notify_all()


def _poll(engine, device_id: int, deadline: float, waiting):
    """Reads the relay's memory each second; opens a write transaction only when this machine's request
    needs a change (its key handed out, or ended as unanswered)."""
    generation = waiting.requests_generation

    def read_all() -> dict:
        with engine.connect() as conn:
            return assist_log.waiting_requests(conn)
    while not waiting.closing:
        pending = waiting.waiting(device_id, read_all)
        if pending is not None and (pending.kiosk_key_sha256 is None
                                    or time.time() - pending.requested_at > assist_log.ANSWER_TIMEOUT_S):
            offer = _hand_out(engine, device_id)
            waiting.forget_waiting()
            if offer is not None:
                return jsonify({"ok": True, "assist": offer})
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        # Woken at once by a request made in this process; every second for one made in another.
        generation = waiting.wait_requests(generation, min(remaining, 1.0))
    return jsonify({"ok": True, "assist": None})


def _hand_out(engine, device_id: int) -> dict | None:
    """In one write transaction: this machine's request, with a fresh key if nobody has it yet (None if
    the request is gone, already handed out, or just ended as unanswered)."""
    with write_transaction(engine) as conn:
        row = assist_log.ongoing(conn, device_id)
        if row is None or row.started_at is not None:
            return None
        if time.time() - row.requested_at > assist_log.ANSWER_TIMEOUT_S:
            assist_log.end(conn, row.id, "unanswered", time.time())
            return None
        if row.kiosk_key_sha256 is not None:  # handed out once: the window holds it until it answers
            return None
        key = assist_log.issue_key(conn, row.id)
        return {"id": row.id, "mediator": row.mediator_name, "title": row.mediator_title, "key": key}


@blueprint.post("/<int:session_id>/answer")
def answer(session_id: int):
    row = _session(session_id)
    doc = read_json(request.environ, MAX_ANSWER_BODY_BYTES)
    accept = doc.get("accept") if isinstance(doc, dict) else None
    if not isinstance(accept, bool):
        raise ApiError(422, "the answer is invalid", ["/accept: must be true or false"])
    if row.started_at is not None:
        raise ApiError(409, "this assistance session was already accepted")
    if not accept:
        end_session(session_id, "refused")
        return jsonify({"ok": True, "running": False})
    with write_transaction(get_engine()) as conn:
        started = assist_log.start(conn, session_id, time.time())
    relay().forget_waiting()
    if not started:
        raise ApiError(410, "this assistance session has ended")
    relay().open(session_id)
    return jsonify({"ok": True, "running": True})


@blueprint.post("/<int:session_id>/frame")
def frame(session_id: int):
    row = _session(session_id)
    if row.started_at is None:
        raise ApiError(409, "nothing may be sent before the resident accepts")
    image_type = request.mimetype
    if image_type not in FRAME_TYPES:
        raise ApiError(415, "a frame is a JPEG or PNG image", [f"Content-Type: {image_type[:40]}"])
    length = request.content_length
    if length is None or length > MAX_FRAME_BYTES:
        raise ApiError(413, f"a frame is at most {MAX_FRAME_BYTES} bytes (with its Content-Length)")
    image = request.stream.read(MAX_FRAME_BYTES + 1)
    if len(image) != length:
        raise ApiError(400, "the frame is shorter or longer than its Content-Length")
    size = image_size(image, image_type)
    if size is None or not (0 < size[0] <= MAX_FRAME_SIDE_PX and 0 < size[1] <= MAX_FRAME_SIDE_PX):
        raise ApiError(422, "the frame is not a readable image of a sensible size",
                       [f"{image_type}: {size or 'unreadable header'}"])
    if not relay().put_frame(session_id, image, image_type, size):
        raise ApiError(410, "this assistance session has ended")
    return jsonify({"ok": True, "running": True})


@blueprint.get("/<int:session_id>/events")
def events(session_id: int):
    if _session(session_id).started_at is None:
        raise ApiError(409, "the resident has not accepted yet")
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        raise ApiError(400, "the query parameter after must be an integer") from None
    fresh, last, running = relay().wait_events(session_id, after, _wait("wait", MAX_EVENTS_WAIT_S))
    if not running:
        with get_engine().connect() as conn:
            row = assist_log.get(conn, session_id)
        raise ApiError(410, "this assistance session has ended", [getattr(row, "end_reason", None) or "ended"])
    return jsonify({"ok": True, "running": True, "events": fresh, "last": last})


@blueprint.post("/<int:session_id>/end")
def end(session_id: int):
    _session(session_id)
    doc = read_json(request.environ, MAX_ANSWER_BODY_BYTES)
    reason = doc.get("reason") if isinstance(doc, dict) else None
    if reason not in KIOSK_END_REASONS:
        raise ApiError(422, "the end reason is invalid", [f"/reason: one of {', '.join(KIOSK_END_REASONS)}"])
    end_session(session_id, reason)
    return jsonify({"ok": True, "running": False})
