"""The agent's loop: record (events, health, inventory) every interval, upload when the server is
reachable, back off with jitter when it is not. It keeps recording offline for as long as it takes.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sqlite3
import threading
from pathlib import Path

from kiosk.agent.callback_delivery import deliver_callbacks
from kiosk.agent.clock import SystemClock
from kiosk.agent.collectors.health import HealthCollector
from kiosk.agent.collectors.inventory import InventoryCollector, inventory_digest
from kiosk.agent.settings import AgentSettings
from kiosk.agent.spool import Spool
from kiosk.agent.uploader import Credentials, FleetClient, ServerUnreachable, load_credentials, save_credentials
from kiosk.callbacks import CallbackDrop
from kiosk.events import EventLog

log = logging.getLogger("kiosk.agent")

BATCH_SIZE = 500
MIN_SERVER_INTERVAL_S = 60
MAX_SERVER_INTERVAL_S = 86400
RECORD_INDEX = re.compile(r"^/records/(\d+)(/|$)")
CALLBACK_MAX_AGE_S = 14 * 86400  # an undelivered call-back request is deleted from the kiosk after this


class Agent:
    def __init__(self, settings: AgentSettings, clock=None, proc_root: str | os.PathLike = "/proc",
                 sys_root: str | os.PathLike = "/sys", os_release: str | os.PathLike = "/etc/os-release",
                 rng: random.Random | None = None) -> None:
        self.settings = settings
        self.on_assist_hint = None  # set by run_agent: wakes the assistance watch
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(settings.state_dir, 0o700)
        except OSError as error:  # not ours to change (provisioning set it up): carry on
            log.info("could not restrict %s to mode 0700 (%s)", settings.state_dir, error.strerror)
        self.spool = Spool(settings.state_dir / "spool.db", settings.spool_quota_mb * 1024 * 1024)
        self.events = EventLog(settings.events_dir)
        self.callback_drop = CallbackDrop(settings.events_dir)
        self.health = HealthCollector(proc_root, sys_root)
        self.inventory = InventoryCollector(proc_root, sys_root, os_release)
        self.client = FleetClient(settings.fleet_url, settings.ca_file)
        self.token_path = settings.state_dir / "token.json"
        self.credentials = load_credentials(self.token_path)
        self.upload_interval_s = settings.interval_s
        self.batch_size = BATCH_SIZE
        self.failures = 0
        from kiosk.agent.actions import RemoteActions  # messages and remote actions (issue 12)
        self.remote = RemoteActions(settings.state_dir, settings.bundle_dir, self.client, settings.diagnostic_command)
        self.bundles = None  # configuration bundles (issue 12), when the fleet's public key is installed
        if settings.bundle_public_key is not None:
            from kiosk.agent.bundles import BundlePaths, BundlePuller
            self.bundles = BundlePuller(BundlePaths(settings.bundle_dir, settings.config_dir,
                                                    settings.bundle_public_key), settings.commune_insee, self.client)
        self.releases = None  # kiosk software updates (issue 12, docs/updates.md), with the same key
        if settings.bundle_public_key is not None and settings.releases_dir is not None:
            from kiosk.updates.puller import release_puller
            self.releases = release_puller(settings, self.client)

    def close(self) -> None:
        self.client.close()
        self.spool.close()

    # -- recording ---------------------------------------------------------------------------------
    def record(self) -> None:
        """One sampling cycle. Nothing here may stop the agent: trouble is logged and counted."""
        now = self.clock.time()
        try:
            self.events.take(self.spool.store_events)
        except OSError as error:
            log.error("could not read window events from %s: %s", self.settings.events_dir, error)
        try:
            self.callback_drop.take(self.spool.add_callback)
            if self.spool.forget_callbacks_before(now - CALLBACK_MAX_AGE_S):
                log.warning("undelivered call-back requests older than %d days were deleted", CALLBACK_MAX_AGE_S // 86400)
        except OSError as error:
            log.error("could not read call-back requests from %s: %s", self.callback_drop.directory, error)
        self.spool.add_health(now, self.health.collect())
        inventory = self.inventory.collect()
        self.spool.add_inventory_if_changed(now, inventory, inventory_digest(inventory))
        self.spool.enforce_quota()

    # -- uploading ---------------------------------------------------------------------------------
    def _enrol(self) -> bool:
        code_file = self.settings.enrolment_code_file
        try:
            code = code_file.read_text().strip()
        except OSError as error:
            log.error("not enrolled and no enrolment code readable at %s (%s)", code_file, error.strerror)
            return False
        answer = self.client.enrol(code, self.settings.asset_tag, self.settings.commune_insee)
        if answer.status != 201:
            log.error("enrolment refused (HTTP %d): %s %s", answer.status, answer.body.get("error"),
                      answer.body.get("errors"))
            return False
        self.credentials = Credentials(answer.body["token"], int(answer.body.get("seq_base", 0)))
        save_credentials(self.token_path, self.credentials)
        try:
            code_file.unlink()
        except OSError as error:  # read-only /etc: the code is spent anyway, and ignored from now on
            log.info("enrolled; could not delete the spent code %s (%s)", code_file, error.strerror)
        if self.spool.count("inventory") == 0:  # a re-enrolled machine sends its inventory again
            self.spool.forget_inventory()
            inventory = self.inventory.collect()
            self.spool.add_inventory_if_changed(self.clock.time(), inventory, inventory_digest(inventory))
        self._apply_interval(answer.body)
        log.info("enrolled as %s", self.settings.asset_tag)
        return True

    def _apply_interval(self, body: dict) -> None:
        interval = body.get("interval_s")
        if isinstance(interval, int) and not isinstance(interval, bool):
            self.upload_interval_s = max(MIN_SERVER_INTERVAL_S, min(MAX_SERVER_INTERVAL_S, interval))

    def _forget_credentials(self) -> None:
        try:
            os.replace(self.token_path, self.token_path.with_name("token.refused.json"))
        except OSError:
            pass
        self.credentials = None

    def _send_batch(self, batch: list[dict]) -> bool:
        base = self.credentials.seq_base
        records = [{**record, "seq": record["seq"] + base} for record in batch]
        answer = self.client.checkin(self.credentials.token, records, self.clock.time())
        if answer.status == 200:
            acked = [seq - base for seq in answer.body.get("acked", []) if isinstance(seq, int)]
            self.spool.delete(acked)
            if isinstance(answer.body.get("token"), str):
                self.credentials = Credentials(answer.body["token"], base)
                save_credentials(self.token_path, self.credentials)
                log.info("device token rotated by the server")
            self._apply_interval(answer.body)
            if answer.body.get("assist") and self.on_assist_hint is not None:
                self.on_assist_hint()  # a mediator waits: the assistance watch polls at once (issue 13)
            if self.bundles is not None:
                try:
                    self.bundles.after_checkin(self.credentials.token, answer.body, self.clock.time())
                except ServerUnreachable:
                    raise
                except Exception as error:  # noqa: BLE001 - a full disk, a surprise: never stops the uploads
                    log.error("configuration bundle not handled this time (%r); the current one stays", error)
            if self.releases is not None:
                self.releases.after_checkin_safely(self.credentials.token, answer.body, self.clock.time())
            try:
                self.remote.after_checkin(self.credentials.token, answer.body)
            except (ServerUnreachable, OSError) as error:  # a full disk, no link: the next check-in tries again
                log.error("messages and remote actions not handled this time (%r)", error)
            return True
        if answer.status == 401:
            log.error("the server refused our token: %s; waiting for a new enrolment code",
                      answer.body.get("error"))
            self._forget_credentials()
            return False
        if answer.status == 413 and self.batch_size > 1:
            self.batch_size = max(1, self.batch_size // 2)
            return True
        if answer.status == 422:
            # The server names each invalid record (/records/N/...) and stored nothing: set those aside
            # (quarantine, counted) and send the others again, so one bad record never blocks the rest.
            reasons: dict[int, list[str]] = {}
            errors = answer.body.get("errors")
            for error in errors if isinstance(errors, list) else []:
                match = RECORD_INDEX.match(str(error))
                if match and int(match.group(1)) < len(batch):
                    reasons.setdefault(batch[int(match.group(1))]["seq"], []).append(str(error)[:500])
            if reasons:
                moved = self.spool.quarantine(reasons, self.clock.time())
                log.error("the server refused %d record(s) as invalid; set aside in quarantine (%d in all): %s",
                          moved, self.spool.quarantined(), errors)
                if moved:
                    return True
        log.error("check-in refused (HTTP %d): %s", answer.status, answer.body.get("error"))
        return False

    def upload(self) -> bool:
        """Send everything pending, oldest first. True when the spool is drained."""
        try:
            if self.credentials is None and not self._enrol():
                return False
            deliver_callbacks(self.spool, self.client, self.credentials.token)
            while True:
                batch = self.spool.next_batch(self.batch_size)
                if not batch:
                    return True
                if not self._send_batch(batch):
                    return False
        except ServerUnreachable as error:
            log.warning("fleet server unreachable (%s); %d record(s) kept", error, self.spool.pending())
            return False
        finally:
            self.client.close()

    def backoff_s(self) -> float:
        """Exponential backoff with jitter, so a fleet coming back online does not arrive at once."""
        base = float(min(30, self.settings.interval_s))
        cap = max(base, min(3600.0, self.upload_interval_s * 12.0))
        return min(cap, base * 2 ** max(0, self.failures - 1)) * self.rng.uniform(0.5, 1.0)

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None, max_cycles: int | None = None) -> None:
        stop = stop or threading.Event()
        now = self.clock.time()
        next_record = next_upload = now
        cycles = 0
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            now = self.clock.time()
            if now >= next_record:
                try:
                    self.record()
                except (sqlite3.Error, OSError) as error:
                    # A full disk or a read-only file system: keep running, retry next cycle.
                    log.error("could not record this cycle (%s); will retry", error)
                next_record = max(next_record + self.settings.interval_s, now + 1)
                cycles += 1
            if now >= next_upload:
                try:
                    uploaded = self.upload()
                except (sqlite3.Error, OSError) as error:
                    log.error("could not upload this cycle (%s); will retry", error)
                    uploaded = False
                if uploaded:
                    self.failures = 0
                    next_upload = now + self.upload_interval_s * self.rng.uniform(0.9, 1.1)
                else:
                    self.failures += 1
                    next_upload = now + self.backoff_s()
            self.clock.sleep(max(0.0, min(next_record, next_upload) - self.clock.time()))


def run_agent(settings: AgentSettings, stop: threading.Event | None = None) -> int:
    stop = stop or threading.Event()
    agent = Agent(settings, clock=SystemClock(stop))
    from kiosk.assist.agent_watch import AssistWatch
    watch = AssistWatch(settings, lambda: agent.credentials, stop)  # remote assistance requests (issue 13)
    agent.on_assist_hint = watch.wake
    watch.start()
    try:
        agent.run(stop)
    finally:
        agent.close()
    return 0


def main_from_file(path: str | Path) -> int:
    """``kiosk agent --settings FILE``: check the file (exit 2 on bad input), then run until SIGTERM."""
    import signal
    import sys

    from kiosk.agent.settings import AgentSettingsError, load_agent_settings
    try:
        settings = load_agent_settings(path)
    except AgentSettingsError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = len(error.problems)
        print(f"Réglages de l'agent refusés : {count} erreur{'s' if count > 1 else ''} à corriger.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        return run_agent(settings, stop)
    except (OSError, sqlite3.Error) as error:
        print(f"{path}: state_dir : impossible d'utiliser {settings.state_dir} ({error}). "
              "Vérifiez que le dossier existe et appartient à l'utilisateur de l'agent.", file=sys.stderr)
        return 1
