"""Measure the real kiosk window on the current X display (``kiosk run``'s path: pywebview's GTK
window adopted by the kiosk) and print one JSON line per case, then ``DONE``.

Run as a child process by tests/window/test_window_screens.py (one Xvfb per screen size) and by
bench/home.py: ``python screen_probe.py CONFIG_DIR WORK_DIR [--cases home|all]``.

Cases: the home at each text size (normal, largest) x contrast (normal, high), measured after the
shell applied the setting and the header shows its widest date, time and connection text
(tests/longest_header.py): window geometry (GTK and xwininfo), the content's minimum width, every
visible toolbar button's rectangle on the screen, the web view's visible area and every
``[data-featured-tile]`` in it; with ``--cases all`` also the panels (idle question, document
picker with six documents, end-of-session question, "Plus" actions). A screenshot per case goes
to WORK_DIR (screen-<case>.png).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hostile_site import _tiny_pdf  # noqa: E402

from tests.longest_header import WIDEST_HEADER, every_date_text  # noqa: E402

# The header at its widest (date, time, connection text) before measuring: the fit must hold every day.
WIDEST_HEADER_NOW = f"({WIDEST_HEADER})({json.dumps(every_date_text(), ensure_ascii=False)})"

MEASURE_HOME = """(() => {
  const root = document.documentElement;
  const rect = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {cls: root.className, width: root.clientWidth, height: root.clientHeight, scroll_x: scrollX, scroll_y: scrollY,
          scroll_width: root.scrollWidth, loading: document.readyState,
          tiles: [...document.querySelectorAll('[data-featured-tile]')].map(rect),
          all_services: [...document.querySelectorAll('[data-all-services]')].map(rect)};
})()"""


def say(record: dict) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def on_screen(widget, window) -> list[int]:
    allocation = widget.get_allocation()
    x, y = widget.translate_coordinates(window, 0, 0)
    origin = window.get_window().get_origin()
    return [origin.x + x, origin.y + y, allocation.width, allocation.height]


def x_windows() -> list[dict]:
    """What the X server says of every viewable window named like the kiosk (xwininfo)."""
    ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Point numérique"],
                         capture_output=True, text=True, timeout=30).stdout.split()
    found = []
    for wid in ids:
        info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, timeout=30).stdout
        values = {}
        for key, name in (("Absolute upper-left X", "x"), ("Absolute upper-left Y", "y"), ("Width", "width"),
                          ("Height", "height")):
            line = next(line for line in info.splitlines() if line.strip().startswith(key + ":"))
            values[name] = int(line.split(":")[1])
        found.append(values)
    return found


def screenshot(path: Path) -> None:
    from gi.repository import Gdk
    root = Gdk.get_default_root_window()
    Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height()).savev(str(path), "png", [], [])


def probe(kiosk, work: Path, cases: str):
    """A generator of steps run by Runner: ("sleep", s), ("until", predicate, s, what), ("js", view, script)."""
    from kiosk.window.toplevel import screen_geometry

    screen = screen_geometry()
    yield ("until", lambda: kiosk.home_ready and not kiosk.view.is_loading(), 60, "the home")
    for contrast in (False, True):
        for largest in (False, True):
            name = f"{'largest' if largest else 'normal'}-{'contrast' if contrast else 'plain'}"
            kiosk.set_display(largest=largest, contrast=contrast)
            key = kiosk.text.key
            deadline = time.monotonic() + 120
            while True:
                yield ("sleep", 0.3)
                page = yield ("js", kiosk.view, MEASURE_HOME)
                if "script_error" in page:
                    continue
                classes = page["cls"].split()
                if (f"texte-{key}" in classes and ("contraste" in classes) == contrast
                        and page["loading"] == "complete" and not kiosk.view.is_loading()):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"the shell page did not take texte-{key} contrast={contrast}: {page['cls']}")
            yield ("sleep", 0.6)  # fonts and layout settle
            header = yield ("js", kiosk.view, WIDEST_HEADER_NOW)
            if not isinstance(header, (int, float)):
                raise AssertionError(f"the header could not be set to its widest: {header}")
            page = yield ("js", kiosk.view, MEASURE_HOME)
            if "script_error" in page:
                raise AssertionError(page["script_error"])
            shot = work / f"screen-{name}.png"
            screenshot(shot)
            window = kiosk.window
            say({"case": name, "screen": [screen.width, screen.height],
                 "window": on_screen(window.get_child(), window) if window.get_child() else None,
                 "window_size": [window.get_window().get_width(), window.get_window().get_height()],
                 "x_windows": x_windows(),
                 "content_min_width": window.get_child().get_preferred_width()[0],
                 "window_min_width": window.get_preferred_width()[0],
                 "toolbar": on_screen(kiosk.toolbar, window), "toolbar_layout": kiosk.toolbar.layout,
                 "buttons": {name: {"rect": on_screen(button, window), "label": button.get_label()}
                             for name, button in kiosk.toolbar.visible_buttons().items()},
                 "view": on_screen(kiosk.view, window), "zoom": kiosk.view.get_zoom_level(),
                 "page": page, "screenshot": str(shot)})
    if cases != "all":
        return
    kiosk.set_display(largest=False, contrast=False)
    for index in range(6):
        (kiosk.documents.folder / f"attestation-de-droits-a-l-assurance-maladie-{index}-{'x' * 40}.pdf").write_bytes(
            _tiny_pdf())
    panels = {
        "idle": (lambda: kiosk.idle_question.show(60), kiosk.idle_question),
        "picker": (lambda: kiosk.picker.show(kiosk.documents.documents(), lambda _key: None, kiosk.picker.hide),
                   kiosk.picker),
        "end": (kiosk.ask_end, kiosk.end_question),
        "more": (kiosk.more.show, kiosk.more),
    }
    import gi
    gi.require_version("Gtk", "3.0")
    from gi.repository import Gtk
    for name, (show, panel) in panels.items():
        show()
        yield ("sleep", 0.8)
        shot = work / f"screen-panel-{name}.png"
        screenshot(shot)
        box = panel.panel()
        buttons = []

        def collect(widget):
            if isinstance(widget, Gtk.Button) and widget.get_mapped():
                buttons.append(on_screen(widget, kiosk.window))
            elif isinstance(widget, Gtk.Container):
                widget.foreach(collect)
        box.foreach(collect)
        say({"case": f"panel-{name}", "screen": [screen.width, screen.height],
             "panel": on_screen(box, kiosk.window), "area": on_screen(kiosk.overlay, kiosk.window),
             "min_size": [box.get_preferred_width()[0], box.get_preferred_height()[0]],
             "buttons": buttons, "toolbar_layout": kiosk.toolbar.layout,
             "toolbar_buttons": [on_screen(button, kiosk.window) for button in kiosk.toolbar.visible_buttons().values()],
             "screenshot": str(shot)})
        panel.hide()
    kiosk.documents.wipe()


class Runner:
    def __init__(self, steps) -> None:
        from gi.repository import GLib
        self.GLib, self.steps = GLib, steps

    def start(self) -> None:
        self.GLib.idle_add(lambda: self.advance(None) or False)

    def advance(self, value) -> None:
        try:
            step = self.steps.send(value)
        except StopIteration:
            say({"case": "DONE"})
            os.kill(os.getpid(), signal.SIGTERM)
            return
        except Exception as error:  # noqa: BLE001 - reported to the parent, which fails the test
            say({"case": "ERROR", "error": repr(error)})
            os.kill(os.getpid(), signal.SIGTERM)
            return
        kind = step[0]
        if kind == "sleep":
            self.GLib.timeout_add(int(step[1] * 1000), lambda: self.advance(None) or False)
        elif kind == "until":
            _, predicate, timeout, what = step
            deadline = time.monotonic() + timeout

            def poll():
                if predicate():
                    self.advance(None)
                    return False
                if time.monotonic() > deadline:
                    self.fail(f"timed out waiting for {what}")
                    return False
                return True
            self.GLib.timeout_add(50, poll)
        elif kind == "js":
            _, view, script = step

            def done(view, result, _data=None):
                try:
                    value = json.loads(view.evaluate_javascript_finish(result).to_json(0))
                except self.GLib.Error as error:  # e.g. the page was reloading: the caller decides
                    value = {"script_error": error.message}
                self.advance(value)
            view.evaluate_javascript(script, -1, None, None, None, done, None)

    def fail(self, message: str) -> None:
        try:
            self.steps.throw(AssertionError(message))
        except StopIteration:
            pass
        except Exception as error:  # noqa: BLE001
            say({"case": "ERROR", "error": repr(error)})
        os.kill(os.getpid(), signal.SIGTERM)


def main() -> int:
    config_dir, work = sys.argv[1], Path(sys.argv[2])
    cases = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--cases" else "home"
    work.mkdir(parents=True, exist_ok=True)
    # The shell's connectivity check aims at a loopback server answering what it expects: the home is
    # "online" and nothing leaves the machine.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from connectivity_check import ConnectivityCheck

    check = ConnectivityCheck.start("online")
    os.environ.update(KIOSK_SHELL_PROBE_HOST="127.0.0.1", KIOSK_SHELL_PROBE_PORT=str(check.port))

    from kiosk.config import load_config
    from kiosk.window.run import run
    from kiosk.window.settings import WindowSettings

    documents = work / "documents"
    documents.mkdir(exist_ok=True)
    # Not a hang test: on a loaded machine a page may take longer than the hang detector's 6 s.
    settings = WindowSettings(events_dir=work / "events", documents_dir=documents, farewell_s=0.5,
                              ping_interval_s=5.0, hang_timeout_s=120.0,
                              loading_hang_timeout_s=120.0)

    def on_show(kiosk) -> None:
        Runner(probe(kiosk, work, cases)).start()

    return run(load_config(config_dir), settings, on_show=on_show)


if __name__ == "__main__":
    sys.exit(main())
