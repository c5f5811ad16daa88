"""The layering (docs/architecture.md), checked on the import graph that grimp builds from every module's
import statements, including those inside functions, and through chains of modules (not a grep):
the contracts are import-linter's, declared in setup.cfg's [importlinter] sections."""

from __future__ import annotations

import configparser
import logging
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

REPO_ROOT = Path(__file__).resolve().parent.parent
SETUP_CFG = REPO_ROOT / "setup.cfg"
CONTRACTS = {
    "kiosk-never-imports-provisioning", "shell-never-imports-window", "store-imports-no-page",
    "commands-form-a-tree", "pages-import-no-command",
}


def test_the_layering_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    declared = {section.split(":", 2)[2] for section in _setup_cfg().sections()
                if section.startswith("importlinter:contract:")}
    assert CONTRACTS <= declared  # a contract removed from setup.cfg must be removed here, knowingly
    with _loggers_kept():
        result = lint_imports(config_filename=str(SETUP_CFG), no_cache=True)
    assert result == 0, "an import breaks the layering: see the report above and docs/architecture.md"


def test_no_module_imports_itself_through_others():
    """No circles: for every import a -> b, no chain leads from b back to a (in kiosk and provisioning)."""
    graph = grimp.build_graph("kiosk", "provisioning", cache_dir=None)
    assert len(graph.modules) > 100  # the graph was built from the sources
    circles = sorted((importer, imported) for importer in graph.modules
                     for imported in graph.find_modules_directly_imported_by(importer)
                     if graph.chain_exists(importer=imported, imported=importer))
    assert circles == []


class _loggers_kept:
    """import-linter configures logging with dictConfig, which disables every logger that exists then
    (the agent's among them): later tests reading the agent's log would see nothing. Put them back."""

    def __enter__(self):
        self.disabled = {name: logger.disabled for name, logger in logging.root.manager.loggerDict.items()
                         if isinstance(logger, logging.Logger)}

    def __exit__(self, *exc):
        for name, disabled in self.disabled.items():
            logging.getLogger(name).disabled = disabled


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG, encoding="utf-8")
    return parser


