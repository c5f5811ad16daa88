"""Consented remote assistance in the kiosk window (issue 13 point 3).

Every half second the window looks for a request the agent handed over (:mod:`kiosk.assist.offers`) and
asks the resident (:class:`ConsentQuestion`). « Non » sends the refusal and nothing else. « Oui » starts
the sharing: a banner that the page cannot cover, images of the kiosk's own web view only (WebKit's
snapshot of the visible page: never the X screen, never the toolbar), the mediator's points (a pulsing
ring) and short messages.

Nothing is captured while nothing changes: a capture is due only when the web view was redrawn (its
``draw`` signal, i.e. the page's damage) since the last one, plus one safety look every ``RECHECK_S``.
Captures are at most one every ``MIN_FRAME_INTERVAL_S``, never while the previous frame is still on its
way (a full link means no work), and after each frame :class:`Pacing` holds the next one back to stay
within the link's budget and shrinks frames on a slow link; a frame identical to the last one sent is
not sent. The snapshot is scaled down (cairo) before anything else touches its pixels, and encoded to
JPEG off the main loop.

It ends on « Arrêter », on the mediator's stop or her page closing (the relay says so), at the end of
the resident's session, after ``idle_s`` without a point or message, or when the relay has been
unreachable for ``UNREACHABLE_S``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("WebKit2", "4.1")
import cairo  # noqa: E402
from gi.repository import Gdk, GLib, WebKit2  # noqa: E402

from kiosk.assist.offers import OfferDrop  # noqa: E402
from kiosk.assist.pacing import Pacing  # noqa: E402
from kiosk.assist.relay_client import RelayClient, RelayUnreachable, SessionEnded  # noqa: E402
from kiosk.protocol.assist import MAX_FRAME_BYTES  # noqa: E402
from kiosk.window.assist_widgets import Banner, ConsentQuestion, Pointer, install_assist_css  # noqa: E402

log = logging.getLogger(__name__)

MIN_FRAME_INTERVAL_S = 0.25  # at most four captures a second, however often the page is redrawn
RECHECK_S = 5.0              # a snapshot after this long without one, even if no redraw was heard of
UNREACHABLE_S = 15.0
CONSENT_WAIT_S = 100.0       # the question goes away unanswered (the server gives up at 120 s)
EVENTS_WAIT_S = 15


class AssistSharing:
    def __init__(self, kiosk, events_dir, idle_s: float = 600.0) -> None:
        self.kiosk, self.idle_s = kiosk, idle_s
        self.offers = OfferDrop(events_dir)
        install_assist_css()
        self.pointer = Pointer()
        kiosk.overlay.add_overlay(self.pointer)
        kiosk.overlay.set_overlay_pass_through(self.pointer, True)
        self.consent = ConsentQuestion(self.on_answer)
        kiosk.overlay.add_overlay(self.consent.widget)  # on top of every other panel
        self.banner = Banner(self.on_stop)
        layout = kiosk.notice.get_parent()
        layout.pack_start(self.banner, False, False, 0)
        layout.reorder_child(self.banner, 1)  # right under the toolbar
        self.offer: dict | None = None
        self.offered_at = 0.0
        self.running = False
        self.generation = 0              # bumps at each end: late callbacks of a past session do nothing
        self.in_flight = False
        self.not_before = 0.0            # no capture before this moment (the link's budget)
        self.pacing = Pacing()
        self.last_digest = b""
        self.dirty = False               # the shared view was redrawn since the last capture
        self.captured_at = 0.0
        self.capture_timer = None        # the one pending capture, if any
        self.watched = None              # (view, handler id) of the view whose redraws we follow
        self.last_event_at = 0.0
        self.failing_since: float | None = None
        self.frames_sent = 0
        self.bytes_sent = 0
        previous = kiosk.on_session_boundary

        def at_session_boundary(window) -> None:
            self.end("session_end")
            if previous is not None:
                previous(window)
        kiosk.on_session_boundary = at_session_boundary
        GLib.timeout_add(500, self._watch)

    # ------------------------------------------------------------------ asking
    def _watch(self) -> bool:
        now = time.monotonic()
        if self.offer is None:
            offer = self.offers.take()
            if offer is not None:
                self.offer, self.offered_at = offer, now
                self.consent.show(offer["mediator"], offer["title"])
        elif not self.running and self.consent.visible and now - self.offered_at > CONSENT_WAIT_S:
            self.consent.hide()  # unanswered: nothing is sent
            self.offer = None
        elif self.running and now - self.last_event_at > self.idle_s:
            self.end("idle")
        return True

    def _client(self, timeout_s: float = 10.0) -> RelayClient:
        offer = self.offer
        return RelayClient(offer["relay_url"], offer["id"], offer["key"], offer.get("ca_file"), timeout_s)

    def on_answer(self, accept: bool) -> None:
        self.consent.hide()
        self.kiosk.view.grab_focus()
        if self.offer is None:
            return
        generation = self.generation
        client = self._client()

        def send() -> None:
            try:
                client.answer(accept)
            except (RelayUnreachable, SessionEnded) as error:
                log.warning("the assistance answer could not be delivered: %s", error)
                GLib.idle_add(self._failed_to_start, generation, accept)
                return
            finally:
                client.close()
            GLib.idle_add(self._start if accept else self._forget, generation)
        threading.Thread(target=send, name="assist-answer", daemon=True).start()

    def _failed_to_start(self, generation: int, accept: bool) -> bool:
        if generation == self.generation:
            self.offer = None
            if accept:
                self.kiosk.notice.show_message("L’aide à distance n’a pas pu commencer : la liaison ne répond pas.")
        return False

    def _forget(self, generation: int) -> bool:
        if generation == self.generation:
            self.offer = None
        return False

    # ------------------------------------------------------------------ sharing
    def _start(self, generation: int) -> bool:
        if generation != self.generation or self.offer is None:
            return False
        self.running = True
        self.last_event_at = time.monotonic()
        self.failing_since = None
        self.last_digest = b""
        self.banner.show_for(self.offer["mediator"])
        threading.Thread(target=self._listen, args=(generation, self._client(EVENTS_WAIT_S + 15)),
                         name="assist-events", daemon=True).start()
        self.frames_client = self._client()
        self.dirty = True
        self.captured_at = time.monotonic()  # the first capture once the banner has taken its place
        self._schedule(generation)
        GLib.timeout_add_seconds(int(RECHECK_S), self._recheck, generation)
        return False

    def _shared_view(self):
        help_view = self.kiosk.help.view
        view = help_view if help_view is not None and self.kiosk.help.visible else self.kiosk.view
        if self.watched is None or self.watched[0] is not view:
            self._unwatch()
            self.watched = (view, view.connect_after("draw", self._on_draw))
            self.dirty = True
        return view

    def _unwatch(self) -> None:
        if self.watched is not None:
            view, handler = self.watched
            self.watched = None
            if view.handler_is_connected(handler):
                view.disconnect(handler)

    def _on_draw(self, _view, _cairo) -> bool:
        if self.running and not self.dirty:
            self.dirty = True
            self._schedule(self.generation)
        return False

    def _recheck(self, generation: int) -> bool:
        if generation != self.generation or not self.running:
            return False
        if time.monotonic() - self.captured_at >= RECHECK_S:
            self.dirty = True
            self._schedule(generation)
        return True

    def _schedule(self, generation: int) -> bool:
        """Arm the one capture timer for the earliest moment a capture is allowed (main loop only)."""
        if generation != self.generation or not self.running or self.capture_timer is not None or self.in_flight:
            return False
        now = time.monotonic()
        delay = max(0.0, self.not_before - now, self.captured_at + MIN_FRAME_INTERVAL_S - now)
        self.capture_timer = GLib.timeout_add(int(delay * 1000), self._capture, generation)
        return False

    def _capture(self, generation: int) -> bool:
        self.capture_timer = None
        if generation != self.generation or not self.running:
            return False
        view = self._shared_view()
        if not self.dirty or self.in_flight:
            return False  # nothing changed, or the previous frame is still on its way (it re-arms when done)
        self.dirty = False
        self.in_flight = True
        self.captured_at = time.monotonic()
        view.get_snapshot(WebKit2.SnapshotRegion.VISIBLE, WebKit2.SnapshotOptions.NONE, None,
                          self._snapshot_done, generation)
        return False

    def _capture_finished(self, generation: int) -> bool:
        self.in_flight = False
        if self.dirty:
            self._schedule(generation)
        return False

    def _snapshot_done(self, view, result, generation: int) -> None:
        try:
            surface = view.get_snapshot_finish(result)
        except GLib.Error as error:  # the view went away (session end) or is still loading
            log.info("no snapshot this time: %s", error.message)
            self._capture_finished(generation)
            return
        if generation != self.generation or not self.running:
            self.in_flight = False
            return
        small = scaled(surface, self.pacing.scale)
        digest = hashlib.blake2b(small.get_data(), digest_size=16).digest()
        if digest == self.last_digest:
            self._capture_finished(generation)
            return
        self.last_digest = digest
        threading.Thread(target=self._upload, args=(generation, small), name="assist-frame", daemon=True).start()

    def _upload(self, generation: int, small) -> None:
        try:
            pixbuf = Gdk.pixbuf_get_from_surface(small, 0, 0, small.get_width(), small.get_height())
            ok, image = pixbuf.save_to_bufferv("jpeg", ["quality"], [str(self.pacing.quality)])
            if not ok or len(image) > MAX_FRAME_BYTES:
                self.pacing.too_big()
                self.last_digest = b""
                self.dirty = True
                return
            started = time.monotonic()
            self.frames_client.send_frame(bytes(image), "image/jpeg")
            upload_s = time.monotonic() - started
            self.pacing.record(upload_s, len(image))
            self.not_before = time.monotonic() + self.pacing.pause_after(len(image), upload_s)
            self.frames_sent += 1
            self.bytes_sent += len(image)
            self.failing_since = None
        except RelayUnreachable as error:
            self.last_digest = b""
            self.dirty = True
            self.not_before = time.monotonic() + 1.0  # try again in a second, not at once
            self._unreachable(generation, error)
        except SessionEnded as error:
            GLib.idle_add(self._ended_by_server, generation, error.reason)
        except GLib.Error as error:
            log.error("a frame could not be encoded: %s", error.message)
        finally:
            GLib.idle_add(self._capture_finished, generation)

    def _unreachable(self, generation: int, error) -> None:
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
            log.warning("the assistance relay does not answer: %s", error)
        elif now - self.failing_since > UNREACHABLE_S:
            GLib.idle_add(self._end_if, generation, "unreachable")

    def _listen(self, generation: int, client: RelayClient) -> None:
        last = 0
        try:
            while generation == self.generation and self.running:
                try:
                    events, last = client.events(last, EVENTS_WAIT_S)
                except RelayUnreachable as error:
                    self._unreachable(generation, error)
                    time.sleep(1.0)
                    continue
                self.failing_since = None
                for event in events:
                    GLib.idle_add(self._show_event, generation, event)
        except SessionEnded as error:
            GLib.idle_add(self._ended_by_server, generation, error.reason)
        finally:
            client.close()

    def _show_event(self, generation: int, event: dict) -> bool:
        if generation != self.generation or not self.running or not isinstance(event, dict):
            return False
        self.last_event_at = time.monotonic()
        if event.get("kind") == "point":
            x, y = event.get("x"), event.get("y")
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and 0 <= x <= 1 and 0 <= y <= 1:
                self.pointer.show_at(float(x), float(y))
        elif event.get("kind") == "message" and isinstance(event.get("text"), str):
            self.banner.say(event["text"][:200])
        return False

    # ------------------------------------------------------------------ ending
    def on_stop(self) -> None:
        self.end("resident")

    def _end_if(self, generation: int, reason: str) -> bool:
        if generation == self.generation:
            self.end(reason)
        return False

    def _ended_by_server(self, generation: int, reason: str) -> bool:
        if generation == self.generation and self.running:
            self._close(tell=None)
        return False

    def end(self, reason: str) -> None:
        """End what is under way (a question or a sharing); the relay is told why, in the background."""
        if self.consent.visible:
            self.consent.hide()
        if self.offer is None:
            return
        if reason == "session_end" and self.running:
            self._close(tell="session_end")
        else:
            self._close(tell=reason if self.running and reason != "unreachable" else None)

    def _close(self, tell: str | None) -> None:
        was_running = self.running
        offer = self.offer
        self.generation += 1
        self.running = False
        self.offer = None
        self._unwatch()
        self.banner.hide()
        self.pointer.clear()
        if was_running and tell != "session_end":  # the next resident is not told of the last one's help
            self.kiosk.notice.show_message("L’aide à distance est terminée : plus personne ne voit votre écran.")
        if tell and offer is not None:
            client = RelayClient(offer["relay_url"], offer["id"], offer["key"], offer.get("ca_file"), 5.0)

            def tell_relay() -> None:
                try:
                    client.end(tell)
                except (RelayUnreachable, SessionEnded) as error:
                    log.info("the relay was not told of the end (%s): it ends on its own", error)
                finally:
                    client.close()
            threading.Thread(target=tell_relay, name="assist-end", daemon=True).start()


def scaled(surface, scale: float):
    """The snapshot as an RGB24 image surface ``scale`` times its size (pixman's bilinear filter)."""
    width, height = max(1, int(surface.get_width() * scale)), max(1, int(surface.get_height() * scale))
    small = cairo.ImageSurface(cairo.FORMAT_RGB24, width, height)
    context = cairo.Context(small)
    context.scale(width / surface.get_width(), height / surface.get_height())
    context.set_source_surface(surface, 0, 0)
    context.get_source().set_filter(cairo.FILTER_BILINEAR if scale != 1.0 else cairo.FILTER_NEAREST)
    context.paint()
    small.flush()
    return small
