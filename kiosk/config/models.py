"""Typed settings for the two configuration files.

Every field is declared once, here, with its default and a help text (``description``); the
documentation in docs/configuration.md is checked against these declarations by a test.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from kiosk.hosts import is_valid_rule, url_host

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
MAX_FEATURED = 8  # tiles "à la une": what fits the smallest supported screen without scrolling


def _web_url(value: str) -> str:
    if url_host(value) is None:
        raise PydanticCustomError(
            "web_url", "adresse web invalide « {value} ». Écrivez une adresse complète qui commence par https://",
            {"value": value})
    return value


def _host_rule(value: str) -> str:
    if not is_valid_rule(value):
        raise PydanticCustomError(
            "host_rule", "« {value} » n'est pas un nom d'hôte. Écrivez un hôte (www.exemple.fr) ou "
            "une règle de sous-domaines (*.exemple.fr), sans https:// ni chemin", {"value": value})
    return value


def _time_range(value: str) -> str:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)", value)
    if not match or value[:5] >= value[6:]:
        raise PydanticCustomError(
            "time_range", "plage horaire invalide « {value} ». Écrivez par exemple 09:00-12:00", {"value": value})
    return value


def _phone(value: str) -> str:
    digits = re.sub(r"[ .\-]", "", value)
    if not re.fullmatch(r"(\+33|0)[1-9]\d{8}|3\d{3}", digits):
        raise PydanticCustomError(
            "phone", "numéro de téléphone invalide « {value} ». Écrivez par exemple 05 36 49 12 34", {"value": value})
    return value


def _pictogram(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*\.svg", value):
        raise PydanticCustomError(
            "pictogram", "nom de pictogramme invalide « {value} ». Donnez le nom d'un fichier .svg du dossier pictograms/",
            {"value": value})
    return value


def _site_name(value: str) -> str:
    if not re.fullmatch(r"[a-zàâçéèêëîïôûùüÿœæ][^<>{}\n]{2,59}", value):
        raise PydanticCustomError(
            "site_name", "nom de site invalide « {value} ». Écrivez-le comme au milieu d'une phrase, avec son "
            "article et en minuscule au début, par exemple « le site des impôts » (60 caractères au plus)",
            {"value": value})
    return value


WebUrl = Annotated[str, AfterValidator(_web_url)]
HostRule = Annotated[str, AfterValidator(_host_rule)]
TimeRange = Annotated[str, AfterValidator(_time_range)]
Phone = Annotated[str, AfterValidator(_phone)]
Pictogram = Annotated[str, AfterValidator(_pictogram)]
SiteName = Annotated[str, AfterValidator(_site_name)]
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
ShortText = Annotated[str, Field(min_length=1, max_length=40)]
Sentence = Annotated[str, Field(min_length=1, max_length=140)]
# France's longest commune name has 45 letters (Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson).
CommuneName = Annotated[str, Field(min_length=1, max_length=60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# ---------------------------------------------------------------- services.yaml (the national catalog)

class Category(Strict):
    id: Identifier = Field(description="Identifiant de la catégorie (minuscules, chiffres, tirets).")
    label: ShortText = Field(description="Titre affiché au-dessus des tuiles de la catégorie.")


class HostGroup(Strict):
    description: Sentence = Field(description="À quoi sert ce groupe d'hôtes (par exemple FranceConnect).")
    hosts: list[HostRule] = Field(min_length=1, description="Hôtes ou règles *.domaine du groupe.")


class TileFields(Strict):
    id: Identifier = Field(description="Identifiant unique de la tuile (minuscules, chiffres, tirets).")
    label: ShortText = Field(description="Nom court affiché en gros sur la tuile (40 caractères au plus).")
    description: Sentence = Field(description="Une phrase simple qui dit à quoi sert le service (style FALC).")
    site_name: SiteName | None = Field(default=None, description="Le site dans une phrase, avec son article, pour les messages d'erreur : « le site des impôts » donne « Le site des impôts ne répond pas pour le moment ». Absent : « le service « <label> » ».")
    category: Identifier = Field(description="Catégorie de la tuile (un id de la liste categories du catalogue).")
    url: WebUrl = Field(description="Adresse de départ du service, en https://.")
    pictogram: Pictogram = Field(description="Fichier SVG du dossier pictograms/ à côté de ce fichier.")
    pictogram_alt: ShortText = Field(description="Texte qui décrit le pictogramme pour qui ne le voit pas.")
    hosts: list[HostRule] = Field(default_factory=list, description="Hôtes que le parcours du service peut visiter.")
    host_groups: list[Identifier] = Field(default_factory=list, description="Groupes d'hôtes partagés à ajouter (host_groups du catalogue).")


class Service(TileFields):
    pass


class Catalog(Strict):
    version: int = Field(ge=1, description="Version du catalogue, augmentée à chaque changement.")
    categories: list[Category] = Field(min_length=1, description="Catégories, dans l'ordre d'affichage.")
    host_groups: dict[Identifier, HostGroup] = Field(default_factory=dict, description="Groupes d'hôtes partagés, déclarés une fois.")
    services: list[Service] = Field(min_length=1, description="Les services publics proposés.")


# ---------------------------------------------------------------- kiosk.yaml (one town-hall point)

class Commune(Strict):
    name: CommuneName = Field(description="Nom de la commune, affiché en haut de l'écran.")
    insee: str = Field(pattern=r"^(\d{5}|2[AB]\d{3})$", description="Code INSEE de la commune (5 caractères).")
    postal_code: str = Field(pattern=r"^\d{5}$", description="Code postal.")
    address: Sentence = Field(description="Adresse du point numérique (mairie).")


class OpeningHours(Strict):
    mo: list[TimeRange] = Field(default_factory=list, description="Lundi : plages horaires HH:MM-HH:MM.")
    tu: list[TimeRange] = Field(default_factory=list, description="Mardi.")
    we: list[TimeRange] = Field(default_factory=list, description="Mercredi.")
    th: list[TimeRange] = Field(default_factory=list, description="Jeudi.")
    fr: list[TimeRange] = Field(default_factory=list, description="Vendredi.")
    sa: list[TimeRange] = Field(default_factory=list, description="Samedi.")
    su: list[TimeRange] = Field(default_factory=list, description="Dimanche.")

    def osm(self) -> str:
        """The hours in OpenStreetMap opening_hours syntax (used by the mediation-places export)."""
        names = {"mo": "Mo", "tu": "Tu", "we": "We", "th": "Th", "fr": "Fr", "sa": "Sa", "su": "Su"}
        return "; ".join(f"{names[day]} {','.join(getattr(self, day))}" for day in DAYS if getattr(self, day))


class Contact(Strict):
    name: Sentence = Field(description="Qui appeler : le prénom d'abord, puis le rôle après une virgule "
                           "(« Claire, médiatrice numérique »). Le prénom sert dans les phrases de l'aide.")
    phone: Phone = Field(description="Numéro de téléphone.")
    hours: OpeningHours | None = Field(default=None, description="Quand cette personne répond, jour par jour "
                                       "(mo … su, plages HH:MM-HH:MM comme opening_hours) : l'aide dit si elle "
                                       "peut répondre maintenant, sinon quand. Absent : pas d'horaires affichés.")

    @property
    def first_name(self) -> str:
        """What comes before the first comma of the name: « Claire »."""
        return self.name.split(",")[0].strip()


class Place(Strict):
    name: Sentence = Field(description="Nom du lieu.")
    address: Sentence = Field(description="Adresse.")
    phone: Phone | None = Field(default=None, description="Téléphone.")
    hours: Sentence | None = Field(default=None, description="Horaires d'ouverture, en toutes lettres.")


class BusVisit(Strict):
    date: dt.date = Field(description="Date du passage du bus (AAAA-MM-JJ).")
    hours: TimeRange = Field(description="Heures de présence, HH:MM-HH:MM.")
    place: Sentence = Field(description="Où le bus s'arrête.")


class Help(Strict):
    mediator: Contact = Field(description="Le médiateur ou la médiatrice numérique à appeler.")
    bus_visits: list[BusVisit] = Field(default_factory=list, description="Prochains passages du bus de l'association.")
    france_services: Place | None = Field(default=None, description="L'espace France services le plus proche.")
    printed_guides: list[Sentence] = Field(default_factory=list, description="Guides papier disponibles à la mairie.")


class ServiceTile(Strict):
    service: Identifier = Field(description="Identifiant d'un service du catalogue national.")


class LocalTile(TileFields):
    """A tile of the town hall's own (its website...), declared in full in kiosk.yaml."""


