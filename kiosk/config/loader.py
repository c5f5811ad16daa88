"""Load a configuration directory into one checked, resolved :class:`KioskConfig`.

Every problem in every file is collected (never just the first), each naming its file, line and
field; if there is any, :class:`ConfigError` is raised and nothing starts half-configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kiosk.config.messages import french_message
from kiosk.config.pictograms import MAX_PICTOGRAM_BYTES, PictogramRefused, check_svg
from kiosk.config.models import MAX_FEATURED, TILE_TAGS, Catalog, Category, Fleet, Help, Idle, LocalTile, OpeningHours, Printer, Commune, Site
from kiosk.problems import ConfigError, ConfigProblem
from kiosk.yamlfile import YamlDocument, read_yaml
from kiosk.hosts import host_allowed, url_host

SITE_FILE = "kiosk.yaml"


@dataclass(frozen=True)
class Tile:
    """A home-screen tile, resolved: its category object, its pictogram file and all its allowed hosts."""

    id: str
    label: str
    description: str
    category: Category
    url: str
    pictogram_path: Path
    pictogram_alt: str
    allowed_hosts: tuple[str, ...]
    local: bool
    site_name: str | None = None  # "le site des impôts", for messages; None: named by its label

    def name_in_sentence(self) -> str:
        """How a message names the tile's site in the middle of a sentence."""
        return self.site_name or f"le service « {self.label} »"


@dataclass(frozen=True)
class KioskConfig:
    directory: Path
    catalog_version: int
    commune: Commune
    opening_hours: OpeningHours
    help: Help
    tiles: tuple[Tile, ...]
    idle: Idle
    printer: Printer | None
    fleet: Fleet | None
    featured: tuple[str, ...] = ()  # ids of the tiles "à la une", in display order

    def featured_tiles(self) -> list[Tile]:
        """The tiles "à la une": the configured ones, or the first MAX_FEATURED tiles."""
        if not self.featured:
            return list(self.tiles[:MAX_FEATURED])
        return [tile for tile_id in self.featured if (tile := self.tile(tile_id)) is not None]

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        rules: list[str] = []
        for tile in self.tiles:
            rules.extend(rule for rule in tile.allowed_hosts if rule not in rules)
        return tuple(rules)

    def tile(self, tile_id: str) -> Tile | None:
        return next((tile for tile in self.tiles if tile.id == tile_id), None)

    def tile_for_host(self, host: str, preferred: str | None = None) -> Tile | None:
        """The tile whose journey visits ``host``: ``preferred`` (the tile the resident came
        through) when its rules allow the host, else the first tile whose own hosts allow it."""
        tile = self.tile(preferred) if preferred else None
        if tile is not None and host_allowed(host, tile.allowed_hosts):
            return tile
        return next((tile for tile in self.tiles if host_allowed(host, tile.allowed_hosts)), None)

    def categories(self) -> list[tuple[Category, list[Tile]]]:
        """Tiles grouped by category, categories in order of their first tile."""
        groups: dict[str, tuple[Category, list[Tile]]] = {}
        for tile in self.tiles:
            groups.setdefault(tile.category.id, (tile.category, []))[1].append(tile)
        return list(groups.values())


def load_config(directory: str | Path) -> KioskConfig:
    directory = Path(directory)
    problems: list[ConfigProblem] = []
    if not directory.is_dir():
        raise ConfigError([ConfigProblem(directory, None, "(dossier)", "dossier de configuration introuvable. Donnez le dossier qui contient kiosk.yaml.")])

    site_doc = read_yaml(directory / SITE_FILE)
    site = _validate(site_doc, Site, problems)
    catalog_path = Path(os.path.normpath(directory / (site.catalog if site else "services.yaml")))
    catalog_doc = read_yaml(catalog_path)
    catalog = _validate(catalog_doc, Catalog, problems)
    if site is None or catalog is None:
        raise ConfigError(problems)

    _check_catalog(catalog, catalog_doc, problems)
    tiles = _resolve_tiles(site, site_doc, catalog, catalog_doc, problems)
    _check_featured(site, site_doc, {tile.id for tile in tiles}, problems)
    if problems:
        raise ConfigError(problems)
    return KioskConfig(
        directory=directory.resolve(), catalog_version=catalog.version, commune=site.commune,
        opening_hours=site.opening_hours, help=site.help, tiles=tuple(tiles), idle=site.idle,
        printer=site.printer, fleet=site.fleet, featured=tuple(site.featured))


def _validate(document: YamlDocument, model: type[BaseModel], problems: list[ConfigProblem]):
    problems.extend(document.problems)
    if document.problems:
        return None
    if not isinstance(document.data, dict):
        problems.append(document.problem((), "le fichier doit contenir des sections « clé: valeur ». Reprenez l'exemple de config/demo/."))
        return None
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        for item in error.errors():
            location = tuple(part for part in item["loc"] if part not in TILE_TAGS)
            problems.append(document.problem(location, french_message(item)))
        return None


