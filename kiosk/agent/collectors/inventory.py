"""Inventory: DMI vendor/model/serial/UUID, CPU, RAM, disks, MAC addresses, OS and kiosk versions.

Serials on refurbished PCs are often missing or shared ("To be filled by O.E.M."): they are reported
as read, for information; the fleet server never uses them as an identity.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from pathlib import Path

import kiosk
from kiosk.agent.collectors import ReadTrouble

MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
VIRTUAL_BLOCK = ("loop", "ram", "zram", "dm-", "sr", "fd", "nbd")


class InventoryCollector:
    def __init__(self, proc_root: str | os.PathLike = "/proc", sys_root: str | os.PathLike = "/sys",
                 os_release: str | os.PathLike = "/etc/os-release") -> None:
        self.proc = Path(proc_root)
        self.sys = Path(sys_root)
        self.os_release = Path(os_release)
        self.trouble = ReadTrouble()

    def _text(self, path: Path, kind: str) -> str | None:
        try:
            value = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError as error:  # product_serial is root-only on most machines: normal for our user
            self.trouble.note(kind, error)
            return None
        return value[:200] or None

    def _cpu(self) -> tuple[str | None, int | None]:
        model, count = None, 0
        try:
            for line in (self.proc / "cpuinfo").read_text(errors="replace").splitlines():
                if line.startswith("processor"):
                    count += 1
                elif line.startswith("model name") and model is None:
                    model = line.partition(":")[2].strip()[:200]
        except OSError as error:
            self.trouble.note("cpuinfo", error)
        return model, count or None

    def _memory_bytes(self) -> int | None:
        try:
            for line in (self.proc / "meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError) as error:
            self.trouble.note("meminfo", error)
        return None

    def _disks(self) -> list[dict]:
        disks = []
        for device in sorted((self.sys / "block").glob("*")):
            if device.name.startswith(VIRTUAL_BLOCK):
                continue
            disk: dict = {"name": device.name[:64]}
            size = self._text(device / "size", "disk size")
            if size and size.isdigit():
                disk["size_bytes"] = int(size) * 512
            rotational = self._text(device / "queue" / "rotational", "disk type")
            if rotational in ("0", "1"):
                disk["rotational"] = rotational == "1"
            model = self._text(device / "device" / "model", "disk model")
            if model:
                disk["model"] = model
            disks.append(disk)
        return disks[:64]

    def _macs(self) -> list[str]:
        macs = set()
        for interface in sorted((self.sys / "class" / "net").glob("*")):
            if interface.name == "lo":
                continue
            address = (self._text(interface / "address", "MAC address") or "").lower()
            if MAC.match(address) and address != "00:00:00:00:00:00":
                macs.add(address)
        return sorted(macs)[:64]

    def _os(self) -> str | None:
        try:
            for line in self.os_release.read_text().splitlines():
                if line.startswith("PRETTY_NAME="):
                    return line.partition("=")[2].strip().strip('"')[:200]
        except OSError as error:
            self.trouble.note("os-release", error)
        return None

    def collect(self) -> dict:
        dmi = self.sys / "class" / "dmi" / "id"
        cpu_model, cpu_count = self._cpu()
        inventory = {
            "vendor": self._text(dmi / "sys_vendor", "DMI vendor"),
            "model": self._text(dmi / "product_name", "DMI model"),
            "serial": self._text(dmi / "product_serial", "DMI serial"),
            "uuid": self._text(dmi / "product_uuid", "DMI UUID"),
            "cpu_model": cpu_model, "cpu_count": cpu_count, "memory_bytes": self._memory_bytes(),
            "disks": self._disks(), "macs": self._macs(), "os": self._os(),
            "kernel": platform.release()[:200] or None, "kiosk_version": kiosk.__version__,
        }
        return {key: value for key, value in inventory.items() if value is not None}


def inventory_digest(inventory: dict) -> str:
    """What "the inventory changed" means: a different digest of its canonical JSON."""
    return hashlib.sha256(json.dumps(inventory, sort_keys=True).encode()).hexdigest()
