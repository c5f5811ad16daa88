"""bench/ingest.py's figures with and without ten remote-assistance sessions running on the same server.

The fleet server as deployed: gunicorn's sync workers for the check-ins and the one-process gthread relay
for /api/v1/assist/ and /tableau/assistance/, on one SQLite store. Ten simulated kiosk + mediator pairs
(one child process, one thread per role): each kiosk accepts, posts a real frame (the bytes the real
window sent in bench/assist.py) at the given rate and long-polls its events; each mediator long-polls
the frames as the viewer page does. Meanwhile bench/ingest.py's own load (its functions, imported)
measures the ping ceiling and the check-ins. Conditions alternate in every round (without, with, then
with, without...); per-round figures, medians.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest  # noqa: E402  (bench/ingest.py: its load generator, phases and gunicorn helpers)


def _request(port: int, method: str, path: str, body=None, headers=None, cookie: str = "", timeout: float = 40):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Cookie": cookie, **(headers or {})})
        response = connection.getresponse()
        return response.status, response, response.read()
    finally:
        connection.close()


def login(port: int, username: str, password: str) -> str:
    status, response, page = _request(port, "GET", "/connexion")
    cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.decode()).group(1)
    status, response, _ = _request(port, "POST", "/connexion", f"csrf_token={token}&username={username}&password={password}".encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded"}, cookie)
    if status != 302:
        raise SystemExit(f"the bench's mediator could not log in (HTTP {status})")
    return (response.getheader("Set-Cookie") or cookie).split(";", 1)[0]


def _pair(port: int, cookie: str, session_id: int, key: str, frame: bytes, period_s: float, stop, counts, lock) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    status, _r, body = _request(port, "POST", f"/api/v1/assist/{session_id}/answer", json.dumps({"accept": True}).encode(),
                                {**auth, "Content-Type": "application/json"})
    if status != 200:
        raise SystemExit(f"assistance session {session_id} was not accepted: {status} {body[:200]!r}")

    def count(name: str) -> None:
        with lock:
            counts[name] = counts.get(name, 0) + 1

    def kiosk_frames() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=40)
        while not stop.is_set():
            began = time.monotonic()
            try:
                connection.request("POST", f"/api/v1/assist/{session_id}/frame", body=frame,
                                   headers={**auth, "Content-Type": "image/jpeg"})
                response = connection.getresponse()
                response.read()
                count("frames_sent" if response.status == 200 else "frame_errors")
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                count("frame_errors")
                connection.close()
            stop.wait(max(0.0, period_s - (time.monotonic() - began)))
        _request(port, "POST", f"/api/v1/assist/{session_id}/end", json.dumps({"reason": "resident"}).encode(),
                 {**auth, "Content-Type": "application/json"})

    def kiosk_events() -> None:
        after = 0
        while not stop.is_set():
            status, _r, body = _request(port, "GET", f"/api/v1/assist/{session_id}/events?after={after}&wait=20", headers=auth)
            if status != 200:
                return
            after = json.loads(body).get("last", after)

    def mediator() -> None:
        seq = 0
        while not stop.is_set():
            status, response, _data = _request(port, "GET", f"/tableau/assistance/{session_id}/image?apres={seq}", cookie=cookie)
            if status == 200:
                seq = int(response.getheader("X-Frame-Seq"))
                count("frames_seen")
            elif (response.getheader("X-Assist-State") or "").startswith("ended"):
                return
    for target in (kiosk_frames, kiosk_events, mediator):
        threading.Thread(target=target, daemon=True).start()


def _sessions_process(port, cookie, sessions, frame, period_s, ready, stop, results) -> None:
    counts, lock = {}, threading.Lock()
    for session_id, key in sessions:
        _pair(port, cookie, session_id, key, frame, period_s, stop, counts, lock)
    ready.set()
    stop.wait()
    time.sleep(0.5)
    results.put(counts)


def measure(frame: bytes, frames_per_s: float, sessions: int = 10, rounds: int = 3, seconds: float = 4.0,
            kiosks: int = 1500, workers: int = 2) -> dict:
    from provisioning.fleet import assist_log
    from provisioning.fleet.accounts import store
    from provisioning.fleet.enrolment import create_enrolment_code, enrol
    from provisioning.fleet.store.engine import make_engine, write_transaction
    from provisioning.fleet.store.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="bench-assist-ingest-"))
    url = f"sqlite:///{workdir / 'fleet.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = time.time()
    enrolled = [enrol(engine, create_enrolment_code(engine, "65059", now, 30, name="Bagnères-de-Luchon"),
                      f"BN-{index:05d}", "65059", now) for index in range(kiosks + sessions)]
    tokens = [item["token"] for item in enrolled[:kiosks]]
    assisted = [item["device_id"] for item in enrolled[kiosks:]]  # these kiosks do not check in here
    password = "pass-" + secrets.token_hex(8)
    with engine.begin() as conn:
        mediator_id = store.create_user(conn, "claire", password, "staff", None).id
    env = dict(os.environ, FLEET_DATABASE_URL=url, FLEET_SECRET_KEY=secrets.token_urlsafe(32),
               FLEET_SESSION_COOKIE_SECURE="false")
    port, relay_port = ingest.free_port(), ingest.free_port()
    server = ingest.start_gunicorn(workdir, "gunicorn", port, env, workers)
    relay = ingest.start_gunicorn(workdir, "relay", relay_port, env, 1, "-k", "gthread", "--threads", "40")
    context = multiprocessing.get_context("fork")
    groups = [tokens[index::workers] for index in range(workers)]
    figures = {False: [], True: []}
    totals: dict = {}
    check_in_round = 0
    try:
        cookie = login(relay_port, "claire", password)
        ingest.run_phase(port, groups, "ping", 1.0, 0)  # warm-up
        for round_index in range(rounds):
            order = (False, True) if round_index % 2 == 0 else (True, False)
            for with_sessions in order:
                helper = stop = None
                if with_sessions:
                    with write_transaction(engine) as conn:
                        pairs = []
                        for device_id in assisted:
                            session_id = assist_log.create(conn, device_id, mediator_id, "Claire", "médiatrice", time.time())
                            pairs.append((session_id, assist_log.issue_key(conn, session_id)))
                    ready, stop, results = context.Event(), context.Event(), context.Queue()
                    helper = context.Process(target=_sessions_process, args=(
                        relay_port, cookie, pairs, frame, 1 / frames_per_s, ready, stop, results))
                    helper.start()
                    if not ready.wait(60):
                        raise SystemExit("the assistance sessions did not start")
                    time.sleep(1)
                cpu_before, wall_before = ingest.worker_cpu_s(relay.pid), time.monotonic()
                pings = ingest.run_phase(port, groups, "ping", seconds, 0)
                checkins = ingest.run_phase(port, groups, "checkin", seconds, check_in_round * ingest.ROUNDS_PER_PHASE)
                check_in_round += 1
                if helper is not None:
                    totals["relay_cpu_percent"] = totals.get("relay_cpu_percent", []) + [
                        (ingest.worker_cpu_s(relay.pid) - cpu_before) / (time.monotonic() - wall_before) * 100]
                    stop.set()
                    for name, value in results.get(timeout=60).items():
                        totals[name] = totals.get(name, 0) + value
                    helper.join(timeout=30)
                    with write_transaction(engine) as conn:  # whatever the simulated kiosks did not end in time
                        for session_id, _key in pairs:
                            assist_log.end(conn, session_id, "resident", time.time())
                ceiling = pings["count"] / pings["seconds"]
                rate = (checkins["count"] - checkins["errors"]) / checkins["seconds"]
                figures[with_sessions].append({
                    "checkins_per_s": rate, "ceiling_per_s": ceiling, "ratio": rate / ceiling,
                    "p99_ms": ingest.percentile(checkins["latencies"], 0.99) * 1000, "errors": checkins["errors"]})
    finally:
        ingest.stop_gunicorn(relay)
        ingest.stop_gunicorn(server)
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)

    def medians(rows: list[dict]) -> dict:
        return {name: round(statistics.median(row[name] for row in rows), 3 if name == "ratio" else 1)
                for name in ("checkins_per_s", "ceiling_per_s", "ratio", "p99_ms")} | {
                    "errors": sum(row["errors"] for row in rows)}
    with_sessions = medians(figures[True])
    return {"without_sessions": medians(figures[False]), "with_10_sessions": with_sessions,
            "ratio_with_over_without": round(with_sessions["ratio"] / medians(figures[False])["ratio"], 3),
            "sessions": sessions, "session_frame_bytes": len(frame), "session_frames_per_s": round(frames_per_s, 2),
            "session_frames_sent": totals.get("frames_sent", 0), "session_frames_seen": totals.get("frames_seen", 0),
            "session_frame_errors": totals.get("frame_errors", 0),
            "relay_cpu_percent_with_10_sessions": round(statistics.median(totals.get("relay_cpu_percent", [0])), 1),
            "rounds": rounds, "seconds_per_phase": seconds,
            "kiosks": kiosks, "workers": workers}


if __name__ == "__main__":  # quick check with a synthetic frame: bench/assist.py passes a real one
    import io

    from PIL import Image
    buffer = io.BytesIO()
    Image.effect_noise((640, 400), 40).convert("RGB").save(buffer, "JPEG", quality=50)
    print(json.dumps(measure(buffer.getvalue(), 1.5, rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 2)))
