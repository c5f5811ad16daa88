"""What crosses the wire between a kiosk and the fleet server, TLS included (bench/management.py).

* :func:`self_signed` makes a certificate for 127.0.0.1 (``cryptography``), which the agent trusts
  through its ``ca_file`` setting, as a kiosk trusts the fleet's certificate;
* :class:`CountingForwarder` is a loopback TCP forwarder put between the agent and the TLS server: it
  counts every byte in both directions (TLS records, handshakes and alerts included) and knows when no
  connection is open any more, so a measurement is read only once the exchange is over.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
import time
from pathlib import Path


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fleet.bench.invalid")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fleet-cert.pem", directory / "fleet-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class CountingForwarder:
    """127.0.0.1:<port> → 127.0.0.1:<target_port>, counting the bytes of every connection both ways."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.total = 0
        self.open_connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self.open_connections += 1
            pumps = [threading.Thread(target=self._pump, args=(client, upstream), daemon=True),
                     threading.Thread(target=self._pump, args=(upstream, client), daemon=True)]
            for pump in pumps:
                pump.start()
            threading.Thread(target=self._close_after, args=(pumps, client, upstream), daemon=True).start()

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    destination.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            with self._lock:
                self.total += len(data)
            try:
                destination.sendall(data)
            except OSError:
                return

    def _close_after(self, pumps, *sockets) -> None:
        for pump in pumps:
            pump.join()
        for sock in sockets:
            sock.close()
        with self._lock:
            self.open_connections -= 1

    def settled_total(self, timeout_s: float = 30.0) -> int:
        """The count once every connection is closed (the server may close a kept one a little later)."""
        deadline = time.monotonic() + timeout_s
        while self.open_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.total

    def close(self) -> None:
        self._stopped = True
        self._listener.close()
