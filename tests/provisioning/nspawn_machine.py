"""Boot a root filesystem with systemd-nspawn (no network, not registered) and run commands in it."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import psutil


class BootedMachine:
    def __init__(self, root: Path, log_path: Path) -> None:
        self.root = root
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.leader: int | None = None
        self.log = None

    def boot(self, timeout_s: float = 60) -> None:
        self.log = log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            ["systemd-nspawn", "--boot", "--directory", str(self.root), "--private-network", "--register=no",
             "--keep-unit", "--console=passive", "--quiet", "--timezone=off", "--resolv-conf=off",
             "--link-journal=no"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"systemd-nspawn ended with {self.process.returncode}: {self.log_path.read_text(errors='replace')[-3000:]}")
            children = [child for child in psutil.Process(self.process.pid).children() if child.name() == "systemd"]
            if children:
                self.leader = children[0].pid
                # The container's systemd answers once its private socket exists.
                if self.run("test", "-S", "/run/systemd/private", check=False).returncode == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError("the container did not start in time")

    def run(self, *command: str, check: bool = True, timeout: float = 60, user: str | None = None) -> subprocess.CompletedProcess:
        if user:
            command = ("runuser", "-u", user, "--", *command)
        result = subprocess.run(["nsenter", "--target", str(self.leader), "--mount", "--uts", "--ipc", "--net", "--pid",
                                 "--", *command], capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed ({result.returncode}): {result.stdout}{result.stderr}")
        return result

    def wait_until_settled(self, timeout_s: float = 90) -> str:
        """Wait for the boot to finish; return systemd's overall state (running, degraded…)."""
        result = self.run("systemctl", "is-system-running", "--wait", check=False, timeout=timeout_s)
        return result.stdout.strip()

    def shutdown(self) -> None:
        try:
            self._power_off()
        finally:
            if self.log:
                self.log.close()

    def _power_off(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # nspawn asks the container's systemd to power off
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_for(predicate, timeout_s: float, what: str, explain=lambda: "", interval_s: float = 0.5):
    """``predicate()``'s first true value within ``timeout_s``; otherwise an AssertionError naming
    ``what`` and, after it, what ``explain()`` says (the machine's state, a log)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out waiting for {what}\n{explain()}".rstrip())
