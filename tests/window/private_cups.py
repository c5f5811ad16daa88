"""A private CUPS scheduler for the printing tests: its own cupsd, as a child process, on a free loopback port.

Everything it writes (configuration, spool, cache, logs) stays in one temporary folder; it never
touches the system's CUPS (no Unix socket, no printcap, no browsing or sharing). Its one queue is a
raw queue whose device is ``file:///dev/null``: jobs really go through the scheduler and its backend,
offline, without a driver. Clients reach it through ``CUPS_SERVER`` (see :attr:`PrivateCups.server`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CUPSD = "/usr/sbin/cupsd"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class PrivateCups:
    folder: Path
    port: int
    process: subprocess.Popen

    @property
    def server(self) -> str:
        """The value for ``CUPS_SERVER`` (or ``-h``) that reaches this scheduler."""
        return f"127.0.0.1:{self.port}"

    def run(self, *command: str) -> str:
        """A CUPS client command against this scheduler; its output, or an AssertionError with the error."""
        program = shutil.which(command[0]) or f"/usr/sbin/{command[0]}"  # lpadmin, cupsenable: sbin
        done = subprocess.run([program, *command[1:]], capture_output=True, text=True, timeout=20, check=False,
                              env={**os.environ, "CUPS_SERVER": self.server})
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        return done.stdout

    def add_queue(self, name: str) -> None:
        # Raw queues are deprecated in CUPS 2.4 (lpadmin warns) but still work, and need no driver or network.
        self.run("lpadmin", "-p", name, "-E", "-v", "file:///dev/null", "-m", "raw")

    def job_ids(self, printer: str, which: str) -> list[int]:
        """Job numbers of ``printer`` that are ``completed`` (done, cancelled or aborted) or ``not-completed``."""
        output = self.run("lpstat", "-W", which, "-o", printer)
        return sorted(int(match) for match in re.findall(rf"^{re.escape(printer)}-(\d+)\s", output, re.MULTILINE))

    def job_log(self, job: int) -> list[str]:
        """What the scheduler logged about one job (``Job completed.``, ``Job canceled by user.``…)."""
        log = self.folder / "log" / "error_log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return re.findall(rf"\[Job {job}\] (.*)$", text, re.MULTILINE)

    def page_log(self, job: int) -> list[str]:
        """CUPS's accounting lines for one job (written only when the job went through the backend)."""
        log = self.folder / "log" / "page_log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return [line for line in lines if line.split()[2:3] == [str(job)]]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def cupsd_missing_reason() -> str | None:
    """Why a private scheduler cannot run here (None when it can)."""
    if not os.path.exists(CUPSD):
        return "cupsd is not installed (Debian package cups)"
    for tool in ("lp", "lpadmin", "lpstat", "cancel", "cupsdisable"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"{tool} is not installed (Debian packages cups and cups-client)"
    return None


def start_private_cups(folder: Path, timeout: float = 15.0) -> PrivateCups:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)  # cupsd runs its backends as the unprivileged "lp" user
    for name in ("root", "state", "cache", "spool", "spool/tmp", "log"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    port = _free_port()
    (folder / "cupsd.conf").write_text(
        f"Listen 127.0.0.1:{port}\n"
        "Browsing No\nBrowseLocalProtocols none\nDefaultShared No\nWebInterface No\nLogLevel info\n"
        "<Location />\n  Order allow,deny\n  Allow from 127.0.0.1\n</Location>\n"
        "<Policy default>\n  <Limit All>\n    Order allow,deny\n    Allow from 127.0.0.1\n  </Limit>\n</Policy>\n")
    (folder / "cups-files.conf").write_text(
        f"ServerRoot {folder}/root\nStateDir {folder}/state\nCacheDir {folder}/cache\n"
        f"RequestRoot {folder}/spool\nTempDir {folder}/spool/tmp\nPrintcap {folder}/printcap\n"
        f"ErrorLog {folder}/log/error_log\nAccessLog {folder}/log/access_log\nPageLog {folder}/log/page_log\n"
        "FileDevice Yes\n")
    output = open(folder / "cupsd.out", "wb")  # noqa: SIM115 - handed over to the child
    process = subprocess.Popen([CUPSD, "-f", "-c", str(folder / "cupsd.conf"), "-s", str(folder / "cups-files.conf")],
                               stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    output.close()
    cups = PrivateCups(folder, port, process)
    end = time.monotonic() + timeout
    while not _port_open(port):
        if process.poll() is not None or time.monotonic() > end:
            cups.stop()
            log = folder / "log" / "error_log"
            details = (folder / "cupsd.out").read_text(errors="replace") + (log.read_text() if log.exists() else "")
            raise RuntimeError(f"the private cupsd did not start on port {port}: {details.strip()[-800:]}")
        time.sleep(0.05)
    return cups
