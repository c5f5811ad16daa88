"""One guarded WebKitGTK web view, created fresh for every session.

Each view gets its own *ephemeral* web context: cookies, storage, IndexedDB, caches, HTTP
credentials, back/forward history, zoom and form state live only in the memory of that context's
processes. Dropping the view and its context at the end of a session ends those processes, so
nothing of a session can reach the next one (measured: a new view is ready in ~0.2 s).

Desktop defaults are turned the other way: no file URLs, no developer tools, no popups without a
click, no fullscreen API, no native dialog of any kind. Every native hook WebKitGTK offers is
connected here and answered in the kiosk's own way (see docs/window.md); decisions are delegated to
``host``, the kiosk controller.

Rendering: WebKit composites with OpenGL when the PC has a GPU render node (``/dev/dri/renderD*``);
without one (an unsupported or missing GPU, or Xvfb in tests), Mesa would emulate that GPU on the CPU
(llvmpipe), which measured about twice the CPU of WebKit's own CPU painting for the same page (a
scrolling form: 35 % of a core against 16 %; bench/assist.py), so such a PC paints without
compositing (:func:`gpu_compositing`).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import gi

gi.require_version("WebKit2", "4.1")
gi.require_version("Gtk", "3.0")
from gi.repository import GLib, WebKit2  # noqa: E402

log = logging.getLogger(__name__)

DRI_DIR = Path("/dev/dri")


@functools.cache
def gpu_compositing() -> bool:
    """Whether a GPU render node exists: OpenGL compositing then runs on the GPU, not emulated on the CPU."""
    try:
        return any(DRI_DIR.glob("renderD*"))
    except OSError:
        return False

def new_web_view(host, *, memory_limit_mb: int | None = None, memory_poll_interval_s: float = 3.0,
                 context: WebKit2.WebContext | None = None, decide_policy=None) -> WebKit2.WebView:
    """A guarded view. Without ``context``, its own ephemeral context whose web process is ended above
    ``memory_limit_mb``; with ``context``, it shares another view's (its cookies, so the shell's display
    choices, and its web process limits). ``decide_policy``: a stricter guard than the host's."""
    if context is None:
        memory = WebKit2.MemoryPressureSettings.new()
        if memory_limit_mb is not None:
            memory.set_memory_limit(memory_limit_mb)
        memory.set_poll_interval(memory_poll_interval_s)
        memory.set_kill_threshold(1.0)  # ended at the limit (above the default strict threshold, 0.5)
        context = WebKit2.WebContext(website_data_manager=WebKit2.WebsiteDataManager.new_ephemeral(),
                                     memory_pressure_settings=memory)
        context.set_cache_model(WebKit2.CacheModel.DOCUMENT_VIEWER)
        context.set_spell_checking_enabled(False)
        context.set_preferred_languages(["fr-FR", "fr"])
        context.connect("download-started", host.on_download_started)
    view = WebKit2.WebView(web_context=context)
    settings = view.get_settings()
    settings.set_allow_file_access_from_file_urls(False)
    settings.set_allow_universal_access_from_file_urls(False)
    settings.set_enable_developer_extras(False)
    settings.set_javascript_can_open_windows_automatically(False)
    settings.set_javascript_can_access_clipboard(False)
    settings.set_enable_fullscreen(False)
    settings.set_enable_html5_local_storage(True)
    settings.set_enable_html5_database(True)
    settings.set_enable_back_forward_navigation_gestures(False)
    settings.set_enable_write_console_messages_to_stdout(False)
    settings.set_enable_media_stream(False)
    settings.set_enable_webrtc(False)
    if not gpu_compositing():
        settings.set_hardware_acceleration_policy(WebKit2.HardwareAccelerationPolicy.NEVER)

    view.connect("decide-policy", decide_policy or host.on_decide_policy)
    view.connect("create", host.on_create)
    view.connect("load-failed", host.on_load_failed)
    view.connect("load-failed-with-tls-errors", host.on_tls_error)
    view.connect("web-process-terminated", host.on_web_process_terminated)
    view.connect("run-file-chooser", host.on_file_chooser)
    view.connect("print", host.on_page_print)
    view.connect("script-dialog", _answer_script_dialog)
    view.connect("enter-fullscreen", lambda _view: True)
    view.connect("leave-fullscreen", lambda _view: True)
    view.connect("context-menu", lambda *_args: True)
    view.connect("permission-request", _deny_permission)
    view.connect("authenticate", _cancel_authentication)
    view.connect("show-notification", lambda *_args: True)
    view.connect("show-option-menu", lambda *_args: False)  # <select> menus are in-window popovers: keep
    view.connect("event", host.on_input_event)
    return view


def _answer_script_dialog(_view, dialog) -> bool:
    """alert/confirm/prompt/beforeunload never open a dialog: alert is dismissed, confirm and
    prompt answer "cancel", leaving a page is allowed."""
    kind = dialog.get_dialog_type()
    if kind == WebKit2.ScriptDialogType.CONFIRM or kind == WebKit2.ScriptDialogType.BEFORE_UNLOAD_CONFIRM:
        dialog.confirm_set_confirmed(kind == WebKit2.ScriptDialogType.BEFORE_UNLOAD_CONFIRM)
    return True


def _deny_permission(_view, request) -> bool:
    request.deny()
    return True


def _cancel_authentication(_view, request) -> bool:
    request.cancel()
    return True


def is_quiet_failure(error: GLib.Error) -> bool:
    """A load that stopped because we (or the page) stopped it, not because the network failed."""
    if error.domain == GLib.quark_to_string(WebKit2.PolicyError.quark()):
        return True
    if error.domain == GLib.quark_to_string(WebKit2.NetworkError.quark()) and error.code == WebKit2.NetworkError.CANCELLED:
        return True
    if error.domain == GLib.quark_to_string(WebKit2.PluginError.quark()):
        return True
    return False


def navigation_request(decision) -> tuple[str, bool]:
    """The URL a navigation decision is about and whether the resident asked for it."""
    action = decision.get_navigation_action()
    kind = action.get_navigation_type()
    user_initiated = bool(action.is_user_gesture()) or kind in (
        WebKit2.NavigationType.LINK_CLICKED, WebKit2.NavigationType.FORM_SUBMITTED, WebKit2.NavigationType.FORM_RESUBMITTED)
    return action.get_request().get_uri() or "", user_initiated


def wants_download(decision) -> bool:
    """Should a response be saved as a document instead of shown? (types WebKit cannot show,
    and anything the server marks as an attachment)."""
    if not decision.is_mime_type_supported():
        return True
    headers = decision.get_response().get_http_headers()
    disposition = headers.get_one("Content-Disposition") if headers is not None else None
    return bool(disposition and disposition.strip().lower().startswith("attachment"))


def destroy_web_view(view: WebKit2.WebView) -> None:
    """Drop a view: its ephemeral context and processes go with it."""
    try:
        view.stop_loading()
        view.terminate_web_process()
    except GLib.Error as error:  # pragma: no cover - depends on the process state
        log.warning("could not stop a web view cleanly: %s", error)
    view.destroy()
