"""``provision audit``: what a provisioned kiosk must be, checked read-only over SSH.

The probe (audit_probe.py, standard library only) runs as root on each machine through Ansible's
script module and reports raw observations; :func:`grade` turns them into a French checklist, each
item with what to do when it does not hold. Nothing is changed on the machines.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import ansible_runner

from provisioning.provision.hostvars import GROUP, connection_variables
from provisioning.provision.inventory import Inventory, Machine, fleet_endpoint
from provisioning.provision.runner import use_ansible_beside_python

PROBE = Path(__file__).with_name("audit_probe.py")
SESSION_USER = "kiosk"
AGENT_STATE_DIR = "/var/lib/kiosk-agent"
PRIVILEGED_GROUPS = {"sudo", "adm", "root", "wheel", "lpadmin", "disk", "shadow", "staff"}
MAX_BACKLOG_S = 3600
MAX_LISTS_AGE_S = 7 * 86400
RERUN = "Relancez « provision run » pour ce poste (sans risque), puis « provision audit »."


@dataclass(frozen=True)
class Check:
    id: str
    label: str
    ok: bool
    detail: str
    remedy: str


@dataclass
class MachineAudit:
    asset_tag: str
    address: str
    reachable: bool
    error: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return self.reachable and all(check.ok for check in self.checks)

    def as_dict(self) -> dict:
        return {"asset_tag": self.asset_tag, "address": self.address, "reachable": self.reachable,
                "error": self.error, "ok": self.ok, "checks": [asdict(check) for check in self.checks]}


def _key_body(line: str) -> str:
    fields = line.split()
    return " ".join(fields[:2]) if len(fields) >= 2 else line.strip()


def grade(facts: dict, inventory: Inventory) -> list[Check]:
    """The checklist for one machine's observations, in the order volunteers read it."""
    association = inventory.association
    checks: list[Check] = []

    def check(id_: str, label: str, ok: bool, detail: str, remedy: str) -> None:
        checks.append(Check(id_, label, bool(ok), detail, "" if ok else remedy))

    sshd = facts.get("sshd", {}).get("values", {})
    wanted = {"passwordauthentication": "no", "kbdinteractiveauthentication": "no", "permitrootlogin": "no",
              "authenticationmethods": "publickey"}
    wrong = [f"{key} {sshd.get(key, '?')}" for key, value in wanted.items() if sshd.get(key) != value]
    installed = {_key_body(line) for line in (facts.get("authorized_keys") or "").splitlines()
                 if line.strip() and not line.startswith("#")}
    expected = {_key_body(key) for key in association.ssh_keys}
    if installed != expected:
        wrong.append(f"clés installées différentes de l'inventaire ({len(installed)} au lieu de {len(expected)})")
    check("ssh", "SSH : clés de l'association seulement, ni mot de passe ni root", not wrong,
          "; ".join(wrong) or "sshd n'accepte que les clés de l'inventaire",
          f"Quelqu'un a changé la configuration de SSH ({', '.join(wrong)}). {RERUN}")

    ruleset = facts.get("ruleset", "")
    host, port = fleet_endpoint(association.fleet_url)
    missing = [label for label, present in (
        ("table kiosk", "table inet kiosk" in ruleset),
        ("entrées refusées par défaut", "hook input priority filter; policy drop;" in ruleset),
        ("sorties refusées par défaut", "hook output priority filter; policy drop;" in ruleset),
        (f"serveur de suivi port {port}", f"ip daddr @fleet_v4 tcp dport {port} accept" in ruleset),
        ("SSH depuis les réseaux d'administration", f"tcp dport {association.ssh_port} accept" in ruleset),
    ) if not present]
    check("firewall", "Pare-feu chargé comme configuré", not missing,
          "règles en place" if not missing else "manque : " + ", ".join(missing),
          f"Le pare-feu n'est pas celui prévu (manque : {', '.join(missing)}). {RERUN}")

    gettys = facts.get("active_gettys", [])
    logind = facts.get("logind", "")
    getty_ok = facts.get("getty_tty1") == "masked" and not gettys and "NAutoVTs=0" in logind
    check("getty", "Aucune invite de connexion sur les consoles", getty_ok,
          "aucune console de connexion" if getty_ok else f"consoles actives : {', '.join(gettys) or 'réglage absent'}",
          f"Une invite de connexion est revenue sur une console. {RERUN}")

    vt_ok = '"DontVTSwitch" "true"' in facts.get("xorg", "")
    check("vt_switch", "Pas de changement de console (Ctrl+Alt+F1…F12)", vt_ok,
          "DontVTSwitch actif" if vt_ok else "DontVTSwitch absent de /etc/X11/xorg.conf.d",
          f"Le changement de console n'est plus interdit. {RERUN}")

    configured = "kernel.sysrq = 0" in facts.get("sysrq_configured", "")
    live = facts.get("sysrq_live") == "0"
    container = facts.get("container", False)
    sysrq_ok = configured and (live or container)
    check("sysrq", "Touches SysRq coupées", sysrq_ok,
          ("coupées" if live else "réglage en place (conteneur : le noyau est celui de l'hôte)") if sysrq_ok
          else f"réglage {'présent' if configured else 'absent'}, valeur du noyau {facts.get('sysrq_live') or '?'}",
          f"Les touches SysRq sont actives. {RERUN} Si cela persiste, redémarrez le poste.")

    groups = facts.get("session_groups")
    sudo_text = facts.get("session_sudo", "")
    su = facts.get("su") or {}
    sudo_denied = "not allowed" in sudo_text or "n'est pas autorisé" in sudo_text or "!ALL" in sudo_text
    privileged = sorted(PRIVILEGED_GROUPS & set(groups or []))
    su_ok = su.get("mode") == "0o4750" and su.get("group") not in (groups or [])
    user_ok = groups is not None and not privileged and sudo_denied and su_ok
    problems = ([f"groupes {', '.join(privileged)}"] if privileged else []) + \
        ([] if sudo_denied else ["sudo possible"]) + ([] if su_ok else ["su possible"]) + \
        (["compte absent"] if groups is None else [])
    check("session_user", f"Compte « {SESSION_USER} » sans sudo ni su", user_ok,
          "aucun droit d'administration" if user_ok else ", ".join(problems),
          f"Le compte de la session a reçu des droits ({', '.join(problems)}). Retirez-le de ces groupes "
          f"(sudo gpasswd -d {SESSION_USER} GROUPE), puis relancez « provision run ».")

    secrets = facts.get("secrets", {})
    exposed = sorted(path for path, readable in secrets.items() if readable)
    check("secrets", f"Secrets illisibles par « {SESSION_USER} »", not exposed,
          "code d'inscription, réglages et jeton de l'agent protégés" if not exposed else "lisibles : " + ", ".join(exposed),
          f"Ces fichiers sont lisibles par la session : {', '.join(exposed)}. {RERUN}")

    agent = facts.get("agent", {})
    spool = agent.get("spool", {})
    units = facts.get("units", {})
    oldest = spool.get("oldest_pending_at")
    backlog_s = (facts.get("now", 0) - oldest) if isinstance(oldest, (int, float)) else 0
    agent_ok = units.get("kiosk-agent.service") == "active" and agent.get("enrolled") and backlog_s <= MAX_BACKLOG_S
    if units.get("kiosk-agent.service") != "active":
        agent_detail = f"agent {units.get('kiosk-agent.service', '?')}"
    elif not agent.get("enrolled"):
        agent_detail = "jamais inscrit auprès du serveur de suivi"
    else:
        agent_detail = (f"envoie ses mesures (en attente : {spool.get('pending', 0)})" if agent_ok
                        else f"mesures en attente depuis {backlog_s / 3600:.1f} h")
    check("agent", f"L'agent joint le serveur de suivi ({host}:{port})", agent_ok, agent_detail,
          f"Vérifiez l'accès à Internet de la mairie et que {host}:{port} répond ; pour une inscription jamais "
          "faite, demandez un nouveau code d'inscription et relancez « provision run ».")

    session = units.get("kiosk-session.service")
    check("session", "Session du kiosque active", session == "active", f"kiosk-session.service : {session}",
          "La session ne tourne pas : redémarrez le poste ; si l'écran reste noir, voir le guide (« Écran noir »).")

    disk = facts.get("disk", {})
    free, total = disk.get("free_bytes", 0), disk.get("total_bytes", 1) or 1
    # The thresholds are the inventory's (audit_min_free_disk_percent, audit_min_free_disk_gb).
    min_percent, min_gb = association.audit_min_free_disk_percent, association.audit_min_free_disk_gb
    disk_ok = free >= min_gb * 10**9 and free / total * 100 >= min_percent
    check("disk", "Place libre sur le disque", disk_ok,
          (f"{free / 10**9:.1f} Go libres sur {total / 10**9:.0f} Go ({free / total * 100:.0f} %"
           f", {min_percent:g} % et {min_gb:g} Go au moins)").replace(".", ","),
          "Disque presque plein : connectez-vous en SSH et lancez « sudo apt-get clean », puis prévenez l'association.")

    updates = facts.get("updates", {})
    pending = updates.get("pending", [])
    lists_at = updates.get("lists_at")
    stale = lists_at is None or facts.get("now", 0) - lists_at > MAX_LISTS_AGE_S
    updates_ok = updates.get("ok", False) and not pending and not stale
    check("updates", "Mises à jour de sécurité appliquées", updates_ok,
          "aucune en attente" if updates_ok else
          (f"{len(pending)} en attente : {', '.join(pending[:5])}" if pending else "listes de paquets trop anciennes"),
          "Les mises à jour automatiques n'avancent pas : vérifiez l'accès à Internet du poste, puis lancez en SSH "
          "« sudo unattended-upgrade -v ».")

    synchronized = facts.get("time", {}).get("synchronized") == "yes"
    time_ok = synchronized or container
    check("time", "Heure synchronisée", time_ok,
          "synchronisée" if synchronized else ("horloge de l'hôte (conteneur)" if container else "non synchronisée"),
          "L'heure n'est pas synchronisée : vérifiez que la mairie laisse passer NTP (port 123 en UDP).")
    return checks


