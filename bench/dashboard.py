"""Benchmark the staff dashboard on a large fleet, on SQLite and on PostgreSQL.

Generates 10,000 machines in 300 communes with 90 days of history, as the store would hold it after
retention: daily health roll-ups for 90 days, raw health samples for the last 30 days (4 a day), per-device
daily usage counters (kiosk starts) and the per-commune and fleet-wide daily usage the dashboard reads,
each machine's daily status (the machine page's timeline, the report's availability) and notes;
then measures, through the real app (Flask test client, logged in as admin), the overview, a machine page
(a random machine each time), the usage page and the yearly report: p95 over a fixed number of requests,
beside a baseline measured the same way in the same run (the API's trivial /api/v1/ping).

Prints ONE JSON line: {"sqlite": {"generate_s": .., "<page>_p95_ms": .., "<page>_p50_ms": ..,
"<page>_cpu_p95_ms": ..}, "postgresql": {...}, ...} (cpu: the request's CPU time in the bench's own process).
Usage: python bench/dashboard.py [--postgres URL] [--database both|sqlite|postgresql] [--requests N]
                                 [--machines N] [--communes N] [--days N] [--fresh]
PostgreSQL: --postgres or KIOSK_TEST_POSTGRES_URL (a scratch database is created, then dropped).
Targets: p95 <= 100 ms up to 10,000 machines, <= 300 ms beyond (national scale: 100,000 in 3,000 communes).
The generated fleet is cached per parameters, UTC day and store code (SQLite: a file under
/var/tmp/mairie-kiosk-bench-dashboard, copied for each run; PostgreSQL: a template database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from kiosk.protocol import SESSION_LENGTH_BUCKETS  # noqa: E402

TILES = ("ameli", "impots", "caf", "msa", "france-travail", "carte-identite", "permis", "info-retraite",
         "service-public", "mairie", "cheque-energie", "procuration")
PAGES = ("baseline", "overview", "machine", "usage", "report")  # baseline: /api/v1/ping, same app
DAY_S = 86400
RAW_DAYS = 30  # the store's default retention of raw health samples
RAW_COLUMNS = ("device_id", "first_seq", "last_seq", "at_first", "at_last", "received_at", "samples")


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20, method="inclusive")[18], 1)


class Loader:
    """Bulk inserts: COPY on PostgreSQL, executemany in one transaction on SQLite."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        if not self.postgres:
            self.raw.execute("PRAGMA synchronous=OFF")
        self.rows = 0

    def load(self, table: str, columns: tuple[str, ...], rows) -> None:
        cursor = self.raw.cursor()
        count = 0
        if self.postgres:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            batch = []
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for row in rows:
                batch.append(row)
                if len(batch) == 50000:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch = []
            cursor.executemany(statement, batch)
            count += len(batch)
        cursor.close()
        if not table.startswith("bench_"):
            self.rows += count

    def execute(self, sql: str) -> None:
        """A statement that creates rows from others (CREATE TABLE for the helper tables of days and samples)."""
        if sql.startswith("CREATE") or sql.startswith("DROP"):
            self.raw.cursor().execute(sql)
            return
        cursor = self.raw.cursor()
        cursor.execute(sql)
        self.rows += cursor.rowcount
        cursor.close()

    def commit(self) -> None:
        """Commit, refresh the planner's statistics, and hand the connection back as it was."""
        if self.postgres:
            self.raw.commit()
            cursor = self.raw.cursor()
            cursor.execute("ANALYZE")
            cursor.close()
            self.raw.commit()
        else:
            self.raw.execute("COMMIT")
            self.raw.execute("ANALYZE")
            self.raw.execute("PRAGMA synchronous=NORMAL")
        self.raw.close()


