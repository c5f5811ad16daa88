"""The volunteer's inventory of machines: read, validated with French errors, never half-used.

The inventory is the volunteer's own YAML format (see config/inventory.example.yml), not an Ansible
inventory: each machine carries its town-hall point (the content of ``kiosk.yaml``), which is checked
here with the kiosk's own loader against the national catalog, so that a mistake is reported with the
inventory's file, line and field before anything is changed on any machine.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import Annotated

from kiosk.config import ConfigError, ConfigProblem, load_config
from kiosk.config.messages import french_message
from kiosk.config.models import TILE_TAGS, Site
from kiosk.yamlfile import YamlDocument, read_yaml

FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
SET_BY_PROVISION = ("catalog", "fleet")


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"« {value} » n'est pas un réseau. Écrivez par exemple 192.168.1.0/24") from None
    return value


def _grub_hash(value: str) -> str:
    if not re.fullmatch(r"grub\.pbkdf2\.sha512\.\d+\.[0-9A-Fa-f]+\.[0-9A-Fa-f]+", value):
        raise ValueError("ce n'est pas une empreinte de grub-mkpasswd-pbkdf2 (grub.pbkdf2.sha512.…). "
                         "Collez toute la ligne que la commande affiche")
    return value


def fleet_endpoint(url: str) -> tuple[str, int]:
    """The fleet server's host and TCP port, from its https:// address."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 443


def _fleet_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise ValueError(f"« {value} » n'est pas une adresse valable. Écrivez par exemple https://parc.asso.fr") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"« {value} » : le serveur de suivi doit être en https:// (l'agent du poste refuse "
                         "toute autre adresse). Écrivez par exemple https://parc.asso.fr")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"« {value} » : ni identifiant, ni « ? », ni « # » dans l'adresse du serveur de suivi")
    return value


SSH_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")
MIN_RSA_BITS = 3072


