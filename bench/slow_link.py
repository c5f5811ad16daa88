"""A 4G-like link on loopback for the benchmarks: a TCP relay between a client and a server that adds a
fixed one-way delay in each direction and shares a bandwidth limit per direction among all connections
(one kiosk's uplink and downlink). Threads only; nothing leaves 127.0.0.1.

    link = SlowLink(target_port, up_kbit_per_s=1500, down_kbit_per_s=8000, one_way_delay_s=0.05)
    ... connect to 127.0.0.1:link.port ...
    link.close()
"""

from __future__ import annotations

import collections
import socket
import threading
import time

CHUNK = 4096


class _Direction:
    """One direction of the link: a bandwidth shared by every connection, and a fixed delay."""

    def __init__(self, kbit_per_s: float, delay_s: float) -> None:
        self.bytes_per_s = kbit_per_s * 1000 / 8
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.free_at = 0.0  # when the link has finished sending what it was already given

    def departure(self, size: int) -> float:
        """When a chunk of ``size`` bytes handed over now has left the link (serialised, then delayed)."""
        with self.lock:
            start = max(time.monotonic(), self.free_at)
            self.free_at = start + size / self.bytes_per_s
            return self.free_at + self.delay_s


def _pump(source: socket.socket, sink: socket.socket, direction: _Direction) -> None:
    queue: collections.deque = collections.deque()
    ready = threading.Condition()
    finished = []

    def reader() -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                with ready:
                    queue.append((direction.departure(len(data)), data))
                    ready.notify()
        except OSError:
            pass
        with ready:
            finished.append(True)
            ready.notify()

    threading.Thread(target=reader, daemon=True).start()
    try:
        while True:
            with ready:
                while not queue and not finished:
                    ready.wait()
                if not queue:
                    break
                due, data = queue.popleft()
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sink.sendall(data)
    except OSError:
        pass
    for sock in (sink, source):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class SlowLink:
    def __init__(self, target_port: int, up_kbit_per_s: float = 1500, down_kbit_per_s: float = 8000,
                 one_way_delay_s: float = 0.05) -> None:
        self.target_port = target_port
        self.up = _Direction(up_kbit_per_s, one_way_delay_s)
        self.down = _Direction(down_kbit_per_s, one_way_delay_s)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=_pump, args=(client, server, self.up), daemon=True).start()
            threading.Thread(target=_pump, args=(server, client, self.down), daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.listener.close()
