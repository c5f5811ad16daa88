"""Build the project's wheel and every dependency it needs on the kiosk, into one wheelhouse.

The kiosk then installs with ``pip --no-index`` from that folder: it needs no access to PyPI (a
town hall's connection may be a slow 4G box), and every kiosk installed from the same run gets
exactly the same files. The project's wheel is built reproducibly (fixed SOURCE_DATE_EPOCH) from
a clean copy of the source tree, so that re-running ``provision`` without changes copies nothing
new and changes nothing on the kiosks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_NAME = "mairie_kiosk"
KIOSK_EXTRAS = ("window", "agent")
# Only what building the wheel reads: the packages and the packaging files.
SOURCE_ITEMS = ("kiosk", "provisioning", "setup.cfg", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
REPRODUCIBLE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip file can hold
# The kiosks' Pythons: Debian 12's 3.11 and Debian 13's 3.13 (x86-64). The wheelhouse holds
# wheels for each, whichever Python the volunteer's laptop runs.
KIOSK_PYTHONS = ("3.11", "3.13")
KIOSK_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                   "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64")


class WheelhouseError(Exception):
    """The wheelhouse could not be built; the message says why in French, the log has the details."""


@dataclass(frozen=True)
class Wheelhouse:
    directory: Path
    version: str
    project_wheel: Path


def build_wheelhouse(project_root: Path, destination: Path, log_file: Path,
                     extras: tuple[str, ...] = KIOSK_EXTRAS) -> Wheelhouse:
    """Build into ``destination`` (emptied first); pip's output goes to ``log_file``. ``extras``:
    the kiosk's by default; the fleet server's playbook takes ``("fleet",)``."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="provision-source-") as scratch:
        source = Path(scratch) / "source"
        source.mkdir()
        for item in SOURCE_ITEMS:
            origin = project_root / item
            if origin.is_dir():
                shutil.copytree(origin, source / item, ignore=IGNORED)
            elif origin.is_file():
                shutil.copy2(origin, source / item)
        env = dict(os.environ, SOURCE_DATE_EPOCH=REPRODUCIBLE_EPOCH, PIP_DISABLE_PIP_VERSION_CHECK="1")
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(destination),
                   f"{source}[{','.join(extras)}]"]
        result = _pip(command, scratch, env, log_file)
        if result != 0:
            raise WheelhouseError(f"la construction du paquet du kiosque a échoué (pip, code {result}). "
                                  f"Détails dans {log_file}. Vérifiez l'accès à PyPI.")
        wheels = sorted(destination.glob(f"{PROJECT_NAME}-*.whl"))
        if len(wheels) != 1:
            raise WheelhouseError(f"le paquet du kiosque est introuvable dans {destination}. Détails dans {log_file}.")
        version = wheels[0].name.split("-")[1]
        running = f"{sys.version_info.major}.{sys.version_info.minor}"
        for python in KIOSK_PYTHONS:
            if python == running:
                continue
            abi = "cp" + python.replace(".", "")
            platforms = [argument for platform in KIOSK_PLATFORMS for argument in ("--platform", platform)]
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                       "--python-version", python, "--implementation", "cp", "--abi", abi, *platforms,
                       "--find-links", str(destination), "--dest", str(destination),
                       f"{PROJECT_NAME}[{','.join(extras)}]=={version}"]
            result = _pip(command, scratch, env, log_file)
            if result != 0:
                raise WheelhouseError(f"les paquets pour Python {python} (Debian {_debian(python)}) n'ont pas pu être "
                                      f"téléchargés (pip, code {result}). Détails dans {log_file}. Vérifiez l'accès à PyPI.")
    return Wheelhouse(directory=destination, version=version, project_wheel=wheels[0])


def _debian(python: str) -> str:
    return {"3.11": "12", "3.13": "13"}.get(python, "?")


def _pip(command: list[str], cwd: str, env: dict, log_file: Path) -> int:
    with open(log_file, "a", encoding="utf-8") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        return subprocess.run(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False).returncode


def existing_wheelhouse(directory: Path) -> Wheelhouse:
    """A wheelhouse an earlier run built (its ``wheelhouse/`` folder), to install the very same files
    again, for instance at a town hall without access to PyPI."""
    wheels = sorted(directory.glob(f"{PROJECT_NAME}-*.whl")) if directory.is_dir() else []
    if len(wheels) != 1:
        raise WheelhouseError(f"{directory} : il faut un dossier wheelhouse/ d'une installation précédente, "
                              f"avec un seul paquet {PROJECT_NAME}-….whl (trouvé : {len(wheels)}).")
    return Wheelhouse(directory=directory, version=wheels[0].name.split("-")[1], project_wheel=wheels[0])


def main(argv: list[str] | None = None) -> int:
    """Build a wheelhouse and its archive for the fleet server's playbook (or a kiosk's) and print the
    two inventory variables that name them:
    python -m provisioning.provision.wheelhouse --extras fleet DOSSIER"""
    import argparse

    from provisioning.provision.bundle import pack

    parser = argparse.ArgumentParser(prog="python -m provisioning.provision.wheelhouse", description=main.__doc__)
    parser.add_argument("--extras", default=",".join(KIOSK_EXTRAS), help="extras du paquet (fleet pour le serveur)")
    parser.add_argument("folder", type=Path, help="dossier où écrire wheelhouse/ et wheelhouse.tar")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    try:
        built = build_wheelhouse(Path(__file__).resolve().parents[2], args.folder / "wheelhouse",
                                 args.folder / "wheelhouse.log", extras=tuple(args.extras.split(",")))
    except WheelhouseError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 2
    archive = pack([built.directory], args.folder / "wheelhouse.tar", "*.whl")
    prefix = "fleet_server" if args.extras == "fleet" else "kiosk"
    print(f"{prefix}__version: \"{built.version}\"\n{prefix}__wheelhouse_archive: {archive.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
