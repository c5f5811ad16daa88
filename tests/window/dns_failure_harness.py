"""Child process of test_name_not_found_for_one_host_while_the_internet_works (run it only from there).

``python dns_failure_harness.py CONFIG_DIR CHECK_PORT``: builds the kiosk window as the window tests do,
with one tile on ``impots-test.invalid`` (a name no DNS is ever asked about: the test runs this in a
mount namespace whose nsswitch.conf says "hosts: files"), opens it, and prints the address of the page
the window shows instead, with the page's kind and title. Exit status 0 when a shell page was shown.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectivity_check import ANSWER, PATH  # noqa: E402
from single_tile_config import write_config  # noqa: E402

HOST = "impots-test.invalid"


def main(config_dir: str, check_port: str) -> int:
    try:
        socket.getaddrinfo(HOST, 80)
    except socket.gaierror:
        pass
    else:
        print(f"{HOST} resolves here: the test's name service is not in place", file=sys.stderr)
        return 2
    import gi
    gi.require_version("Gtk", "3.0")
    from gi.repository import GLib, Gtk

    assert Gtk.init_check(None)[0], "no display"
    from kiosk.config import load_config
    from kiosk.events import EventLog
    from kiosk.shell import ShellSettings
    from kiosk.documents.folder import SessionDocuments
    from kiosk.window.kiosk import KioskWindow
    from kiosk.documents.printing import CupsPrinter
    from kiosk.window.run import start_shell
    from kiosk.window.settings import WindowSettings

    directory = Path(config_dir)
    write_config(directory, f"http://{HOST}/demarche", hosts=(HOST,))
    config = load_config(directory)
    scratch = Path(tempfile.mkdtemp(prefix="kiosk-dns-test-"))
    events = EventLog(scratch / "events")
    documents = SessionDocuments(scratch / "documents")
    printer = CupsPrinter(config.printer.name)
    shell_settings = ShellSettings(probe_host="127.0.0.1", probe_port=int(check_port), probe_path=PATH,
                                   probe_answer=ANSWER, probe_timeout_s=5, probe_cache_s=1,
                                   in_kiosk_window=True)  # generous: a loaded machine answers slowly
    server, _thread = start_shell(config, events, documents, printer, 0, shell_settings)
    settings = WindowSettings(events_dir=scratch / "events", documents_dir=documents.folder, usb_roots=())
    kiosk = KioskWindow(config, settings, shell_origin=f"http://127.0.0.1:{server.server_port}", events=events,
                        documents=documents, printer=printer)
    kiosk.show()

    def pump_until(predicate, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                return False
            while Gtk.events_pending():
                Gtk.main_iteration_do(False)
            time.sleep(0.02)
        return True

    if not pump_until(lambda: kiosk.home_ready, 60):
        print("the home screen never loaded", file=sys.stderr)
        return 1
    # The tile opens only once the shell knows the Internet works (its first check may be slow here).
    import json
    import urllib.request

    def shell_online() -> bool:
        with urllib.request.urlopen(kiosk.shell_origin + "/etat", timeout=10) as answer:
            return json.load(answer)["online"] is True

    if not pump_until(shell_online, 60):
        print("the shell never saw the connectivity check answer", file=sys.stderr)
        return 1
    kiosk.view.load_uri(kiosk.shell_origin + "/ouvrir/service-test")  # as a resident touching the tile
    shown = lambda: (kiosk.view.get_uri() or "").startswith(kiosk.shell_origin + "/injoignable")  # noqa: E731
    if not pump_until(lambda: shown() and not kiosk.view.is_loading(), 60):
        print(f"no shell page; the window shows {kiosk.view.get_uri()}", file=sys.stderr)
        return 1
    answer = {}

    def done(view, task, _data=None):
        try:
            answer["text"] = view.evaluate_javascript_finish(task).to_string()
        except GLib.Error as error:
            answer["text"] = f"script failed: {error.message}"

    kiosk.view.evaluate_javascript(
        "'data-probleme=' + document.querySelector('[data-probleme]').dataset.probleme + ' '"
        " + document.querySelector('h1').textContent.trim()", -1, None, None, None, done, None)
    pump_until(lambda: answer, 10)
    print(kiosk.view.get_uri(), answer.get("text", "no answer"))
    kiosk.window.destroy()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
