"""Benchmark the fleet server's check-in ingest under its production WSGI server.

gunicorn (2 sync workers) + SQLite on loopback; simulated kiosks (client processes in closed loops,
pre-built gzip bodies, 20 records per check-in) against POST /api/v1/checkin, side by side with the same
server answering a trivial endpoint (GET /api/v1/ping), in alternating rounds of the same run. Then a
real agent process runs record+upload cycles against the same server for its CPU and memory cost.

One client process per worker by default: it keeps every sync worker busy (the ping ceiling is the same
with more clients) while adding as few load-generator processes as possible to the two cores the server
runs on. More clients only preempt the server's processes; on the check-in, a worker preempted while it
holds the store's write lock makes the other one wait (with 3 clients, check-ins/s drop by 10–15 %
while pings do not; `--clients 3` shows it).

Prints ONE JSON line: checkins_per_s, records_per_s, p50_ms, p99_ms, ceiling_per_s, kiosks_supported
(check-ins per second x the default 300 s interval), agent_cpu_ms_per_cycle, agent_rss_mb.

    .venv/bin/python bench/ingest.py [--seconds 4] [--rounds 2] [--clients N] [--kiosks 1500]

With --via-nginx: check-ins/s through nginx (the fleet_server role's site, TLS) against gunicorn
serving TLS itself, same certificate, same work, in three connection modes (kept connections, a new
full handshake per check-in, a new connection resuming the TLS session: what a running kiosk does,
the ratio that counts); alternating direct/nginx phases, medians; ONE JSON line
(bench/ingest_via_nginx.py explains the modes).

    .venv/bin/python bench/ingest.py --via-nginx [--nginx /usr/sbin/nginx] [--rounds 5] [--seconds 3]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import multiprocessing
import os
import resource
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

RECORDS_PER_CHECKIN = 20
DEFAULT_INTERVAL_S = 300
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def checkin_body(first_seq: int, at: float) -> bytes:
    records = [{"seq": first_seq + index, "at": at - (RECORDS_PER_CHECKIN - index) * 15.0, "type": "health",
                "data": {"cpu_percent": 7.5 + index, "load1": 0.31, "memory_used_percent": 48.2,
                         "memory_available_bytes": 1_041_203_200, "disk_used_percent": 61.4,
                         "disk_free_bytes": 51_300_000_000, "uptime_s": 86400.0 + index * 15,
                         "boot_time": at - 86400, "kiosk_restarts": 0}}
               for index in range(RECORDS_PER_CHECKIN - 1)]
    records.append({"seq": first_seq + RECORDS_PER_CHECKIN - 1, "at": at, "type": "usage",
                    "data": {"day": time.strftime("%Y-%m-%d", time.gmtime(at)),
                             "counters": [["sessions", "", 3], ["session_length", "5-15m", 2],
                                          ["tile_opened", "impots", 2], ["tile_opened", "ameli", 1],
                                          ["pages_printed", "", 4]]}})
    return gzip.compress(json.dumps({"protocol": 1, "sent_at": at, "records": records},
                                    separators=(",", ":")).encode(), 6)


ROUNDS_PER_PHASE = 6  # pre-built check-ins per kiosk and phase (each kiosk's sequence numbers advance)


@dataclass(frozen=True)
class Target:
    """Where a phase's load goes and how it connects: ``scheme`` http (gunicorn without TLS, the
    ping/check-in bench) or https; ``keep_alive``: one connection for as many requests as the server
    allows, else a new one per request; ``resume``: a new connection offers the previous one's TLS
    session, with the kiosk agent's own connection class (kiosk/agent/uploader.py)."""
    scheme: str
    port: int
    cafile: str | None = None
    keep_alive: bool = True
    resume: bool = False


