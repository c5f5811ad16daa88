"""nginx in front of a benchmarked fleet server, configured from the fleet_server role's own template.

The site is rendered from playbooks/roles/fleet_server/templates/etc/nginx/conf.d/fleet-server.conf.j2
with the role's defaults (plain Jinja2, as Ansible would), on loopback ports, with a certificate made
here (ECDSA P-256, what certbot issues by default). Only the per-address request rate is raised: every
simulated kiosk comes from 127.0.0.1, where production sees one address per town hall.

The nginx binary: --nginx PATH, else `nginx` on PATH, else the one of this machine's Debian release
from the fleet server test root filesystem (tests/provisioning/debian_rootfs.py --server RELEASE
builds it; same Debian, same libraries).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

REPO = Path(__file__).resolve().parents[1]
ROLE = REPO / "playbooks" / "roles" / "fleet_server"
SITE_TEMPLATE = "etc/nginx/conf.d/fleet-server.conf.j2"
SERVER_NAME = "bench.essai.test"
TEST_ROOTFS_CACHE = os.environ.get("KIOSK_TEST_ROOTFS_CACHE", "/var/cache/mairie-kiosk-tests")


class NginxUnavailable(Exception):
    pass


def find_nginx(explicit: str | None) -> str:
    if explicit:
        return explicit
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found:
        return found
    # The root filesystem of this machine's own Debian release: its nginx runs on this machine's libraries.
    release = next((line.split("=", 1)[1].strip() for line in Path("/etc/os-release").read_text().splitlines()
                    if line.startswith("VERSION_CODENAME=")), "bookworm")
    candidates = sorted(glob.glob(f"{TEST_ROOTFS_CACHE}/server-rootfs-{release}-*/usr/sbin/nginx"))
    candidates = [path for path in candidates if Path(path).parents[2].joinpath(".complete").exists()]
    if candidates:
        return candidates[-1]
    raise NginxUnavailable("no nginx: install Debian's nginx, pass --nginx PATH, or build the fleet server test root "
                           "filesystem (sudo .venv/bin/python tests/provisioning/debian_rootfs.py --server)")


def render_site(overrides: dict) -> str:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE / "templates"), undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True, trim_blocks=True)
    environment.filters["comment"] = lambda text: "#\n# " + text + "\n#"
    return environment.get_template(SITE_TEMPLATE).render(
        {**defaults, **overrides, "ansible_managed": "Rendered by bench/nginx_front.py"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class NginxFront:
    process: subprocess.Popen
    port: int
    certificate: Path
    key: Path
    version: str
    directory: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_nginx(binary: str, upstream_port: int, directory: Path, max_body_bytes: int) -> NginxFront:
    directory.mkdir(parents=True)
    directory.chmod(0o755)  # worker processes (nobody, when started as root) reach their temp folders
    certificate, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", f"/CN={SERVER_NAME}", "-addext", f"subjectAltName=DNS:{SERVER_NAME}",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    port = free_port()
    site = render_site({
        "fleet_server__server_name": SERVER_NAME, "fleet_server__gunicorn_bind": f"127.0.0.1:{upstream_port}",
        "fleet_server__https_port": port, "fleet_server__http_port": free_port(), "fleet_server__listen_ipv6": False,
        "fleet_server__tls_certificate": str(certificate), "fleet_server__tls_certificate_key": str(key),
        "fleet_server__max_body_bytes": max_body_bytes, "fleet_server__nginx_requests_per_s": 1_000_000,
        "fleet_server__nginx_access_log": str(directory / "access.log"),
    })
    (directory / "fleet-server.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Debian's nginx.conf, reduced to what matters here (workers per core, access log kept).
    (directory / "nginx.conf").write_text(f"""daemon off;
worker_processes auto;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} warn;
events {{
    worker_connections 768;
}}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    default_type application/octet-stream;
    access_log {directory / 'access.log'};
{temp}
    include {directory / 'fleet-server.conf'};
}}
""", encoding="utf-8")
    command = [binary, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", str(directory / "error.log")]
    check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise NginxUnavailable(f"nginx -t refused the rendered configuration: {check.stderr.strip()}")
    version = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False).stderr.strip()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise NginxUnavailable(f"nginx did not start: {(directory / 'error.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
    return NginxFront(process, port, certificate, key, version.split("/", 1)[-1], directory)
