"""What the volunteer sees while a run goes on, and the summary at the end (in French).

On a terminal: a live panel with the current task, a bar, and the hosts done and failed. Elsewhere
(a log file, CI): one line per task, so the output stays readable.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from provisioning.provision.runner import HostResult


class RunDisplay:
    """Receives the run's progress (see runner.ProgressListener) and shows it."""

    def __init__(self, console: Console, tasks_per_host: int, hosts: list[str]) -> None:
        self.console = console
        self.tasks_per_host = max(tasks_per_host, 1)
        self.hosts = hosts
        self.current = "préparation"
        self.results: dict[str, HostResult] = {}
        self.progress = Progress(TextColumn("[bold]Avancement"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console)
        self.bar = self.progress.add_task("avancement", total=self.tasks_per_host * max(len(hosts), 1))
        self.live = Live(self._panel(), console=console, refresh_per_second=4, transient=False) \
            if console.is_terminal else None
        self.task_number = 0

    def __enter__(self) -> "RunDisplay":
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.live.update(self._panel())
            self.live.__exit__(*exc)

    def task_started(self, name: str, handler: bool) -> None:
        self.current = f"{name} (suite à une modification)" if handler else name
        if not handler:
            self.task_number += 1
        if self.live:
            self.live.update(self._panel())
        else:
            done, failed = self._counts()
            self.console.print(f"[{self._completed()}/{self.progress.tasks[0].total}] Tâche : {self.current} "
                               f"— postes terminés : {done}, en échec : {failed}", highlight=False, soft_wrap=True)

    def host_progressed(self, results: dict[str, HostResult]) -> None:
        self.results = results
        self.progress.update(self.bar, completed=self._completed())
        if self.live:
            self.live.update(self._panel())

    def finished(self) -> None:
        self.current = "terminé"
        self.progress.update(self.bar, completed=self.progress.tasks[0].total)
        if self.live:
            self.live.update(self._panel())

    def _completed(self) -> int:
        total = 0
        for result in self.results.values():
            total += self.tasks_per_host if result.finished_early else min(result.tasks_done, self.tasks_per_host)
        return total

    def _counts(self) -> tuple[int, int]:
        failed = sum(1 for result in self.results.values() if not result.succeeded)
        done = sum(1 for result in self.results.values()
                   if result.succeeded and result.tasks_done >= self.tasks_per_host)
        return done, failed

    def _panel(self) -> Group:
        done, failed = self._counts()
        running = max(len(self.hosts) - done - failed, 0)
        status = Text.assemble(("Tâche en cours : ", "bold"), self.current)
        hosts = Text(f"Postes : {done} terminé(s), {failed} en échec, {running} en cours, sur {len(self.hosts)}.")
        return Group(status, self.progress, hosts)


def summary_table(results: list[HostResult], check: bool) -> Table:
    table = Table(title="Bilan par poste" + (" (essai à blanc, rien n'a été modifié)" if check else ""),
                  title_justify="left")
    for column in ("Poste", "Résultat", "Réussies", "Modifiées", "Échecs", "Sautées", "Durée"):
        table.add_column(column, justify="left" if column in ("Poste", "Résultat") else "right")
    for result in results:
        if result.unreachable:
            verdict = "[bold red]injoignable[/]"
        elif result.failed:
            verdict = "[bold red]échec[/]"
        else:
            verdict = "[green]réussi[/]"
        table.add_row(result.name, verdict, str(result.ok), str(result.changed), str(result.failed),
                      str(result.skipped), _duration(result.duration_s))
    return table


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