def client(target: Target, tokens: list[str], mode: str, seconds: float, first_round: int, barrier, results) -> None:
    """One load-generator process: builds its bodies first, then a closed loop of requests. gunicorn's
    sync workers close every connection; otherwise the connection is kept or (keep_alive false) a new
    TCP and TLS connection is made for each request, as a kiosk checking in every few minutes does."""
    from kiosk.agent.uploader import ResumingHTTPSConnection

    # Like real agents, each kiosk's successive check-ins carry later samples (one interval apart),
    # all in the past: a day ago for the first round.
    start = time.time() - 86400
    bodies = []
    if mode == "checkin":
        for round_index in range(first_round, first_round + ROUNDS_PER_PHASE):
            at = start + round_index * DEFAULT_INTERVAL_S
            for token in tokens:
                bodies.append((token, checkin_body(round_index * RECORDS_PER_CHECKIN + 1, at)))
    context = None
    if target.scheme == "https":
        context = ssl.create_default_context(cafile=target.cafile)
        context.check_hostname = False  # the certificate names the bench's server name, not 127.0.0.1

    def connect(session):
        if context is None:
            return http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
        return ResumingHTTPSConnection("127.0.0.1", target.port, timeout=30, context=context,
                                       session=session if target.resume else None)

    latencies = []
    errors = connections = resumed = 0
    session = None
    connection = None
    barrier.wait()
    started = time.perf_counter()
    deadline = started + seconds
    index = 0
    while time.perf_counter() < deadline and (mode == "ping" or index < len(bodies)):
        begin = time.perf_counter()
        try:
            if connection is None:
                connection = connect(session)
                connection.connect()
                connections += 1
                if context is not None and connection.tls_socket.session_reused:
                    resumed += 1
            if mode == "ping":
                connection.request("GET", "/api/v1/ping")
            else:
                token, body = bodies[index]
                connection.request("POST", "/api/v1/checkin", body=body, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                    "Content-Encoding": "gzip"})
            response = connection.getresponse()
            if context is not None:
                session = connection.latest_session() or session
            response.read()
            if response.status != 200:
                errors += 1
            if response.will_close or not target.keep_alive:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            errors += 1
            if connection is not None:
                connection.close()
            connection = None
        latencies.append(time.perf_counter() - begin)
        index += 1
    if connection is not None:
        connection.close()
    results.put((latencies, errors, time.perf_counter() - started, connections, resumed))


def run_phase(target, token_groups: list[list[str]], mode: str, seconds: float, first_round: int) -> dict:
    if isinstance(target, int):
        target = Target("http", target)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    barrier = context.Barrier(len(token_groups))
    processes = [context.Process(target=client, args=(target, tokens, mode, seconds, first_round, barrier, results))
                 for tokens in token_groups]
    for process in processes:
        process.start()
    latencies, errors, elapsed, connections, resumed = [], 0, [], 0, 0
    for _ in processes:
        got, failed, took, opened, reused = results.get()
        latencies.extend(got)
        errors += failed
        elapsed.append(took)
        connections += opened
        resumed += reused
    for process in processes:
        process.join()
    return {"count": len(latencies), "seconds": max(elapsed), "latencies": latencies, "errors": errors,
            "connections": connections, "resumed": resumed}


