"""The window's decisions without a window: navigation policy, sessions, documents, printing, settings."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from kiosk.documents.folder import SessionDocuments, safe_name
from kiosk.window.policy import Verdict, decide_navigation, refusal_page
from kiosk.documents.printing import NO_PRINTER, PRINTER_DOWN, CupsPrinter, count_pages
from kiosk.window.session import Action, Session, State
from kiosk.window.settings import WindowSettings, documented_settings

RULES = ("www.impots.gouv.fr", "*.ameli.fr", "127.0.0.1")
SHELL = "http://127.0.0.1:8765"


@pytest.mark.parametrize("url, user, verdict, host", [
    ("https://www.impots.gouv.fr/accueil?x=1", False, Verdict.ALLOW, "www.impots.gouv.fr"),
    ("https://assure.ameli.fr/", False, Verdict.ALLOW, "assure.ameli.fr"),
    ("https://ameli.fr/", True, Verdict.REFUSE_PAGE, "ameli.fr"),            # *.x does not match x itself
    ("https://evil-ameli.fr/", True, Verdict.REFUSE_PAGE, "evil-ameli.fr"),
    ("https://www.impots.gouv.fr.evil.com/", True, Verdict.REFUSE_PAGE, "www.impots.gouv.fr.evil.com"),
    ("https://user@evil.com/@www.impots.gouv.fr", True, Verdict.REFUSE_PAGE, "evil.com"),
    ("https://evil.com/", False, Verdict.STAY, "evil.com"),                  # a script or a frame: stay put
    ("http://127.0.0.1:8765/aide", False, Verdict.ALLOW, None),              # the shell itself
    ("http://127.0.0.2:8765/", True, Verdict.REFUSE_PAGE, "127.0.0.2"),
    ("file:///etc/passwd", True, Verdict.STAY, None),
    ("data:text/html,<h1>x</h1>", True, Verdict.STAY, None),
    ("javascript:alert(1)", True, Verdict.STAY, None),
    ("mailto:a@b.fr", True, Verdict.STAY, None),
    ("tel:0536491234", True, Verdict.STAY, None),
    ("blob:https://www.impots.gouv.fr/1234", True, Verdict.STAY, None),
    ("about:blank", False, Verdict.ALLOW, None),
    ("about:config", True, Verdict.STAY, None),
    ("", False, Verdict.STAY, None),
])
def test_navigation_policy(url, user, verdict, host):
    decision = decide_navigation(url, rules=RULES, shell_origin=SHELL, user_initiated=user)
    assert decision.verdict is verdict
    if verdict is not Verdict.ALLOW:
        assert decision.host == host


def test_shell_origin_is_exact():
    # The shell's loopback origin is allowed, not the loopback host on another port, unless a rule says so.
    decision = decide_navigation("http://127.0.0.1:9999/", rules=("www.impots.gouv.fr",), shell_origin=SHELL,
                                 user_initiated=True)
    assert decision.verdict is Verdict.REFUSE_PAGE


def test_refusal_page_carries_the_host_only():
    assert refusal_page(SHELL, "evil.com") == f"{SHELL}/non-autorise?hote=evil.com"
    assert refusal_page(SHELL, None) == f"{SHELL}/non-autorise"


def test_session_lifecycle():
    session = Session(warning_after_s=300, answer_within_s=90)
    assert session.tick(1000) is Action.NONE and session.state is State.NO_SESSION  # no session: no timer
    assert session.touch(1000) is Action.STARTED
    assert session.touch(1100) is Action.NONE
    assert session.tick(1399) is Action.NONE
    assert session.tick(1400) is Action.WARN and session.state is State.WARNING
    assert session.seconds_left(1430) == 60
    assert session.touch(1440) is Action.NONE and session.state is State.WARNING  # only the answer counts
    assert session.still_here(1450) is Action.KEEP and session.state is State.ACTIVE
    assert session.tick(1749) is Action.NONE
    assert session.tick(1750) is Action.WARN
    assert session.tick(1839) is Action.NONE
    assert session.tick(1840) is Action.END_IDLE
    assert session.finish(1841) == 841
    assert session.state is State.NO_SESSION and session.end() is Action.NONE


def test_end_asked_from_a_running_session():
    session = Session(warning_after_s=300, answer_within_s=90)
    session.touch(10)
    assert session.end() is Action.END_ASKED
    assert session.finish(25) == 15
    assert session.finish(30) is None


@pytest.mark.parametrize("suggested, expected", [
    ("attestation.pdf", "attestation.pdf"),
    ("../../etc/avis d'impôt.PDF", "avis d_impot.pdf"),
    ("photo.JPG", "photo.jpg"),
    ("script.sh", None), ("page.html", None), ("archive.pdf.exe", None), (".pdf", None), ("", None),
])
def test_safe_names(suggested, expected):
    assert safe_name(suggested) == expected


def test_documents_folder(tmp_path):
    documents = SessionDocuments(tmp_path / "docs")
    first = documents.destination_for("avis.pdf")
    first.write_bytes(b"%PDF")
    assert documents.destination_for("avis.pdf").name == "avis (2).pdf"
    assert documents.destination_for("virus.sh") is None
    usb = tmp_path / "media" / "CLE"
    usb.mkdir(parents=True)
    (usb / "releve.pdf").write_bytes(b"%PDF")
    (usb / "programme.sh").write_text("x")
    (usb / "lien.pdf").symlink_to("/etc/passwd")
    assert documents.import_usb([tmp_path / "media", tmp_path / "absent"]) == 1
    assert [(d.name, d.from_usb) for d in documents.documents()] == [("avis.pdf", False), ("releve.pdf", True)]
    assert documents.path_of("cle-usb/releve.pdf").read_bytes() == b"%PDF"
    assert documents.path_of("../kiosk.yaml") is None and documents.path_of("cle-usb/programme.sh") is None
    documents.wipe()
    assert documents.documents() == [] and list(documents.folder.iterdir()) == []


def test_printing_without_a_printer_says_so(tmp_path):
    result = CupsPrinter(None).print_file(tmp_path / "x.pdf")
    assert not result.ok and result.message == NO_PRINTER


@pytest.mark.skipif(shutil.which("lp") is None, reason="cups-client is not installed")
def test_printing_to_an_unreachable_printer_explains_it_in_french(tmp_path, unreachable_cups):
    from hostile_site import _tiny_pdf

    document = tmp_path / "attestation.pdf"
    document.write_bytes(_tiny_pdf())
    assert count_pages(document) == 1
    # lp really fails, as with a printer switched off: its scheduler does not answer.
    assert subprocess.run(["lpstat", "-r"], capture_output=True, text=True).stdout.strip() != "scheduler is running"
    result = CupsPrinter("mairie").print_file(document)
    assert not result.ok and result.message == PRINTER_DOWN
    CupsPrinter("mairie").cancel_pending()  # never raises


def test_settings_are_checked_and_documented():
    with pytest.raises(ValueError, match="hang_timeout_s"):
        WindowSettings(ping_interval_s=5, hang_timeout_s=2)
    with pytest.raises(ValueError, match="idle_warning_after_s"):
        WindowSettings(idle_warning_after_s=-1)
    with pytest.raises(ValueError, match="farewell_s"):
        WindowSettings(farewell_s=0)
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "docs" / "window.md").read_text()
    for name, (_default, help_text) in documented_settings().items():
        assert help_text, name
        assert f"`{name}`" in text, f"docs/window.md does not document the setting {name}"


@pytest.mark.parametrize("seconds, words", [(60, "dans 60 secondes."), (2, "dans 2 secondes."), (1, "dans 1 seconde."),
                                            (0, "dans 0 seconde.")])
def test_idle_countdown_speaks_french_singular_and_plural(seconds, words):
    from kiosk.window.panels import countdown_text

    assert words in countdown_text(seconds)


NNBSP = "\u202f"


@pytest.mark.parametrize("documents, site, expected", [
    (2, "Impôts", [f"• 2 documents dans «{NNBSP}Mes documents{NNBSP}»", f"• le site ouvert{NNBSP}: Impôts"]),
    (1, None, [f"• 1 document dans «{NNBSP}Mes documents{NNBSP}»"]),
    (0, None, []),
])
def test_the_end_question_lists_what_will_be_erased_in_plain_french(documents, site, expected):
    from kiosk.window.session import erase_summary

    lines = erase_summary(documents, site)
    assert lines[0] == f"Tout ce que vous avez fait sur ce poste va être effacé{NNBSP}:"
    assert lines[1:-1] == expected
    assert lines[-1] == "• vos connexions aux sites et ce que vous avez tapé."
    assert not any(" :" in line or "'" in line for line in lines)  # French typography: U+202F, ’


def test_text_levels_follow_the_shell_sizes_and_zoom_other_pages_up_to_200_percent():
    from kiosk.shell.display import TEXT_SIZES
    from kiosk.window.text_size import MAX_PAGE_ZOOM, TextSize, page_zoom

    text = TextSize()
    assert text.levels == tuple(TEXT_SIZES) and text.key == next(iter(TEXT_SIZES)) and text.zoom == 1.0
    assert not text.step(-1) and text.level == 0
    while text.step(1):
        pass
    assert text.largest and text.key == list(TEXT_SIZES)[-1] and text.zoom == MAX_PAGE_ZOOM == 2.0
    assert [page_zoom(level, 5) for level in range(5)] == [1.0, 1.25, 1.5, 1.75, 2.0]
    assert page_zoom(9, 3) == 2.0 and page_zoom(0, 1) == 1.0
    text.reset()
    assert text.level == 0


def test_the_shell_display_script_carries_only_the_wanted_values():
    from kiosk.window.text_size import shell_display_script

    script = shell_display_script("grand", True)
    assert script.rstrip().endswith('})("grand", true, null)') and "if (!true) return 'differs'" in script
    assert "fetch('/affichage'" in script and "location.reload()" in script
    check_only = shell_display_script("normal", None, push=False)
    assert check_only.rstrip().endswith('})("normal", null, null)') and "if (!false) return 'differs'" in check_only
    # Hostile-looking values are JSON-quoted, never spliced as code.
    hostile = 'x"); alert(1); ("'
    assert shell_display_script(hostile).rstrip().endswith("})(" + json.dumps(hostile) + ", null, null)")
    # Given the page it is meant for, it acts only in that document (see the escape test of the race).
    meant = shell_display_script("grand", None, page="http://127.0.0.1:1/non-autorise?hote=x")
    assert meant.rstrip().endswith('})("grand", null, "http://127.0.0.1:1/non-autorise?hote=x")')
    assert meant.index("return 'elsewhere'") < meant.index("fetch(")