def generate(engine: sa.Engine, machines: int, communes: int, days: int, now: float, seed: int = 42) -> dict:
    rnd = random.Random(seed)
    loader = Loader(engine)
    if not loader.postgres:
        loader.raw.execute("BEGIN")
    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    day_list = [(today - dt.timedelta(days=offset)) for offset in range(days)]
    insees = [f"{9 + index // 1000:02d}{index % 1000:03d}" for index in range(communes)]
    intervals = [86400 if index % 10 == 0 else 3600 if index % 3 == 0 else 300 for index in range(communes)]
    loader.load("communes", ("insee", "name", "expected_interval_s", "created_at"),
                ((insee, f"Commune {index:03d}", intervals[index], now - 400 * DAY_S) for index, insee in enumerate(insees)))
    loader.load("dash_commune_places", ("insee", "postal_code", "address", "siret", "opening_hours", "phone", "email",
                                        "updated_at"),
                ((insee, f"{insee[:2]}{index % 1000:03d}", f"Mairie, {index} place de la Mairie", f"2{index:013d}",
                  "Mo-Fr 09:00-12:00", f"05 {index % 100:02d} 00 00 00", f"mairie{index}@example.org", now)
                 for index, insee in enumerate(insees)))
    devices = []
    for index in range(machines):
        commune = rnd.randrange(communes)
        age = rnd.choice((60, 600, 5000, 2 * DAY_S, 10 * DAY_S, 40 * DAY_S)) if index % 7 == 0 else rnd.uniform(0, 250)
        devices.append((index + 1, f"AT-{index + 1:05d}", insees[commune], now - rnd.uniform(100, 700) * DAY_S, now - age,
                        1000, rnd.choice(("1.0.0", "1.0.0", "1.0.0", "0.9.0")),
                        now - age, rnd.uniform(20, 97), rnd.uniform(30, 96), rnd.uniform(35, 85), 3600.0))
    loader.load("devices", ("id", "asset_tag", "commune_insee", "enrolled_at", "last_seen_at", "last_seq", "kiosk_version",
                            "health_at", "disk_used_percent", "memory_used_percent", "temperature_max_c", "uptime_s"),
                devices)
    loader.load("device_tokens", ("id", "device_id", "token_sha256", "created_at", "pending"),
                ((d[0], d[0], uuid.uuid4().hex + uuid.uuid4().hex, d[3], False) for d in devices))
    loader.load("dash_machine_assets", ("asset_tag", "lifecycle_state", "donor", "intake_date", "erasure_certificate",
                                        "crashes_7d"),
                ((d[1], "deployed", "Entreprise donatrice", "2025-01-15", f"EFF-{d[0]:05d}", rnd.choice((0, 0, 0, 1, 4)))
                 for d in devices))
    loader.load("inventory_reports", ("device_id", "seq", "at", "received_at", "vendor", "model", "serial", "uuid",
                                      "cpu_model", "cpu_count", "memory_bytes", "disks_json", "macs_json", "os", "kernel",
                                      "kiosk_version"),
                ((d[0], 1, d[3], d[3], "Dell Inc.", "OptiPlex 7010", "To be filled by O.E.M.", None,
                  "Intel(R) Core(TM) i5-3470", 4, 4 * 1024 ** 3, '[{"name":"sda","size_bytes":250000000000}]',
                  '["18:03:73:aa:bb:cc"]', "Debian GNU/Linux 12 (bookworm)", "6.1.0-26-amd64", d[6]) for d in devices))

    # The per-machine history (millions of rows at national scale) is built by the database itself, from
    # the machines and two small tables of days and of encoded raw samples, with pseudo-random figures
    # derived from the machine and the day: Python would spend minutes making the same tuples.
    loader.execute("CREATE TABLE bench_days (k INTEGER, start BIGINT, stamp VARCHAR(10))")
    loader.execute("CREATE TABLE bench_raw (first_seq BIGINT, last_seq BIGINT, at_first FLOAT, at_last FLOAT, "
                   f"received_at FLOAT, samples {'BYTEA' if loader.postgres else 'BLOB'})")
    loader.load("bench_days", ("k", "start", "stamp"),
                ((k, int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()), day.isoformat())
                 for k, day in enumerate(day_list)))
    from provisioning.fleet.store.raw_health import batch_rows
    sample = {"cpu_percent": 10.0, "load1": 0.5, "memory_used_percent": 50.0, "memory_available_bytes": 10 ** 9,
              "disk_used_percent": 60.0, "disk_free_bytes": 10 ** 10, "uptime_s": 3600.0, "boot_time": now - 4000,
              "temperature_max_c": 55.0, "kiosk_restarts": 0}
    # raw samples are kept 30 days: here 4 a day per machine, one stored row per check-in
    loader.load("bench_raw", RAW_COLUMNS[1:], (
        tuple(row[name] for name in RAW_COLUMNS[1:]) for index in range(min(days, RAW_DAYS) * 4)
        for row in batch_rows(0, [(100 + index, now - index * 6 * 3600, sample)], now - index * 6 * 3600)))
    loader.execute(
        "INSERT INTO health_daily (device_id, period_start, samples, cpu_sum, cpu_n, cpu_max, memory_sum, memory_n, "
        "memory_max, load_max, disk_used_max, temperature_max, kiosk_restarts) "
        "SELECT d.id, b.start, 96, 960.0, 96, 30.0, 4800.0, 96, 80.0, 1.5, 20 + ((d.id * 7919 + b.k * 104729) % 7500) * 0.01, "
        "60.0, 1 FROM devices d CROSS JOIN bench_days b")
    loader.execute(f"INSERT INTO health_batches ({', '.join(RAW_COLUMNS)}) "
                   f"SELECT d.id, {', '.join('r.' + name for name in RAW_COLUMNS[1:])} FROM devices d CROSS JOIN bench_raw r")
    loader.execute("INSERT INTO usage_daily (device_id, day, metric, key, count) "
                   "SELECT d.id, b.stamp, 'kiosk_started', '', 1 + (d.id * 31 + b.k * 17) % 3 FROM devices d CROSS JOIN bench_days b")
    # the staff's follow-up: each machine's worst status of each day (``fleet suivi``), summed per commune
    # and month as it keeps them, and a note on one machine in twenty
    loader.execute(
        "INSERT INTO dash_machine_status_days (asset_tag, day, status) "
        "SELECT d.asset_tag, b.stamp, CASE (d.id * 13 + b.k * 7) % 20 WHEN 0 THEN 'offline' WHEN 1 THEN 'missing' "
        "WHEN 2 THEN 'late' WHEN 3 THEN 'late' ELSE 'online' END FROM devices d CROSS JOIN bench_days b")
    loader.execute(
        "INSERT INTO dash_availability_monthly (month, commune_insee, available, recorded) "
        "SELECT SUBSTR(s.day, 1, 7), d.commune_insee, SUM(CASE WHEN s.status IN ('online', 'late') THEN 1 ELSE 0 END), "
        "COUNT(*) FROM dash_machine_status_days s JOIN devices d ON d.asset_tag = s.asset_tag "
        "GROUP BY SUBSTR(s.day, 1, 7), d.commune_insee")
    loader.load("dash_machine_notes", ("asset_tag", "text", "updated_at", "updated_by"),
                ((d[1], "Jean passe jeudi changer le clavier", now - DAY_S, "bench") for d in devices if d[0] % 20 == 0))
    loader.execute("DROP TABLE bench_days")
    loader.execute("DROP TABLE bench_raw")

    fleet_totals: dict[tuple[str, str, str], int] = {}

    def counted(rows):
        for row in rows:
            slot = (row[2], row[1], row[3])
            fleet_totals[slot] = fleet_totals.get(slot, 0) + row[4]
            yield row

    def commune_usage():
        for insee in insees:
            for day in day_list:
                sessions = rnd.randint(0, 12)
                if not sessions:
                    continue
                stamp = day.isoformat()
                yield (insee, stamp, "sessions", "", sessions)
                for bucket in rnd.sample(SESSION_LENGTH_BUCKETS, 2):
                    yield (insee, stamp, "session_length", bucket, sessions // 2 or 1)
                for tile in rnd.sample(TILES, 3):
                    yield (insee, stamp, "tile_opened", tile, rnd.randint(1, sessions))
                yield (insee, stamp, "pages_printed", "", rnd.randint(0, 20))
                yield (insee, stamp, "idle_reset", "", rnd.randint(0, 3))
    loader.load("dash_usage_commune_daily", ("commune_insee", "day", "metric", "key", "count"), counted(commune_usage()))
    loader.load("dash_usage_fleet_daily", ("metric", "day", "key", "count"),
                ((metric, day, key, count) for (metric, day, key), count in fleet_totals.items()))
    loader.execute("INSERT INTO dash_usage_commune_monthly (metric, month, commune_insee, key, count) "
                   "SELECT metric, SUBSTR(day, 1, 7), commune_insee, key, SUM(count) FROM dash_usage_commune_daily "
                   "GROUP BY metric, SUBSTR(day, 1, 7), commune_insee, key")  # as the check-ins keep it
    rows = loader.rows
    loader.commit()
    return {"rows": rows, "asset_tags": [d[1] for d in devices]}


CACHE = Path(os.environ.get("BENCH_DASHBOARD_CACHE", "/var/tmp/mairie-kiosk-bench-dashboard"))
STORE = Path(__file__).resolve().parent.parent / "provisioning" / "fleet" / "store"


def cache_key(args) -> str:
    """Generated databases are reused for the same parameters, the same UTC day, the same generator and
    the same store (its migrations and the triggers they install): a 100,000-machine fleet takes minutes to build."""
    digest = hashlib.sha256(inspect.getsource(generate).encode())
    for path in sorted((STORE / "migrations" / "versions").glob("*.py")) + [STORE / "deadlines.py"]:
        digest.update(path.read_bytes())
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    digest.update(f"{args.machines}/{args.communes}/{args.days}/{day}".encode())
    return f"m{args.machines}_c{args.communes}_d{args.days}_{digest.hexdigest()[:12]}"


def build(url: str, args, now: float) -> dict:
    """Migrate an empty database and fill it; what the bench needs to know about it."""
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.migrate import upgrade
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        rows = generate(engine, args.machines, args.communes, args.days, now)["rows"]
    finally:
        engine.dispose()
    return {"now": now, "rows": rows, "generate_s": round(time.perf_counter() - started, 1)}


def cached_sqlite(directory: str, args, now: float) -> tuple[str, dict]:
    """A copy of the cached SQLite database for these parameters (built first when missing)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = cache_key(args)
    database, facts = CACHE / f"{key}.db", CACHE / f"{key}.json"
    if args.fresh or not facts.exists():
        for stale in CACHE.glob(f"m{args.machines}_c{args.communes}_d{args.days}_*"):
            stale.unlink()
        building = CACHE / f"{key}.building.db"
        building.unlink(missing_ok=True)
        info = build(f"sqlite:///{building}", args, now)
        building.rename(database)
        Path(f"{building}-writer.lock").unlink(missing_ok=True)  # the store's writer lock beside the file
        facts.write_text(json.dumps(info))
    info = json.loads(facts.read_text())
    copy = Path(directory) / "fleet.db"
    shutil.copyfile(database, copy)
    return f"sqlite:///{copy}", info


def cached_postgres(admin: sa.Engine, server: str, scratch: str, args, now: float) -> dict:
    """Create ``scratch`` from the template database cached for these parameters (built first when missing)."""
    key = cache_key(args)
    template = f"bench_dashboard_tpl_{key}".lower()
    with admin.connect() as conn:
        existing = set(conn.exec_driver_sql("SELECT datname FROM pg_database").scalars())
        prefix = f"bench_dashboard_tpl_m{args.machines}_c{args.communes}_d{args.days}_"
        if args.fresh or template not in existing:
            for stale in (name for name in existing if name.startswith(prefix)):
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {stale} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {template}")
            try:
                info = build(url_of(server, template), args, now)
            except BaseException:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
                raise
            conn.exec_driver_sql(f"COMMENT ON DATABASE {template} IS '{json.dumps(info)}'")
        info = json.loads(conn.exec_driver_sql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %(name)s",
            {"name": template}).scalar_one())
        conn.exec_driver_sql(f"CREATE DATABASE {scratch} TEMPLATE {template}")
    return info


def url_of(server: str, database: str) -> str:
    return sa.make_url(server).set(database=database).render_as_string(hide_password=False)


def measure(url: str, args, info: dict) -> dict:
    """Log in through the real app, then time every page, the pages taking turns request after request."""
    from provisioning.fleet import create_app
    from provisioning.fleet.accounts import store
    app = create_app({"database_url": url, "testing": True, "secret_key": "bench-" + "k" * 40})
    engine = app.extensions["fleet_engine"]
    shift = time.time() - info["now"]
    if shift > 1:  # a cached fleet: its machines were last seen as long before now as when it was built
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE devices SET last_seen_at = last_seen_at + {shift}, health_at = health_at + {shift}")
    password = "bench-password-" + uuid.uuid4().hex
    with engine.begin() as conn:
        store.create_user(conn, "bench", password, "admin", None)
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/connexion", data={"csrf_token": token, "username": "bench", "password": password}).status_code == 302
    rnd = random.Random(7)
    year = dt.datetime.fromtimestamp(info["now"], dt.timezone.utc).year
    asset_tags = [f"AT-{index:05d}" for index in range(1, args.machines + 1)]
    paths = {"baseline": lambda: "/api/v1/ping", "overview": lambda: "/tableau/",
             "machine": lambda: f"/tableau/machines/{rnd.choice(asset_tags)}",
             "usage": lambda: "/tableau/usage", "report": lambda: f"/tableau/rapport?annee={year}"}
    result = {"generate_s": info["generate_s"], "rows": info["rows"]}
    samples: dict[str, list[float]] = {name: [] for name in PAGES}
    cpu: dict[str, list[float]] = {name: [] for name in PAGES}
    for round_number in range(3 + args.requests):  # 3 warm-up rounds: caches, compiled statements
        for name in PAGES:
            path = paths[name]()
            begin, begin_cpu = time.perf_counter(), time.thread_time()
            response = client.get(path)
            elapsed = (time.perf_counter() - begin) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if round_number >= 3:
                samples[name].append(elapsed)
                cpu[name].append((time.thread_time() - begin_cpu) * 1000)
    for name in PAGES:
        result[f"{name}_p95_ms"] = p95(samples[name])
        result[f"{name}_p50_ms"] = round(statistics.median(samples[name]), 1)
        # CPU time of the request in this process (the app, and SQLite's own work; not PostgreSQL's
        # server): steadier than wall time when other work shares the machine's cores
        result[f"{name}_cpu_p95_ms"] = p95(cpu[name])
    engine.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL"),
                        help="PostgreSQL server URL (default: KIOSK_TEST_POSTGRES_URL); a scratch database is used")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--machines", type=int, default=10000)
    parser.add_argument("--communes", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--fresh", action="store_true", help=f"build the fleet again instead of reusing {CACHE}")
    args = parser.parse_args(argv)
    now = time.time()
    line: dict = {"machines": args.machines, "communes": args.communes, "days": args.days, "requests": args.requests,
                  "target_p95_ms": 100 if args.machines <= 10000 else 300}
    if args.database in ("both", "sqlite"):
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as directory:
            url, info = cached_sqlite(directory, args, now)
            line["sqlite"] = measure(url, args, info)
    else:
        line["sqlite"] = "skipped: --database postgresql"
    if args.postgres and args.database in ("both", "postgresql"):
        name = f"bench_dashboard_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        try:
            info = cached_postgres(admin, args.postgres, name, args, now)
            line["postgresql"] = measure(url_of(args.postgres, name), args, info)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()
    else:
        line["postgresql"] = ("skipped: --database sqlite" if args.database == "sqlite"
                              else "skipped: no --postgres URL and KIOSK_TEST_POSTGRES_URL unset")
    pages = [value for db in ("sqlite", "postgresql") if isinstance(line[db], dict)
             for key, value in line[db].items() if key.endswith("_p95_ms") and not key.endswith("_cpu_p95_ms") and not key.startswith("baseline")]
    line["all_p95_within_target"] = bool(pages) and max(pages) <= line["target_p95_ms"]
    print(json.dumps(line, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
