"""Remote actions the kiosk itself carries out between two residents (issue 12): restart the kiosk
session, reboot the PC. Shared by the two processes that meet in the bundle directory:

* the agent (its own user) writes one request file per action it received (:func:`write_request`) in
  ``<bundle_dir>/requests`` (group-writable for the kiosk's group);
* the kiosk window (:class:`BoundaryRequests`) carries them out at a session boundary, right after a
  wipe, or when nobody has used the kiosk since it started: never under a resident's hands. It writes
  an outcome file the agent reports to the server (:func:`take_outcomes`), then quits (the supervisor
  starts the kiosk again) or runs the reboot command (a setting: ``systemctl reboot`` by default, which
  logind allows the user of the active seat).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path
from typing import Callable, Sequence

log = logging.getLogger(__name__)
REQUESTS_DIR = "requests"
BOUNDARY_KINDS = ("restart", "reboot")


def _write_atomically(path: Path, document: dict) -> None:
    temporary = path.with_name("." + path.name + ".tmp")
    temporary.write_text(json.dumps(document))
    os.chmod(temporary, 0o660)
    os.replace(temporary, path)


def requests_dir(bundle_dir: Path) -> Path:
    directory = Path(bundle_dir) / REQUESTS_DIR
    if not directory.is_dir():
        directory.mkdir(parents=True)
        os.chmod(directory, 0o2770)  # the kiosk's group removes requests and writes outcomes
    return directory


def write_request(bundle_dir: Path, action_id: int, kind: str) -> None:
    if kind not in BOUNDARY_KINDS:
        raise ValueError(kind)
    _write_atomically(requests_dir(bundle_dir) / f"{int(action_id)}.request", {"id": int(action_id), "kind": kind})


def pending_requests(directory: Path) -> list[tuple[int, str]]:
    found = []
    for path in sorted(Path(directory).glob("*.request")):
        try:
            document = json.loads(path.read_text())
            found.append((int(document["id"]), str(document["kind"])))
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.error("unreadable action request %s (%s): removed", path.name, error)
            path.unlink(missing_ok=True)
    return [(action_id, kind) for action_id, kind in found if kind in BOUNDARY_KINDS]


def take_outcomes(bundle_dir: Path) -> dict[int, dict]:
    """The agent's half: the outcomes the kiosk wrote, by action id (files removed once read)."""
    outcomes = {}
    directory = Path(bundle_dir) / REQUESTS_DIR
    for path in sorted(directory.glob("*.outcome")) if directory.is_dir() else []:
        try:
            document = json.loads(path.read_text())
            outcomes[int(document["id"])] = {"state": "done" if document.get("ok") else "failed",
                                             "detail": str(document.get("detail", ""))[:300]}
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.error("unreadable action outcome %s (%s)", path.name, error)
        path.unlink(missing_ok=True)
    return outcomes


def run_command(command: Sequence[str]) -> int:
    """The real runner: the command's exit status (127 when it cannot be started)."""
    try:
        return subprocess.run(list(command), check=False, timeout=60, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    except (OSError, subprocess.SubprocessError) as error:
        log.error("could not run %s: %s", command[0] if command else "(nothing)", error)
        return 127


class BoundaryRequests:
    """The kiosk window's half. ``reboot_command``: the command that reboots the PC; ``runner(command)``
    runs it and returns its exit status (tests pass a stand-in that records what was asked)."""

    def __init__(self, bundle_dir: Path, reboot_command: Sequence[str],
                 runner: Callable[[Sequence[str]], int] = run_command) -> None:
        self.directory = Path(bundle_dir) / REQUESTS_DIR
        self.reboot_command = tuple(reboot_command)
        self.runner = runner

    def _outcome(self, action_id: int, ok: bool, detail: str) -> None:
        try:
            _write_atomically(self.directory / f"{action_id}.outcome", {"id": action_id, "ok": ok, "detail": detail})
            (self.directory / f"{action_id}.request").unlink(missing_ok=True)
        except OSError as error:
            log.error("could not record the outcome of action %d (%s)", action_id, error)

    def carry_out(self, quit_kiosk: Callable[[], None]) -> str | None:
        """Carry out what is asked; call ONLY between two sessions. The kind done, or None."""
        if not self.directory.is_dir():
            return None
        requests = pending_requests(self.directory)
        if not requests:
            return None
        reboot = [action_id for action_id, kind in requests if kind == "reboot"]
        restart = [action_id for action_id, kind in requests if kind == "restart"]
        if reboot:
            for action_id in restart:  # the reboot restarts the session too
                self._outcome(action_id, True, "session redémarrée avec l'ordinateur")
            for action_id in reboot:
                self._outcome(action_id, True, "redémarrage de l'ordinateur lancé entre deux sessions")
            status = self.runner(self.reboot_command)
            if status != 0:
                for action_id in reboot:
                    self._outcome(action_id, False, f"la commande de redémarrage a échoué (code {status})")
                return None
            log.info("rebooting the PC at a session boundary (remote action)")
            return "reboot"
        for action_id in restart:
            self._outcome(action_id, True, "session du kiosque redémarrée entre deux sessions")
        log.info("restarting the kiosk at a session boundary (remote action)")
        quit_kiosk()
        return "restart"

    @staticmethod
    def when_free(kiosk, hook: Callable[[object], None]) -> None:
        """A timer's check: run the boundary ``hook`` (staged bundle, then requests) when no session is
        open, so an idle kiosk applies a change or a restart without waiting for a resident to come and go."""
        if getattr(kiosk.session.state, "value", None) == "no_session":  # kiosk.window.session.State
            hook(kiosk)

    def boundary_hook(self, previous, quit_kiosk: Callable[[object], None]):
        """The window's ``on_session_boundary``: ``previous`` (the bundle swap) first, then the requests."""
        def hook(kiosk) -> None:
            if previous is not None:
                previous(kiosk)
            self.carry_out(lambda: quit_kiosk(kiosk))
        return hook
