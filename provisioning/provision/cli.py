"""The ``provision`` command a volunteer runs from a laptop (messages in French)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from provisioning.click_french import french_click
from provisioning.provision.audit import probe_machines
from provisioning.provision.bundle import pack
from provisioning.provision.hostvars import ansible_inventory, common_variables
from provisioning.provision.inventory import InventoryError, load_inventory
from provisioning.provision.machine_check import UnreachableError, gather_facts, grade
from provisioning.provision.progress import RunDisplay, summary_table
from provisioning.provision.runner import PlaybookRun, results_by_host
from provisioning.provision.wheelhouse import WheelhouseError, build_wheelhouse, existing_wheelhouse

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUNS_DIR_VARIABLE = "PROVISION_RUNS_DIR"


def default_runs_dir() -> Path:
    state = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    return Path(os.environ.get(RUNS_DIR_VARIABLE, state / "mairie-kiosk" / "provision"))


@click.group(help="Installer et vérifier les postes des points numériques.")
def provision() -> None:
    pass


@provision.command(help="Vérifier qu'un PC convient (64 bits, 2 Go de mémoire, 16 Go de disque, Debian 13 ou 12).")
@click.argument("host", metavar="ADRESSE")
@click.option("--user", "-u", default="root", show_default=True, help="Compte SSH du poste.")
@click.option("--port", default=22, show_default=True, type=click.IntRange(1, 65535), help="Port SSH.")
@click.option("--connection", type=click.Choice(["ssh", "chroot"]), default="ssh", show_default=True,
              help="ssh, ou chroot pour un système préparé dans un dossier (essais).")
def check(host: str, user: str, port: int, connection: str) -> None:
    console = Console()
    with console.status(f"Interrogation de {host}…"):
        try:
            facts = gather_facts(host, user, port, connection)
        except UnreachableError as error:
            console.print(f"[bold red]Erreur :[/] {escape(str(error))}", highlight=False)
            sys.exit(EXIT_FAILED)
    verdict = grade(facts)
    for line in verdict.summary:
        console.print(f"  {line}", highlight=False, markup=False)
    if verdict.suitable:
        console.print("[bold green]Ce poste convient.[/] Vous pouvez l'installer avec « provision run ».")
        sys.exit(EXIT_OK)
    console.print("[bold red]Ce poste ne convient pas.[/] Ce qui manque :")
    for line in verdict.missing:
        console.print(f"  - {line}", highlight=False, markup=False)
    sys.exit(EXIT_FAILED)


@provision.command(help="Installer ou mettre à jour les postes d'un inventaire (sans risque à relancer).")
@click.argument("inventory_path", metavar="INVENTAIRE.yml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--limit", "limit", multiple=True, metavar="NOMS",
              help="Seulement ces postes (asset_tag), séparés par des virgules ou répétés.")
@click.option("--check", "check_only", is_flag=True, help="Essai à blanc : montrer ce qui changerait, sans rien modifier.")
@click.option("--ask-become-pass", "-K", "ask_become_pass", is_flag=True,
              help="Demander le mot de passe sudo du compte SSH (celui créé à l'installation de Debian).")
@click.option("--wheelhouse", "wheelhouse_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Réutiliser les paquets d'une installation précédente (son dossier wheelhouse/) au lieu de les "
                   "reconstruire : utile sans accès à Internet.")
@click.option("--extra-vars", "-e", "extra_vars", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fichier YAML de variables Ansible en plus (usage avancé).")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Où garder le journal de chaque installation (défaut : ~/.local/state/mairie-kiosk/provision, "
                   f"ou ${RUNS_DIR_VARIABLE}).")
def run(inventory_path: Path, limit: tuple[str, ...], check_only: bool, ask_become_pass: bool,
        wheelhouse_dir: Path | None, extra_vars: Path | None, runs_dir: Path | None) -> None:
    console = Console()
    names = _names(limit)
    inventory = _load_or_exit(inventory_path, names, console)
    extravars = _read_extra_vars(extra_vars, console)
    become_password = click.prompt(f"Mot de passe sudo de {inventory.association.ssh_user} sur les postes",
                                   hide_input=True) if ask_become_pass else None

    reused = None
    if wheelhouse_dir is not None:
        try:
            reused = existing_wheelhouse(wheelhouse_dir)
        except WheelhouseError as error:
            console.print(f"--wheelhouse : {error}", highlight=False, markup=False)
            sys.exit(EXIT_BAD_INPUT)

    run_dir = (runs_dir or default_runs_dir()) / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    run_dir.mkdir(parents=True, mode=0o700)  # the generated inventory holds enrolment codes
    console.print(f"Journal de cette installation : {run_dir}", highlight=False)
    if reused:
        wheelhouse = reused
    else:
        with console.status("Construction du paquet du kiosque…"):
            try:
                wheelhouse = build_wheelhouse(PROJECT_ROOT, run_dir / "wheelhouse", run_dir / "build.log")
            except WheelhouseError as error:
                console.print(f"[bold red]Erreur :[/] {escape(str(error))}", highlight=False)
                sys.exit(EXIT_FAILED)
    console.print(f"Paquet du kiosque prêt : version {wheelhouse.version}.", highlight=False)
    wheelhouse_archive = pack([wheelhouse.directory], run_dir / "wheelhouse.tar", "*.whl")
    pictograms_archive = pack([PROJECT_ROOT / "config" / "pictograms", inventory.pictograms_dir],
                              run_dir / "pictograms.tar", "*.svg")

    playbook_run = PlaybookRun(
        run_dir=run_dir, playbooks_dir=PROJECT_ROOT / "playbooks", hosts=[m.asset_tag for m in inventory.machines],
        inventory=ansible_inventory(inventory, pictograms_archive),
        extravars={**common_variables(wheelhouse, wheelhouse_archive, PROJECT_ROOT), **extravars},
        limit=names or None, check=check_only, become_password=become_password)
    playbook_run.prepare()
    tasks_per_host = playbook_run.count_tasks()
    with RunDisplay(console, tasks_per_host, playbook_run.selected_hosts()) as display:
        rc = playbook_run.run(display)
        display.finished()

    results = results_by_host(playbook_run)
    console.print(summary_table(results, check_only))
    for result in results:
        for task, message in result.failures:
            console.print(f"[bold red]{escape(result.name)}[/] : la tâche « {escape(task)} » a échoué : {escape(message)}",
                          highlight=False, soft_wrap=True)
    console.print(f"Journal complet : {playbook_run.log_file}", highlight=False)
    failed = [result.name for result in results if not result.succeeded]
    if failed or rc != 0 or not results:
        reason = escape(f"en échec : {', '.join(failed)}" if failed else f"Ansible a terminé avec le code {rc}")
        console.print(f"[bold red]Installation incomplète[/] ({reason}). Corrigez puis relancez : "
                      "c'est sans risque.", highlight=False)
        sys.exit(EXIT_FAILED)
    console.print("[bold green]Tous les postes sont prêts.[/]")
    sys.exit(EXIT_OK)


def _names(limit: tuple[str, ...]) -> list[str]:
    return [name.strip() for value in limit for name in value.split(",") if name.strip()]


def _load_or_exit(inventory_path: Path, names: list[str], console: Console):
    try:
        return load_inventory(inventory_path, PROJECT_ROOT / "config" / "services.yaml", names)
    except InventoryError as error:
        for problem in error.problems:
            console.print(str(problem), highlight=False, markup=False, soft_wrap=True, style="red")
        count = len(error.problems)
        console.print(f"Inventaire refusé : {count} erreur{'s' if count > 1 else ''} à corriger. Rien n'a été modifié.",
                      highlight=False)
        sys.exit(EXIT_BAD_INPUT)


@provision.command(help="Vérifier, sans rien modifier, que les postes installés sont bien verrouillés "
                        "(SSH, pare-feu, consoles, droits, agent, session, disque, mises à jour, heure).")
@click.argument("inventory_path", metavar="INVENTAIRE.yml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--limit", "limit", multiple=True, metavar="NOMS",
              help="Seulement ces postes (asset_tag), séparés par des virgules ou répétés.")
@click.option("--json", "as_json", is_flag=True, help="Résultat en JSON (pour un script ou le serveur de suivi).")
@click.option("--ask-become-pass", "-K", "ask_become_pass", is_flag=True,
              help="Demander le mot de passe sudo du compte SSH des postes.")
def audit(inventory_path: Path, limit: tuple[str, ...], as_json: bool, ask_become_pass: bool) -> None:
    import json

    console = Console(stderr=as_json)
    names = _names(limit)
    inventory = _load_or_exit(inventory_path, names, console)
    become_password = click.prompt(f"Mot de passe sudo de {inventory.association.ssh_user} sur les postes",
                                   hide_input=True, err=True) if ask_become_pass else None
    machines = [machine for machine in inventory.machines if not names or machine.asset_tag in names]
    with console.status("Vérification des postes…"):
        audits = probe_machines(inventory, machines, become_password)
    all_ok = all(result.ok for result in audits)
    if as_json:
        click.echo(json.dumps({"ok": all_ok, "machines": [result.as_dict() for result in audits]},
                              ensure_ascii=False, indent=2))
        sys.exit(EXIT_OK if all_ok else EXIT_FAILED)
    for result in audits:
        console.print(f"[bold]{escape(result.asset_tag)}[/] ({escape(result.address)})", highlight=False)
        if not result.reachable:
            console.print(f"  [bold red]✗[/] Poste injoignable : {escape(result.error)}. Vérifiez qu'il est allumé, "
                          "son adresse, et votre clé SSH (guide, « Clé d'hôte SSH changée » si le PC a été réinstallé).",
                          highlight=False, soft_wrap=True)
            continue
        for item in result.checks:
            mark = "[green]✓[/]" if item.ok else "[bold red]✗[/]"
            console.print(f"  {mark} {escape(item.label)} : {escape(item.detail)}", highlight=False, soft_wrap=True)
            if not item.ok:
                console.print(f"      À faire : {escape(item.remedy)}", highlight=False, soft_wrap=True)
    failing = [result.asset_tag for result in audits if not result.ok]
    if failing:
        console.print(f"[bold red]À corriger sur : {escape(', '.join(failing))}.[/]", highlight=False)
        sys.exit(EXIT_FAILED)
    console.print("[bold green]Tous les postes sont conformes.[/]")
    sys.exit(EXIT_OK)


def _read_extra_vars(path: Path | None, console: Console) -> dict:
    if path is None:
        return {}
    import yaml
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        console.print(f"{path}: (syntaxe YAML) : {error}. Corrigez le fichier.", highlight=False, markup=False)
        sys.exit(EXIT_BAD_INPUT)
    if not isinstance(data, dict):
        console.print(f"{path}: (document) : il faut des lignes « variable: valeur ».", highlight=False, markup=False)
        sys.exit(EXIT_BAD_INPUT)
    return data


def main(argv: list[str] | None = None) -> int:
    try:
        with french_click():
            provision.main(args=argv, prog_name="provision", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
