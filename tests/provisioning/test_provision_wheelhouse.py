"""The wheelhouse `provision` builds: reproducible (a re-run copies nothing new to the kiosks),
complete for an offline install, and reusable with --wheelhouse."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import zipfile

from provision_runs import EXAMPLE_INVENTORY, REPO
from provisioning.provision.bundle import pack
from provisioning.provision.cli import main
from provisioning.provision.wheelhouse import SOURCE_ITEMS, build_wheelhouse

import kiosk


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(tmp_path):
    """A frozen copy of the sources, so that both builds read the very same tree."""
    snapshot = tmp_path / "source"
    snapshot.mkdir()
    for item in SOURCE_ITEMS:
        origin = REPO / item
        if origin.is_dir():
            shutil.copytree(origin, snapshot / item, ignore=shutil.ignore_patterns("__pycache__"))
        elif origin.is_file():
            shutil.copy2(origin, snapshot / item)
    return snapshot


def test_the_wheelhouse_is_reproducible_and_complete(tmp_path):
    source = _snapshot(tmp_path)
    first = build_wheelhouse(source, tmp_path / "one", tmp_path / "build.log")
    (source / "kiosk" / "cli.py").touch()  # a new date changes nothing: only contents count
    second = build_wheelhouse(source, tmp_path / "two", tmp_path / "build.log")
    assert first.version == second.version == kiosk.__version__
    assert _digest(first.project_wheel) == _digest(second.project_wheel)
    assert _digest(pack([first.directory], tmp_path / "one.tar", "*.whl")) == \
        _digest(pack([second.directory], tmp_path / "two.tar", "*.whl"))
    names = {path.name.split("-")[0].lower() for path in first.directory.glob("*.whl")}
    assert {"mairie_kiosk", "pywebview", "psutil", "flask", "pydantic", "pyyaml"} <= names
    # Compiled dependencies for both kiosk Pythons: Debian 12's 3.11 and Debian 13's 3.13.
    for python in ("cp311", "cp313"):
        assert list(first.directory.glob(f"pydantic_core-*-{python}-{python}-*.whl")), python
    with zipfile.ZipFile(first.project_wheel) as wheel:
        members = wheel.namelist()
    assert "kiosk/cli.py" in members
    assert not any(name.startswith(("tests/", "playbooks/")) for name in members)


def test_pack_is_flat_sorted_and_later_folders_win(tmp_path):
    (tmp_path / "national").mkdir()
    (tmp_path / "local").mkdir()
    (tmp_path / "national" / "b.svg").write_text("national b")
    (tmp_path / "national" / "a.svg").write_text("national a")
    (tmp_path / "local" / "a.svg").write_text("local a")
    archive = pack([tmp_path / "national", tmp_path / "local"], tmp_path / "p.tar", "*.svg")
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["a.svg", "b.svg"]
        assert tar.extractfile("a.svg").read() == b"local a"
        assert {member.mtime for member in tar.getmembers()} == {0}


def test_a_wheelhouse_without_the_project_is_refused(capsys, tmp_path):
    (tmp_path / "vide").mkdir()
    code = main(["run", str(EXAMPLE_INVENTORY), "--wheelhouse", str(tmp_path / "vide"),
                 "--runs-dir", str(tmp_path / "runs")])
    output = capsys.readouterr().out
    assert code == 2
    assert "--wheelhouse" in output and "mairie_kiosk" in output
    assert not (tmp_path / "runs").exists()