def probe_machines(inventory: Inventory, machines: list[Machine], become_password: str | None = None) -> list[MachineAudit]:
    """Run the probe on each machine (read-only) and grade what it saw."""
    hosts = {machine.asset_tag: connection_variables(inventory, machine) for machine in machines}
    audits = {machine.asset_tag: MachineAudit(machine.asset_tag, machine.address, False,
                                              "le poste n'a rien répondu", []) for machine in machines}
    with tempfile.TemporaryDirectory(prefix="provision-audit-") as scratch:
        use_ansible_beside_python()
        runner = ansible_runner.run(
            private_data_dir=scratch, host_pattern=",".join(hosts), inventory={"all": {"children": {GROUP: {"hosts": hosts}}}},
            module="ansible.builtin.script",
            module_args=f"{PROBE} {inventory.association.ssh_user} {SESSION_USER} {AGENT_STATE_DIR}",
            passwords={r"^BECOME password.*:\s*?$": become_password} if become_password else {},
            cmdline="--ask-become-pass" if become_password else None,
            quiet=True, envvars={"ANSIBLE_NOCOLOR": "1"}, suppress_env_files=True)
        for event in runner.events:
            data = event.get("event_data", {})
            audit = audits.get(data.get("host", ""))
            if audit is None:
                continue
            result = data.get("res", {})
            if event.get("event") == "runner_on_ok":
                try:
                    facts = json.loads(result.get("stdout", ""))
                except ValueError:
                    audit.error = "réponse illisible du poste"
                    continue
                audit.reachable, audit.error, audit.checks = True, "", grade(facts, inventory)
            elif event.get("event") in ("runner_on_unreachable", "runner_on_failed"):
                message = " ".join(str(result.get("msg") or result.get("stderr") or "").split())[:300]
                audit.error = f"injoignable ou refusé ({message})"
    return [audits[machine.asset_tag] for machine in machines]
