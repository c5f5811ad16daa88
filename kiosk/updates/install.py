"""Install a verified release beside the running one: a new virtual environment ``releases_dir/<version>``
filled by pip from the downloaded files only (``--no-index``: offline, nothing else can slip in).

Virtual environments are not relocatable, so the release is built at its final path; the ``.complete``
file, written last, is what makes it a release the launcher may switch to. A half-built one is removed
and built again.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

from kiosk.updates.layout import COMPLETE, ReleasePaths

log = logging.getLogger("kiosk.agent")
INSTALL_TIMEOUT_S = 900
DEFAULT_EXTRAS = ("window", "agent")


class InstallFailed(RuntimeError):
    """pip or venv failed; the message (English, bounded) says how."""


def _run(argv: list[str]) -> None:
    try:
        finished = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                                  env={"PATH": "/usr/bin:/bin", "PIP_NO_INDEX": "1", "PIP_NO_CACHE_DIR": "1",
                                       "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"})
    except subprocess.TimeoutExpired:
        raise InstallFailed(f"{Path(argv[0]).name} took more than {INSTALL_TIMEOUT_S} s") from None
    if finished.returncode != 0:
        last = (finished.stderr or finished.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InstallFailed(f"{' '.join(argv[1:4])} exited with {finished.returncode}: {last[0][:200]}")


def install(paths: ReleasePaths, version: str, package: str, wheels_dir: Path,
            extras: tuple[str, ...] = DEFAULT_EXTRAS, python: str | None = None) -> Path:
    """Build ``releases_dir/<version>`` from ``wheels_dir`` alone; its path. Idempotent."""
    target = paths.release(version)
    if (target / COMPLETE).is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    paths.releases_dir.mkdir(parents=True, exist_ok=True)
    python = python or sys.executable
    requirement = f"{package}[{','.join(extras)}]=={version}" if extras else f"{package}=={version}"
    try:
        # The system's site packages stay visible: PyGObject and WebKitGTK come from Debian.
        _run([python, "-m", "venv", "--without-pip", "--system-site-packages", str(target)])
        _run([python, "-m", "pip", "--python", str(target / "bin" / "python"), "install", "--no-index",
              "--no-cache-dir", "--find-links", str(wheels_dir), "--only-binary", ":all:", requirement])
        (target / COMPLETE).write_text(version + "\n")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    log.info("release %s installed beside the running one in %s", version, target)
    return target
