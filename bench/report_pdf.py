"""Benchmark the funder's report PDF (WeasyPrint) at the size of a regional and of a national fleet.

For each size (communes, one machine each), a SQLite store is filled with what the report reads: the
communes, their machines, two years of per-commune monthly sessions and printed pages, a year of
per-commune monthly availability and the fleet's daily service openings. Then, through the real app
(Flask test client, logged in as admin), the PDF export (/tableau/export/rapport.pdf, every commune) and,
as the baseline measured the same way in the same run, the report's web page (/tableau/rapport: the same
queries, no PDF) take turns; medians over the samples. The PDF's pages are counted by poppler's pdfinfo.

Prints ONE JSON line: {"sizes": [{"communes": N, "pdf_s": .., "page_s": .., "pdf_cpu_s": .., "page_cpu_s": ..,
"pdf_bytes": .., "pdf_pages": .., "bytes_per_commune": .., "communes_per_page": ..}, ...], "max_rss_mb": ..}
(cpu: the request's CPU time in the bench's own process; rss: the process's peak, after the largest size).
Usage: python bench/report_pdf.py [--communes 300,3000] [--samples 3]

Figures (2026-11-28, 2 shared cores under load 6-8, WeasyPrint 70; CPU is the steadier figure):
- before (every commune as an 8-cell table row, after the key figures; main at 2f73c4f, 1 sample):
  300 communes 4.65 s CPU (6.2 s wall), 12 pages, 66 KB; 3,000 communes 45.4 s CPU (67 s wall), 97 pages,
  452 KB, 559 MB peak: beyond gunicorn's 30 s timeout (fleet_server__gunicorn_timeout_s).
- after (the annex as a listing, one cell per five communes, header repeated on each page; 3 samples):
  300 communes 1.31 s CPU (3.6 s wall), 8 pages, 46 KB; 3,000 communes 6.6 s CPU (12.2 s wall), 44 pages,
  174 KB, 194 MB peak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

# Real names of every length (France's longest commune name is 45 characters), cycled over the fleet.
NAMES = ("Lourdes", "Bagnères-de-Luchon", "Aspet", "Saint-Gaudens", "Montréjeau", "Loudenvielle", "Arreau",
         "Saint-Bertrand-de-Comminges", "Cierp-Gaud", "Sauveterre-de-Comminges", "Val-de-Louron", "Aurignac",
         "Saint-Martin-d'Entraunes", "Beaumont-de-Lomagne", "Villefranche-de-Lauragais", "Ax-les-Thermes",
         "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson")
TILES = ("ameli", "impots", "caf", "msa", "france-travail", "carte-identite", "permis", "service-public", "mairie")


def fill(engine: sa.Engine, communes: int, year: int, seed: int = 16) -> None:
    """The report's sources for ``communes`` communes, this year and the year before."""
    from provisioning.fleet.store.followup_schema import availability_monthly
    from provisioning.fleet.store.schema import communes as commune_table, devices
    from provisioning.fleet.store.staff_schema import usage_commune_monthly, usage_fleet_daily
    rnd = random.Random(seed)
    now = time.time()
    insees = [f"{9 + index // 1000:02d}{index % 1000:03d}" for index in range(communes)]
    months = [f"{y:04d}-{m:02d}" for y in (year - 1, year) for m in range(1, 13)]
    with engine.begin() as conn:
        conn.execute(commune_table.insert(), [
            {"insee": insee, "name": NAMES[index % len(NAMES)], "expected_interval_s": 3600,
             "created_at": now - 800 * 86400} for index, insee in enumerate(insees)])
        conn.execute(devices.insert(), [
            {"asset_tag": f"AT-{index:05d}", "commune_insee": insee, "enrolled_at": now - 500 * 86400,
             "last_seen_at": now - 60, "last_seq": 1, "kiosk_version": "1.0.0"} for index, insee in enumerate(insees)])
        usage = []
        for insee in insees:
            for month in months:
                sessions = rnd.randint(0, 120)
                usage.append({"metric": "sessions", "month": month, "commune_insee": insee, "key": "", "count": sessions})
                usage.append({"metric": "pages_printed", "month": month, "commune_insee": insee, "key": "",
                              "count": rnd.randint(0, 3 * sessions)})
        conn.execute(usage_commune_monthly.insert(), usage)
        conn.execute(availability_monthly.insert(), [
            {"month": month, "commune_insee": insee, "available": rnd.randint(20, 30), "recorded": 30}
            for insee in insees for month in months[12:]])
        days = [dt.date(y, 1, 1) + dt.timedelta(days=offset) for y in (year - 1, year) for offset in range(0, 365, 7)]
        conn.execute(usage_fleet_daily.insert(), [
            {"metric": metric, "day": day.isoformat(), "key": key, "count": rnd.randint(1, 40) * communes}
            for day in days for metric, keys in (("tile_opened", TILES), ("sessions", ("",)), ("pages_printed", ("",)))
            for key in keys])


def logged_in_client(app):
    from provisioning.fleet.accounts import store
    password = "bench-password-" + uuid.uuid4().hex
    with app.extensions["fleet_engine"].begin() as conn:
        store.create_user(conn, "bench", password, "admin", None)
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/connexion", data={"csrf_token": token, "username": "bench", "password": password}).status_code == 302
    return client


def pdf_pages(pdf: bytes, directory: Path) -> int:
    path = directory / "rapport.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=120).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def measure(communes: int, samples: int) -> dict:
    from provisioning.fleet import create_app
    from provisioning.fleet.store.migrate import upgrade
    year = dt.datetime.now(dt.timezone.utc).year
    with tempfile.TemporaryDirectory(prefix="bench-report-pdf-") as directory:
        url = f"sqlite:///{directory}/fleet.db"
        upgrade(url)
        app = create_app({"database_url": url, "testing": True, "secret_key": "bench-" + "k" * 40,
                          "association_name": "Numérique Solidaire Pyrénées"})
        fill(app.extensions["fleet_engine"], communes, year)
        client = logged_in_client(app)
        paths = {"page": f"/tableau/rapport?annee={year}", "pdf": f"/tableau/export/rapport.pdf?annee={year}"}
        timings: dict[str, list[float]] = {name: [] for name in paths}
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        pdf = b""
        for round_number in range(1 + samples):  # one warm-up round (templates, fonts, statements)
            for name, path in paths.items():
                begin, begin_cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                elapsed = time.perf_counter() - begin
                assert response.status_code == 200, (path, response.status_code)
                if round_number:
                    timings[name].append(elapsed)
                    cpu[name].append(time.process_time() - begin_cpu)
                if name == "pdf":
                    pdf = response.data
        pages = pdf_pages(pdf, Path(directory))
        app.extensions["fleet_engine"].dispose()
    return {"communes": communes, "pdf_s": round(statistics.median(timings["pdf"]), 2),
            "page_s": round(statistics.median(timings["page"]), 3), "samples": samples,
            # CPU time of the request in this process (WeasyPrint is pure Python, one thread): steadier than
            # wall time when other work shares the machine's cores
            "pdf_cpu_s": round(statistics.median(cpu["pdf"]), 2), "page_cpu_s": round(statistics.median(cpu["page"]), 3),
            "pdf_bytes": len(pdf), "pdf_pages": pages, "bytes_per_commune": round(len(pdf) / communes),
            "communes_per_page": round(communes / pages, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", default="300,3000", help="comma-separated fleet sizes (communes)")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.communes.split(",")]
    line = {"sizes": [measure(size, args.samples) for size in sizes],
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(json.dumps(line, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
