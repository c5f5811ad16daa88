"""Run site.yml through ansible-runner and turn its events into per-host results.

Each run gets its own directory (kept): the generated inventory, the wheelhouse, ansible-runner's
artifacts with the complete Ansible output (``artifacts/ansible/stdout``) and every event.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import ansible_runner
import yaml

PLAYBOOK = "site.yml"
IDENT = "ansible"
FRENCH_BUILTIN_TASKS = {"Gathering Facts": "Collecter les informations du poste."}
RESULT_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}


@dataclass
class HostResult:
    name: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    unreachable: bool = False
    tasks_done: int = 0
    first_event: float | None = None
    last_event: float | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return not self.unreachable and self.failed == 0

    @property
    def finished_early(self) -> bool:
        return not self.succeeded

    @property
    def duration_s(self) -> float:
        if self.first_event is None or self.last_event is None:
            return 0.0
        return self.last_event - self.first_event


class ProgressListener(Protocol):
    def task_started(self, name: str, handler: bool) -> None: ...
    def host_progressed(self, results: dict[str, HostResult]) -> None: ...


@dataclass
class PlaybookRun:
    run_dir: Path
    playbooks_dir: Path
    hosts: list[str]
    inventory: dict
    extravars: dict
    limit: list[str] | None = None
    check: bool = False
    become_password: str | None = None
    results: dict[str, HostResult] = field(default_factory=dict)
    rc: int | None = None

    @property
    def log_file(self) -> Path:
        return self.run_dir / "artifacts" / IDENT / "stdout"

    @property
    def inventory_file(self) -> Path:
        return self.run_dir / "inventory" / "hosts.yml"

    def selected_hosts(self) -> list[str]:
        return [host for host in self.hosts if not self.limit or host in self.limit]

    def prepare(self) -> None:
        self.inventory_file.parent.mkdir(parents=True, exist_ok=True)
        self.inventory_file.write_text(yaml.safe_dump(self.inventory, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
        self.results = {host: HostResult(host) for host in self.selected_hosts()}

    def count_tasks(self) -> int:
        """Tasks each host goes through (as listed by ansible-playbook --list-tasks)."""
        extravars = self.run_dir / "inventory" / "extravars.json"
        extravars.write_text(json.dumps(self.extravars), encoding="utf-8")
        command = [_ansible_binary("ansible-playbook"), "--list-tasks", "-i", str(self.inventory_file),
                   "-e", f"@{extravars}", PLAYBOOK]
        listing = subprocess.run(command, cwd=self.playbooks_dir, env=self._environment(), capture_output=True,
                                 text=True, check=False)
        return sum(1 for line in listing.stdout.splitlines() if line.startswith("      ") and "TAGS:" in line)

    def run(self, listener: ProgressListener) -> int:
        def on_event(event: dict) -> bool:
            self._record(event, listener)
            return True

        use_ansible_beside_python()
        runner = ansible_runner.run(
            private_data_dir=str(self.run_dir), project_dir=str(self.playbooks_dir), playbook=PLAYBOOK,
            inventory=str(self.inventory_file), extravars=self.extravars, ident=IDENT,
            limit=",".join(self.limit) if self.limit else None, cmdline=self._cmdline(),
            passwords={r"^BECOME password.*:\s*?$": self.become_password} if self.become_password else {},
            envvars=self._environment(),
            event_handler=on_event, quiet=True, suppress_env_files=True)
        self.rc = runner.rc
        return runner.rc

    def _cmdline(self) -> str | None:
        options = (["--check"] if self.check else []) + (["--ask-become-pass"] if self.become_password else [])
        return " ".join(options) or None

    def _record(self, event: dict, listener: ProgressListener) -> None:
        kind = event.get("event", "")
        data = event.get("event_data", {})
        if kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            name = data.get("task", "")
            name = FRENCH_BUILTIN_TASKS.get(name, name)
            role = data.get("role")
            listener.task_started(f"{role} : {name}" if role else name, kind == "playbook_on_handler_task_start")
            return
        if kind not in RESULT_EVENTS:
            return
        result = self.results.setdefault(data.get("host", "?"), HostResult(data.get("host", "?")))
        now = time.monotonic()
        result.first_event = result.first_event if result.first_event is not None else now
        result.last_event = now
        if kind == "runner_on_unreachable":
            result.unreachable = True
            result.failures.append((data.get("task", ""), _message(data.get("res", {}))))
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            result.failed += 1
            result.failures.append((data.get("task", ""), _message(data.get("res", {}))))
        elif kind == "runner_on_skipped":
            result.skipped += 1
        else:
            result.ok += 1
            if data.get("res", {}).get("changed"):
                result.changed += 1
        result.tasks_done += 1
        listener.host_progressed(self.results)

    def _environment(self) -> dict:
        bin_dir = str(Path(sys.executable).parent)
        return {
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "ANSIBLE_CONFIG": str(self.playbooks_dir / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOST_KEY_CHECKING": os.environ.get("ANSIBLE_HOST_KEY_CHECKING", "True"),
        }


def use_ansible_beside_python() -> None:
    """Make ansible-runner find the Ansible installed with this Python (a virtualenv's bin/)."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _ansible_binary(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _message(res: dict) -> str:
    for key in ("msg", "stderr", "module_stderr", "stdout"):
        value = res.get(key)
        if value:
            text = str(value).strip().splitlines()
            return text[-1] if key != "msg" else " ".join(text)[:300]
    return "erreur sans message (voir le journal complet)"


def results_by_host(run: PlaybookRun) -> list[HostResult]:
    return [run.results[host] for host in run.selected_hosts() if host in run.results]

