"""kiosk.window.babel_memory: the kiosk window drops Babel's French data and still writes French.

Issue 17: ``kiosk run`` reads the few French words the shell formats with, then empties Babel's
caches in its own process. These tests prove that the step frees the data, that French formatting
after it is Babel's and does not load the data again, that Babel itself still works afterwards in
that process (it reloads), and, with the real ``kiosk run`` on Xvfb, that the step runs in the
window's start path and the shell's date and time are right after it and after the heap trim.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from test_window_run import output, wait_for
from xdisplay import start_xvfb


def run_python(script: str) -> str:
    """A fresh interpreter: Babel's caches there are the step's alone."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_step_frees_babel_s_french_data_and_formatting_stays_babel_s():
    result = json.loads(run_python("""
        import datetime as dt, gc, json, tracemalloc
        tracemalloc.start()
        from babel.dates import format_date, format_time
        from babel.numbers import format_decimal
        from babel import core as babel_core, localedata
        from kiosk.text import french
        from kiosk.window.babel_memory import keep_only_french_words

        # As before the change: Babel's French data loaded through LOCALE (dates, numbers).
        format_date(dt.date(2026, 12, 3), "EEEE d MMMM y", locale=french.LOCALE)
        format_decimal(12345.5, locale=french.LOCALE)
        gc.collect()
        loaded = tracemalloc.get_traced_memory()[0]
        released = keep_only_french_words()
        gc.collect()
        freed_mb = (loaded - tracemalloc.get_traced_memory()[0]) / 2 ** 20
        moment = dt.datetime(2026, 10, 1, 9, 5)
        kiosk_text = [*french.date_and_time(moment), french.long_date(dt.date(2026, 12, 3)),
                      french.clock_time(dt.time(14, 0)), french.time_range("09:30-24:00"), french.number(12345.5),
                      french.number(-0.25), french.plural(0, "document", "documents"),
                      french.plural(2, "document", "documents"), french.day_name(6),
                      french.relative_day(dt.date(2026, 12, 7), dt.date(2026, 12, 3))]
        still_empty = not localedata._cache and not localedata._dict_cache and babel_core._global_data is None
        # Babel afterwards (what the dashboard would do in its own process): it reloads, same words.
        babel_text = [format_date(moment.date(), "EEEE '1er' MMMM y", locale=french.LOCALE),
                      format_time(moment.time(), "H' h 'mm", locale=french.LOCALE).replace(" ", french.NBSP),
                      format_date(dt.date(2026, 12, 3), "EEEE d MMMM y", locale=french.LOCALE),
                      format_decimal(12345.5, locale=french.LOCALE), format_decimal(-0.25, locale=french.LOCALE),
                      french.LOCALE.days["format"]["wide"][6]]
        print(json.dumps({"released": released, "freed_mb": freed_mb, "still_empty": still_empty,
                          "kiosk_text": kiosk_text, "babel_text": babel_text}))
    """))
    assert result["released"] is True
    assert result["freed_mb"] > 3, result["freed_mb"]  # CLDR's merged French (~4.7 MB of objects) and more
    assert result["still_empty"], "formatting after the step loaded Babel's data again"
    nbsp, nnbsp = "\u00a0", "\u202f"
    assert result["kiosk_text"] == ["jeudi 1er octobre 2026", f"9{nbsp}h{nbsp}05", "jeudi 3 décembre 2026", f"14{nbsp}h",
                                    f"de 9{nbsp}h{nbsp}30 à minuit", f"12{nnbsp}345,5", "-0,25", f"0{nbsp}document",
                                    f"2{nbsp}documents", "dimanche", "lundi"]
    babel = result["babel_text"]
    assert result["kiosk_text"][:3] + result["kiosk_text"][5:7] + [result["kiosk_text"][9]] == babel


def test_kiosk_run_drops_babel_s_data_before_its_window_and_its_shell_still_writes_the_date(config_dir, tmp_path):
    """The real ``kiosk run`` (the step wrapped to say it ran, not replaced), then the shell's /etat,
    as the page's header reads it, during and after the heap trim that follows the home."""
    xvfb, display = start_xvfb()
    wrapper = textwrap.dedent("""
        import sys
        import kiosk.window.babel_memory as step
        real = step.keep_only_french_words
        def said():
            released = real()
            print(f"STEP released={released}", flush=True)
            return released
        step.keep_only_french_words = said
        from kiosk.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    script = tmp_path / "kiosk_with_step_said.py"
    script.write_text(wrapper)
    # As test_window_run's kiosk_run: output in a file, the connectivity probe aimed at a closed loopback port.
    log = tmp_path / "kiosk-run.log"
    env = {**os.environ, "DISPLAY": display, "KIOSK_SHELL_PROBE_HOST": "127.0.0.1", "KIOSK_SHELL_PROBE_PORT": "9"}
    with open(log, "w") as log_file:
        process = subprocess.Popen([sys.executable, str(script), "run", str(config_dir), "--events-dir",
                                    str(tmp_path / "events")], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    process.log_path = str(log)
    try:
        wait_for(lambda: "Accueil affiché." in output(process) or process.poll() is not None, 150, "the home shown")
        text = output(process)
        assert "STEP released=True" in text, text
        assert text.index("STEP released=True") < text.index("Kiosque lancé"), "the step ran after the window"
        home = text.split("accueil sur ", 1)[1].split(")", 1)[0]
        from kiosk.text.french import clock_time, long_date

        deadline = time.monotonic() + 3  # the heap trim runs 1 s after the home (kiosk/window/kiosk.py)
        while time.monotonic() < deadline:
            before = dt.datetime.now()
            with urllib.request.urlopen(home.rstrip("/") + "/etat", timeout=10) as answer:
                state = json.load(answer)
            after = dt.datetime.now()
            assert state["date"] in {long_date(before.date()), long_date(after.date())}
            assert state["time"] in {clock_time(before.time()), clock_time(after.time())}
            time.sleep(0.5)
        assert process.poll() is None, output(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        xvfb.terminate()
        xvfb.wait(timeout=10)


pytestmark = pytest.mark.window
