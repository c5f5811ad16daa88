"""``kiosk run``: the shell served on loopback in a thread, the kiosk window in pywebview's GTK
window on the main thread (``kiosk.window.host``).

Exit codes: 0 after a demo window was closed or a stop signal; 1 when there is no display;
3 on a fatal error (the shell stopped, a wipe failed) so that the supervisor restarts the kiosk,
which also clears everything a session could have left.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading

from werkzeug.serving import make_server

from kiosk.config import KioskConfig
from kiosk.events import EventKind, EventLog, Event
from kiosk.window.settings import WindowSettings

log = logging.getLogger(__name__)

EXIT_NO_DISPLAY = 1
EXIT_FATAL = 3
IDLE_CHECK_S = 30  # an idle kiosk applies a staged bundle or a remote restart within this (issue 12)


def start_shell(config: KioskConfig, events: EventLog, documents, printer, port: int = 0, shell_settings=None):
    """Build the shell with the documents pages and serve it on 127.0.0.1 in a daemon thread."""
    from kiosk.shell import create_app
    from kiosk.shell.documents import init_documents

    app = create_app(config, events=events, settings=shell_settings)
    init_documents(app, documents=documents, printer=printer, events=events)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log: no URL paths kept
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="shell", daemon=True)
    thread.start()
    # Render the home once while the window and WebKit's processes start (templates compiled,
    # first connectivity probe under way): the web view's first request is then answered at once.
    threading.Thread(target=_warm_up, args=(app,), name="shell-warm-up", daemon=True).start()
    return server, thread


def _warm_up(app) -> None:
    try:
        app.test_client().get("/")
    except Exception as error:  # noqa: BLE001 - only an optimisation; the real request will report
        log.warning("the shell warm-up failed: %s", error)


def run(config: KioskConfig, settings: WindowSettings | None = None, *, windowed: bool = False,
        on_show=None, shell_settings=None, bundle_dir=None) -> int:
    """Run the kiosk until stopped; ``on_show(kiosk)`` is called once the window is shown (benchmark);
    ``bundle_dir``: where the agent stages configuration bundles, applied between sessions."""
    settings = settings or WindowSettings()
    # Window-only (issue 17): the few French words the shell formats with are read from Babel, then
    # Babel's data is dropped, before GTK, WebKit and the shell allocate and reuse that memory.
    from kiosk.window.babel_memory import keep_only_french_words

    keep_only_french_words()
    import gi

    gi.require_version("Gtk", "3.0")
    from gi.repository import GLib, Gtk

    # Classic scrollbars, always shown: residents see that a page goes on, and no fade-out animation
    # repaints the page for ~3 s after every scroll (measured with bench/assist.py; docs/assistance.md).
    os.environ.setdefault("GTK_OVERLAY_SCROLLING", "0")
    if not Gtk.init_check(sys.argv[:1])[0]:
        print("Pas d'écran disponible : lancez « kiosk run » dans une session graphique (variable DISPLAY).",
              file=sys.stderr)
        return EXIT_NO_DISPLAY

    from kiosk.shell import ShellSettings
    from kiosk.documents.folder import SessionDocuments
    from kiosk.window.host import PywebviewHost
    from kiosk.window.kiosk import KioskWindow
    from kiosk.documents.printing import CupsPrinter

    # Inside the window, the shell's header leaves "Accueil" and the text size to the native toolbar.
    shell_settings = (shell_settings or ShellSettings.from_environment()).with_changes(in_kiosk_window=True)
    if bundle_dir is not None and not shell_settings.messages_file:  # the staff's banners (issue 12)
        shell_settings = shell_settings.with_changes(messages_file=os.path.join(bundle_dir, "messages.json"))
    private_folder = None
    if settings.documents_dir is None:
        private_folder = tempfile.mkdtemp(prefix="kiosk-documents-", dir=os.environ.get("XDG_RUNTIME_DIR"))
    documents = SessionDocuments(settings.documents_dir or private_folder)
    documents.wipe()  # whatever a previous run left behind (a crash, a power cut)
    events = EventLog(settings.events_dir)
    printer = CupsPrinter(config.printer.name if config.printer else None)
    try:
        server, thread = start_shell(config, events, documents, printer, settings.shell_port, shell_settings)
    except OSError as error:
        print(f"Impossible de servir l'accueil sur 127.0.0.1 ({error.strerror or error}).", file=sys.stderr)
        return EXIT_FATAL
    shell_origin = f"http://127.0.0.1:{server.server_port}"

    def build_kiosk(native_window, quit_host) -> KioskWindow:
        kiosk = KioskWindow(config, settings, shell_origin=shell_origin, events=events, documents=documents,
                            printer=printer, windowed=windowed, host=native_window, quit=quit_host)

        def watch_shell() -> bool:
            if not thread.is_alive():
                kiosk.fatal("the shell server stopped")
                return False
            return True

        GLib.timeout_add_seconds(2, watch_shell)
        if bundle_dir is not None:
            from kiosk.window.bundle_swap import EXIT_RELOAD, swap_after_wipe

            def quit_after_farewell(kiosk) -> None:
                kiosk.exit_code = EXIT_RELOAD
                GLib.timeout_add(int((settings.farewell_s + 0.5) * 1000), lambda: kiosk._quit() and False)
            kiosk.on_session_boundary = swap_after_wipe(bundle_dir, quit_after_farewell)
            from kiosk.agent.actions_boundary import BoundaryRequests  # remote restart and reboot (issue 12)
            requests = BoundaryRequests(bundle_dir, settings.reboot_command)
            kiosk.on_session_boundary = requests.boundary_hook(kiosk.on_session_boundary, quit_after_farewell)
            GLib.timeout_add_seconds(IDLE_CHECK_S, lambda: requests.when_free(kiosk, kiosk.on_session_boundary) or True)
        from kiosk.updates.boundary import leave_for_release  # a new kiosk version waits: switch between sessions
        kiosk.on_session_boundary = leave_for_release(kiosk.on_session_boundary, settings.farewell_s)
        from kiosk.window.assist import AssistSharing
        kiosk.assist = AssistSharing(kiosk, settings.events_dir)  # consented remote assistance (issue 13)
        return kiosk

    def ready(kiosk) -> None:
        events.emit(Event.now(EventKind.KIOSK_STARTED))
        if on_show is not None:
            on_show(kiosk)
        print(f"Kiosque lancé (accueil sur {kiosk.home}).", flush=True)

    try:
        return PywebviewHost(build_kiosk, windowed=windowed, on_ready=ready).run()
    finally:
        server.shutdown()
        documents.wipe()
        if private_folder:
            shutil.rmtree(private_folder, ignore_errors=True)
