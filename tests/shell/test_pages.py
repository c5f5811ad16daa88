"""The shell's pages through Flask's test client: content, routes, redirects, events, headers."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from flask import Blueprint

from kiosk.config import load_config
from kiosk.events import EventKind, EventLog
from kiosk.shell import create_app

PAGES = ["/", "/services", "/aide", "/non-autorise?hote=www.exemple.fr", "/session-terminee", "/hors-ligne"]


class _Tiles(HTMLParser):
    """Collects the tiles of the home page: (tile id, href) in document order, and the h2 headings."""

    def __init__(self):
        super().__init__()
        self.tiles: list[tuple[str, str]] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "data-tuile" in attrs:
            self.tiles.append((attrs["data-tuile"], attrs["href"]))
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2 and data.strip():
            self.headings.append(data.strip())

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False


def parse_home(html: str) -> _Tiles:
    parser = _Tiles()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_french_and_calm(client, path):
    answer = client.get(path)
    assert answer.status_code == 200
    html = answer.page
    assert '<html lang="fr"' in html
    assert 'href="#contenu"' in html and 'id="contenu"' in html  # skip link and its target
    assert "Besoin d'aide ?" in html or "Besoin d'aide ?" in html
    assert "Bagnères-de-Luchon" in html


def all_services_pages(client) -> list[_Tiles]:
    """Every page of "Tous les services", followed through its "Suite" links."""
    pages, path = [], "/services"
    while path:
        html = client.get(path).page
        pages.append(parse_home(html))
        found = re.search(r'href="([^"]+)" rel="next"', html)
        path = found.group(1).replace("&amp;", "&") if found else None
        assert len(pages) < 100
    return pages


def test_home_shows_the_featured_tiles_in_order_and_the_way_to_all_services(client, demo_config):
    html = client.get("/").page
    page = parse_home(html)
    featured = [tile.id for tile in demo_config.featured_tiles()]
    assert [tile_id for tile_id, _ in page.tiles] == featured == list(demo_config.featured)
    assert all(href == f"/ouvrir/{tile_id}" for tile_id, href in page.tiles)
    assert re.findall(r'data-featured-tile="([^"]+)"', html) == featured
    assert re.search(r'href="/services" data-all-services>Tous les services \(24\)<', html)
    assert "Ordinateur public : tout est effacé à la fin de votre visite." in html


def test_without_featured_list_the_first_eight_tiles_are_featured(make_client, make_kiosk_config, service_entry,
                                                                  online_settings, local_site):
    services = [service_entry(f"s{number}", local_site + str(number)) for number in range(11)]
    config = load_config(make_kiosk_config(services))
    assert [tile.id for tile in config.featured_tiles()] == [f"s{number}" for number in range(8)]
    html = make_client(create_app(config, settings=online_settings)).get("/").page
    assert re.findall(r'data-featured-tile="([^"]+)"', html) == [f"s{number}" for number in range(8)]


@pytest.mark.parametrize("size, featured", [("normal", 8), ("maximal", 4)])
def test_fewer_featured_tiles_at_the_largest_text(client, demo_config, size, featured):
    client.post("/affichage", data={"texte": size})
    html = client.get("/").page
    assert re.findall(r'data-featured-tile="([^"]+)"', html) == [tile.id for tile in demo_config.featured_tiles()][:featured]


@pytest.mark.parametrize("size", ["normal", "grand", "tres-grand", "maximal"])
def test_all_services_pages_list_every_tile_once_in_order_under_their_categories(client, demo_config, size):
    client.post("/affichage", data={"texte": size})
    pages = all_services_pages(client)
    tiles = [tile for page in pages for tile in page.tiles]
    assert [tile_id for tile_id, _ in tiles] == [tile.id for tile in demo_config.tiles]
    assert all(href == f"/ouvrir/{tile_id}" for tile_id, href in tiles)
    categories = [category.label for category, _ in demo_config.categories()]
    headings = [heading for page in pages for heading in page.headings if heading in categories]
    assert list(dict.fromkeys(headings)) == categories
    assert len(pages) > 1


def test_all_services_page_number_out_of_range_is_the_nearest_page(client):
    last = len(all_services_pages(client))
    assert "page 1 sur" in client.get("/services?page=0").page
    assert f"page {last} sur {last}" in client.get("/services?page=9999").page
    assert "page 1 sur" in client.get("/services?page=abc").page


def test_home_shows_pictograms_with_their_text_alternative(client, demo_config):
    html = client.get("/").page
    for tile in demo_config.featured_tiles():
        assert f'src="/pictogrammes/{tile.id}.svg" alt="{tile.pictogram_alt}"' in html
    answer = client.get(f"/pictogrammes/{demo_config.tiles[0].id}.svg")
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    assert answer.data == demo_config.tiles[0].pictogram_path.read_bytes()
    assert client.get("/pictogrammes/inconnu.svg").status_code == 404


def test_header_shows_date_and_time_in_french(client):
    html = client.get("/").text
    now = dt.datetime.now()
    month = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
             "octobre", "novembre", "décembre")[now.month - 1]
    assert re.search(rf'id="date-du-jour">\w+ (1er|\d+) {month} {now.year}<', html)
    assert re.search(r'id="heure">\d{1,2}\u00a0h(\u00a0\d\d)?<', html)


def test_opening_a_tile_records_an_event_and_redirects_to_its_url(make_client, demo_config, online_settings, tmp_path):
    events = EventLog(tmp_path / "events")
    client = make_client(create_app(demo_config, events=events, settings=online_settings))
    tile = demo_config.tiles[2]
    answer = client.get(f"/ouvrir/{tile.id}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == tile.url
    taken = []
    events.take(taken.extend)
    assert [(event.kind, event.tile_id) for event in taken] == [(EventKind.TILE_OPENED, tile.id)]


def test_opening_a_tile_without_events_still_redirects(client, demo_config):
    answer = client.get(f"/ouvrir/{demo_config.tiles[0].id}")
    assert answer.status_code == 302 and answer.headers["Location"] == demo_config.tiles[0].url


def test_opening_an_unknown_tile_is_a_calm_404(client):
    answer = client.get("/ouvrir/pas-une-tuile")
    assert answer.status_code == 404
    html = answer.page
    assert "Cette page n'existe pas" in html and "Revenir à l'accueil" in html


def test_offline_a_tile_leads_to_the_offline_page_and_records_nothing(make_client, demo_config, offline_settings, tmp_path):
    events = EventLog(tmp_path / "events")
    client = make_client(create_app(demo_config, events=events, settings=offline_settings))
    answer = client.get("/ouvrir/impots")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/hors-ligne?tuile=impots"
    html = client.get("/hors-ligne?tuile=impots").page
    assert "Internet ne fonctionne pas pour le moment" in html
    assert "« Impôts » ne peut pas s'ouvrir sans Internet" in html
    assert 'href="/ouvrir/impots">Réessayer' in html
    assert "05 36 49 12 34" in html  # whom to call
    assert events.take(lambda batch: None) == 0


def test_offline_home_greys_tiles_and_says_why(offline_client, client):
    offline = offline_client.get("/").page
    assert 'data-en-ligne="non"' in offline
    assert "Internet ne fonctionne pas pour le moment" in offline
    assert "Indisponible sans Internet" in offline
    assert 'data-en-ligne="oui"' in client.get("/").page


def test_offline_help_page_still_works(offline_client):
    answer = offline_client.get("/aide")
    assert answer.status_code == 200
    assert "05 36 49 12 34" in answer.page


def test_status_reports_connectivity_as_json(client, offline_client):
    online = client.get("/etat")
    assert online.status_code == 200 and online.is_json
    assert online.json["online"] is True
    assert set(online.json) >= {"online", "checked_at", "date", "time"}
    assert offline_client.get("/etat").json["online"] is False


def test_not_allowed_page_names_a_valid_host(client):
    html = client.get("/non-autorise?hote=www.Exemple.COM").page
    assert "Cette page n'est pas autorisée ici" in html
    assert '<strong class="hote">www.exemple.com</strong>' in html
    assert 'href="/">Revenir à l\'accueil' in html


@pytest.mark.parametrize("junk", [
    "<script>alert(1)</script>", "exemple.fr/chemin?q=1", "https://exemple.fr", "a b", "x" * 300,
    "exemple..fr", "%00", "javascript:alert(1)", "",
])
def test_not_allowed_page_never_echoes_junk(client, junk):
    answer = client.get("/non-autorise", query_string={"hote": junk})
    assert answer.status_code == 200
    html = answer.page
    assert "Cette page n'est pas autorisée ici" in html
    assert 'class="hote"' not in html
    if junk:
        assert junk not in html and "alert" not in html


def test_session_ended_page(client):
    html = client.get("/session-terminee").page
    assert "Votre session est terminée" in html
    assert 'href="/"' in html


def test_unknown_page_is_calm_404(client):
    answer = client.get("/nulle-part")
    assert answer.status_code == 404
    assert "Cette page n'existe pas" in answer.page


def test_a_crash_shows_a_calm_page_without_traceback(make_client, demo_config, online_settings):
    broken = Blueprint("broken", __name__)

    @broken.get("/casse")
    def crash():
        raise RuntimeError("secret detail /home/kiosk/fichier.py")

    client = make_client(create_app(demo_config, settings=online_settings, blueprints=[broken]))
    answer = client.get("/casse")
    assert answer.status_code == 500
    html = answer.page
    assert "Un problème est survenu" in html and "Ce n'est pas de votre faute" in html
    assert "Traceback" not in html and "secret detail" not in html and "RuntimeError" not in html


def test_wrong_method_is_calm(client):
    answer = client.post("/")
    assert answer.status_code == 405
    assert "Revenir à l'accueil" in answer.page


@pytest.mark.parametrize("path", PAGES + ["/etat", "/static/shell.css", "/pictogrammes/ameli.svg", "/nulle-part"])
def test_security_headers_forbid_anything_external(client, path):
    answer = client.get(path)
    answer.close()
    headers = answer.headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy and "*" not in policy and "unsafe" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", PAGES)
def test_pages_reference_nothing_external(client, path):
    html = client.get(path).page
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', html):
        assert url.startswith(("/", "#")) and not url.startswith("//"), url


def test_stylesheet_uses_system_fonts_only(client):
    answer = client.get("/static/shell.css")
    css = answer.page
    answer.close()
    assert "@font-face" not in css and "@import" not in css and "url(" not in css
    assert "Marianne" not in css


def test_extra_blueprints_nav_links_and_page_scripts_appear_on_every_page(make_client, demo_config, online_settings):
    extra = Blueprint("documents", __name__, static_folder=None)

    @extra.get("/documents")
    def index():
        return "documents"

    app = create_app(demo_config, settings=online_settings, blueprints=[extra])
    from kiosk.shell import shell_state
    shell_state(app).add_nav_link("Mes documents", "documents.index")
    shell_state(app).add_page_script("static", "shell.js")
    html = make_client(app).get("/aide").page
    assert '<a class="bouton bouton-clair" href="/documents">Mes documents</a>' in html
    assert html.count('src="/static/shell.js"') == 2
    assert make_client(app).get("/documents").page == "documents"


def test_help_page_shows_everything_from_configuration(client, demo_config):
    html = client.get("/aide").text
    help_ = demo_config.help
    assert help_.mediator.name.replace("'", "\u2019") in html and help_.mediator.phone.replace(" ", "\u00a0") in html
    assert help_.france_services.name in html and help_.france_services.address in html
    for guide in help_.printed_guides:
        assert guide.replace("'", "\u2019") in html
    assert "Lundi</strong>\u202f: de 9\u00a0h à 12\u00a0h et de 14\u00a0h à 17\u00a0h" in html


def test_help_page_shows_only_future_bus_visits_with_french_dates(make_client, make_kiosk_config, service_entry, online_settings,
                                                                   local_site):
    today = dt.date.today()
    past, soon, later = today - dt.timedelta(days=3), today + dt.timedelta(days=2), today + dt.timedelta(days=30)
    help_ = {
        "mediator": {"name": "Paul, médiateur", "phone": "05 36 49 00 11"},
        "bus_visits": [
            {"date": later.isoformat(), "hours": "14:00-17:00", "place": "Parking des thermes"},
            {"date": past.isoformat(), "hours": "09:30-12:00", "place": "Place passée"},
            {"date": soon.isoformat(), "hours": "09:30-12:00", "place": "Place de la mairie"},
        ],
    }
    directory = make_kiosk_config([service_entry("essai", local_site)], help=help_)
    html = make_client(create_app(load_config(directory), settings=online_settings)).get("/aide").text
    assert "Place passée" not in html
    assert html.index("Place de la mairie") < html.index("Parking des thermes")
    from kiosk.text.french import long_date
    assert f"{long_date(soon)}</strong>, de 9\u00a0h\u00a030 à 12\u00a0h, Place de la mairie" in html
    assert "Paul, médiateur" in html


def test_help_page_without_bus_visits_says_so(make_client, make_kiosk_config, service_entry, online_settings, local_site):
    directory = make_kiosk_config([service_entry("essai", local_site)])
    html = make_client(create_app(load_config(directory), settings=online_settings)).get("/aide").page
    assert "Pas de passage prévu pour le moment" in html


@pytest.mark.parametrize("day, expected", [
    (dt.date(2026, 12, 3), "jeudi 3 décembre 2026"),
    (dt.date(2027, 1, 1), "vendredi 1er janvier 2027"),
    (dt.date(2026, 8, 16), "dimanche 16 août 2026"),
])
def test_french_long_dates(day, expected):
    from kiosk.text.french import long_date
    assert long_date(day) == expected


def test_french_time_ranges():
    from kiosk.text.french import time_range
    assert time_range("09:30-12:00").replace("\u00a0", " ") == "de 9 h 30 à 12 h"
    assert time_range("14:00-17:05").replace("\u00a0", " ") == "de 14 h à 17 h 05"
