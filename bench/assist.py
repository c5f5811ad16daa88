"""Benchmark of consented remote assistance on loopback: the real kiosk window (``kiosk run`` in a child
process under Xvfb, sharing its page through :mod:`kiosk.window.assist`) and the relay (the fleet server
in a one-process gthread gunicorn, as the relay must run), with a mediator's viewer played by a thread
long-polling frames exactly as the viewer page's script does.

``--rounds`` rounds on loopback, each: the page scrolling with no assistance, then still with none (the
baselines), then one assistance session (the page still for ``--seconds``, then scrolling: 40 px every
100 ms for ``--scroll-seconds``); then one session through bench/slow_link.py (a 4G-like link on
loopback: 1.5 Mbit/s up, 8 Mbit/s down, +50 ms each way; the mediator stays on loopback). Figures
are medians over the rounds (the samples are printed too, with the load average: the machine may be
shared). Per link: frame_latency_p95_ms / p50 (capture finished on the kiosk -> frame received by the
viewer, wall clocks of one machine; frames of both phases), kbit_per_s_still / kbit_per_s_scrolling
(frame bytes the kiosk uploaded per second), frames_per_s, mean frame bytes, and kiosk_cpu_percent.

kiosk_cpu_percent: CPU seconds (user + system, from /proc through psutil) of the kiosk's own processes
-- the window process and its WebKit child processes (WebKitWebProcess, which lays out, paints and
snapshots the page; WebKitNetworkProcess) -- per second of wall clock while the page scrolls, in
percent of one core. That is what the kiosk costs its PC. Xvfb is not counted: it stands in for the X
server and display hardware of a real kiosk (on a PC, Xorg and the GPU do that work, whatever the
window does); it is printed beside the figure (xvfb_cpu_percent) so that nothing hides there. The
bench's scroll driver is a 100 ms GLib timer in the window process (counted: ~1 %); the viewer thread,
the relay and the page's HTTP server are other processes (not counted). The per-process split is
printed (kiosk_cpu_by_process). Then (window closed) bench/assist_ingest.py: bench/ingest.py's
figures with and without ten simulated assistance sessions sending the last real frame.
Prints ONE JSON line (the loopback figures at the top level, the throttled ones under "4g").

    .venv/bin/python bench/assist.py [--rounds 3] [--seconds 8] [--scroll-seconds 20] [--ingest-rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "window"))  # the same one-tile configuration as the window tests
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from assist_ingest import measure  # noqa: E402
from single_tile_config import write_config  # noqa: E402
from slow_link import SlowLink  # noqa: E402

TALL_PAGE = ("<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Formulaire</title></head><body>"
             + "".join(f"<h2>Rubrique {n}</h2><p>Texte d'exemple de la démarche, ligne {n}, avec quelques mots de plus "
                       f"pour remplir la page.</p><input value='champ {n}'>" for n in range(200)) + "</body></html>").encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(TALL_PAGE)))
        self.end_headers()
        self.wfile.write(TALL_PAGE)

    def log_message(self, *args):
        pass


# ---------------------------------------------------------------- the kiosk (child process)

def child(config_dir: str, events_dir: str) -> int:
    from gi.repository import GLib

    from kiosk.assist.relay_client import RelayClient
    from kiosk.config import load_config
    from kiosk.window import assist as assist_module
    from kiosk.window.run import run
    from kiosk.window.settings import WindowSettings

    def say(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    captured = {"at": 0.0, "sent": 0}
    original_done = assist_module.AssistSharing._snapshot_done

    def snapshot_done(self, view, result, generation):
        captured["at"] = time.time()
        return original_done(self, view, result, generation)
    assist_module.AssistSharing._snapshot_done = snapshot_done
    original_send = RelayClient.send_frame

    def send_frame(self, image, image_type):
        at = captured["at"]
        original_send(self, image, image_type)
        captured["sent"] += 1
        say(f"FRAME {captured['sent']} {at} {len(image)}")
    RelayClient.send_frame = send_frame

    def on_show(kiosk):
        scrolling = {"on": False}

        def scroll() -> bool:
            if scrolling["on"]:
                kiosk.view.evaluate_javascript("window.scrollBy(0, 40); if (window.scrollY + innerHeight >= "
                                               "document.body.scrollHeight) window.scrollTo(0, 0);", -1, None, None, None,
                                               None, None)
            return True

        def command(channel, _condition):
            line = channel.readline().strip()
            if line.startswith("visit "):
                kiosk.view.load_uri(line.split(" ", 1)[1])
            elif line == "title":
                say(f"TITLE {kiosk.view.get_title()} {not kiosk.view.is_loading()}")
            elif line == "yes":
                captured["sent"] = 0  # frames are numbered per session, as the relay numbers them
                kiosk.assist.on_answer(True)
            elif line in ("scroll", "still"):
                scrolling["on"] = line == "scroll"
            elif line == "stop":
                kiosk.assist.on_stop()
            return bool(line)

        asked = {"shown": False}

        def offered() -> bool:  # says ASKED each time the consent question appears
            if kiosk.assist.consent.visible and not asked["shown"]:
                say("ASKED")
            asked["shown"] = kiosk.assist.consent.visible
            return True
        GLib.timeout_add(100, scroll)
        GLib.timeout_add(100, offered)
        GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN, command)
        say("HOME")

    return run(load_config(config_dir), WindowSettings(events_dir=Path(events_dir), farewell_s=0.5), on_show=on_show)


# ---------------------------------------------------------------- the parent

def process_cpu_s(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except psutil.Error:
        return 0.0


class CpuMeter:
    """CPU seconds of the kiosk's processes (the window and its WebKit children) and, apart, of Xvfb."""

    def __init__(self, kiosk_pid: int, xvfb_pid: int) -> None:
        self.kiosk, self.xvfb = psutil.Process(kiosk_pid), psutil.Process(xvfb_pid)

    def _sample(self) -> dict[int, tuple[str, float]]:
        processes = [self.kiosk]
        try:
            processes += self.kiosk.children(recursive=True)
        except psutil.Error:
            pass
        sample = {}
        for process in processes:
            try:
                name = "window" if process.pid == self.kiosk.pid else process.name()
            except psutil.Error:
                continue
            sample[process.pid] = (name, process_cpu_s(process))
        return sample

    def start(self) -> None:
        self.before, self.xvfb_before, self.started = self._sample(), process_cpu_s(self.xvfb), time.monotonic()

    def stop(self) -> dict:
        """Percent of one core since :meth:`start`: total, per process kind, and Xvfb's (not in the total)."""
        after, xvfb_after, elapsed = self._sample(), process_cpu_s(self.xvfb), time.monotonic() - self.started
        by_kind: dict[str, float] = {}
        for pid, (name, seconds) in after.items():
            by_kind[name] = by_kind.get(name, 0.0) + seconds - self.before.get(pid, (name, 0.0))[1]
        return {"total": round(sum(by_kind.values()) / elapsed * 100, 1),
                "by_process": {name: round(seconds / elapsed * 100, 1) for name, seconds in sorted(by_kind.items())},
                "xvfb": round((xvfb_after - self.xvfb_before) / elapsed * 100, 1)}