def worker_cpu_s(master_pid: int) -> float:
    """CPU time (user + system) used so far by the gunicorn workers (children of the master)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def agent_probe(fleet_url: str, state_dir: str, code: str, cycles: int) -> None:
    """Runs in its own process, importing only what ``kiosk agent`` imports."""
    from kiosk.agent.clock import SystemClock
    from kiosk.agent.runner import Agent
    from kiosk.agent.settings import AgentSettings

    state = Path(state_dir)
    (state / "code").write_text(code)
    settings = AgentSettings(fleet_url=fleet_url, asset_tag="AB-PROBE", commune_insee="65059",
                             enrolment_code_file=state / "code", state_dir=state / "state",
                             events_dir=state / "events")
    agent = Agent(settings, clock=SystemClock())
    agent.record()
    assert agent.upload(), "the probe agent could not upload"
    sample = {"cpu_percent": 5.0, "load1": 0.2, "memory_used_percent": 40.0}
    used = 0.0
    for _ in range(cycles):
        # A cycle: the agent's own sampling, 19 more spooled samples (a backlog), one 20-record check-in.
        for _ in range(RECORDS_PER_CHECKIN - 1):
            agent.spool.add_health(time.time(), sample)
        before = resource.getrusage(resource.RUSAGE_SELF)
        agent.record()
        assert agent.upload()
        after = resource.getrusage(resource.RUSAGE_SELF)
        used += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss_kb = max(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                 if line.startswith(("VmRSS:", "VmHWM:")))
    agent.close()
    print(json.dumps({"cpu_ms_per_cycle": used * 1000 / cycles, "rss_mb": rss_kb / 1024}))


def start_gunicorn(workdir: Path, name: str, port: int, env: dict, workers: int, *options: str) -> subprocess.Popen:
    """gunicorn serving the fleet app on 127.0.0.1:port (its log in workdir/name.log), once it accepts."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", *options, "provisioning.fleet:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(workdir / f"{name}.log", "wb"), start_new_session=True, cwd=REPO)
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                stop_gunicorn(server)
                raise SystemExit(f"gunicorn did not start (see {workdir / name}.log)")
            time.sleep(0.05)


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of each measured phase (4; with --via-nginx: 3)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="alternating rounds (ping/check-in: 2; direct/through nginx: 5 per mode)")
    parser.add_argument("--via-nginx", action="store_true",
                        help="check-ins through nginx (the fleet_server role's site, TLS) against direct, alternating")
    parser.add_argument("--nginx", help="nginx binary for --via-nginx (default: see bench/nginx_front.py)")
    parser.add_argument("--clients", type=int, default=None, help="load-generator processes (default: one per worker)")
    parser.add_argument("--kiosks", type=int, default=1500, help="simulated kiosks (enrolled devices)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--agent-cycles", type=int, default=30)
    parser.add_argument("--agent-probe", nargs=3, metavar=("URL", "DIR", "CODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clients is None:
        args.clients = args.workers
    if args.rounds is None:
        args.rounds = 5 if args.via_nginx else 2
    if args.seconds is None:
        args.seconds = 3.0 if args.via_nginx else 4.0
    if args.agent_probe:
        agent_probe(*args.agent_probe, cycles=args.agent_cycles)
        return 0

    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.enrolment import create_enrolment_code, enrol
    from provisioning.fleet.store.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    url = f"sqlite:///{workdir / 'fleet.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = time.time()
    tokens = [enrol(engine, create_enrolment_code(engine, "65059", now, 30, name="Bagnères-de-Luchon"),
                    f"BN-{index:05d}", "65059", now)["token"] for index in range(args.kiosks)]
    probe_code = create_enrolment_code(engine, "65059", now, 30)
    engine.dispose()

    if args.via_nginx:
        import nginx_front
        try:
            nginx_binary = nginx_front.find_nginx(args.nginx)
        except nginx_front.NginxUnavailable as error:
            raise SystemExit(str(error)) from None
    port = free_port()
    env = dict(os.environ, FLEET_DATABASE_URL=url, FLEET_SECRET_KEY=secrets.token_urlsafe(32))
    server = start_gunicorn(workdir, "gunicorn", port, env, args.workers)
    try:
        groups = [tokens[index::args.clients] for index in range(args.clients)]
        if args.via_nginx:
            import ingest_via_nginx
            return ingest_via_nginx.compare(args, groups, nginx_binary, workdir, env, server, port)
        run_phase(port, groups, "ping", 1.0, 0)                       # warm-up
        pings, checkins = [], []
        for round_index in range(args.rounds):
            for phases, mode, first in ((pings, "ping", 0), (checkins, "checkin", round_index * ROUNDS_PER_PHASE)):
                before = worker_cpu_s(server.pid)
                phase = run_phase(port, groups, mode, args.seconds, first)
                phase["server_cpu_s"] = worker_cpu_s(server.pid) - before
                phases.append(phase)
        probe = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--agent-probe", f"http://127.0.0.1:{port}",
             str(workdir), probe_code, "--agent-cycles", str(args.agent_cycles)],
            capture_output=True, text=True, timeout=300, cwd=REPO)
        if probe.returncode != 0:
            raise SystemExit("agent probe failed:\n" + probe.stderr[-2000:])
        agent = json.loads(probe.stdout.strip().splitlines()[-1])
    finally:
        stop_gunicorn(server)

    ceiling = sum(phase["count"] for phase in pings) / sum(phase["seconds"] for phase in pings)
    rate = sum(phase["count"] - phase["errors"] for phase in checkins) / sum(phase["seconds"] for phase in checkins)
    latencies = [value for phase in checkins for value in phase["latencies"]]
    errors = sum(phase["errors"] for phase in checkins)
    print(json.dumps({
        "checkins_per_s": round(rate, 1),
        "records_per_s": round(rate * RECORDS_PER_CHECKIN, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "ceiling_per_s": round(ceiling, 1),
        "kiosks_supported": int(rate * DEFAULT_INTERVAL_S),
        "agent_cpu_ms_per_cycle": round(agent["cpu_ms_per_cycle"], 2),
        "agent_rss_mb": round(agent["rss_mb"], 1),
        # Server CPU per request (the workers' own CPU time): robust when other jobs share the machine.
        "server_cpu_ms_per_checkin": round(1000 * sum(p["server_cpu_s"] for p in checkins)
                                           / max(1, sum(p["count"] for p in checkins)), 3),
        "server_cpu_ms_per_ping": round(1000 * sum(p["server_cpu_s"] for p in pings)
                                        / max(1, sum(p["count"] for p in pings)), 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "records_per_checkin": RECORDS_PER_CHECKIN, "interval_s": DEFAULT_INTERVAL_S,
        "workers": args.workers, "clients": args.clients, "kiosks": args.kiosks, "database": "sqlite",
        "errors": errors,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
