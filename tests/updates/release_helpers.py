"""A fleet with releases for the kiosk software update tests: the real fleet app (app factory) on a
migrated store served over loopback, the fleet's key made by the real ``fleet bundle-key`` code, a
releases directory, and two real agents of the same commune enrolled through the API (``pilot`` and
``other``), each with its own releases, staging and switch directories.

Releases are made of real wheels built here (:func:`build_wheel`): a package named ``mairie-kiosk`` whose
``kiosk`` console script stands for the kiosk — it prints the ready line, hangs, or exits at once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from postgres_schemas import migrated_store

LUCHON = "31042"
BEHAVIOURS = {
    "good": "print('Accueil affiché.', flush=True)\n    time.sleep(0.2)\n    return 0",
    "hang": "time.sleep(3600)\n    return 0",
    "crash": "print('ImportError: the new version is broken', flush=True)\n    return 3",
}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(directory: Path, version: str, behaviour: str = "good") -> Path:
    """A real, installable wheel of ``mairie-kiosk`` ``version`` with a ``kiosk`` console script."""
    directory.mkdir(parents=True, exist_ok=True)
    info = f"mairie_kiosk-{version}.dist-info"
    files = {
        "fake_kiosk_release/__init__.py": (f"import sys, time\n\n\ndef main():\n    print('kiosk {version}', sys.argv[1:], "
                                           f"flush=True)\n    {BEHAVIOURS[behaviour]}\n").encode(),
        f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: mairie-kiosk\nVersion: {version}\n"
                             "Provides-Extra: window\nProvides-Extra: agent\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": b"[console_scripts]\nkiosk = fake_kiosk_release:main\n",
    }
    record = "\n".join([_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,", ""])
    path = directory / f"mairie_kiosk-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{info}/RECORD", record)
    return path


def fake_release(releases_dir: Path, version: str, behaviour: str) -> Path:
    """A release directory as the installer leaves it (``bin/kiosk`` and ``.complete``), without pip: the
    launcher tests only need a real program to run."""
    target = releases_dir / version
    (target / "bin").mkdir(parents=True)
    script = target / "bin" / "kiosk"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n\n\ndef main():\n    print('kiosk {version}', "
                      f"sys.argv[1:], flush=True)\n    {BEHAVIOURS[behaviour]}\n\n\nsys.exit(main())\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (target / ".complete").write_text(version + "\n")
    return target


@dataclass
class Kiosk:
    agent: object
    root: Path

    @property
    def paths(self):
        from kiosk.updates.layout import ReleasePaths
        return ReleasePaths(self.root / "releases", self.root / "switch")

    def checkin(self) -> bool:
        self.agent.record()
        return self.agent.upload()


@dataclass
class ReleaseFleet:
    app: object
    engine: object
    url: str
    key_path: Path
    releases_dir: Path
    pilot: Kiosk
    other: Kiosk
    environ: dict = field(default_factory=dict)

    def fleet(self, *args: str) -> int:
        """The real ``fleet`` command, with this fleet's settings in its environment."""
        from provisioning.fleet.cli import main
        saved = {key: os.environ.get(key) for key in self.environ}
        os.environ.update(self.environ)
        try:
            return main(list(args))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def release_fleet(request, tmp_path, serve_wsgi):
    """On SQLite and PostgreSQL: for what the store decides (rings, statuses, the check-in's key)."""
    yield from _release_fleet(request.param, tmp_path, serve_wsgi)


@pytest.fixture
def release_fleet_sqlite(tmp_path, serve_wsgi):
    """On SQLite only: for the kiosk side (pip, the launcher), which no store changes."""
    yield from _release_fleet("sqlite", tmp_path, serve_wsgi)


def _release_fleet(kind: str, tmp_path, serve_wsgi):
    from kiosk.agent.runner import Agent
    from kiosk.agent.settings import AgentSettings
    from provisioning.fleet import create_app
    from provisioning.fleet.bundle_signing import make_key_pair
    from provisioning.fleet.enrolment import create_enrolment_code

    key_path = tmp_path / "fleet.key"
    public_key = make_key_pair(key_path)
    releases_dir = tmp_path / "server-releases"
    with migrated_store(kind, tmp_path, "rel") as engine:
        url = engine.url.render_as_string(hide_password=False)
        app = create_app({"database_url": url, "testing": True, "secret_key": "test-" + "k" * 40,
                          "bundle_signing_key": str(key_path), "releases_dir": str(releases_dir)})
        base = serve_wsgi(app).rstrip("/")
        kiosks = {}
        for index, name in enumerate(("pilot", "other")):
            root = tmp_path / name
            root.mkdir()
            code = create_enrolment_code(engine, LUCHON, time.time(), 30, name="Bagnères-de-Luchon")
            (root / "code").write_text(code)
            settings = AgentSettings(
                fleet_url=base, asset_tag=f"LUCH-00{index + 1}", commune_insee=LUCHON, enrolment_code_file=root / "code",
                state_dir=root / "agent-state", events_dir=root / "events", bundle_public_key=public_key,
                bundle_dir=root / "bundles", config_dir=root / "etc-kiosk", releases_dir=root / "releases",
                release_staging_dir=root / "staging", release_switch_dir=root / "switch")
            kiosks[name] = Kiosk(Agent(settings), root)
        fleet = ReleaseFleet(app=app, engine=engine, url=base, key_path=key_path, releases_dir=releases_dir,
                             pilot=kiosks["pilot"], other=kiosks["other"],
                             environ={"FLEET_DATABASE_URL": url, "FLEET_BUNDLE_SIGNING_KEY": str(key_path),
                                      "FLEET_RELEASES_DIR": str(releases_dir)})
        try:
            yield fleet
        finally:
            for kiosk in kiosks.values():
                kiosk.agent.close()
            serve_wsgi.stop_all()
            app.extensions["fleet_engine"].dispose()