class Viewer(threading.Thread):
    """The mediator's page: logged in, long-polling frames like assist_viewer.js."""

    def __init__(self, port: int, password: str) -> None:
        super().__init__(daemon=True)
        self.port, self.received, self.running, self.last_frame = port, [], True, b""
        self.cookie = ""
        page = self.request("GET", "/connexion")[2].decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        body = f"csrf_token={token}&username=claire&password={password}".encode()
        status, _headers, _ = self.request("POST", "/connexion", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, status
        self.session_path = ""

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body=body, headers={"Cookie": self.cookie, **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                self.cookie = value.split(";", 1)[0]
        connection.close()
        return response.status, dict(response.getheaders()), data

    def run(self) -> None:
        seq = 0
        while self.running:
            status, headers, data = self.request("GET", f"{self.session_path}/image?apres={seq}")
            if status == 200:
                seq = int(headers["X-Frame-Seq"])
                self.received.append((seq, time.time(), len(data)))
                self.last_frame = data
            elif headers.get("X-Assist-State", "").startswith("ended"):
                return


def merge(sessions: list[dict]) -> dict:
    """One figure per key over several sessions: latencies pooled, every other number the median."""
    latencies = sorted(latency for session in sessions for latency in session["latencies"])
    merged = {}
    for key, value in sessions[0].items():
        if key in ("latencies", "last_frame"):
            continue
        if isinstance(value, dict):
            merged[key] = sessions[len(sessions) // 2][key]
        elif isinstance(value, (int, float)):
            merged[key] = round(statistics.median(session[key] for session in sessions), 1)
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else None
    merged["frame_latency_p95_ms"] = round(p95, 1) if p95 is not None else None
    merged["frame_latency_p50_ms"] = round(statistics.median(latencies), 1) if latencies else None
    merged["frames_measured"] = len(latencies)
    return merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds without / with assistance on loopback")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the still phases")
    parser.add_argument("--scroll-seconds", type=float, default=20.0, help="length of the scrolling phases")
    parser.add_argument("--up-kbit", type=float, default=1500.0, help="the 4G-like link's uplink")
    parser.add_argument("--down-kbit", type=float, default=8000.0, help="the 4G-like link's downlink")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="the 4G-like link's one-way delay")
    parser.add_argument("--ingest-rounds", type=int, default=3,
                        help="alternating rounds of bench/ingest.py's load with/without 10 sessions (0: skip)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)

    from provisioning.fleet import create_app
    from provisioning.fleet.accounts import store
    from provisioning.fleet.enrolment import create_enrolment_code
    from provisioning.fleet.store.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="bench-assist-"))
    processes: list[subprocess.Popen] = []
    try:
        url = f"sqlite:///{work / 'fleet.db'}"
        upgrade(url)
        env = {**os.environ, "FLEET_DATABASE_URL": url, "FLEET_SECRET_KEY": secrets.token_urlsafe(48),
               "FLEET_SESSION_COOKIE_SECURE": "false"}
        app = create_app({"database_url": url, "testing": True})
        engine = app.extensions["fleet_engine"]
        code = create_enrolment_code(engine, "31042", time.time(), 30, name="Testville")
        password = "pass-" + secrets.token_hex(8)
        with engine.begin() as conn:
            store.create_user(conn, "claire", password, "staff", None)
        port = free_port()
        processes.append(subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "gunicorn"), "-k", "gthread", "--workers", "1", "--threads", "16",
             "--bind", f"127.0.0.1:{port}", "provisioning.fleet:create_app()"], env=env, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        from kiosk.agent.uploader import FleetClient
        client = FleetClient(f"http://127.0.0.1:{port}")
        token = client.enrol(code, "LUCH-001", "31042").body["token"]

        page_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
        threading.Thread(target=page_server.serve_forever, daemon=True).start()
        page_url = f"http://127.0.0.1:{page_server.server_port}/formulaire"
        config_dir = write_config(work / "config", page_url)
        events_dir = work / "events"
        xvfb_read, xvfb_write = os.pipe()
        processes.append(subprocess.Popen(["Xvfb", "-displayfd", str(xvfb_write), "-screen", "0", "1280x800x24",
                                           "-nolisten", "tcp"], pass_fds=(xvfb_write,),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        os.close(xvfb_write)
        with os.fdopen(xvfb_read) as pipe:
            display = ":" + pipe.readline().strip()
        kiosk = subprocess.Popen([sys.executable, __file__, "--child", str(config_dir), str(events_dir)],
                                 env={**os.environ, "DISPLAY": display}, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=open(work / "kiosk.log", "wb"), text=True, cwd=REPO)
        processes.append(kiosk)
        frames: dict[int, tuple[float, int]] = {}
        lines: list[str] = []

        def read_child() -> None:
            for line in kiosk.stdout:
                if line.startswith("FRAME "):
                    _, number, at, size = line.split()
                    frames[int(number)] = (float(at), int(size))
                else:
                    lines.append(line.strip())
        threading.Thread(target=read_child, daemon=True).start()

        def wait_line(word: str, timeout: float = 60) -> None:
            end = time.monotonic() + timeout
            while word not in lines:
                if time.monotonic() > end or kiosk.poll() is not None:
                    raise SystemExit(f"the kiosk did not say {word}")
                time.sleep(0.05)

        def send(command: str) -> None:
            kiosk.stdin.write(command + "\n")
            kiosk.stdin.flush()

        wait_line("HOME")
        for _attempt in range(6):  # the tall page loaded, or the scrolling would measure nothing
            send(f"visit {page_url}")
            time.sleep(3)
            send("title")
            time.sleep(0.5)
            if "TITLE Formulaire True" in lines:
                break
        else:
            raise SystemExit("the kiosk did not load the bench's page")
        meter = CpuMeter(kiosk.pid, processes[1].pid)
        loads = [os.getloadavg()[0]]

        def baseline() -> dict:
            """The same page scrolling, then still, with no assistance."""
            send("scroll")
            time.sleep(1)
            meter.start()
            time.sleep(args.scroll_seconds)
            scrolling = meter.stop()
            send("still")
            time.sleep(3)  # WebKit finishes painting around the place where the scroll stopped
            meter.start()
            time.sleep(args.seconds)
            return {"scrolling": scrolling, "still": meter.stop()}

        def share(relay_url: str) -> dict:
            """One assistance session through ``relay_url``: still page, then scrolling page."""
            viewer = Viewer(port, password)
            page = viewer.request("GET", "/tableau/machines/LUCH-001")[2].decode()
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            status, headers, _ = viewer.request(
                "POST", "/tableau/machines/LUCH-001/assistance", f"csrf_token={csrf}&name=Claire&title=m%C3%A9diatrice".encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})
            viewer.session_path = headers["Location"].replace(f"http://127.0.0.1:{port}", "")
            client.close()
            offer = poll_once(client, token, wait_s=0)
            lines.clear()
            OfferDrop(events_dir).put({**offer, "relay_url": relay_url, "offered_at": time.time(), "ca_file": None})
            wait_line("ASKED")
            viewer.start()
            frames.clear()
            send("yes")
            time.sleep(2)

            def phase(command: str, seconds: float) -> dict:
                send(command)
                time.sleep(1)
                first_frame = max(frames, default=0)
                meter.start()
                started = time.monotonic()
                time.sleep(seconds)
                elapsed = time.monotonic() - started
                cpu = meter.stop()
                last_frame = max(frames, default=0)
                sent = [frames[n] for n in list(frames) if first_frame < n <= last_frame]
                latencies = [(received_at - frames[seq][0]) * 1000 for seq, received_at, _ in list(viewer.received)
                             if first_frame < seq <= last_frame and seq in frames]
                return {"kbit_per_s": round(sum(size for _at, size in sent) * 8 / 1000 / elapsed, 1),
                        "frames_per_s": round(len(sent) / elapsed, 2), "cpu": cpu, "latencies": latencies,
                        "frame_bytes": round(statistics.mean([size for _at, size in sent])) if sent else 0}

            still = phase("still", args.seconds)
            scrolling = phase("scroll", args.scroll_seconds)
            send("still")
            send("stop")
            time.sleep(3)
            viewer.join(timeout=10)
            viewer.running = False
            latencies = sorted(still["latencies"] + scrolling["latencies"])
            p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else None
            return {
                "frame_latency_p95_ms": round(p95, 1) if p95 is not None else None,
                "frame_latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
                "frames_measured": len(latencies),
                "kbit_per_s_still": still["kbit_per_s"], "kbit_per_s_scrolling": scrolling["kbit_per_s"],
                "frames_per_s_still": still["frames_per_s"], "frames_per_s_scrolling": scrolling["frames_per_s"],
                "frame_bytes_scrolling": scrolling["frame_bytes"],
                "kiosk_cpu_percent": scrolling["cpu"]["total"], "kiosk_cpu_percent_still": still["cpu"]["total"],
                "kiosk_cpu_by_process": scrolling["cpu"]["by_process"], "xvfb_cpu_percent": scrolling["cpu"]["xvfb"],
                "latencies": latencies, "last_frame": viewer.last_frame}

        from kiosk.assist.agent_watch import poll_once
        from kiosk.assist.offers import OfferDrop
        rounds = []
        for _round in range(args.rounds):  # without, then with assistance, alternating
            rounds.append((baseline(), share(f"http://127.0.0.1:{port}")))
            loads.append(os.getloadavg()[0])
        loopback = merge([with_assist for _without, with_assist in rounds])
        loopback["last_frame"] = rounds[-1][1]["last_frame"]
        baselines = [without for without, _with in rounds]
        link = SlowLink(port, up_kbit_per_s=args.up_kbit, down_kbit_per_s=args.down_kbit,
                        one_way_delay_s=args.delay_ms / 1000)
        try:
            slow = share(f"http://127.0.0.1:{link.port}")
        finally:
            link.close()
        for process in reversed(processes[1:]):  # the window and Xvfb: the machine to the ingest's load
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        frame = loopback.pop("last_frame")
        slow.pop("last_frame")
        if not frame:
            raise SystemExit("the mediator received no frame")
        ingest_figures = None
        if args.ingest_rounds:
            ingest_figures = measure(frame, max(1.0, loopback["frames_per_s_scrolling"]), rounds=args.ingest_rounds)
        slow.pop("latencies")

        def median_of(key: str, part: str) -> float:
            return round(statistics.median(sample[part][key] for sample in baselines), 1)
        without_scrolling, without_still = median_of("total", "scrolling"), median_of("total", "still")
        print(json.dumps({
            **loopback,
            "kiosk_cpu_percent_scrolling_without_assistance": without_scrolling,
            "kiosk_cpu_percent_still_without_assistance": without_still,
            "kiosk_cpu_by_process_scrolling_without_assistance": baselines[len(baselines) // 2]["scrolling"]["by_process"],
            "kiosk_cpu_percent_of_assistance_scrolling": round(loopback["kiosk_cpu_percent"] - without_scrolling, 1),
            "kiosk_cpu_percent_of_assistance_still": round(loopback["kiosk_cpu_percent_still"] - without_still, 1),
            "samples": {"kiosk_cpu_percent": [r["kiosk_cpu_percent"] for _w, r in rounds],
                        "kiosk_cpu_percent_without_assistance": [w["scrolling"]["total"] for w, _r in rounds],
                        "kiosk_cpu_percent_still": [r["kiosk_cpu_percent_still"] for _w, r in rounds],
                        "kiosk_cpu_percent_still_without_assistance": [w["still"]["total"] for w, _r in rounds]},
            "load_average_1min": [round(load, 2) for load in loads],
            "link": "loopback",
            "4g": {**slow, "link": f"loopback through bench/slow_link.py: {args.up_kbit:g} kbit/s up, "
                                   f"{args.down_kbit:g} kbit/s down, +{args.delay_ms:g} ms each way"},
            "rounds": args.rounds, "seconds_still": args.seconds, "seconds_scrolling": args.scroll_seconds,
            "ingest_with_10_sessions": ingest_figures}))
        return 0
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        import shutil
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
