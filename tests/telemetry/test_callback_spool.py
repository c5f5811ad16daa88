"""The agent's side of the call-back requests, without a server: the hand-over folder takes only valid
requests (anything else is deleted, never kept), the spool keeps a request id once, and a request that
could not be delivered for two weeks is deleted from the kiosk."""

from __future__ import annotations

import json
import secrets
import time

from kiosk.agent.spool import Spool
from kiosk.callbacks import CallbackDrop


def request(**changes) -> dict:
    return {"protocol": 1, "request_id": secrets.token_hex(16), "made_at": time.time() - 10, "name": "Marie",
            "phone": "06 12 34 56 78", "subject": "papiers", "slot": "asap", **changes}


def test_only_valid_requests_are_taken_and_every_file_is_removed(tmp_path):
    drop, spool = CallbackDrop(tmp_path), Spool(tmp_path / "spool.db")
    good = request()
    drop.put(good)
    drop.put(good)  # written twice (the resident double-tapped): one request
    bad = request(phone="0612345678", page="https://www.impots.gouv.fr/")
    (drop.directory / f"{bad['request_id']}.json").write_text(json.dumps(bad))
    (drop.directory / f"{secrets.token_hex(16)}.json").write_text(json.dumps(request()))  # name and id differ
    (drop.directory / f"{secrets.token_hex(16)}.json").write_bytes(b"\xff" * 10_000)
    assert drop.take(spool.add_callback) == (1, 3)
    assert list(drop.directory.iterdir()) == []
    assert [item["request_id"] for item in spool.callbacks()] == [good["request_id"]]
    assert spool.add_callback(good) is False  # the same request id again: kept once
    assert len(spool.callbacks()) == 1
    spool.close()


def test_an_undelivered_request_is_deleted_after_two_weeks(tmp_path):
    from kiosk.agent.clock import FakeClock
    from kiosk.agent.runner import CALLBACK_MAX_AGE_S, Agent
    from kiosk.agent.settings import load_agent_settings
    from telemetry_helpers import write_agent_settings
    agent = Agent(load_agent_settings(write_agent_settings(tmp_path, "http://127.0.0.1:9", None)),
                  clock=FakeClock(time.time()))
    try:
        drop = CallbackDrop(tmp_path / "events")
        old, recent = request(made_at=time.time() - CALLBACK_MAX_AGE_S - 60), request(made_at=time.time() - 86400)
        drop.put(old), drop.put(recent)
        agent.record()
        assert [item["request_id"] for item in agent.spool.callbacks()] == [recent["request_id"]]
    finally:
        agent.close()