def _ssh_key(value: str) -> str:
    """A public key line as in ~/.ssh/id_ed25519.pub: type, base64 key matching that type, comment."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    fields = value.split()
    hint = "Collez la ligne entière de votre fichier .pub (ssh-ed25519 AAAA… commentaire)"
    if len(fields) < 2 or fields[0] not in SSH_KEY_TYPES:
        raise ValueError(f"ce n'est pas une clé SSH publique acceptée ({', '.join(SSH_KEY_TYPES)}). {hint}")
    try:
        blob = base64.b64decode(fields[1], validate=True)
        key = load_ssh_public_key(f"{fields[0]} {fields[1]}".encode())
    except (binascii.Error, ValueError):
        raise ValueError(f"clé SSH abîmée (la partie AAAA… ne correspond pas à {fields[0]}). {hint}") from None
    if not blob.startswith(len(fields[0]).to_bytes(4, "big") + fields[0].encode()):
        raise ValueError(f"clé SSH abîmée (la partie AAAA… ne correspond pas à {fields[0]}). {hint}")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ValueError(f"clé RSA de {key.key_size} bits, trop faible : il en faut {MIN_RSA_BITS} au moins. "
                         "Créez plutôt une clé avec : ssh-keygen -t ed25519")
    return " ".join(fields)


def _fleet_public_key(value: str) -> str:
    """The fleet's Ed25519 public key, in PEM, as `fleet bundle-key` writes it (its FILE.pub)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    hint = ("Collez tout le fichier .pub que « fleet bundle-key » a créé sur le serveur de suivi, "
            "de -----BEGIN PUBLIC KEY----- à -----END PUBLIC KEY-----")
    if "PRIVATE KEY" in value:
        raise ValueError(f"c'est une clé privée : elle ne quitte jamais le serveur de suivi. {hint}")
    try:
        key = load_pem_public_key(value.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(f"ce n'est pas une clé publique lisible. {hint}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"ce n'est pas une clé Ed25519 (les postes n'acceptent qu'elle). {hint}")
    return value.strip()


def _not_root(value: str) -> str:
    if value == "root":
        raise ValueError("la connexion SSH de root est refusée sur les postes. Donnez le compte créé à "
                         "l'installation de Debian (membre du groupe sudo)")
    return value


Network = Annotated[str, AfterValidator(_network)]
GrubHash = Annotated[str, AfterValidator(_grub_hash)]
FleetUrl = Annotated[str, AfterValidator(_fleet_url)]
SshKey = Annotated[str, AfterValidator(_ssh_key)]
FleetPublicKey = Annotated[str, AfterValidator(_fleet_public_key)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Association(Strict):
    fleet_url: FleetUrl = Field(description="Adresse du serveur de suivi du parc (https://).")
    admin_networks: list[Network] = Field(min_length=1, description="Réseaux d'où l'association administre les postes par SSH.")
    ssh_user: Annotated[str, AfterValidator(_not_root)] = Field(
        pattern=r"^[a-z_][a-z0-9_-]{0,31}$", description="Compte SSH du poste (avec sudo), jamais root.")
    ssh_keys: list[SshKey] = Field(min_length=1, max_length=50,
                                   description="Clés SSH publiques de l'association : seules elles ouvrent SSH.")
    ssh_port: int = Field(default=22, ge=1, le=65535, description="Port SSH des postes.")
    fleet_public_key: FleetPublicKey | None = Field(
        default=None, max_length=1000,
        description="Clé publique Ed25519 du parc (fichier .pub de « fleet bundle-key ») : les postes vérifient "
                    "avec elle les réglages et les versions envoyés par le serveur de suivi. Sans elle, ni "
                    "réglages ni mises à jour à distance.")
    audit_min_free_disk_percent: float = Field(
        default=10, ge=0, le=100, description="« provision audit » : part minimale du disque restée libre (%).")
    audit_min_free_disk_gb: float = Field(
        default=2, ge=0, le=10000, description="« provision audit » : place minimale restée libre (Go).")
    grub_password_hash: GrubHash | None = Field(default=None, description="Empreinte du mot de passe GRUB (grub-mkpasswd-pbkdf2).")
    usb_storage: Literal["read-only", "off", "allowed"] = Field(default="read-only", description="Clés USB : read-only, off ou allowed.")
    connection: Literal["ssh", "chroot"] = Field(default="ssh", description="ssh (les postes) ou chroot (essais : address est un dossier).")


class Machine(Strict):
    asset_tag: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$",
                           description="Numéro d'inventaire collé sur le poste (majuscules, chiffres, tirets).")
    address: str = Field(min_length=1, description="Adresse IP ou nom du poste sur le réseau de la mairie.")
    enrolment_code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{5,63}$", description="Code d'inscription à usage unique donné par le serveur de suivi.")
    site: Site = Field(description="Le point numérique de la mairie (contenu de kiosk.yaml).")


class InventoryFile(Strict):
    version: Literal[1] = Field(description="Version du format de l'inventaire (1).")
    association: Association
    machines: list[Machine] = Field(min_length=1)


@dataclass(frozen=True)
class Inventory:
    path: Path
    association: Association
    machines: tuple[Machine, ...]
    sites: tuple[dict, ...]

    @property
    def pictograms_dir(self) -> Path:
        """The commune's own pictograms (local tiles), in a pictograms/ folder beside the inventory."""
        return self.path.parent / "pictograms"

    def machine(self, asset_tag: str) -> Machine | None:
        return next((m for m in self.machines if m.asset_tag == asset_tag), None)


class InventoryError(Exception):
    """The inventory cannot be used; ``problems`` names every file, line and field at fault."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def load_inventory(path: str | Path, catalog: Path, limit: list[str] | None = None) -> Inventory:
    """Read and check ``path`` completely; raise :class:`InventoryError` listing every problem."""
    path = Path(path)
    document = read_yaml(path)
    problems: list[ConfigProblem] = list(document.problems)
    if problems:
        raise InventoryError(problems)
    if not isinstance(document.data, dict):
        raise InventoryError([document.problem((), "l'inventaire doit contenir des sections « clé: valeur ». "
                                                    "Reprenez config/inventory.example.yml.")])
    try:
        parsed = InventoryFile.model_validate(document.data)
    except ValidationError as error:
        for item in error.errors():
            location = tuple(part for part in item["loc"] if part not in TILE_TAGS)
            message = item["msg"].removeprefix("Value error, ") if item["type"] == "value_error" else french_message(item)
            problems.append(document.problem(location, message))
        raise InventoryError(problems) from None

    _check_unique(parsed.machines, "asset_tag", document, problems)
    _check_unique(parsed.machines, "address", document, problems)
    sites = tuple(_plain(entry["site"]) for entry in document.data["machines"])
    inventory = Inventory(path=path, association=parsed.association, machines=tuple(parsed.machines), sites=sites)
    for index, machine in enumerate(parsed.machines):
        _check_site(document, index, inventory, catalog, problems)
    for name in limit or []:
        if inventory.machine(name) is None:
            problems.append(ConfigProblem(path, None, f"--limit {name}",
                                          "poste absent de l'inventaire. Donnez un asset_tag de la liste machines."))
    if problems:
        unique = list(dict.fromkeys(problems))
        raise InventoryError(unique)
    return inventory


def site_content(inventory: Inventory, machine: Machine) -> dict:
    """The machine's kiosk.yaml content as the volunteer wrote it (checked), without catalog and fleet."""
    site = inventory.sites[inventory.machines.index(machine)]
    return {key: value for key, value in site.items() if key not in SET_BY_PROVISION}


def _plain(data):
    """YAML data with dates turned into ISO strings, as JSON and Ansible variables want it."""
    return json.loads(json.dumps(data, default=str))


def _check_unique(machines: list[Machine], field: str, document: YamlDocument, problems: list[ConfigProblem]) -> None:
    seen: set[str] = set()
    for index, machine in enumerate(machines):
        value = getattr(machine, field)
        if value in seen:
            problems.append(document.problem(("machines", index, field),
                                             f"« {value} » est déjà utilisé par un autre poste. Chaque poste a le sien."))
        seen.add(value)


def _check_site(document: YamlDocument, index: int, inventory: Inventory, catalog: Path,
                problems: list[ConfigProblem]) -> None:
    """Check one machine's site with the kiosk's own loader, as it will be installed."""
    location = ("machines", index, "site")
    raw = document.data["machines"][index]["site"]
    for key in SET_BY_PROVISION:
        if key in raw:
            problems.append(document.problem(location + (key,),
                                             "réglé par provision, ne l'écrivez pas ici. Supprimez cette clé."))
    with tempfile.TemporaryDirectory(prefix="provision-site-") as scratch:
        directory = Path(scratch)
        site = dict(site_content(inventory, inventory.machines[index]), catalog=str(catalog.resolve()))
        (directory / "kiosk.yaml").write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
        # As on the kiosk: the national pictograms, then the commune's own, in one folder.
        shutil.copytree(catalog.parent / "pictograms", directory / "pictograms")
        if inventory.pictograms_dir.is_dir():
            for picture in inventory.pictograms_dir.glob("*.svg"):
                shutil.copy(picture, directory / "pictograms" / picture.name)
        try:
            load_config(directory)
        except ConfigError as error:
            for problem in error.problems:
                if problem.file.parent == directory:
                    where = location + _parse_field(problem.field)
                    problems.append(document.problem(where, _local_message(problem.message, inventory)))
                else:
                    problems.append(problem)


def _parse_field(field: str) -> tuple:
    if field.startswith("("):
        return ()
    return tuple(int(index) if index else name for name, index in FIELD_PART.findall(field))


def _local_message(message: str, inventory: Inventory) -> str:
    """Point the volunteer at the pictograms folder beside the inventory, not at a scratch copy."""
    if message.startswith("pictogramme introuvable"):
        name = message.split("/")[-1].split(".svg")[0] + ".svg"
        return (f"pictogramme introuvable : {name}. Ajoutez le fichier SVG dans {inventory.pictograms_dir}/ "
                "ou corrigez son nom.")
    return message
