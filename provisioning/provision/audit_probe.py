#!/usr/bin/python3
"""Read-only probe that `provision audit` runs as root on a kiosk (Ansible's script module).

Standard library only (it runs with the kiosk's /usr/bin/python3); changes nothing; prints one JSON
object of raw observations. Judging them is provision's job (provisioning/provision/audit.py).
Arguments: the association's SSH account, the kiosk session user, the agent's state directory.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

SECRETS = ("/etc/kiosk/enrolment-code", "/etc/kiosk/agent.yaml", "{state}/token.json", "{state}/spool.db")


def run(*command, timeout=30):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return 127, "", str(error)
    return result.returncode, result.stdout, result.stderr


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def sshd(user):
    code, out, err = run("/usr/sbin/sshd", "-T", "-C", f"user={user},host=audit,addr=192.0.2.1")
    values = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        values.setdefault(key, value)
    return {"ok": code == 0, "error": err.strip()[-300:], "values": values}


def units(*names):
    return {name: run("systemctl", "is-active", name)[1].strip() for name in names}


def active_gettys():
    _, out, _ = run("systemctl", "list-units", "--plain", "--no-legend", "--state=active", "getty@*", "autovt@*")
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def readable_by(user, path):
    if not os.path.exists(path):
        return None
    return run("runuser", "-u", user, "--", "test", "-r", path)[0] == 0


def spool(state_dir):
    path = os.path.join(state_dir, "spool.db")
    if not os.path.exists(path):
        return {"exists": False}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            oldest = db.execute("SELECT min(at), count(*) FROM records").fetchone()
    except sqlite3.Error as error:
        return {"exists": True, "error": str(error)}
    return {"exists": True, "oldest_pending_at": oldest[0], "pending": oldest[1]}


def security_updates():
    code, out, _ = run("apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade", timeout=120)
    pending = [line.split()[1] for line in out.splitlines() if line.startswith("Inst ") and "security" in line.lower()]
    lists = [os.path.join("/var/lib/apt/lists", name) for name in os.listdir("/var/lib/apt/lists")
             if name.endswith("Release")] if os.path.isdir("/var/lib/apt/lists") else []
    newest = max((os.path.getmtime(path) for path in lists), default=None)
    return {"ok": code == 0, "pending": pending, "lists_at": newest}


def main(argv):
    ssh_user, session_user, state_dir = argv[1], argv[2], argv[3]
    container = run("systemd-detect-virt", "--container")[0] == 0
    usage = shutil.disk_usage("/")
    groups_code, groups_out, _ = run("id", "-nG", session_user)
    su = os.stat("/usr/bin/su") if os.path.exists("/usr/bin/su") else None
    sudo_code, sudo_out, sudo_err = run("sudo", "-n", "-l", "-U", session_user)
    facts = {
        "now": time.time(),
        "container": container,
        "sshd": sshd(ssh_user),
        "authorized_keys": read(f"/etc/ssh/authorized_keys/{ssh_user}"),
        "ruleset": run("nft", "list", "ruleset")[1],
        "units": units("kiosk-session.service", "kiosk-agent.service", "nftables.service", "ssh.service",
                       "systemd-timesyncd.service"),
        "getty_tty1": run("systemctl", "is-enabled", "getty@tty1.service")[1].strip(),
        "active_gettys": active_gettys(),
        "logind": read("/etc/systemd/logind.conf.d/50-kiosk.conf") or "",
        "xorg": "\n".join(read(os.path.join("/etc/X11/xorg.conf.d", name)) or ""
                          for name in sorted(os.listdir("/etc/X11/xorg.conf.d"))) if os.path.isdir("/etc/X11/xorg.conf.d") else "",
        "sysrq_live": (read("/proc/sys/kernel/sysrq") or "").strip(),
        "sysrq_configured": read("/etc/sysctl.d/90-kiosk.conf") or "",
        "session_groups": groups_out.split() if groups_code == 0 else None,
        "session_sudo": (sudo_out + sudo_err).strip()[-500:],
        "su": {"mode": oct(su.st_mode & 0o7777), "gid": su.st_gid,
               "group": run("stat", "-c", "%G", "/usr/bin/su")[1].strip()} if su else None,
        "secrets": {path.format(state=state_dir): readable_by(session_user, path.format(state=state_dir))
                    for path in SECRETS},
        "agent": {"enrolled": os.path.exists(os.path.join(state_dir, "token.json")), "spool": spool(state_dir),
                  "restarts": run("systemctl", "show", "--property=NRestarts", "--value", "kiosk-agent.service")[1].strip()},
        "disk": {"free_bytes": usage.free, "total_bytes": usage.total},
        "updates": security_updates(),
        "time": {"synchronized": run("timedatectl", "show", "--property=NTPSynchronized", "--value")[1].strip()},
    }
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
