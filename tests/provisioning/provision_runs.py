"""Running the real `provision` command in tests, on inventories derived from the documented example."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROVISION = Path(sys.executable).parent / "provision"
EXAMPLE_INVENTORY = REPO / "config" / "inventory.example.yml"


@dataclass
class ProvisionResult:
    returncode: int
    output: str
    run_dir: Path | None

    @property
    def log(self) -> str:
        return (self.run_dir / "artifacts" / "ansible" / "stdout").read_text(encoding="utf-8")

    def changed_tasks(self) -> list[str]:
        """The tasks Ansible reported as changed, with their diff when there is one."""
        changed, task = [], ""
        for line in self.log.splitlines():
            if line.startswith("TASK [") or line.startswith("RUNNING HANDLER ["):
                task = line.split("[", 1)[1].rsplit("]", 1)[0]
            elif line.startswith("changed:"):
                changed.append(task)
        return changed


# A first run takes a few minutes on an idle machine; on a loaded CI runner it may take many more.
RUN_TIMEOUT_S = int(os.environ.get("KIOSK_TEST_PROVISION_TIMEOUT_S", "2700"))


def run_provision(*args: str, runs_dir: Path, timeout: int = RUN_TIMEOUT_S) -> ProvisionResult:
    before = set(runs_dir.iterdir()) if runs_dir.exists() else set()
    env = dict(os.environ, COLUMNS="160", TERM="dumb")
    env.pop("FORCE_COLOR", None)
    completed = subprocess.run([str(PROVISION), *args, "--runs-dir", str(runs_dir)] if args[0] == "run"
                               else [str(PROVISION), *args],
                               capture_output=True, text=True, timeout=timeout, env=env, check=False)
    after = set(runs_dir.iterdir()) if runs_dir.exists() else set()
    new = sorted(after - before)
    return ProvisionResult(completed.returncode, completed.stdout + completed.stderr, new[-1] if new else None)


def write_inventory(directory: Path, address: str, edit=None) -> Path:
    """The documented example inventory, aimed at a chroot, optionally edited by ``edit(data)``."""
    data = yaml.safe_load(EXAMPLE_INVENTORY.read_text(encoding="utf-8"))
    data["association"]["connection"] = "chroot"
    data["machines"][0]["address"] = address
    if edit:
        edit(data)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "config" / "demo" / "pictograms", directory / "pictograms", dirs_exist_ok=True)
    path = directory / "inventaire.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# A power cut during an earlier installation leaves a package half-configured: the first run must
# finish it (dpkg --configure -a) before installing anything.
INTERRUPTED_PACKAGE = "ca-certificates"


def interrupt_package(root: Path, package: str) -> None:
    status = root / "var/lib/dpkg/status"
    paragraphs = status.read_text(encoding="utf-8").split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        if paragraph.startswith(f"Package: {package}\n"):
            paragraphs[index] = paragraph.replace("Status: install ok installed", "Status: install ok half-configured")
    status.write_text("\n\n".join(paragraphs), encoding="utf-8")
