"""Staff dashboards on the demo city grown to 1M trips: server time and query count per page.

Usage: .venv/bin/python bench/dashboards.py [--trips 1000000] [--repeat 5] [--rebuild]

Data (PostgreSQL database `redwheel_dashboards_bench`, built once and reused; `--rebuild`
drops it first; BENCH_DATABASE_URL overrides): the whole demo city exactly as `make demo`
builds it (`manage.py demo`: the city, one month of exchange records through the real
ingestion path, and every capability's demo step), then the ingested trips grown
to `--trips` by copying the demo month's trips into the preceding months with new OrderIds
(one INSERT … SELECT per month, in SQL; only trips are copied, so older months have trips but
no ratings or complaints). The monthly driver metrics of every month are then recomputed
through the periodic job's code path (`metrics.recompute_month`), and that time is reported.

Measurement: each staff page is requested through Django's whole request path (test client,
middleware, permission checks, selectors, templates; in this process, same database) as the
committee's staff user and as a platform's party secretary: one untimed warm-up, then
`--repeat` timed requests. Reported per page: median and worst server time, and the number
of SQL queries, beside the target (DESIGN.md: ≤ 300 ms server time with 1M trips, bounded
query count). Writes bench/results/dashboards.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "dashboards.json"
DB_NAME = "redwheel_dashboards_bench"
TARGET_MS = 300.0


def _database(rebuild: bool) -> str:
    import psycopg

    url = os.environ.get("BENCH_DATABASE_URL") or f"postgres:///{DB_NAME}"
    with psycopg.connect("postgres:///postgres", autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if rebuild and exists:
            conn.execute(f'DROP DATABASE "{DB_NAME}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return url


def _step(label: str, func, *args, **kwargs):
    print(f"{label}…", flush=True)
    started = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def build_city() -> None:
    from django.core.management import call_command

    call_command("demo", "--no-logins", stdout=sys.stdout)


def grow_trips(target: int) -> tuple[int, list]:
    """Copy the demo month's trips into earlier months until the table holds `target` rows."""
    from django.db import connection, transaction

    from redwheel.exchange.models import Trip

    copy_suffix = "~m"
    original = Trip.objects.exclude(order_id__contains=copy_suffix)
    base = original.count()
    have = Trip.objects.count()
    fields = [f.column for f in Trip._meta.concrete_fields if f.column != "id"]
    times = {
        f.column for f in Trip._meta.concrete_fields if f.get_internal_type() == "DateTimeField"
    }
    months_back = 0
    while have < target and base:
        months_back += 1
        suffix = f"{copy_suffix}{months_back}"
        if Trip.objects.filter(order_id__endswith=suffix).exists():
            continue
        select = ", ".join(
            f"{c} - INTERVAL '{30 * months_back} days'"
            if c in times
            else f"order_id || '{suffix}'"
            if c == "order_id"
            else c
            for c in fields
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Trip._meta.db_table} ({', '.join(fields)}) "
                f"SELECT {select} FROM {Trip._meta.db_table} "
                f"WHERE order_id NOT LIKE %s ORDER BY id LIMIT %s",
                [f"%{copy_suffix}%", min(base, target - have)],
            )
            have += cursor.rowcount
        print(f"  trips: {have:,} (copied the demo month {months_back} month(s) back)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    months = sorted(
        {m.date().replace(day=1) for m in Trip.objects.datetimes("arrived_at", "month")}
    )
    return have, months


def recompute(months: list) -> float:
    from redwheel.exchange import metrics

    started = time.perf_counter()
    for month in months:
        metrics.recompute_month(month)
    return time.perf_counter() - started


def pages(viewer_kind: str) -> list[tuple[str, str]]:
    from django.urls import reverse

    common = [
        ("overview", reverse("insights:dashboard")),
        ("driver list", reverse("drivers:list")),
        ("driver list, filtered", reverse("drivers:list") + "?category=full&page=2"),
        ("verification queue", reverse("drivers:verification_queue")),
        ("exchange status", reverse("exchange:status")),
        ("rejections", reverse("exchange:rejections")),
        ("unknown drivers", reverse("exchange:unknown_drivers")),
        ("member comparison", reverse("exchange:comparison")),
        ("member comparison .xlsx", reverse("exchange:comparison_export")),
        ("driver metrics", reverse("exchange:metrics")),
        ("scores", reverse("scoring:staff_index")),
        ("appeals", reverse("appeals:list")),
        ("appeal accountability", reverse("appeals:accountability")),
        ("service statistics", reverse("mobilization:statistics")),
    ]
    if viewer_kind == "committee":
        common += [
            ("org tree", reverse("orgs:tree")),
            ("coverage", reverse("insights:coverage")),
            ("audit log", reverse("core:audit_log")),
            ("sandbox", reverse("dispatch:index")),
        ]
    return common


def measure(user, repeat: int) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    kind = "committee" if user.grants.filter(unit__parent=None).exists() else "platform"
    rows = []
    for name, url in pages(kind):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code} for {user}")
        timings, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(1000 * (time.perf_counter() - started))
            queries = max(queries, len(captured))
        rows.append(
            {
                "viewer": kind,
                "page": name,
                "url": url,
                "median_ms": round(statistics.median(timings), 1),
                "worst_ms": round(max(timings), 1),
                "queries": queries,
                "meets_target": max(timings) <= TARGET_MS,
            }
        )
        row = rows[-1]
        print(
            f"  {kind:<9} {name:<26} median {row['median_ms']:7.1f} ms  "
            f"worst {row['worst_ms']:7.1f} ms  {queries:3d} queries  "
            f"{'ok' if row['meets_target'] else 'ABOVE TARGET'}",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    args = parser.parse_args()

    url = _database(args.rebuild)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        }
    )
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    from django.core.management import call_command

    from redwheel.accounts.models import User
    from redwheel.core import crypto
    from redwheel.demo.city import demo_city_exists
    from redwheel.demo.specs import STAFF

    call_command("migrate", verbosity=0, interactive=False)
    if not demo_city_exists():
        _step("building the demo city", build_city)
    trips, months = _step("growing the trips", grow_trips, args.trips)
    recompute_s = _step(f"recomputing driver metrics for {len(months)} months", recompute, months)

    committee = User.objects.get(phone_index=crypto.blind_index(STAFF[1].phone))
    secretary = User.objects.get(phone_index=crypto.blind_index(STAFF[3].phone))
    print(f"staff pages, {trips:,} trips, {args.repeat} timed requests each:", flush=True)
    load_before = os.getloadavg()
    rows = measure(committee, args.repeat) + measure(secretary, args.repeat)
    worst = max(rows, key=lambda r: r["worst_ms"])
    met = all(r["meets_target"] for r in rows)
    print(
        f"slowest: {worst['viewer']} {worst['page']} {worst['worst_ms']} ms "
        f"(target ≤ {TARGET_MS:.0f} ms): {'meets target' if met else 'ABOVE TARGET'}; "
        f"metrics recomputation of {len(months)} months: {recompute_s:.1f} s"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "dashboards",
                "database": "postgresql",
                "trips": trips,
                "months": len(months),
                "metrics_recompute_s": round(recompute_s, 1),
                "target_ms": TARGET_MS,
                "meets_target": met,
                "pages": rows,
                "load_average": [load_before, os.getloadavg()],
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