def _tile_kind(value) -> str:
    return "service-tile" if isinstance(value, dict) and "service" in value else "local-tile"


TileEntry = Annotated[
    Union[Annotated[ServiceTile, Tag("service-tile")], Annotated[LocalTile, Tag("local-tile")]],
    Discriminator(_tile_kind),
]
TILE_TAGS = ("service-tile", "local-tile")


class Idle(Strict):
    warning_after_s: int = Field(default=300, ge=30, le=3600, description="Secondes sans activité avant la question « Êtes-vous toujours là ? ».")
    answer_within_s: int = Field(default=90, ge=60, le=600, description="Secondes laissées pour répondre avant de terminer la session (60 au moins).")


class Printer(Strict):
    name: Identifier = Field(description="Nom de l'imprimante dans CUPS.")
    uri: str = Field(pattern=r"^(ipps?|dnssd)://\S+$", description="Adresse IPP de l'imprimante (ipp://, ipps:// ou dnssd://).")


class Fleet(Strict):
    url: WebUrl = Field(description="Adresse du serveur de suivi du parc (https://).")


class Site(Strict):
    catalog: str = Field(default="services.yaml", description="Chemin du catalogue national, relatif à kiosk.yaml.")
    commune: Commune = Field(description="La commune qui accueille le point numérique.")
    opening_hours: OpeningHours = Field(default_factory=OpeningHours, description="Horaires d'ouverture du point numérique.")
    help: Help = Field(description="Qui aide les habitants, et où.")
    tiles: list[TileEntry] = Field(min_length=1, description="Tous les services du point, dans l'ordre d'affichage : {service: id} ou une tuile locale complète.")
    featured: list[Identifier] = Field(default_factory=list, max_length=MAX_FEATURED, description=f"Tuiles « à la une » : les services les plus utilisés, montrés en entier sur le premier écran ({MAX_FEATURED} au plus), par leur id dans tiles. Vide : les {MAX_FEATURED} premières tuiles. Les autres sont derrière le bouton « Tous les services ».")
    idle: Idle = Field(default_factory=Idle, description="Délais d'inactivité.")
    printer: Printer | None = Field(default=None, description="Imprimante de la mairie (absente : pas d'impression).")
    fleet: Fleet | None = Field(default=None, description="Serveur de suivi du parc (absent : pas d'envoi).")
    language: Literal["fr"] = Field(default="fr", description="Langue de l'interface.")
