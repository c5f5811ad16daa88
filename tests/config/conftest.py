import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_copy(tmp_path) -> Path:
    """A writable copy of the demo configuration and the national catalog, laid out as in the repo."""
    shutil.copytree(REPO / "config" / "demo", tmp_path / "config" / "demo")
    shutil.copy(REPO / "config" / "services.yaml", tmp_path / "config" / "services.yaml")
    shutil.copytree(REPO / "config" / "pictograms", tmp_path / "config" / "pictograms")
    return tmp_path / "config" / "demo"