def _check_catalog(catalog: Catalog, doc: YamlDocument, problems: list[ConfigProblem]) -> None:
    category_ids = [category.id for category in catalog.categories]
    _no_duplicates(category_ids, ("categories",), doc, problems, "catégorie")
    _no_duplicates([service.id for service in catalog.services], ("services",), doc, problems, "service")
    for index, service in enumerate(catalog.services):
        _check_tile(service, ("services", index), doc, catalog, problems)


def _resolve_tiles(site: Site, site_doc: YamlDocument, catalog: Catalog, catalog_doc: YamlDocument,
                   problems: list[ConfigProblem]) -> list[Tile]:
    services = {service.id: (index, service) for index, service in enumerate(catalog.services)}
    categories = {category.id: category for category in catalog.categories}
    tiles: list[Tile] = []
    ids: list[str] = []
    for index, entry in enumerate(site.tiles):
        location = ("tiles", index)
        if isinstance(entry, LocalTile):
            source, source_doc = entry, site_doc
            _check_tile(entry, location, site_doc, catalog, problems)
        elif entry.service in services:
            _, source = services[entry.service]
            source_doc = catalog_doc
        else:
            problems.append(site_doc.problem(location + ("service",),
                f"service « {entry.service} » absent du catalogue. Choisissez un id de {catalog_doc.path.name}."))
            continue
        ids.append(source.id)
        category = categories.get(source.category)
        if category is None:
            continue  # already reported by _check_tile
        tiles.append(Tile(
            id=source.id, label=source.label, description=source.description, category=category,
            url=source.url, pictogram_path=source_doc.path.parent / "pictograms" / source.pictogram,
            pictogram_alt=source.pictogram_alt, allowed_hosts=_hosts_of(source, catalog),
            local=isinstance(entry, LocalTile), site_name=source.site_name))
    _no_duplicates(ids, ("tiles",), site_doc, problems, "tuile")
    return tiles


def _check_featured(site: Site, doc: YamlDocument, tile_ids: set[str], problems: list[ConfigProblem]) -> None:
    for index, tile_id in enumerate(site.featured):
        if tile_id not in tile_ids:
            problems.append(doc.problem(("featured", index),
                f"tuile « {tile_id} » absente de tiles. Une tuile à la une doit aussi figurer dans tiles."))
    seen: set[str] = set()
    for index, tile_id in enumerate(site.featured):
        if tile_id in seen:
            problems.append(doc.problem(("featured", index),
                f"tuile « {tile_id} » en double dans featured. Citez chaque tuile une fois."))
        seen.add(tile_id)


def _check_tile(tile, location, doc: YamlDocument, catalog: Catalog, problems: list[ConfigProblem]) -> None:
    if tile.category not in {category.id for category in catalog.categories}:
        problems.append(doc.problem(location + ("category",),
            f"catégorie « {tile.category} » inconnue. Choisissez une des catégories du catalogue."))
    for group_index, group in enumerate(tile.host_groups):
        if group not in catalog.host_groups:
            problems.append(doc.problem(location + ("host_groups", group_index),
                f"groupe d'hôtes « {group} » inconnu. Déclarez-le dans host_groups du catalogue."))
    pictogram = doc.path.parent / "pictograms" / tile.pictogram
    if not pictogram.is_file():
        problems.append(doc.problem(location + ("pictogram",),
            f"pictogramme introuvable : {pictogram}. Ajoutez le fichier SVG ou corrigez son nom."))
    else:
        try:
            check_svg(_read_bounded(pictogram))
        except PictogramRefused as refused:
            problems.append(doc.problem(location + ("pictogram",), f"{refused} ({pictogram.name})."))
    start_host = url_host(tile.url)
    if start_host and not host_allowed(start_host, _hosts_of(tile, catalog)):
        problems.append(doc.problem(location + ("url",),
            f"l'hôte de départ « {start_host} » n'est pas dans les hôtes autorisés de la tuile. Ajoutez-le à hosts."))


def _read_bounded(path: Path) -> bytes:
    """At most one byte more than a pictogram may have (a huge file is refused without being read whole)."""
    with open(path, "rb") as file:
        return file.read(MAX_PICTOGRAM_BYTES + 1)


def _hosts_of(tile, catalog: Catalog) -> tuple[str, ...]:
    rules = list(tile.hosts)
    for group in tile.host_groups:
        if group in catalog.host_groups:
            rules.extend(rule for rule in catalog.host_groups[group].hosts if rule not in rules)
    return tuple(rules)


def _no_duplicates(ids: list[str], location, doc: YamlDocument, problems: list[ConfigProblem], what: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            problems.append(doc.problem(location + (index, "id"),
                f"{what} « {item} » en double. Chaque {what} doit avoir un id unique."))
        seen.add(item)
