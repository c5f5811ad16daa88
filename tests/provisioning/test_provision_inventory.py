"""`provision run` refuses a broken inventory before touching anything: exit 2, every problem named
with its file, line and field, in French."""

from __future__ import annotations

import shutil

import pytest
import yaml

from provision_runs import EXAMPLE_INVENTORY, REPO
from provisioning.provision.cli import main
from provisioning.provision.inventory import Association, Machine, load_inventory

CATALOG = REPO / "config" / "services.yaml"


def _set(path, value):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def _delete(path):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit


def _duplicate_machine(data):
    data["machines"].append(dict(data["machines"][0], address="192.168.1.51"))


def _other_pem_key() -> str:
    """A public key of the wrong kind (ECDSA P-256), in PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


BROKEN = [
    pytest.param(_set(["machines", 0, "site", "commune", "insee"], "3104"),
                 "machines[0].site.commune.insee", "au mauvais format", id="insee"),
    pytest.param(_set(["machines", 0, "site", "tiles", 0], {"service": "inexistant"}),
                 "machines[0].site.tiles[0].service", "absent du catalogue", id="unknown-service"),
    pytest.param(_delete(["machines", 0, "enrolment_code"]),
                 "machines[0].enrolment_code", "champ obligatoire manquant", id="no-enrolment-code"),
    pytest.param(_set(["association", "admin_networks"], ["192.168.1.0/33"]),
                 "association.admin_networks[0]", "n'est pas un réseau", id="bad-network"),
    pytest.param(_duplicate_machine, "machines[1].asset_tag", "déjà utilisé", id="duplicate-asset-tag"),
    pytest.param(_set(["machines", 0, "site", "fleet"], {"url": "https://x.fr"}),
                 "machines[0].site.fleet", "réglé par provision", id="fleet-in-site"),
    pytest.param(_set(["machines", 0, "adress"], "192.168.1.9"),
                 "machines[0].adress", "clé inconnue", id="typo-key"),
    pytest.param(_set(["association", "usb_storage"], "oui"),
                 "association.usb_storage", "valeur non prise en charge", id="usb-storage"),
    pytest.param(_set(["machines", 0, "site", "printer", "uri"], "http://imprimante/"),
                 "machines[0].site.printer.uri", "au mauvais format", id="printer-uri"),
    pytest.param(_set(["association", "grub_password_hash"], "secret"),
                 "association.grub_password_hash", "grub-mkpasswd-pbkdf2", id="grub-hash"),
    pytest.param(_set(["association", "fleet_url"], "http://parc.asso-exemple.fr"),
                 "association.fleet_url", "doit être en https://", id="fleet-http"),
    pytest.param(_set(["association", "fleet_url"], "https://parc.asso-exemple.fr:99999"),
                 "association.fleet_url", "n'est pas une adresse valable", id="fleet-bad-port"),
    pytest.param(_set(["association", "ssh_user"], "root"),
                 "association.ssh_user", "connexion SSH de root est refusée", id="ssh-root"),
    pytest.param(_delete(["association", "ssh_keys"]),
                 "association.ssh_keys", "champ obligatoire manquant", id="no-ssh-keys"),
    pytest.param(_set(["association", "ssh_keys"], []),
                 "association.ssh_keys", "", id="empty-ssh-keys"),
    pytest.param(_set(["association", "ssh_keys"], ["ssh-ed25519 AAAAC3NzaC1yc2EAAAADAQABAAABAQ benevole"]),
                 "association.ssh_keys[0]", "clé SSH abîmée", id="ssh-key-damaged"),
    pytest.param(_set(["association", "ssh_keys"], ["AAAAC3NzaC1lZDI1NTE5AAAAIBcUqKDcnTNsnrkhD8wTnKaH4S"]),
                 "association.ssh_keys[0]", "clé SSH publique acceptée", id="ssh-key-no-type"),
    pytest.param(_set(["association", "ssh_keys"], ["-----BEGIN OPENSSH PRIVATE KEY-----"]),
                 "association.ssh_keys[0]", "clé SSH publique acceptée", id="ssh-private-key"),
    pytest.param(_set(["association", "fleet_public_key"], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcUqKDcnTNsnrkhD8wTn"),
                 "association.fleet_public_key", "n'est pas une clé publique lisible", id="fleet-key-not-pem"),
    pytest.param(_set(["association", "fleet_public_key"], "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAH/Hg76\n"
                                                           "-----END PUBLIC KEY-----\n"),
                 "association.fleet_public_key", "n'est pas une clé publique lisible", id="fleet-key-truncated"),
    pytest.param(_set(["association", "fleet_public_key"], _other_pem_key()),
                 "association.fleet_public_key", "n'est pas une clé Ed25519", id="fleet-key-ecdsa"),
    pytest.param(_set(["association", "fleet_public_key"], "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n"
                                                           "-----END PRIVATE KEY-----\n"),
                 "association.fleet_public_key", "c'est une clé privée", id="fleet-key-private"),
    pytest.param(_set(["association", "audit_min_free_disk_percent"], 150),
                 "association.audit_min_free_disk_percent", "", id="audit-disk-percent"),
]


def _write(tmp_path, edit=None, pictograms=True):
    data = yaml.safe_load(EXAMPLE_INVENTORY.read_text(encoding="utf-8"))
    if edit:
        edit(data)
    if pictograms:
        shutil.copytree(REPO / "config" / "demo" / "pictograms", tmp_path / "pictograms")
    path = tmp_path / "luchon.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _provision(capsys, tmp_path, *args):
    code = main(["run", *args, "--runs-dir", str(tmp_path / "runs")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _line_of(path, text):
    return next(number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_the_example_inventory_is_valid():
    inventory = load_inventory(EXAMPLE_INVENTORY, CATALOG)
    assert [machine.asset_tag for machine in inventory.machines] == ["ASSO-2026-0042"]


@pytest.mark.parametrize("model, section", [(Association, "association"), (Machine, "machines[0]")])
def test_the_example_inventory_shows_every_field_with_a_french_comment(model, section):
    lines = EXAMPLE_INVENTORY.read_text(encoding="utf-8").splitlines()
    for name in model.model_fields:
        index = next((i for i, line in enumerate(lines) if line.strip().lstrip("- ").startswith(f"{name}:")), None)
        assert index is not None, f"{section}.{name} is missing from the example inventory"
        assert lines[index - 1].strip().startswith("#"), f"{section}.{name} has no comment above it"


@pytest.mark.parametrize("edit, field, message", BROKEN)
def test_a_broken_inventory_exits_2_naming_file_and_field(capsys, tmp_path, edit, field, message):
    path = _write(tmp_path, edit)
    code, output = _provision(capsys, tmp_path, str(path))
    assert code == 2
    assert f"{path}:" in output
    assert f": {field} : " in output
    assert message in output
    assert "Inventaire refusé" in output and "Rien n'a été modifié" in output
    assert not (tmp_path / "runs").exists()


def test_the_line_of_the_faulty_field_is_given(capsys, tmp_path):
    path = _write(tmp_path, _set(["machines", 0, "site", "commune", "postal_code"], "311"))
    code, output = _provision(capsys, tmp_path, str(path))
    assert code == 2
    assert f"{path}:{_line_of(path, 'postal_code')}: machines[0].site.commune.postal_code : " in output


def test_every_problem_is_reported_at_once(capsys, tmp_path):
    def two_mistakes(data):
        _set(["machines", 0, "site", "commune", "insee"], "x")(data)
        _delete(["association", "fleet_url"])(data)
    code, output = _provision(capsys, tmp_path, str(_write(tmp_path, two_mistakes)))
    assert code == 2
    assert "machines[0].site.commune.insee" in output and "association.fleet_url" in output
    assert "2 erreurs" in output


def test_a_missing_local_pictogram_points_beside_the_inventory(capsys, tmp_path):
    path = _write(tmp_path, _set(["machines", 0, "site", "tiles", 6, "pictogram"], "mairie.svg"), pictograms=False)
    code, output = _provision(capsys, tmp_path, str(path))
    assert code == 2
    assert "machines[0].site.tiles[6].pictogram" in output
    assert f"{tmp_path / 'pictograms'}/" in output


def test_a_yaml_syntax_error_is_located(capsys, tmp_path):
    path = tmp_path / "casse.yml"
    path.write_text("version: 1\nassociation:\n  fleet_url: [https://x\n", encoding="utf-8")
    code, output = _provision(capsys, tmp_path, str(path))
    assert code == 2
    assert f"{path}:" in output and "(syntaxe YAML)" in output


def test_a_missing_inventory_file_exits_2(capsys, tmp_path):
    code, output = _provision(capsys, tmp_path, str(tmp_path / "absent.yml"))
    assert code == 2
    assert "absent.yml" in output and "fichier introuvable" in output


def test_an_unknown_limit_exits_2(capsys, tmp_path):
    code, output = _provision(capsys, tmp_path, str(_write(tmp_path)), "--limit", "ASSO-0000")
    assert code == 2
    assert "--limit ASSO-0000" in output and "absent de l'inventaire" in output


def test_a_weak_rsa_key_is_refused(capsys, tmp_path):
    """A 2048-bit RSA key (generated here) is refused with the advice to make an ed25519 key."""
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(tmp_path / "rsa")], check=True)
    key = (tmp_path / "rsa.pub").read_text().strip()
    code, output = _provision(capsys, tmp_path, str(_write(tmp_path, _set(["association", "ssh_keys"], [key]))))
    assert code == 2
    assert ": association.ssh_keys[0] : " in output and "2048 bits, trop faible" in output and "ed25519" in output


def test_the_fleet_endpoint_gives_host_and_port():
    from provisioning.provision.inventory import fleet_endpoint

    assert fleet_endpoint("https://parc.asso-exemple.fr") == ("parc.asso-exemple.fr", 443)
    assert fleet_endpoint("https://parc.asso-exemple.fr:8443/api") == ("parc.asso-exemple.fr", 8443)
    assert fleet_endpoint("https://[2001:db8::1]:8443") == ("2001:db8::1", 8443)


def test_the_fleet_public_key_made_by_fleet_reaches_the_roles(tmp_path):
    """The `.pub` that `fleet bundle-key` writes is accepted as is and handed to the kiosk role (installed
    as /etc/kiosk/fleet-bundles.pub) and to the agent's settings (enrolment role); without it, neither."""
    from provisioning.fleet.bundle_signing import make_key_pair
    from provisioning.provision.hostvars import host_variables

    public = make_key_pair(tmp_path / "bundles.key").read_text(encoding="ascii")
    inventory = load_inventory(_write(tmp_path, _set(["association", "fleet_public_key"], public)), CATALOG)
    assert inventory.association.fleet_public_key == public.strip()
    variables = host_variables(inventory, inventory.machines[0], tmp_path / "pictograms.tar")
    assert variables["kiosk__fleet_bundle_public_key"] == public.strip()
    assert variables["enrolment__bundle_public_key_file"] == "{{ kiosk__config_dir }}/fleet-bundles.pub"

    (tmp_path / "sans").mkdir()
    inventory = load_inventory(_write(tmp_path / "sans", _delete(["association", "fleet_public_key"])), CATALOG)
    variables = host_variables(inventory, inventory.machines[0], tmp_path / "pictograms.tar")
    assert "kiosk__fleet_bundle_public_key" not in variables and "enrolment__bundle_public_key_file" not in variables
