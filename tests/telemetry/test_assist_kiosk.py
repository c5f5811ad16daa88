"""Remote assistance pieces that need no window: the request handed from the agent to the window
(written whole, taken once, stale or invalid ones ignored and deleted), the frame pacing ladder, and the
image header check the relay applies to every frame."""

from __future__ import annotations

import io
import time

import pytest

from kiosk.assist.offers import OfferDrop
from kiosk.assist.pacing import LADDER, Pacing
from kiosk.protocol.assist import image_size, validate_event

OFFER = {"id": 7, "mediator": "Claire", "title": "médiatrice", "key": "k" * 43,
         "relay_url": "https://flotte.example", "ca_file": None}


def test_an_offer_is_taken_once(tmp_path):
    drop = OfferDrop(tmp_path)
    drop.put({**OFFER, "offered_at": time.time()})
    assert drop.take()["mediator"] == "Claire"
    assert drop.take() is None and not drop.path.exists()


@pytest.mark.parametrize("change", [
    {"offered_at": time.time() - 300}, {"title": "chef"}, {"mediator": ""}, {"mediator": "x" * 41},
    {"key": "short"}, {"relay_url": "file:///etc/passwd"}, {"id": True}, {"mediator": "Claire\n"},
])
def test_a_stale_or_invalid_offer_is_ignored_and_deleted(tmp_path, change):
    drop = OfferDrop(tmp_path)
    drop.put({**OFFER, "offered_at": time.time(), **change})
    assert drop.take() is None and not drop.path.exists()


def test_garbage_in_the_offer_file_is_ignored(tmp_path):
    drop = OfferDrop(tmp_path)
    drop.directory.mkdir()
    drop.path.write_bytes(b"\xff" * 5000)
    assert drop.take() is None and not drop.path.exists()


def test_pacing_steps_down_on_slow_uploads_and_back_up_on_fast_ones():
    pacing = Pacing(start=0)
    assert (pacing.scale, pacing.quality) == LADDER[0]
    for _ in range(10):
        pacing.record(2.0)
    assert (pacing.scale, pacing.quality) == LADDER[-1], "the smallest step on a very slow link"
    for _ in range(5):
        pacing.record(0.05)
    assert pacing.level == len(LADDER) - 2, "one step back up after a run of fast uploads"
    pacing.record(0.4)
    assert pacing.level == len(LADDER) - 2


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_image_size_reads_real_headers(kind):
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (321, 123), (1, 2, 3)).save(buffer, kind, progressive=(kind == "JPEG"))
    assert image_size(buffer.getvalue(), f"image/{kind.lower()}") == (321, 123)
    assert image_size(buffer.getvalue()[:12], f"image/{kind.lower()}") is None
    assert image_size(b"GIF89a", "image/gif") is None


def test_mediator_events_are_checked():
    assert validate_event({"kind": "point", "x": 0, "y": 1}) == []
    assert validate_event({"kind": "point", "x": True, "y": 0.5})
    assert validate_event({"kind": "message", "text": "a\x07"})
    assert validate_event({"kind": "click", "x": 0.5, "y": 0.5})
    assert validate_event([]) == ["/: must be an object"]


def test_frames_stay_within_the_budget():
    pacing = Pacing(budget_kbit_per_s=240)
    assert pacing.pause_after(30_000, 0.2) == pytest.approx(0.8), "30 kB at 240 kbit/s: one frame a second"
    assert pacing.pause_after(3_000, 0.2) == 0.0


def test_pacing_prefers_more_smaller_frames_within_the_budget():
    pacing = Pacing(start=0, budget_kbit_per_s=240, min_frames_per_s=2)  # a share of 15 kB a frame
    pacing.record(0.05, 40_000)
    assert pacing.level == 1, "a fast upload of a frame over the share still steps down"
    for _ in range(10):
        pacing.record(0.05, 10_000)
    assert pacing.level == 1, "no climb while frames are not well under the share"
    for _ in range(5):
        pacing.record(0.05, 5_000)
    assert pacing.level == 0


def test_the_check_in_hint_cuts_the_watchs_wait_after_a_failure(tmp_path):
    """A poll fails (the relay answers 503), the watch waits 5 s; the hint wakes it and it polls at once."""
    import http.server
    import json
    import threading
    import types

    from kiosk.assist.agent_watch import AssistWatch
    answers = [(503, {"ok": False}), (200, {"ok": True, "assist": {k: OFFER[k] for k in ("id", "mediator", "title", "key")}})]

    class Relay(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status, document = answers.pop(0) if answers else (200, {"ok": True, "assist": None})
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if status == 200 and document["assist"] is None:
                time.sleep(0.2)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    settings = types.SimpleNamespace(fleet_url=f"http://127.0.0.1:{server.server_port}", ca_file=None, events_dir=tmp_path)
    watch = AssistWatch(settings, lambda: types.SimpleNamespace(token="t" * 43), stop)
    thread = None
    try:
        thread = watch.start()
        deadline = time.monotonic() + 3
        while watch.failures == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watch.failures == 1 and len(answers) == 1, "the first poll failed: the watch waits 5 s"
        woken_at = time.monotonic()
        watch.wake()
        while watch.offers.take() is None:
            assert time.monotonic() - woken_at < 2.5, "the hint must make the watch poll at once"
            time.sleep(0.02)
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=5)
        watch.client.close()
        server.shutdown()
        server.server_close()
