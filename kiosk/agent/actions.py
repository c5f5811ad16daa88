"""Messages and remote actions, the agent's half (issue 12).

After each successful check-in (:meth:`RemoteActions.after_checkin`):

* the banners in the answer (``messages``) are checked and written to ``<bundle_dir>/messages.json``,
  which the kiosk's shell shows until each one's end date (:mod:`kiosk.shell.messages`); an answer
  without any clears them;
* each action in the answer (``actions``) is carried out once: its id is written to the agent's journal
  (``<state_dir>/actions.json``) BEFORE anything is done, so an action handed out again (the answer was
  lost with the link, the agent restarted) is never run twice. Before it runs, the agent asks the server
  whether it is still wanted, by acknowledging it (``accepted``): the server's answer names the action's
  state, and an action staff cancelled meanwhile (``cancelled``) is dropped without running — a kiosk
  that received an action and then lost its link never runs it once back if it was cancelled. Once the
  server has recorded ``accepted``, staff can no longer cancel it (the dashboard says so). A diagnostic is collected here
  (:mod:`kiosk.agent.actions_diagnostic`); a restart or a reboot becomes a request the kiosk carries out
  at its next session boundary (:mod:`kiosk.agent.actions_boundary`);
* every state not yet acknowledged by the server is reported (``POST /api/v1/actions/<id>/result``):
  ``accepted`` when a request waits for the boundary, then ``done`` or ``failed`` with a short French
  detail, and the diagnostic's text. A report the server refuses for good (404, 422) is dropped.

Every input from the server is checked (types, sizes, counts): a malformed entry is skipped and logged.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Sequence

from kiosk.agent import actions_boundary, actions_diagnostic
from kiosk.atomic_swap import write_json

log = logging.getLogger("kiosk.agent")
MESSAGES_FILE = "messages.json"
JOURNAL_FILE = "actions.json"
MAX_ACTIONS = 10
MAX_MESSAGES = 5
MESSAGE_MAX_CHARS = 280
JOURNAL_KEEP = 100
RESULT_PATH = "/api/v1/actions/{id}/result"
REFUSED_FOR_GOOD = (400, 404, 409, 413, 415, 422)
KINDS = ("restart", "reboot", "diagnostic")


def checked_messages(value) -> list[dict]:
    """The answer's banners that are well formed (id, text of 280 characters at most, end date)."""
    checked = []
    for item in value[:MAX_MESSAGES] if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        message_id, text, ends_at = item.get("id"), item.get("text"), item.get("ends_at")
        if (type(message_id) is int and isinstance(text, str) and 0 < len(text) <= MESSAGE_MAX_CHARS
                and isinstance(ends_at, (int, float)) and not isinstance(ends_at, bool) and math.isfinite(ends_at)):
            text = " ".join("".join(char if char.isprintable() else " " for char in text).split())
            checked.append({"id": message_id, "text": text, "ends_at": float(ends_at)})
        else:
            log.error("a malformed message in the check-in answer was ignored")
    return checked


def checked_actions(value) -> list[tuple[int, str]]:
    checked = []
    for item in value[:MAX_ACTIONS] if isinstance(value, list) else []:
        if isinstance(item, dict) and type(item.get("id")) is int and 1 <= item["id"] < 2**31 and item.get("kind") in KINDS:
            checked.append((item["id"], item["kind"]))
        else:
            log.error("a malformed action in the check-in answer was ignored")
    return checked


