"""The kiosk controller: one GTK window, the native toolbar, one guarded web view per session.

It wires the pure parts (policy, session, documents, printing) to GTK/WebKit signals and emits the
window's events. Everything here runs on the GTK main thread.

The top-level window belongs to a host: in ``kiosk run`` it is pywebview's GTK window
(``kiosk.window.host``), in the in-process tests a plain ``Gtk.Window``. Either way the kiosk
*adopts* it (``adopt_window``): whatever the host put in it is taken out (a web view found there is
closed and destroyed, it is not guarded) and the kiosk's own layout goes in.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from urllib.parse import quote, urlsplit

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gdk, GLib, Gtk, WebKit2  # noqa: E402

from kiosk.events import Event, EventKind, EventLog, InvalidEvent  # noqa: E402
from kiosk.window.chrome import Notice, Toolbar, install_css  # noqa: E402
from kiosk.documents.folder import SessionDocuments  # noqa: E402
from kiosk.window.ending import Ending  # noqa: E402
from kiosk.window.failures import failure_cause, is_pdf_response, server_error_status, unreachable_page  # noqa: E402
from kiosk.window.heap import release_freed_memory  # noqa: E402
from kiosk.window.help_overlay import HelpOverlay  # noqa: E402
from kiosk.window.memory import machine_memory_mb, web_process_limit_mb  # noqa: E402
from kiosk.window.panels import DocumentPicker, IdleQuestion, MoreActions  # noqa: E402
from kiosk.window.policy import Verdict, decide_navigation, refusal_page  # noqa: E402
from kiosk.documents.printing import CupsPrinter  # noqa: E402
from kiosk.window.session import Action, Session, State  # noqa: E402
from kiosk.window.page_display import PageDisplay  # noqa: E402
from kiosk.window.toplevel import WINDOW_TITLE, adopt_window, screen_geometry, windowed_size  # noqa: E402
from kiosk.window.transfers import Transfers  # noqa: E402
from kiosk.window.watchdog import PageVerdict, PageWatch  # noqa: E402
from kiosk.window.webview import destroy_web_view, is_quiet_failure, navigation_request, new_web_view, wants_download  # noqa: E402

log = logging.getLogger(__name__)

INPUT_EVENTS = {Gdk.EventType.KEY_PRESS, Gdk.EventType.BUTTON_PRESS, Gdk.EventType.MOTION_NOTIFY,
                Gdk.EventType.SCROLL, Gdk.EventType.TOUCH_BEGIN}
TILE_PATH = re.compile(r"^/ouvrir/([a-z0-9][a-z0-9-]{0,62})$")
RELEASE_AFTER_HOME_MS = 1000  # the shell's first requests answered: then give start-up's freed memory back (heap.py)


def _cover_the_page(overlay, _child, area) -> bool:
    """Every overlay (help, backdrops of panels) covers exactly the page's area, never more: a panel's
    natural height (wrapped text) must not push it off a small screen. ``area`` is filled in place."""
    allocation = overlay.get_allocation()
    area.x, area.y, area.width, area.height = 0, 0, allocation.width, allocation.height
    return True


class KioskWindow:
    def __init__(self, config, settings, *, shell_origin: str, events: EventLog, documents: SessionDocuments,
                 printer: CupsPrinter, windowed: bool = False, clock=time.monotonic,
                 host: Gtk.Window | None = None, quit=None) -> None:
        """``host``: the top-level window to adopt (None: a plain Gtk.Window of our own); ``quit``:
        how to end the host's main loop after a fatal error (default: destroy the window)."""
        self.config, self.settings, self.events = config, settings, events
        self.documents, self.printer, self.windowed, self.clock = documents, printer, windowed, clock
        self.shell_origin = shell_origin.rstrip("/")
        self.home = self.shell_origin + "/"
        self.farewell = self.shell_origin + "/session-terminee"
        self.farewell_s = settings.farewell_s
        self.display = PageDisplay(self)
        self.text = self.display.text
        self.rules = config.allowed_hosts
        self.session = Session(settings.idle_warning_after_s or config.idle.warning_after_s,
                               settings.idle_answer_within_s or config.idle.answer_within_s)
        self.exit_code = 0
        self.on_session_boundary = None  # called after each wipe, between two residents (kiosk/window/bundle_swap.py)
        self.current_tile: str | None = None
        self.home_ready = False          # the home page of the current view finished loading
        self._home_shown_once = False    # the start's "home shown" line (bench/boot.py times it) is said
        self.last_wipe_s: float | None = None
        self._wipe_started: float | None = None
        self.watch = PageWatch(hang_timeout_s=settings.hang_timeout_s,
                               loading_hang_timeout_s=settings.loading_hang_timeout_s,
                               load_timeout_s=settings.load_timeout_s)
        self.web_memory_limit_mb = settings.web_memory_limit_mb or web_process_limit_mb(machine_memory_mb())
        self._generation = 0
        self._loads_started = 0          # main-frame loads started in the current view
        self._pdf_opened_at = None       # (view, loads started) when a page opened a PDF

        install_css()
        self.window = host if host is not None else Gtk.Window()
        self.window.set_title(WINDOW_TITLE)
        adopt_window(self.window)
        self._quit = quit or self.window.destroy
        self.toolbar = Toolbar(self.on_toolbar)
        self.notice = Notice()
        self.overlay = Gtk.Overlay()
        self.overlay.connect("get-child-position", _cover_the_page)
        self.idle_question = IdleQuestion(self.on_still_here)
        self.picker = DocumentPicker()
        self.more = MoreActions(self.on_toolbar)
        self.ending = Ending(self)
        self.end_question = self.ending.panel
        self.help = HelpOverlay(self)
        self.transfers = Transfers(documents=documents, printer=printer, notice=self.notice, picker=self.picker,
                                   usb_roots=settings.usb_roots, emit=self._emit, show_document=self.show_document)
        self.on_download_started = self.transfers.on_download_started
        self.on_file_chooser = self.transfers.on_file_chooser
        layout = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
        layout.pack_start(self.toolbar, False, False, 0)
        layout.pack_start(self.notice, False, False, 0)
        layout.pack_start(self.overlay, True, True, 0)
        for panel in (self.more, self.end_question, self.picker, self.idle_question):  # last is on top
            self.overlay.add_overlay(panel.widget)
        self.window.add(layout)
        self.window.connect("delete-event", self.on_delete)
        self.window.connect("key-press-event", self.on_key)
        self.window.connect("button-press-event", self.on_input_event)
        self._place_window()
        self.view = self._new_view()
        GLib.timeout_add(500, self._tick)
        GLib.timeout_add(int(settings.ping_interval_s * 1000), self._ping)

    # ------------------------------------------------------------------ window and views

    def _place_window(self) -> None:
        geometry = screen_geometry()
        if self.windowed:
            self.window.set_default_size(*windowed_size(geometry))
            self.toolbar.fit(windowed_size(geometry)[0])
            return
        self.toolbar.fit(geometry.width)
        # No window manager on a kiosk: take the whole screen ourselves, then also ask for fullscreen.
        self.window.set_decorated(False)
        self.window.set_size_request(geometry.width, geometry.height)
        self.window.set_resizable(False)
        self.window.move(geometry.x, geometry.y)
        self.window.set_keep_above(True)
        self.window.set_skip_taskbar_hint(True)
        self.window.fullscreen()

    def show(self) -> None:
        self.window.show_all()
        self.view.grab_focus()

    def _new_view(self, first_page: str | None = None) -> WebKit2.WebView:
        self._generation += 1
        self.watch.reset()
        self.home_ready = False
        view = new_web_view(self, memory_limit_mb=self.web_memory_limit_mb,
                            memory_poll_interval_s=self.settings.memory_poll_interval_s)
        view.connect("load-changed", self.on_load_changed)
        self.overlay.add(view)
        view.show()
        self.view = view  # before loading: WebKit may emit load-changed from load_uri itself
        self.watch.started(time.monotonic())  # a new web process is starting: slow, not frozen
        view.load_uri(first_page or self.home)
        return view

    def is_shell_page(self, url: str | None) -> bool:
        return (url or "").startswith(self.shell_origin + "/")

    def on_delete(self, _window, _event) -> bool:
        # The demo window closes (the host's main loop ends with its last window); a locked kiosk cannot.
        return not self.windowed

    def fatal(self, reason: str) -> None:
        """Something the window cannot recover from in place: exit non-zero, the supervisor restarts us."""
        log.error("fatal: %s", reason)
        self.exit_code = 3
        self._quit()

    # ------------------------------------------------------------------ input, toolbar, idle

    def on_input_event(self, _widget, event) -> bool:
        if event.get_event_type() in INPUT_EVENTS:
            self._touch()
        return False

    def on_key(self, _window, event) -> bool:
        self._touch()
        if event.keyval == Gdk.KEY_F6:  # move between the toolbar and the page, as in browsers
            if self.view.has_focus():
                self.toolbar.buttons["home"].grab_focus()
            else:
                self.view.grab_focus()
            return True
        return False

    def _touch(self) -> None:
        if self.session.touch(self.clock()) is Action.STARTED:
            self._emit(EventKind.SESSION_STARTED)

    def on_toolbar(self, action: str) -> None:
        self._touch()
        view = self.view
        if action == "help":
            if self.help.visible:
                self.help.close()
            else:
                self.more.hide()
                self.help.open()
            return
        if action in ("zoom_in", "zoom_out"):
            if self.text.step(1 if action == "zoom_in" else -1):
                self.apply_display(view)
                if self.help.visible:
                    self.apply_display(self.help.view)
            return
        help_was_open = self.help.visible
        self.help.close()  # every other button acts on the page behind the help
        if action == "home":
            view.load_uri(self.home)
        elif action == "back":
            if view.can_go_back() and not help_was_open:  # from the help, "Retour" is back to the page
                view.go_back()
        elif action == "print":
            self.transfers.print_page(view)
        elif action == "documents":
            view.load_uri(self.shell_origin + "/documents")
        elif action == "more":
            self.more.show()
        elif action == "end":
            self.ask_end()

    # ------------------------------------------------------------------ text size and contrast

    def apply_display(self, view) -> None:
        self.display.apply(view)

    def set_display(self, *, largest: bool | None = None, contrast: bool | None = None) -> None:
        """Normal or largest text and/or contrast, as the resident would set them (tests, benchmark)."""
        self.display.set(largest=largest, contrast=contrast)

    def on_still_here(self) -> None:
        if self.session.still_here(self.clock()) is Action.KEEP:
            self.idle_question.hide()
            self.view.grab_focus()

    def _tick(self) -> bool:
        now = self.clock()
        action = self.session.tick(now)
        if action is Action.WARN:
            self._emit(EventKind.IDLE_WARNING)
            for panel in (self.picker, self.more, self.end_question):
                panel.hide()  # the idle question is the only one left (the help stays under it)
            self.idle_question.show(self.session.seconds_left(now))
        elif action is Action.END_IDLE:
            self.end_session(idle=True)
        elif self.session.state is State.WARNING:
            self.idle_question.update(self.session.seconds_left(now))
        return True

    # ------------------------------------------------------------------ the end of a session

    def ask_end(self, status: str | None = None) -> None:
        """"Terminer ma session": first the question (ending.py)."""
        self.more.hide()
        self.ending.ask(status)

    def on_end_erase(self) -> None:
        """The question's "Oui, tout effacer"."""
        self.ending.erase()

    def end_session(self, *, idle: bool) -> None:
        """Wipe everything the resident left, then show the home screen of a brand-new view."""
        # Even with no session running (no input yet) the view is replaced: it costs ~0.2 s.
        started = time.monotonic()
        try:
            if idle:
                self._emit(EventKind.IDLE_RESET)
            self.help.discard()  # it shares the old view's web context
            old = self.view
            self.overlay.remove(old)
            destroy_web_view(old)
            self.display.reset()
            self.view = self._new_view(self.farewell)
            self._wipe_started = started
            for panel in (self.idle_question, self.more, self.end_question):
                panel.hide()
            self.transfers.cancel_chooser()
            self.notice.clear()
            self.documents.wipe()
            threading.Thread(target=self.printer.cancel_pending, name="cancel-print-jobs", daemon=True).start()
            for selection in (Gdk.SELECTION_CLIPBOARD, Gdk.SELECTION_PRIMARY):
                clipboard = Gtk.Clipboard.get(selection)
                clipboard.set_text("", 0)
                clipboard.clear()
            self.current_tile = None
        except Exception as error:  # noqa: BLE001 - a wipe that failed half-way must never be served
            self.fatal(f"the session wipe failed: {error!r}")
            return
        duration = self.session.finish(self.clock())
        if duration is not None:
            self._emit(EventKind.SESSION_ENDED, duration_s=round(duration, 1))
        if self.on_session_boundary is not None:
            self.on_session_boundary(self)
        self.view.grab_focus()

    # ------------------------------------------------------------------ WebKit signals

    def on_load_changed(self, view, event) -> None:
        if view is not self.view and view is not self.help.view:
            return
        if view is self.view:  # the hang detector watches the session's page (slow loading is not frozen)
            if event == WebKit2.LoadEvent.STARTED:
                self._loads_started += 1
                self.watch.started(time.monotonic())
            elif event == WebKit2.LoadEvent.COMMITTED:
                self.watch.committed()
            elif event == WebKit2.LoadEvent.FINISHED:
                self.watch.ended()
        if event == WebKit2.LoadEvent.COMMITTED:
            # Page zoom for other sites, never on the shell's pages (they have their own text sizes).
            view.set_zoom_level(1.0 if self.is_shell_page(view.get_uri()) else self.text.zoom)
            if view is self.view and view.get_uri() != self.home:
                self.home_ready = False  # "the home is on the screen", not "was once"
            return
        if event != WebKit2.LoadEvent.FINISHED:
            return
        uri = view.get_uri()
        if self.is_shell_page(uri):
            self.apply_display(view)
        if view is not self.view:
            return
        if self._wipe_started is not None:  # the new view's first page (normally the session-ended one)
            self.last_wipe_s = time.monotonic() - self._wipe_started
            self._wipe_started = None
        if uri == self.farewell:
            GLib.timeout_add(int(self.farewell_s * 1000), self._leave_farewell, view)
        if uri == self.home:
            self.home_ready = True
            if not self._home_shown_once:  # the kiosk's ready event: the journal's time of this line
                self._home_shown_once = True
                print("Accueil affiché.", flush=True)
                GLib.timeout_add(RELEASE_AFTER_HOME_MS, self._release_start_up_memory)

    def _release_start_up_memory(self) -> bool:
        release_freed_memory()
        return False

    def _leave_farewell(self, view) -> bool:
        """After the session-ended page, the home, replacing it in the history ("Retour" leads nowhere)."""
        if view is self.view and view.get_uri() == self.farewell:
            # Only from the session-ended page itself (the script runs in whatever document is shown).
            script = f"if (location.href === {json.dumps(self.farewell)}) location.replace({json.dumps(self.home)})"
            view.evaluate_javascript(script, -1, None, None, None, None, None)
        return False

    def on_decide_policy(self, view, decision, kind) -> bool:
        if kind == WebKit2.PolicyDecisionType.RESPONSE:
            if wants_download(decision):
                decision.download()
                return True
            if is_pdf_response(decision):  # never WebKit's PDF viewer: the kiosk's document view
                main_frame = decision.is_main_frame_main_resource()
                self._pdf_opened_at = (view, self._loads_started) if main_frame else None
                self.transfers.show_next_document(main_frame)
                decision.download()
                return True
            status = server_error_status(decision, self.shell_origin)
            if status is not None:
                decision.ignore()
                address = decision.get_response().get_uri() or ""
                self._show_failure(view, address, "serveur", status)
                return True
            return False
        url, user_initiated = navigation_request(decision)
        popup = kind == WebKit2.PolicyDecisionType.NEW_WINDOW_ACTION
        verdict = decide_navigation(url, rules=self.rules, shell_origin=self.shell_origin,
                                    user_initiated=user_initiated or popup)
        if verdict.allowed and not popup:
            self._remember_tile(url)
            decision.use()
            return True
        decision.ignore()
        if verdict.allowed:  # a popup to an allowed host opens in this same window
            GLib.idle_add(self._load_if_current, view, url)
        else:
            self._refused(view, verdict, user_initiated or popup)
        return True

    def on_create(self, view, action):
        """A new window was asked for without going through decide-policy: same rules, same window."""
        url = action.get_request().get_uri() or ""
        verdict = decide_navigation(url, rules=self.rules, shell_origin=self.shell_origin, user_initiated=True)
        if verdict.allowed and url not in ("", "about:blank"):
            GLib.idle_add(self._load_if_current, view, url)
        elif not verdict.allowed:
            self._refused(view, verdict, True)
        return None

    def _refused(self, view, verdict, user_initiated: bool) -> None:
        self._emit(EventKind.NAVIGATION_REFUSED, host=verdict.host)
        if verdict.verdict is Verdict.REFUSE_PAGE:
            GLib.idle_add(self._load_if_current, view, refusal_page(self.shell_origin, verdict.host))
        elif user_initiated and verdict.host is None:
            self.notice.show_message("Ce lien ouvre une autre application (courriel, téléphone, fichier) : "
                                     "ce n’est pas possible sur ce point numérique.")

    def _load_if_current(self, view, url: str) -> bool:
        if view is self.view:
            view.load_uri(url)
        return False

    def _remember_tile(self, url: str) -> None:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.shell_origin:
            match = TILE_PATH.match(parts.path)
            if match:
                self.current_tile = match.group(1)

    def _show_failure(self, view, address: str, cause: str, status: int | None = None) -> None:
        """Instead of WebKit's error page: the shell's page saying what went wrong (see failures.py)."""
        log.info("a page could not be shown: %s", cause)  # no address: no URL is ever logged
        page = unreachable_page(self.shell_origin, address, cause, tile=self.current_tile, status=status)
        GLib.idle_add(self._load_if_current, view, page)

    def on_load_failed(self, view, _event, uri, error) -> bool:
        if is_quiet_failure(error):
            return False
        if (uri or "").startswith(self.shell_origin):
            log.error("the shell page failed to load: %s", error.message)
            return True
        self._show_failure(view, uri or "", failure_cause(error))
        return True

    def on_tls_error(self, view, uri, _certificate, _errors) -> bool:
        self._show_failure(view, uri or "", "tls")
        return True

    def show_document(self, key: str) -> bool:
        """Show a session document in the shell's document view (a PDF a page opened), unless the
        resident went somewhere else meanwhile; False when not shown."""
        opened_at, self._pdf_opened_at = self._pdf_opened_at, None
        if opened_at != (self.view, self._loads_started):
            return False
        self.view.load_uri(f"{self.shell_origin}/documents/voir/{quote(key)}")
        return True

    def on_web_process_terminated(self, view, reason) -> None:
        if view is self.view and reason != WebKit2.WebProcessTerminationReason.TERMINATED_BY_API:
            self.recover(f"web process ended ({reason.value_nick})")

    def recover(self, why: str) -> None:
        log.warning("recovering the web view: %s", why)
        self._emit(EventKind.CRASH_RECOVERED)
        self.watch.reset()
        self.watch.started(time.monotonic())  # a new web process is starting: slow, not frozen
        self.view.load_uri(self.home)

    def _ping(self) -> bool:
        now = time.monotonic()
        verdict = self.watch.verdict(now)
        if verdict is PageVerdict.FROZEN:
            self.view.terminate_web_process()
            self.recover("web process did not answer (page %s)" % ("loading" if self.watch.loading else "loaded"))
            return True
        if verdict is PageVerdict.NO_ANSWER:  # a site that does not start answering: stop waiting, say so
            address = self.view.get_uri() or ""
            self.watch.ended()
            if not address.startswith(self.shell_origin + "/"):
                self.view.stop_loading()
                self._show_failure(self.view, address, "delai")
        if not self.watch.ping(now):
            return True
        generation = self._generation

        def answered(view, result, _data=None):
            try:
                view.evaluate_javascript_finish(result)
            except GLib.Error:
                pass  # an answer, even an error, proves the process is alive
            if generation == self._generation:
                self.watch.answered()

        self.view.evaluate_javascript("0", -1, "kiosk-ping", None, None, answered, None)
        return True

    def on_page_print(self, _view, _operation) -> bool:
        self.notice.show_message("Pour imprimer, touchez « Imprimer » en haut de l’écran.")
        return True

    # ------------------------------------------------------------------ events

    def _emit(self, kind: EventKind, **fields) -> None:
        try:
            self.events.emit(Event.now(kind, **fields))
        except InvalidEvent:
            # A host that is not a plain name (an IPv6 literal...): count the event without it.
            self.events.emit(Event.now(kind, **{k: v for k, v in fields.items() if k != "host"}))
