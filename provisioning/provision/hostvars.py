"""Turn the volunteer's inventory into the Ansible inventory the roles read.

This is the one place where the inventory's fields meet the roles' variables (each documented in
its role's README under "Role Variables").
"""

from __future__ import annotations

from pathlib import Path

from provisioning.provision.inventory import Inventory, Machine, fleet_endpoint, site_content
from provisioning.provision.wheelhouse import Wheelhouse

GROUP = "kiosks"


def ansible_inventory(inventory: Inventory, pictograms_archive: Path) -> dict:
    hosts = {machine.asset_tag: host_variables(inventory, machine, pictograms_archive) for machine in inventory.machines}
    return {"all": {"children": {GROUP: {"hosts": hosts}}}}


def common_variables(wheelhouse: Wheelhouse, wheelhouse_archive: Path, project_root: Path) -> dict:
    return {
        "kiosk__version": wheelhouse.version,
        "kiosk__wheelhouse_archive": str(wheelhouse_archive),
        "kiosk__catalog_src": str(project_root / "config" / "services.yaml"),
    }


def connection_variables(inventory: Inventory, machine: Machine) -> dict:
    """How Ansible reaches the machine: SSH as the association's account with sudo, or a chroot (tests)."""
    association = inventory.association
    variables: dict = {"ansible_host": machine.address, "ansible_python_interpreter": "/usr/bin/python3"}
    if association.connection == "chroot":
        variables.update(ansible_connection="community.general.chroot", ansible_become=False)
    else:
        variables.update(ansible_connection="ssh", ansible_user=association.ssh_user,
                         ansible_port=association.ssh_port, ansible_become=True)
    return variables


def host_variables(inventory: Inventory, machine: Machine, pictograms_archive: Path) -> dict:
    association = inventory.association
    site = site_content(inventory, machine)
    variables = connection_variables(inventory, machine)
    printer = machine.site.printer
    fleet_host, fleet_port = fleet_endpoint(association.fleet_url)
    variables.update({
        "base__asset_tag": machine.asset_tag,
        "kiosk__site": site,
        "kiosk__fleet_url": association.fleet_url,
        "kiosk__pictograms_archive": str(pictograms_archive),
        "lockdown__opening_hours": site.get("opening_hours", {}),
        "lockdown__usb_storage": association.usb_storage,
        "lockdown__grub_password_pbkdf2": association.grub_password_hash or "",
        "printing__printer_name": printer.name if printer else "",
        "printing__printer_uri": printer.uri if printer else "",
        "firewall__admin_networks": list(association.admin_networks),
        "firewall__ssh_port": association.ssh_port,
        "firewall__fleet_host": fleet_host,
        "firewall__fleet_port": fleet_port,
        "ssh__user": association.ssh_user,
        "ssh__authorized_keys": list(association.ssh_keys),
        "enrolment__fleet_url": association.fleet_url,
        "enrolment__asset_tag": machine.asset_tag,
        "enrolment__commune_insee": machine.site.commune.insee,
        "enrolment__code": machine.enrolment_code,
    })
    if association.fleet_public_key:
        # Installed by the kiosk role where the agent reads it (configuration bundles, software updates).
        variables.update({
            "kiosk__fleet_bundle_public_key": association.fleet_public_key,
            "enrolment__bundle_public_key_file": "{{ kiosk__config_dir }}/fleet-bundles.pub",
        })
    return variables
