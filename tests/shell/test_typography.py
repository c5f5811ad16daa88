"""French typography and French formatting: the rules themselves, and every page of the shell.

The page test enumerates the app's own routes (``app.url_map``), so a page added later — by
this branch or by a blueprint of another part of the kiosk — is checked without editing this file.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from kiosk.config.models import Contact
from kiosk.shell.help_page import availability
from kiosk.text.french import clock_time, long_date, number, plural, time_range
from kiosk.text.typography import typeset, typeset_html

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize("raw, expected", [
    ("Besoin d'aide ?", f"Besoin d’aide{NNBSP}?"),
    ("Taille du texte :", f"Taille du texte{NNBSP}:"),
    ("Attention; vraiment!", f"Attention{NNBSP}; vraiment{NNBSP}!"),
    ("Le service « Impôts » ou «Impôts»", f"Le service «{NNBSP}Impôts{NNBSP}» ou «{NNBSP}Impôts{NNBSP}»"),
    ("de 8 h 30 à 12 h", f"de 8{NBSP}h{NBSP}30 à 12{NBSP}h"),
    ("Appelez le 05 36 49 12 34.", f"Appelez le 05{NBSP}36{NBSP}49{NBSP}12{NBSP}34."),
    ("Au +33 5 36 49 12 34", f"Au +33{NBSP}5{NBSP}36{NBSP}49{NBSP}12{NBSP}34"),
    # What must not change: URLs, clock times written with a colon, a plain sentence.
    ("https://www.exemple.fr/page?x=1", "https://www.exemple.fr/page?x=1"),
    ("09:30-12:00", "09:30-12:00"),
    ("Bonjour.", "Bonjour."),
])
def test_typeset_plain_text(raw, expected):
    assert typeset(raw) == expected
    assert typeset(expected) == expected  # idempotent


def test_typeset_html_touches_text_and_read_attributes_only():
    source = ('<!doctype html><html lang="fr"><head><title>Besoin d&#39;aide ?</title>'
              '<style>a::before { content: "x : y"; }</style><script>var s = "a ?";</script></head>'
              '<body><a href="/aide?x=1" title="L&#39;aide : ici">Aide : ici</a>'
              '<img src="/a.svg" alt="Une carte d&#39;identité"><pre>a : b\'c</pre>'
              '<textarea>ce qu\'on tape !</textarea><p data-x="a ?">Vous n&#39;avez rien &amp; 1 &lt; 2 !</p></body></html>')
    done = typeset_html(source)
    assert f"<title>Besoin d’aide{NNBSP}?</title>" in done
    assert '<style>a::before { content: "x : y"; }</style><script>var s = "a ?";</script>' in done
    assert f'<a href="/aide?x=1" title="L’aide{NNBSP}: ici">Aide{NNBSP}: ici</a>' in done
    assert 'alt="Une carte d’identité"' in done
    assert "<pre>a : b'c</pre><textarea>ce qu'on tape !</textarea>" in done
    assert f'<p data-x="a ?">Vous n’avez rien &amp; 1 &lt; 2{NNBSP}!</p>' in done


def test_french_formatting_through_babel():
    assert long_date(dt.date(2027, 1, 1)) == "vendredi 1er janvier 2027"
    assert long_date(dt.date(2026, 12, 3)) == "jeudi 3 décembre 2026"
    assert clock_time(dt.time(8, 30)) == f"8{NBSP}h{NBSP}30" and clock_time(dt.time(14, 0)) == f"14{NBSP}h"
    assert time_range("09:30-24:00") == f"de 9{NBSP}h{NBSP}30 à minuit"
    assert number(12345) == f"12{NNBSP}345"
    assert [plural(count, "document", "documents") for count in (0, 1, 2)] == [
        f"0{NBSP}document", f"1{NBSP}document", f"2{NBSP}documents"]


CLAIRE = Contact.model_validate({"name": "Claire, médiatrice numérique", "phone": "05 36 49 12 34",
                                 "hours": {"mo": ["09:00-12:00", "14:00-17:00"], "we": ["09:00-12:00"]}})
MONDAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize("moment, now, sentence", [
    (dt.datetime.combine(MONDAY, dt.time(10, 0)), True, f"Claire peut vous répondre maintenant, jusqu’à 12{NBSP}h."),
    (dt.datetime.combine(MONDAY, dt.time(12, 30)), False, f"Claire répondra aujourd’hui à 14{NBSP}h."),
    (dt.datetime.combine(MONDAY, dt.time(18, 0)), False, f"Claire répondra mercredi à 9{NBSP}h."),
    (dt.datetime.combine(MONDAY + dt.timedelta(days=1), dt.time(7, 0)), False, f"Claire répondra demain à 9{NBSP}h."),
    (dt.datetime.combine(MONDAY + dt.timedelta(days=2), dt.time(12, 0)), False, f"Claire répondra lundi à 9{NBSP}h."),
])
def test_mediator_availability_from_structured_hours(moment, now, sentence):
    result = availability(CLAIRE, moment)
    assert result.now is now and result.sentence.endswith(sentence)


def test_no_availability_without_hours():
    assert availability(Contact(name="Claire", phone="05 36 49 12 34"), dt.datetime.now()) is None


# ---------------------------------------------------------------- every page of the shell

class _ReadText(HTMLParser):
    """What a resident reads: text nodes outside script/style/pre/textarea, and alt/title/aria-label."""

    SKIP = {"script", "style", "pre", "code", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping.append(tag)
        for name, value in attrs:
            if name in ("alt", "title", "aria-label", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.parts.append(data)


def read_text(html: str) -> list[str]:
    parser = _ReadText()
    parser.feed(html)
    return parser.parts


def typography_faults(text: str) -> list[str]:
    faults = []
    if "'" in text:
        faults.append("straight apostrophe")
    if re.search(r"[ \t\n\u00a0][;:!?]", text):
        faults.append("ordinary space before ; : ! ?")
    if re.search(r"«[^\u202f]|[^\u202f]»", text):
        faults.append("« » without narrow no-break spaces")
    if re.search(r"\b\d{1,2} h\b", text):
        faults.append("breakable space in a time")
    if re.search(r"\b0\d( \d\d){4}\b", text):
        faults.append("breakable space in a phone number")
    return faults


# Sample values for the parts of routes; a new route with a new kind of part fails until it is listed.
SAMPLE_ARGUMENTS = {"tile_id": ["impots", "inconnu"], "page": ["1"]}
QUERIES = {"window_pages.not_allowed": ["hote=www.exemple.fr"], "window_pages.offline": ["tuile=impots"],
           "home.all_services": [f"page={number}" for number in range(1, 12)]}


def shell_pages(app) -> list[str]:
    paths = ["/une-page-qui-n-existe-pas"]
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        missing = rule.arguments - SAMPLE_ARGUMENTS.keys()
        assert not missing, f"add sample values for {sorted(missing)} (route {rule.rule}) to SAMPLE_ARGUMENTS"
        arguments = [{}]
        for name in rule.arguments:
            arguments = [{**done, name: value} for done in arguments for value in SAMPLE_ARGUMENTS[name]]
        with app.test_request_context():
            from flask import url_for
            for values in arguments:
                path = url_for(rule.endpoint, **values)
                paths.append(path)
                paths.extend(f"{path}?{query}" for query in QUERIES.get(rule.endpoint, []))
    return paths


@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
def test_every_resident_facing_page_is_set_in_french_typography(make_client, online_app, offline_app, online):
    app = online_app if online else offline_app
    client = make_client(app)
    checked, faults = [], {}
    for path in shell_pages(app):
        answer = client.get(path)
        if answer.status_code in (301, 302, 303) or answer.mimetype != "text/html":
            continue
        checked.append(path)
        found = {problem: part for part in read_text(answer.get_data(as_text=True))
                 for problem in typography_faults(part)}
        if found:
            faults[path] = found
    assert faults == {}
    for expected in ("/", "/aide", "/services", "/session-terminee", "/une-page-qui-n-existe-pas"):
        assert expected in checked


def test_the_check_does_catch_a_fault():
    assert typography_faults("Besoin d'aide ?") == ["straight apostrophe", "ordinary space before ; : ! ?"]
    assert typography_faults("Appelez le 05 36 49 12 34 à 9 h") == ["breakable space in a time",
                                                                    "breakable space in a phone number"]
