"""Fixtures for the window tests: a real Xvfb display, two loopback web servers and one real kiosk.

- ``xvfb`` (session): an Xvfb display (1280x800, colour depth 24) exported as DISPLAY.
- ``sites`` (session): ``allowed`` on 127.0.0.1 (in the kiosk's host rules) and ``forbidden`` on
  127.0.0.2 (not in them); both record every request; pages come from ``pages.py``.
- ``private_cups`` (session): a private CUPS scheduler (child cupsd on a free loopback port) with a
  raw queue named like the test configuration's printer; skipped only when cupsd is not installed.
- ``unreachable_cups``: CUPS_SERVER pointed at a closed loopback port, as with a printer switched off,
  whatever scheduler the machine itself runs.
- ``connectivity`` (session): the target of the shell's connectivity check (``tests/connectivity_check.py``),
  online unless a test sets its ``mode`` ("portal", "offline"); the ``driver`` fixture sets it back.
- ``kiosk`` (session): the KioskWindow with its shell, in this process, driven by the GTK main
  loop through the ``driver`` fixture (pump, wait, load, click with xdotool, read the page).
  Every test starts from a freshly wiped session on the home screen.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from connectivity_check import ConnectivityCheck
from hostile_site import HostileSite, start_site
from private_cups import cupsd_missing_reason, start_private_cups
from single_tile_config import write_config
from xdisplay import SCREEN, start_xvfb

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
WEB_MEMORY_LIMIT_MB = 600  # small, so the endless allocation test stays bounded



@pytest.fixture(scope="session")
def xvfb():
    process, display = start_xvfb()
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    yield display
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def sites():
    forbidden = start_site("127.0.0.2")
    allowed = start_site("127.0.0.1", other=forbidden)
    yield HostileSite(allowed, forbidden)
    for server in (allowed, forbidden):
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def connectivity():
    check = ConnectivityCheck.start("online")
    yield check
    check.stop()


@pytest.fixture(scope="session")
def private_cups(tmp_path_factory):
    reason = cupsd_missing_reason()
    if reason:
        pytest.skip(reason)
    cups = start_private_cups(tmp_path_factory.mktemp("cups"))
    try:
        cups.add_queue("mairie")  # the printer of write_config()
        yield cups
    finally:
        cups.stop()


@pytest.fixture
def unreachable_cups(monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        monkeypatch.setenv("CUPS_SERVER", f"127.0.0.1:{closed.getsockname()[1]}")
        yield


@pytest.fixture
def make_config():
    """``make_config(directory, service_url)``: a test configuration whose one tile opens service_url."""
    return write_config


@pytest.fixture(scope="session")
def config_dir(tmp_path_factory, sites):
    return write_config(tmp_path_factory.mktemp("config"), sites.allowed_url("/service"))


class Driver:
    """Drive the in-process kiosk: the GTK main loop runs only while a driver method waits."""

    def __init__(self, kiosk, events_dir: Path, display: str) -> None:
        self.kiosk, self.events_dir, self.display = kiosk, events_dir, display
        from gi.repository import GLib, Gtk
        self.GLib, self.Gtk = GLib, Gtk

    def pump(self, seconds: float = 0.0) -> None:
        end = time.monotonic() + seconds
        while True:
            while self.Gtk.events_pending():
                self.Gtk.main_iteration_do(False)
            if time.monotonic() >= end:
                return
            time.sleep(0.01)

    def wait(self, predicate, timeout: float = 10.0, what: str = "a condition") -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {timeout} s waiting for {what} (url {self.url()!r})")
            self.pump(0.02)

    def url(self) -> str:
        return self.kiosk.view.get_uri() or ""

    def load(self, url: str) -> None:
        """Open a page as a tile would (the navigation still goes through the guard)."""
        self.kiosk.view.load_uri(url)
        self.wait(lambda: self.url() == url and not self.kiosk.view.is_loading(), what=f"{url} to load")
        self.pump(0.3)

    def js(self, script: str, timeout: float = 5.0, view=None):
        """Evaluate ``script`` in the page (test-only inspection) and return its value as JSON-decoded text;
        ``view``: another web view than the session's (the help)."""
        result = {}

        def done(view, task, _data=None):
            try:
                value = view.evaluate_javascript_finish(task)
                result["value"] = value.to_json(0)
            except self.GLib.Error as error:
                result["error"] = error.message

        (view or self.kiosk.view).evaluate_javascript(script, -1, None, None, None, done, None)
        self.wait(lambda: result, timeout, "a script answer")
        if "error" in result:
            raise AssertionError(f"script failed: {result['error']}")
        return json.loads(result["value"]) if result["value"] not in (None, "undefined") else None

    def xdotool(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=10, check=False,
                              env={**os.environ, "DISPLAY": self.display}).stdout

    def click(self, x: int, y: int) -> None:
        self.xdotool("mousemove", str(x), str(y), "click", "1")
        self.pump(0.5)

    def click_in_page(self, view, selector: str) -> None:
        """A real click in the middle of the element ``selector`` of ``view``'s page."""
        centre = self.js(f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
                         " return [r.left + r.width / 2, r.top + r.height / 2]; })()", view=view)
        x, y = view.translate_coordinates(view.get_toplevel(), int(centre[0]), int(centre[1]))
        origin = view.get_toplevel().get_window().get_origin()
        self.click(origin.x + x, origin.y + y)

    def click_page_centre(self) -> None:
        self.click(SCREEN[0] // 2, SCREEN[1] // 2 + 60)

    def click_widget(self, widget) -> None:
        """A real pointer click in the middle of a GTK widget (through X, like a resident)."""
        allocation = widget.get_allocation()
        x, y = widget.translate_coordinates(widget.get_toplevel(), allocation.width // 2, allocation.height // 2)
        origin = widget.get_toplevel().get_window().get_origin()
        self.click(origin.x + x, origin.y + y)

    def end_session_by_hand(self) -> None:
        """"Terminer ma session", then "Oui, tout effacer" in the question, with real clicks."""
        self.click_widget(self.kiosk.toolbar.buttons["end"])
        self.wait(lambda: self.kiosk.end_question.visible, what="the end-of-session question")
        self.pump(0.3)
        self.click_widget(self.kiosk.end_question.erase)

    def events(self) -> list[dict]:
        path = self.events_dir / "current.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def mapped_windows(self) -> list[str]:
        """Every viewable top-level X window on the display (a native dialog would be one more)."""
        env = {**os.environ, "DISPLAY": self.display}
        tree = subprocess.run(["xwininfo", "-root", "-children"], capture_output=True, text=True, env=env, check=True).stdout
        found = []
        for line in tree.splitlines():
            line = line.strip()
            if not line.startswith("0x"):
                continue
            window_id = line.split()[0]
            stats = subprocess.run(["xwininfo", "-id", window_id], capture_output=True, text=True, env=env).stdout
            if "IsViewable" in stats:
                found.append(line)
        return found

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        self.pump(0.3)
        path = ARTIFACTS / f"window-{name}.png"
        from gi.repository import Gdk
        root = Gdk.get_default_root_window()
        pixbuf = Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height())
        pixbuf.savev(str(path), "png", [], [])
        return path

    def assert_locked(self) -> None:
        """The evidence every escape test checks: one window covering the screen, toolbar on top."""
        self.pump(0.3)
        windows = self.mapped_windows()
        assert len(windows) == 1 and "Point numérique" in windows[0], windows
        assert f"{SCREEN[0]}x{SCREEN[1]}+0+0" in windows[0], windows[0]
        toolbar = self.kiosk.toolbar
        assert toolbar.get_mapped() and toolbar.get_allocation().y == 0
        for button in toolbar.buttons.values():
            assert button.get_mapped() and button.get_allocation().height >= 48
        # And on the screen itself: the toolbar's dark blue (its top edge, above the buttons).
        from gi.repository import Gdk
        pixel = Gdk.pixbuf_get_from_window(Gdk.get_default_root_window(), 1000, 2, 1, 1).get_pixels()[:3]
        assert tuple(pixel) == (0x14, 0x32, 0x5c), tuple(pixel)


@pytest.fixture(scope="session")
def kiosk_session(xvfb, config_dir, tmp_path_factory, connectivity):
    import gi
    gi.require_version("Gtk", "3.0")
    from gi.repository import Gtk

    assert Gtk.init_check(None)[0], "GTK could not open the Xvfb display"
    from kiosk.config import load_config
    from kiosk.events import EventLog
    from kiosk.shell import ShellSettings
    from kiosk.documents.folder import SessionDocuments
    from kiosk.window.kiosk import KioskWindow
    from kiosk.documents.printing import CupsPrinter
    from kiosk.window.run import start_shell
    from kiosk.window.settings import WindowSettings

    config = load_config(config_dir)
    events_dir = tmp_path_factory.mktemp("events")
    documents = SessionDocuments(tmp_path_factory.mktemp("documents"))
    usb = tmp_path_factory.mktemp("usb")
    settings = WindowSettings(events_dir=events_dir, documents_dir=documents.folder, usb_roots=(usb,),
                              ping_interval_s=0.5, hang_timeout_s=2.5, loading_hang_timeout_s=30, load_timeout_s=8,
                              web_memory_limit_mb=WEB_MEMORY_LIMIT_MB, memory_poll_interval_s=1, farewell_s=0.3)
    shell_settings = ShellSettings(**connectivity.settings(), probe_timeout_s=1, probe_cache_s=1, in_kiosk_window=True)
    events = EventLog(events_dir)
    printer = CupsPrinter(config.printer.name)
    server, thread = start_shell(config, events, documents, printer, 0, shell_settings)
    kiosk = KioskWindow(config, settings, shell_origin=f"http://127.0.0.1:{server.server_port}", events=events,
                        documents=documents, printer=printer)
    kiosk.show()
    driver = Driver(kiosk, events_dir, xvfb)
    driver.usb = usb
    driver.wait(lambda: kiosk.home_ready, 60, "the home screen")
    yield driver
    kiosk.window.destroy()
    driver.pump(0.2)
    server.shutdown()


@pytest.fixture
def driver(kiosk_session, sites, connectivity):
    """The kiosk on a fresh session at home, the Internet "online"; the sites' request logs emptied."""
    connectivity.mode = "online"
    kiosk = kiosk_session.kiosk
    kiosk.end_session(idle=False)
    kiosk_session.wait(lambda: kiosk.home_ready, 60, "the home screen after a wipe")  # slow on a loaded machine
    kiosk_session.pump(0.2)
    kiosk.notice.clear()
    sites.reset()
    for path in kiosk_session.usb.iterdir():
        path.unlink()
    return kiosk_session
