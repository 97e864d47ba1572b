"""Exchange ingestion benchmark: records/s through the HTTP batch API, validation included.

Usage: .venv/bin/python bench/ingest.py [--records N] [--database-url URL ...] [--quick]
                                        [--clients 2]

Without --database-url it runs SQLite (a fresh temporary file) and, if reachable,
PostgreSQL at postgres://postgres@127.0.0.1:5432/postgres in a fresh database `redwheel_bench`
that it creates and drops (`<name>_bench` for a --database-url naming database `<name>`).
Each database runs in its own process: migrate, create a platform,
a token and 2,000 known drivers, then POST batches of EXCHANGE_MAX_BATCH records with the
Django test client (full request path: auth, JSON parsing, validation, merge, upsert,
rejections, audit). The mix resembles a real feed: positions and order stages dominate.

Figures: records/s by wall time and by CPU time of this process (`time.process_time()`: the
whole request path, and SQLite's own work since it runs in-process), which still means
something on a loaded machine; for PostgreSQL also the CPU of its server backend (read from
/proc, same host only). One empty batch is posted first, untimed, so one-off imports are not
counted. `--profile FILE` writes a cProfile of the timed loop.

On PostgreSQL a second run posts the same volume for a second platform from `--clients`
(default 2) forked processes at once, each with its own connection, batches dealt
round-robin: the throughput of a server with that many workers receiving a platform's parallel
feeds (concurrent batches share tables and rows; the upserts take row locks in key order).

Baseline: the raw insert rate of the same rows, already converted, with bulk_create and no
validation, into the same tables. Ceiling (PostgreSQL): a plain COPY of those rows into the
emptied tables, one transaction per batch; the API with `--clients` should reach half of it:
printed as "API (2 clients) = NN % of COPY, target 50 %" and stored as `copy_share`, with the
CPU seconds of both (processes and server backends) and `copy_share_cpu_projection`.
Targets (DESIGN.md): ≥ 10,000 records/s on PostgreSQL,
≥ 3,000/s on SQLite. Writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as py_platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ingest.json"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "redwheel_bench"
TARGETS = {"sqlite": 3000.0, "postgresql": 10000.0}
# Issue 17: the API (two clients, validation included) at ≥ half of a plain COPY's rate.
COPY_SHARE_TARGET = 0.5
# record type → share of the feed
MIX = {
    "positionDriver": 0.50,
    "orderCreate": 0.08,
    "orderMatch": 0.08,
    "operateDepart": 0.08,
    "operateArrive": 0.08,
    "operatePay": 0.08,
    "operateLogin": 0.03,
    "operateLogout": 0.03,
    "ratedPassenger": 0.03,
    "ratedPassengerComplaint": 0.005,
    "ratedDriverPunish": 0.005,
}
DRIVERS = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database-url", action="append", dest="urls")
    parser.add_argument("--quick", action="store_true", help="20,000 records (smoke test)")
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of the API loop (one database)"
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=2,
        help="concurrent clients for the PostgreSQL concurrent run (1 skips it)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    records = 20_000 if args.quick else args.records
    if args.worker:
        print(json.dumps(worker(args.worker, records, args.profile, args.clients)))
        return
    urls = args.urls or [None, DEFAULT_PG]
    results = []
    for url in urls:
        result = run_one(url, records, bool(args.urls), args.profile, args.clients)
        if result:
            results.append(result)
            report(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "exchange_ingest",
                "records": records,
                "mix": MIX,
                "python": py_platform.python_version(),
                "cpus": os.cpu_count(),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "runs": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def run_one(url: str | None, records: int, explicit: bool, profile, clients: int) -> dict | None:
    env = dict(os.environ)
    tmp = None
    if url is None:
        tmp = tempfile.NamedTemporaryFile(suffix=".sqlite3", delete=False)  # noqa: SIM115
        url = f"sqlite:///{tmp.name}"
    elif url.startswith("postgres"):
        try:
            url = pg_create(url)
        except Exception as exc:
            if explicit:
                raise
            print(f"PostgreSQL not reachable ({type(exc).__name__}: {exc}); skipped.")
            return None
    env["DATABASE_URL"] = url
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # A persistent connection, so the PostgreSQL backend's CPU time can be read from /proc.
    env.setdefault("DATABASE_CONN_MAX_AGE", "600")
    extra = ["--profile", profile] if profile else []
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                url,
                "--records",
                str(records),
                "--clients",
                str(clients),
                *extra,
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    except subprocess.CalledProcessError as exc:
        print(exc.stdout, exc.stderr, file=sys.stderr)
        raise
    finally:
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)
        elif url.startswith("postgres"):
            pg_drop(url)


def _admin_url(url: str) -> tuple[str, str, str]:
    """(maintenance URL, bench URL, bench database name). A URL naming a database other than
    `postgres` gets `<name>_bench`, so runs against different databases do not collide."""
    base, _, name = url.rpartition("/")
    bench = BENCH_DB if name in ("", "postgres") else f"{name}_bench"
    return base + "/postgres", base + "/" + bench, bench


def pg_create(url: str) -> str:
    import psycopg

    admin, bench_url, bench = _admin_url(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {bench}")
        conn.execute(f"CREATE DATABASE {bench}")
    return bench_url


def pg_drop(bench_url: str) -> None:
    """Drop the database `pg_create` made (`bench_url` is what it returned)."""
    import psycopg

    base, _, bench = bench_url.rpartition("/")
    admin = base + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {bench} WITH (FORCE)")


def report(r: dict) -> None:
    target = r["target_records_per_s"]

    def verdict(rate):
        return "ok" if rate >= target else "BELOW TARGET"

    print(f"{r['database']} ({r['records']:,} records, load average {r['load_average_1m']}):")
    print(
        f"  HTTP API, wall time     {r['records_per_s']:>9,.0f} records/s "
        f"(target ≥ {target:,.0f}: {verdict(r['records_per_s'])})"
    )
    print(
        f"  HTTP API, process CPU   {r['records_per_cpu_s']:>9,.0f} records/s "
        f"(target ≥ {target:,.0f}: {verdict(r['records_per_cpu_s'])})"
    )
    if r.get("server_cpu_s") is not None:
        print(
            f"  + database server CPU   {r['records_per_total_cpu_s']:>9,.0f} records/s "
            f"(process {r['api_cpu_s']} s + server backend {r['server_cpu_s']} s)"
        )
    if r.get("concurrent"):
        c = r["concurrent"]
        print(
            f"  HTTP API, {c['clients']} clients      {c['records_per_s']:>9,.0f} records/s "
            f"wall (target ≥ {target:,.0f}: {verdict(c['records_per_s'])}; "
            f"{c['records']:,} other records posted by {c['clients']} processes at once)"
        )
    print(
        f"  raw bulk insert baseline {r['baseline_records_per_s']:>8,.0f} records/s wall, "
        f"{r['baseline_records_per_cpu_s']:,.0f} records/s process CPU; "
        f"API = {r['api_vs_baseline']:.0%} of baseline (wall)"
    )
    if r.get("copy_ceiling"):
        c = r["copy_ceiling"]
        server = f", server backend {c['server_cpu_s']} s" if c.get("server_cpu_s") else ""
        print(
            f"  plain COPY ceiling      {c['records_per_s']:>9,.0f} records/s wall "
            f"(process {c['cpu_s']} s{server})"
        )
    if r.get("copy_share") is not None:
        c = r["concurrent"]
        share = r["copy_share"]
        verdict = "ok" if share >= COPY_SHARE_TARGET else "BELOW TARGET"
        print(
            f"  API ({c['clients']} clients) = {share:.0%} of COPY, target "
            f"{COPY_SHARE_TARGET:.0%}: {verdict} (same run, wall clock)"
        )
        if r.get("copy_share_cpu_projection") is not None:
            print(
                f"    by CPU: clients {c['cpu_s']} s + backends {c['server_cpu_s']} s; "
                f"projected on idle cores {r['copy_share_cpu_projection']:.0%} of COPY"
            )


# The worker (one database) -----------------------------------------------------------------


def _server_cpu(connection) -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (same host only)."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(url: str, total: int, profile: str | None = None, clients: int = 1) -> dict:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    platform, secret, licenses = setup_city()
    batches = make_batches(platform.company_id, licenses, total, settings.EXCHANGE_MAX_BATCH)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    bodies = [(rt, json.dumps(records)) for rt, records in batches]
    # Warm-up, not timed: a long-running server has already imported its URLconf and views.
    # An empty batch is refused (400) before anything is stored.
    warm = client.post(
        "/api/v1/exchange/positionDriver", data="[]", content_type="application/json", **headers
    )
    assert warm.status_code == 400, warm.status_code
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    server_started = _server_cpu(connection)
    started = time.perf_counter()
    cpu_started = time.process_time()
    accepted = rejected = 0
    if profiler:
        profiler.enable()
    for record_type, body in bodies:
        response = client.post(
            f"/api/v1/exchange/{record_type}", data=body, content_type="application/json", **headers
        )
        if response.status_code != 200:
            raise SystemExit(f"{record_type}: HTTP {response.status_code} {response.content[:300]}")
        data = response.json()
        accepted += data["accepted"] + data["unchanged"]
        rejected += data["rejected"]
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    api_cpu_s = time.process_time() - cpu_started
    api_s = time.perf_counter() - started
    server_ended = _server_cpu(connection)
    server_cpu_s = None
    if server_started is not None and server_ended is not None:
        server_cpu_s = server_ended - server_started
    baseline_s, baseline_cpu_s, ceiling = baseline(platform, batches)
    vendor = connection.vendor
    copy = None
    if ceiling is not None:
        copy_s, copy_cpu_s, copy_server_s = ceiling
        copy = {
            "seconds": round(copy_s, 2),
            "records_per_s": round(total / copy_s, 1),
            "cpu_s": round(copy_cpu_s, 2),
            "records_per_cpu_s": round(total / copy_cpu_s, 1),
            "server_cpu_s": None if copy_server_s is None else round(copy_server_s, 2),
        }
    concurrent = None
    if vendor == "postgresql" and clients > 1:
        second, second_secret = second_platform(licenses)
        concurrent = concurrent_run(
            second_secret,
            make_batches(second.company_id, licenses, total, settings.EXCHANGE_MAX_BATCH),
            clients,
        )
    return {
        "database": vendor,
        "records": total,
        "batches": len(batches),
        "batch_size": settings.EXCHANGE_MAX_BATCH,
        "api_s": round(api_s, 2),
        "records_per_s": round(total / api_s, 1),
        "api_cpu_s": round(api_cpu_s, 2),
        "records_per_cpu_s": round(total / api_cpu_s, 1),
        "server_cpu_s": None if server_cpu_s is None else round(server_cpu_s, 2),
        "records_per_total_cpu_s": (
            None if server_cpu_s is None else round(total / (api_cpu_s + server_cpu_s), 1)
        ),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "stored_or_unchanged": accepted,
        "rejected": rejected,
        "baseline_s": round(baseline_s, 2),
        "baseline_records_per_s": round(total / baseline_s, 1),
        "baseline_cpu_s": round(baseline_cpu_s, 2),
        "baseline_records_per_cpu_s": round(total / baseline_cpu_s, 1),
        "api_vs_baseline": round(baseline_s / api_s, 3),
        "target_records_per_s": TARGETS.get(vendor, 0.0),
        "copy_ceiling": copy,
        "concurrent": concurrent,
        **copy_share(copy, concurrent),
    }


def copy_share(copy: dict | None, concurrent: dict | None) -> dict:
    """The issue-17 ratio: the clients' records/s by wall clock over the COPY ceiling's, both
    measured in the same run.

    On a shared machine the wall clock depends on what else runs, so a CPU projection is given
    too: COPY's rate if it had its process and backend CPU to itself, against the clients' if
    their CPU (processes + backends) were spread over min(clients, cores) idle cores. It
    ignores waits (locks, fsync), so it is an upper bound of what an idle machine would show."""
    if not copy or not concurrent:
        return {}
    out = {
        "copy_share_target": COPY_SHARE_TARGET,
        "copy_share": round(concurrent["records_per_s"] / copy["records_per_s"], 3),
    }
    if concurrent.get("server_cpu_s") is not None and copy.get("server_cpu_s") is not None:
        api_cpu = concurrent["cpu_s"] + concurrent["server_cpu_s"]
        copy_cpu = copy["cpu_s"] + copy["server_cpu_s"]
        lanes = min(concurrent["clients"], os.cpu_count() or 1)
        out["copy_share_cpu_projection"] = round(copy_cpu * lanes / api_cpu, 3)
    return out


def second_platform(licenses):
    """A second platform with the same drivers: fresh rows for the concurrent run."""
    from redwheel.accounts.models import User
    from redwheel.accounts.services import token_create
    from redwheel.drivers.models import Affiliation, Driver
    from redwheel.orgs.models import OrgUnit
    from redwheel.orgs.services import platform_create

    admin = User.objects.get(is_superuser=True)
    city = OrgUnit.objects.get(parent=None)
    platform = platform_create(actor=admin, company_id="BENCH510101", name="基准约车", city=city)
    _token, secret = token_create(
        actor=admin, platform=platform, name="bench", scopes=["exchange:write"]
    )
    Affiliation.objects.bulk_create(
        [Affiliation(driver=d, platform=platform) for d in Driver.objects.all()], batch_size=1000
    )
    return platform, secret


def concurrent_run(secret: str, batches, clients: int) -> dict:
    """Post the batches from `clients` forked processes at once, each with its own database
    connection, as a platform's parallel feeds reach a server with that many workers. Batches
    are dealt round-robin, so the clients write the same tables (and, for a trip's stages or
    a driver's positions, the same rows) at the same time."""
    import multiprocessing

    from django.db import connections
    from django.test import Client

    bodies = [(rt, json.dumps(records)) for rt, records in batches]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(clients + 1)
    outcomes = context.Queue()

    def post_share(k: int) -> None:
        from django.db import connection

        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        server_started = _server_cpu(connection)
        ready.wait()
        cpu_started = time.process_time()
        stored = 0
        for record_type, body in bodies[k::clients]:
            response = client.post(
                f"/api/v1/exchange/{record_type}",
                data=body,
                content_type="application/json",
                **headers,
            )
            if response.status_code != 200:
                outcomes.put(f"{record_type}: HTTP {response.status_code} {response.content[:300]}")
                return
            data = response.json()
            stored += data["accepted"] + data["unchanged"] + data["rejected"]
        cpu = time.process_time() - cpu_started
        server_ended = _server_cpu(connection)
        server = None if server_started is None else server_ended - server_started
        connections.close_all()
        outcomes.put((stored, cpu, server))

    processes = [context.Process(target=post_share, args=(k,)) for k in range(clients)]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    results = [outcomes.get() for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        raise SystemExit("concurrent run failed: " + "; ".join(errors))
    records = sum(r[0] for r in results)
    cpu = sum(r[1] for r in results)
    servers = [r[2] for r in results]
    server = None if None in servers else sum(servers)
    return {
        "clients": clients,
        "records": records,
        "seconds": round(elapsed, 2),
        "records_per_s": round(records / elapsed, 1),
        "cpu_s": round(cpu, 2),
        "server_cpu_s": None if server is None else round(server, 2),
    }


def setup_city():
    from redwheel import testing
    from redwheel.accounts.models import User
    from redwheel.accounts.services import token_create
    from redwheel.drivers.models import Affiliation, Driver
    from redwheel.orgs.services import platform_create, unit_create

    admin = User.objects.create_superuser("13800009999", "bench-Secret-1")
    city = unit_create(
        actor=admin, name="基准行业党委", kind="committee", parent=None, region_code="510100"
    )
    platform = platform_create(actor=admin, company_id="BENCH510100", name="基准出行", city=city)
    _token, secret = token_create(
        actor=admin, platform=platform, name="bench", scopes=["exchange:write"]
    )
    licenses, drivers = [], []
    for n in range(DRIVERS):
        license_no = testing.id_number(50_000 + n)
        driver = Driver(name=f"司机{n}", gender="M", region_code="510107")
        driver.set_license(license_no)
        driver.set_phone(f"139{n:08d}")
        drivers.append(driver)
        licenses.append(license_no)
    Driver.objects.bulk_create(drivers, batch_size=1000)
    Affiliation.objects.bulk_create(
        [Affiliation(driver=d, platform=platform) for d in Driver.objects.all()], batch_size=1000
    )
    return platform, secret, licenses


def make_batches(company: str, licenses: list[str], total: int, size: int):
    rng = random.Random(2026)
    counts = {rt: int(total * share) for rt, share in MIX.items()}
    counts["positionDriver"] += total - sum(counts.values())
    base_time = 1710460800  # 2024-03-15 08:00 Shanghai
    batches = []
    for record_type, count in counts.items():
        records = [
            record(record_type, company, n, licenses[n % len(licenses)], base_time, rng)
            for n in range(count)
        ]
        batches += [(record_type, records[i : i + size]) for i in range(0, count, size)]
    return batches


def _f14(unix: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(unix + 8 * 3600))


def record(rt: str, company: str, n: int, license_no: str, t0: int, rng: random.Random) -> dict:
    lng = 104_065_735 + rng.randint(-60_000, 60_000)
    lat = 30_657_441 + rng.randint(-60_000, 60_000)
    at = t0 + n * 7
    order = f"B{n:08d}"
    common = {"CompanyId": company}
    if rt == "positionDriver":
        return common | {
            "LicenseId": license_no,
            "VehicleNo": "川A12345",
            "PositionTime": at,
            "Longitude": lng,
            "Latitude": lat,
            "Encrypt": 1,
            "Speed": 30,
            "Direction": rng.randint(0, 359),
            "BizStatus": rng.randint(1, 4),
        }
    if rt == "orderCreate":
        return common | {
            "Address": "510107",
            "OrderId": order,
            "OrderTime": _f14(at),
            "DepartTime": _f14(at + 300),
            "DepLongitude": lng,
            "DepLatitude": lat,
            "DestLongitude": lng + 9000,
            "DestLatitude": lat + 2000,
            "Encrypt": 1,
        }
    if rt == "orderMatch":
        return common | {
            "OrderId": order,
            "LicenseId": license_no,
            "VehicleNo": "川A12345",
            "DistributeTime": _f14(at + 60),
            "Longitude": lng,
            "Latitude": lat,
            "Encrypt": 1,
        }
    if rt == "operateDepart":
        return common | {
            "OrderId": order,
            "LicenseId": license_no,
            "DepTime": _f14(at + 400),
            "DepLongitude": lng,
            "DepLatitude": lat,
            "Encrypt": 1,
            "WaitMile": 1.1,
            "WaitTime": 200,
        }
    if rt == "operateArrive":
        return common | {
            "OrderId": order,
            "DestTime": _f14(at + 1500),
            "DestLongitude": lng,
            "DestLatitude": lat,
            "Encrypt": 1,
            "DriveMile": 7.5,
            "DriveTime": 1100,
        }
    if rt == "operatePay":
        return common | {
            "OrderId": order,
            "LicenseId": license_no,
            "FactPrice": 23.5,
            "Price": 25,
            "PayState": 1,
            "PayTime": _f14(at + 1600),
        }
    if rt in ("operateLogin", "operateLogout"):
        name = "LoginTime" if rt == "operateLogin" else "LogoutTime"
        return common | {
            "LicenseId": license_no,
            name: _f14(at),
            "Longitude": lng,
            "Latitude": lat,
            "Encrypt": 2,
        }
    if rt == "ratedPassenger":
        return common | {
            "OrderId": order,
            "EvaluateTime": _f14(at + 2000),
            "ServiceScore": rng.randint(3, 5),
        }
    if rt == "ratedPassengerComplaint":
        return common | {"OrderId": order, "ComplaintTime": _f14(at + 3000), "Detail": "绕路"}
    if rt == "ratedDriverPunish":
        return common | {"LicenseId": license_no, "PunishTime": _f14(at), "PunishReason": "绕路"}
    raise ValueError(rt)


def baseline(platform, batches):
    """(wall, process CPU) seconds to bulk_create the same rows (converted beforehand), and on
    PostgreSQL the same for a plain COPY of them (else None)."""
    from django.db import connection, transaction

    from redwheel.core.crypto import blind_index
    from redwheel.exchange import models, validation

    tables = [
        models.Trip,
        models.OnlineEvent,
        models.PositionSample,
        models.Rating,
        models.Complaint,
        models.Punishment,
    ]
    prepared = []
    index = {}
    for record_type, records in batches:
        rows = []
        cleaned, _ = validation.validate_batch(record_type, records, platform.company_id)
        for n, (_i, r) in enumerate(cleaned):
            lic = r.get("LicenseId")
            idx = index.setdefault(lic, blind_index(lic)) if lic else ""
            rows.append(raw_row(models, record_type, platform, r, idx, n))
        prepared.append((type(rows[0]), rows))
    for table in tables:
        table.objects.all().delete()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for model, rows in prepared:
        with transaction.atomic():
            model.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    elapsed = time.perf_counter() - started, time.process_time() - cpu_started
    ceiling = copy_ceiling(tables, prepared) if connection.vendor == "postgresql" else None
    return (*elapsed, ceiling)


def copy_ceiling(tables, prepared) -> tuple[float, float, float | None]:
    """(wall, process CPU, server backend CPU) seconds to COPY the baseline's rows, as tuples
    converted beforehand, into the emptied tables, one transaction per batch: the physical
    ceiling of the path."""
    from django.db import connection, transaction

    from redwheel.exchange import writers

    converted = []
    for model, rows in prepared:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        columns = [f.attname for f in fields]
        tuples = [
            tuple(f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields)
            for row in rows
        ]
        converted.append((model, columns, tuples))
    for table in tables:
        table.objects.all().delete()
    server_started = _server_cpu(connection)
    started = time.perf_counter()
    cpu_started = time.process_time()
    for model, columns, tuples in converted:
        with transaction.atomic():
            writers.copy_rows(model, columns, tuples)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    server_ended = _server_cpu(connection)
    if server_started is None or server_ended is None:
        return wall, cpu, None
    return wall, cpu, server_ended - server_started


def raw_row(models, rt, platform, r, idx, n):
    p = platform
    if rt == "positionDriver":
        return models.PositionSample(
            platform=p,
            license_index=idx,
            at=r["PositionTime"],
            lng=r["Longitude"],
            lat=r["Latitude"],
            biz_status=r.get("BizStatus"),
        )
    if rt in ("operateLogin", "operateLogout"):
        kind = "login" if rt == "operateLogin" else "logout"
        return models.OnlineEvent(
            platform=p,
            license_index=idx,
            kind=kind,
            at=r.get("LoginTime") or r.get("LogoutTime"),
            lng=r.get("Longitude"),
            lat=r.get("Latitude"),
        )
    if rt == "ratedPassenger":
        return models.Rating(
            platform=p,
            order_id=r["OrderId"],
            evaluated_at=r["EvaluateTime"],
            service_score=r["ServiceScore"],
        )
    if rt == "ratedPassengerComplaint":
        return models.Complaint(
            platform=p,
            order_id=r["OrderId"],
            complained_at=r["ComplaintTime"],
            detail=r.get("Detail", ""),
        )
    if rt == "ratedDriverPunish":
        return models.Punishment(
            platform=p,
            license_index=idx,
            punished_at=r["PunishTime"],
            reason=r.get("PunishReason", ""),
        )
    # Order stages: one trip row each (a distinct order id per stage, as a raw insert).
    return models.Trip(
        platform=p,
        order_id=f"{rt}-{r['OrderId']}",
        license_index=idx,
        order_time=r.get("OrderTime"),
        matched_at=r.get("DistributeTime"),
        departed_at=r.get("DepTime"),
        arrived_at=r.get("DestTime"),
        fare_yuan=r.get("FactPrice"),
    )


if __name__ == "__main__":
    main()
