"""A machine in the GLPI inventory format (the JSON GLPI Agent submits), ``tag`` = commune INSEE code.

Serials and UUIDs that refurbished PCs share ("To be filled by O.E.M.", all-zero UUIDs) are left out:
GLPI matches computers on them and would merge different machines. The asset tag goes in
``bios.assettag`` and ``hardware.name``, so GLPI files each kiosk under its own name.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import kiosk

PLACEHOLDER = re.compile(
    r"^(|0+|f+|none|n/?a|default string|system serial number|to be filled by o\.?e\.?m\.?|"
    r"not specified|not applicable|123456789|0123456789|[0-]+|03000200-0400-0500-0006-000700080009)$",
    re.IGNORECASE)
MB = 1024 * 1024


def meaningful(value: str | None) -> str | None:
    if value is None or PLACEHOLDER.match(value.strip()):
        return None
    return value.strip()


def _drop_empty(values: dict) -> dict:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


def glpi_document(row) -> dict:
    """``row``: a machine with its latest inventory report (fleet_queries.machines_with_inventory)."""
    seen = dt.datetime.fromtimestamp(row.last_seen_at or row.at or 0, dt.timezone.utc)
    disks = json.loads(row.disks_json or "[]") if row.disks_json else []
    macs = json.loads(row.macs_json or "[]") if row.macs_json else []
    version = row.kiosk_version or kiosk.__version__
    content = {
        "versionclient": f"mairie-kiosk-agent_v{version}",
        "hardware": _drop_empty({
            "name": row.asset_tag, "uuid": meaningful(row.uuid),
            "memory": int(row.memory_bytes // MB) if row.memory_bytes else None,
            "description": f"Point numérique de la mairie de {row.commune_name}"}),
        "bios": _drop_empty({"assettag": row.asset_tag, "smanufacturer": meaningful(row.vendor),
                             "smodel": meaningful(row.model), "ssn": meaningful(row.serial)}),
        "cpus": [_drop_empty({"name": row.cpu_model, "core": row.cpu_count})] if row.cpu_model or row.cpu_count else [],
        "storages": [_drop_empty({
            "name": disk["name"], "model": disk.get("model"), "type": "disk",
            "disksize": int(disk["size_bytes"] // MB) if disk.get("size_bytes") else None,
            "description": {True: "HDD", False: "SSD"}.get(disk.get("rotational"))}) for disk in disks],
        "networks": [{"description": f"Interface {index + 1}", "mac": mac, "virtualdev": False}
                     for index, mac in enumerate(macs)],
        "operatingsystem": _drop_empty({"full_name": row.os, "kernel_version": row.kernel, "name": row.os}),
        "softwares": [{"name": "mairie-kiosk", "version": version, "publisher": "mairie-kiosk"}],
    }
    return {
        "deviceid": f"{row.asset_tag}-{seen.strftime('%Y-%m-%d-%H-%M-%S')}",
        "itemtype": "Computer",
        "tag": row.commune_insee,
        "action": "inventory",
        "content": _drop_empty(content),
    }