class RemoteActions:
    def __init__(self, state_dir: Path, bundle_dir: Path, client,
                 diagnostic_command: Sequence[str] = actions_diagnostic.DEFAULT_COMMAND) -> None:
        self.state_dir, self.bundle_dir, self.client = Path(state_dir), Path(bundle_dir), client
        self.diagnostic_command = tuple(diagnostic_command)
        self.journal_path = self.state_dir / JOURNAL_FILE

    # -- the journal -----------------------------------------------------------------------------------
    def journal(self) -> dict[str, dict]:
        try:
            document = json.loads(self.journal_path.read_text())
            return document if isinstance(document, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            log.error("the actions journal is unreadable (%s); starting a new one", error)
            return {}

    def _save(self, journal: dict[str, dict]) -> None:
        finished = [key for key, entry in journal.items() if entry.get("reported") == entry.get("state")
                    and entry.get("state") in ("done", "failed", "cancelled")]
        for key in finished[:-JOURNAL_KEEP] if len(finished) > JOURNAL_KEEP else []:
            del journal[key]
        write_json(self.journal_path, journal, 0o600)

    # -- messages --------------------------------------------------------------------------------------
    def show_messages(self, value) -> None:
        messages = checked_messages(value)
        path = self.bundle_dir / MESSAGES_FILE
        try:
            if json.loads(path.read_text(encoding="utf-8")) == messages:
                return
        except (OSError, ValueError):
            if not messages and not path.exists():
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, messages, 0o640)  # the kiosk (the bundle directory's group) reads it
        log.info("%d message(s) to show on the kiosk", len(messages))

    # -- actions ---------------------------------------------------------------------------------------
    def _carry_out(self, action_id: int, kind: str) -> dict:
        if kind == "diagnostic":
            ok, detail, text = actions_diagnostic.collect(self.diagnostic_command)
            if ok:
                (self.state_dir / f"diagnostic-{action_id}.txt").write_text(text, encoding="utf-8")
            return {"state": "done" if ok else "failed", "detail": detail}
        actions_boundary.write_request(self.bundle_dir, action_id, kind)
        return {"state": "accepted", "detail": "prévu à la prochaine fin de session (ou dès que la borne est libre)"}  # already reported

    def take(self, value, token: str) -> None:
        """Record the answer's new actions, then run each one the server confirms is still wanted.
        Raises ServerUnreachable (what is not confirmed yet waits for the next check-in)."""
        journal = self.journal()
        for action_id, kind in checked_actions(value):
            if str(action_id) in journal:
                continue  # handed out again: already carried out (or under way)
            journal[str(action_id)] = {"kind": kind, "state": "received"}
            self._save(journal)
        for key, entry in list(journal.items()):
            if entry.get("state") != "received":
                continue
            wanted = self._still_wanted(int(key), entry, token)
            if wanted is None:
                break  # the server cannot say now: ask again after the next check-in
            if not wanted:
                self._save(journal)
                continue
            entry.update(state="started", reported="accepted")
            self._save(journal)  # written before it runs: never twice
            try:
                entry.update(self._carry_out(int(key), entry["kind"]))
            except OSError as error:
                entry.update(state="failed", detail=f"impossible sur la borne : {error.strerror or error}")
            log.info("remote action %s (%s): %s", key, entry["kind"], entry["state"])
            self._save(journal)
        outcomes = actions_boundary.take_outcomes(self.bundle_dir)
        for action_id, outcome in outcomes.items():
            if str(action_id) in journal:
                journal[str(action_id)].update(outcome)
        if outcomes:
            self._save(journal)

    def _still_wanted(self, action_id: int, entry: dict, token: str) -> bool | None:
        """Acknowledge the action (``accepted``) and read its state in the server's answer: True to run it,
        False when it was cancelled or refused (the entry says so), None when the server cannot tell now."""
        detail = ("collecte du journal en cours" if entry["kind"] == "diagnostic"
                  else "prévu à la prochaine fin de session (ou dès que la borne est libre)")
        answer = self.client.post(RESULT_PATH.format(id=action_id), {"state": "accepted", "detail": detail}, token)
        if answer.status == 200 and answer.body.get("state") == "accepted":
            return True
        if answer.status == 200 or answer.status in REFUSED_FOR_GOOD:
            state = answer.body.get("state") if answer.status == 200 else None
            log.info("remote action %d (%s) not run: %s", action_id, entry["kind"],
                     f"its state on the server is {state!r}" if state else f"refused by the server (HTTP {answer.status})")
            entry.update(state="cancelled", reported="cancelled")
            return False
        log.warning("remote action %d not confirmed (HTTP %d); asked again after the next check-in", action_id, answer.status)
        return None

    def report(self, token: str) -> int:
        """Report every state the server has not acknowledged; how many were. Raises ServerUnreachable."""
        journal = self.journal()
        reported = 0
        for key, entry in journal.items():
            state = entry.get("state")
            if state not in ("accepted", "done", "failed") or entry.get("reported") == state:
                continue
            document = {"state": state, "detail": str(entry.get("detail", ""))[:300]}
            diagnostic = self.state_dir / f"diagnostic-{key}.txt"
            if entry.get("kind") == "diagnostic" and state == "done" and diagnostic.exists():
                document["diagnostic"] = diagnostic.read_text(encoding="utf-8")
            answer = self.client.post(RESULT_PATH.format(id=int(key)), document, token)
            if answer.status == 200 or answer.status in REFUSED_FOR_GOOD:
                if answer.status != 200:
                    log.error("the server refused the result of action %s (HTTP %d): %s", key, answer.status,
                              answer.body.get("errors") or answer.body.get("error"))
                entry["reported"] = state
                diagnostic.unlink(missing_ok=True)
                self._save(journal)
                reported += 1
            else:  # 401 (the check-in deals with the token): keep it for the next time
                log.warning("result of action %s not delivered (HTTP %d); kept", key, answer.status)
                break
        return reported

    def after_checkin(self, token: str, answer_body: dict) -> None:
        self.show_messages(answer_body.get("messages"))
        self.take(answer_body.get("actions"), token)
        self.report(token)
