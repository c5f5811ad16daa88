"""bench/ingest.py --via-nginx: check-ins/s through nginx (the fleet_server role's site, TLS) against
gunicorn serving TLS itself, like with like, in three connection modes.

Both sides do the same work: the same app, the same store, the same certificate (ECDSA P-256), TLS 1.3,
the same client. Only what stands in front of the app differs:

- direct: gunicorn with its own TLS (`--certfile`/`--keyfile`, what the README used to offer), tuned
  to its best (bench/gunicorn_tls_conf.py: one SSL context shared by the workers, so sessions resume);
- nginx: the role's site rendered by bench/nginx_front.py, in front of gunicorn over plain HTTP on
  loopback, exactly as the role deploys them.

Modes (each with its own pair of samples, alternating direct/nginx, the order flipped every round):

- ``kept``: one connection for many check-ins on both sides (nginx's keep-alive; gunicorn needs its
  gthread worker to keep a connection, sync workers close every one): what proxying costs, no handshakes.
- ``new_full``: a new TCP connection and a full TLS handshake per check-in on both sides: a kiosk
  that has just started (its first check-in of the day).
- ``new_resumed``: a new TCP connection per check-in offering the previous TLS session, with the kiosk
  agent's own connection class (kiosk/agent/uploader.py): what a running kiosk does every few minutes
  (no connection survives that long; the session does). THE kiosk mode: its ratio is the one that
  counts (target >= 0.8).
"""

from __future__ import annotations

import json
import os
import statistics

import nginx_front
from ingest import (RECORDS_PER_CHECKIN, ROUNDS_PER_PHASE, Target, free_port, percentile, run_phase, start_gunicorn,
                    stop_gunicorn, worker_cpu_s)

KIOSK_MODE = "new_resumed"
TARGET_RATIO = 0.8
HERE = os.path.dirname(os.path.abspath(__file__))


def compare(args, groups: list[list[str]], nginx_binary: str, workdir, env: dict, upstream, upstream_port: int) -> int:
    from provisioning.fleet.settings import Settings

    try:
        front = nginx_front.start_nginx(nginx_binary, upstream_port, workdir / "nginx", Settings().max_body_bytes)
    except nginx_front.NginxUnavailable as error:
        raise SystemExit(str(error)) from None
    tls = ["-c", os.path.join(HERE, "gunicorn_tls_conf.py"), "--certfile", str(front.certificate),
           "--keyfile", str(front.key)]
    servers = [upstream]
    try:
        sync_port, gthread_port = free_port(), free_port()
        servers.append(start_gunicorn(workdir, "gunicorn-tls-sync", sync_port, env, args.workers, *tls))
        servers.append(start_gunicorn(workdir, "gunicorn-tls-gthread", gthread_port, env, args.workers, *tls,
                                      "--worker-class", "gthread", "--threads", "1", "--keep-alive", "15"))
        cafile = str(front.certificate)
        paths = {
            "kept": {"direct": Target("https", gthread_port, cafile, keep_alive=True),
                     "nginx": Target("https", front.port, cafile, keep_alive=True)},
            "new_full": {"direct": Target("https", sync_port, cafile, keep_alive=False),
                         "nginx": Target("https", front.port, cafile, keep_alive=False)},
            "new_resumed": {"direct": Target("https", sync_port, cafile, keep_alive=False, resume=True),
                            "nginx": Target("https", front.port, cafile, keep_alive=False, resume=True)},
        }
        pids = [server.pid for server in servers] + [front.process.pid]

        def server_cpu_s() -> float:
            return sum(worker_cpu_s(pid) for pid in pids)

        samples = {mode: {"direct": [], "nginx": []} for mode in paths}
        for sides in paths.values():                                   # warm-up, every path
            for target in sides.values():
                run_phase(target, groups, "ping", 1.0, 0)
        phase_index = 0
        for round_index in range(args.rounds):
            for mode, sides in paths.items():
                order = ("direct", "nginx") if round_index % 2 == 0 else ("nginx", "direct")
                for side in order:
                    before = server_cpu_s()
                    phase = run_phase(sides[side], groups, "checkin", args.seconds, phase_index * ROUNDS_PER_PHASE)
                    phase["server_cpu_s"] = server_cpu_s() - before
                    phase["rate"] = (phase["count"] - phase["errors"]) / phase["seconds"]
                    phase_index += 1
                    samples[mode][side].append(phase)
    finally:
        front.stop()
        for server in servers[1:]:
            stop_gunicorn(server)

    modes = {mode: summary(sides) for mode, sides in samples.items()}
    print(json.dumps({
        "kiosk_mode": KIOSK_MODE,
        "ratio": modes[KIOSK_MODE]["ratio"],
        "target_ratio": TARGET_RATIO,
        "ratios": {mode: values["ratio"] for mode, values in modes.items()},
        "modes": modes,
        "errors": sum(p["errors"] for sides in samples.values() for phases in sides.values() for p in phases),
        "nginx": front.version, "tls": "TLSv1.3, ECDSA P-256 certificate, both sides",
        "direct": "gunicorn --certfile/--keyfile, one shared SSL context (bench/gunicorn_tls_conf.py); sync workers, "
                  "gthread (1 thread) for kept connections",
        "nginx_site": "playbooks/roles/fleet_server (defaults; per-address rate raised: all clients are 127.0.0.1)",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "records_per_checkin": RECORDS_PER_CHECKIN, "workers": args.workers, "clients": args.clients,
        "kiosks": args.kiosks, "database": "sqlite", "rounds": args.rounds, "seconds_per_phase": args.seconds,
    }))
    return 0


def summary(sides: dict[str, list[dict]]) -> dict:
    """Medians of the phases' rates, the server's CPU per check-in (gunicorn's and nginx's workers: it
    does not depend on other jobs sharing the machine), median latency, how many check-ins each
    connection carried and the share of TLS handshakes that resumed a session."""
    def side(phases: list[dict]) -> dict:
        count = sum(p["count"] for p in phases)
        connections = sum(p["connections"] for p in phases)
        return {"checkins_per_s": round(statistics.median(p["rate"] for p in phases), 1),
                "samples": [round(p["rate"], 1) for p in phases],
                "server_cpu_ms_per_checkin": round(1000 * sum(p["server_cpu_s"] for p in phases) / max(1, count), 3),
                "p50_ms": round(percentile([v for p in phases for v in p["latencies"]], 0.5) * 1000, 2),
                "checkins_per_connection": round(count / max(1, connections), 2),
                "resumed_handshakes": round(sum(p["resumed"] for p in phases) / max(1, connections), 3)}

    direct, nginx = side(sides["direct"]), side(sides["nginx"])
    return {"direct": direct, "nginx": nginx, "ratio": round(nginx["checkins_per_s"] / direct["checkins_per_s"], 3),
            "cpu_ratio": round(direct["server_cpu_ms_per_checkin"] / max(1e-9, nginx["server_cpu_ms_per_checkin"]), 3)}
