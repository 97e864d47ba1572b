"""Badge/score batch look-up benchmark over the real HTTP stack.

Usage: .venv/bin/python bench/lookup.py [--rate 300] [--seconds 20] [--batch 100]
                                        [--workers 3] [--drivers 3000]

Stack: gunicorn (from the venv, gthread workers with keep-alive) serving config.wsgi,
PostgreSQL database `redwheel_lookup_bench` (created if missing; DATABASE_URL can override)
and the Redis cache at REDIS_URL (default redis://127.0.0.1:6379/1). If PostgreSQL or Redis
cannot be reached it falls back to SQLite / local-memory cache and says so in the output.

Data: a bench platform with N drivers (10% verified members showing the badge), the default
rule book and today's score snapshots, and a token with both scopes. The load generator is
open-loop in this process (threads with persistent connections): requests are scheduled at
the target rate, each with `batch` random LicenseIds (90% of the platform's drivers, 10%
unknown). Latency is reported two ways: from sending the request to the full answer
("service"), and from its scheduled start ("scheduled", which also counts time a request waited
because the client or server fell behind). Phases: baseline (`GET /api/v1/ping`: the full
middleware + API stack, no authentication, database or cache work), badges, scores.
Because the machine may be shared, it also measures CPU time per request in this process
(`time.process_time()` over `--cpu-calls` calls of each endpoint through Django's test client,
same database and cache; the database and Redis servers' own CPU is not included).
Target (DESIGN.md): p99 <= 25 ms at 300 requests/s for 100-id batches.
Writes bench/results/lookup.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "lookup.json"
DB_NAME = "redwheel_lookup_bench"
TARGET_P99_MS = 25.0
BENCH_COMPANY = "BENCHLOOKUP"


def _postgres_url() -> tuple[str | None, str]:
    url = os.environ.get("BENCH_DATABASE_URL") or f"postgres:///{DB_NAME}"
    try:
        import psycopg

        try:
            psycopg.connect(url, connect_timeout=3).close()
        except psycopg.OperationalError:
            with psycopg.connect("postgres:///postgres", autocommit=True, connect_timeout=3) as c:
                c.execute(f'CREATE DATABASE "{DB_NAME}"')
            psycopg.connect(url, connect_timeout=3).close()
        return url, "postgresql"
    except Exception as exc:
        return None, f"sqlite (PostgreSQL unreachable: {type(exc).__name__})"


def _redis_url() -> tuple[str | None, str]:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return url, "redis"
    except Exception as exc:
        return None, f"locmem (Redis unreachable: {type(exc).__name__}; not shared by workers)"


def configure() -> dict:
    db_url, db_kind = _postgres_url()
    redis_url, cache_kind = _redis_url()
    env = {
        "DATABASE_URL": db_url or f"sqlite:///{ROOT / 'var' / 'lookup_bench.sqlite3'}",
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": redis_url or "",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "SCORING_LOOKUP_RATE_LIMIT": str(10**9),
        "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    return {"env": env, "database": db_kind, "cache": cache_kind}


def seed(drivers: int) -> tuple[str, list[str]]:
    """Create (once) the bench platform and drivers; return a fresh token and the LicenseIds."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from redwheel.accounts.models import User
    from redwheel.accounts.permissions import SystemActor
    from redwheel.accounts.services import token_create
    from redwheel.core.testing import id_number
    from redwheel.drivers import services as ds
    from redwheel.drivers.models import Driver
    from redwheel.orgs import services as org
    from redwheel.orgs.models import OrgUnit, Platform
    from redwheel.scoring import defaults, services

    admin = User.objects.filter(is_superuser=True).first()
    if admin is None:
        admin = User.objects.create_superuser(
            "13700000001", "bench-Secret-2026", display_name="bench"
        )
    p = Platform.objects.filter(company_id=BENCH_COMPANY).first()
    if p is None:
        p = org.platform_create(actor=admin, company_id=BENCH_COMPANY, name="基准出行")
        root = OrgUnit.objects.filter(parent=None).first() or org.unit_create(
            actor=admin, name="基准行业党委", kind="committee", parent=None, region_code="510100"
        )
        unit = org.unit_create(
            actor=admin,
            name="基准出行党委",
            kind="enterprise_committee",
            parent=root,
            region_code="510107",
            platform=p,
        )
        branch = org.unit_create(
            actor=admin, name="基准出行第一支部", kind="branch", parent=unit, region_code="510107"
        )
        for seq in range(drivers):
            driver = ds.driver_create(
                actor=admin,
                name=f"司机{seq}",
                license_no=id_number(700_000 + seq),
                phone=f"136{seq:08d}",
                branch=branch,
                platforms=[p],
                create_account=False,
            )
            if seq % 10 == 0:
                m = ds.membership_declare(
                    actor=admin, driver=driver, category="full", branch=branch
                )
                ds.membership_verify(actor=admin, membership=m)
                Driver.objects.filter(pk=driver.pk).update(badge_consent=True)
        if not services.book_in_force():
            book = defaults.draft_default(actor=admin)
            services.rulebook_publish(actor=admin, book=book)
        services.scores_snapshot(actor=SystemActor("bench"))
    from django.db import connection

    if connection.vendor == "postgresql":  # fresh planner statistics after seeding
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _token, secret = token_create(
        actor=admin, platform=p, name="bench", scopes=["badges:read", "scores:read"]
    )
    ids = [
        id_number(700_000 + seq)
        for seq in range(Driver.objects.filter(affiliations__platform=p).count())
    ]
    return secret, ids


def start_server(port: int, workers: int) -> subprocess.Popen:
    cmd = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        "4",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ.copy(), start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_per_request(secret, ids, batch, calls) -> dict:
    """CPU milliseconds per request in this process, through the whole Django stack."""
    from django.test import Client

    rng = random.Random(11)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    bodies = [
        json.dumps({"license_ids": [rng.choice(ids) for _ in range(batch)]}) for _ in range(200)
    ]
    out = {}
    for name, path in (
        ("ping", "/api/v1/ping"),
        ("badges", "/api/v1/badges:lookup"),
        ("scores", "/api/v1/scores:lookup"),
    ):

        def call(i, path=path, name=name):
            if name == "ping":
                return client.get(path)
            return client.post(
                path, bodies[i % len(bodies)], content_type="application/json", **headers
            )

        for i in range(50):  # warm-up
            assert call(i).status_code == 200
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(calls):
            call(i)
        out[name] = {
            "cpu_ms": round(1000 * (time.process_time() - cpu) / calls, 3),
            "wall_ms": round(1000 * (time.perf_counter() - wall) / calls, 3),
        }
    return out


def run_phase(port, path, secret, ids, rate, seconds, batch, threads=24, unknown_share=0.1):
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    counter = iter(range(total))
    lock = threading.Lock()
    service, scheduled, statuses = [], [], {}
    rng = random.Random(7)
    bodies = []
    for n in range(min(total, 2000)):
        chosen = [
            rng.choice(ids) if rng.random() > unknown_share else f"X{n}{k}" for k in range(batch)
        ]
        bodies.append(json.dumps({"license_ids": chosen}).encode())
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                if secret:
                    conn.request("POST", path, body=bodies[i % len(bodies)], headers=headers)
                else:
                    conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = "error"
            done = time.perf_counter()
            with lock:
                service.append(done - sent)
                scheduled.append(done - due)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start

    def pct(values, q):
        ordered = sorted(values)
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "path": path,
        "requests": total,
        "target_rate": rate,
        "throughput_rps": round(total / elapsed, 1),
        "statuses": {str(k): v for k, v in statuses.items()},
        "service_ms": {
            "p50": pct(service, 0.5),
            "p99": pct(service, 0.99),
            "mean": round(1000 * statistics.mean(service), 2),
        },
        "scheduled_ms": {"p50": pct(scheduled, 0.5), "p99": pct(scheduled, 0.99)},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--drivers", type=int, default=3000)
    parser.add_argument("--cpu-calls", type=int, default=1000)
    args = parser.parse_args()
    stack = configure()
    print(f"database: {stack['database']}; cache: {stack['cache']}")
    secret, ids = seed(args.drivers)
    from django.core.cache import cache

    if stack["cache"] == "redis":
        cache.clear()
    cpu = cpu_per_request(secret, ids, args.batch, args.cpu_calls)
    for name, figures in cpu.items():
        print(
            f"in-process {name:7s} cpu {figures['cpu_ms']:6.3f} ms/request "
            f"(wall {figures['wall_ms']:6.3f} ms) over {args.cpu_calls} calls"
        )
    port = _free_port()
    server = start_server(port, args.workers)
    try:
        path_b, path_s = "/api/v1/badges:lookup", "/api/v1/scores:lookup"
        run_phase(port, path_b, secret, ids, args.rate, 3, args.batch)  # warm-up
        run_phase(port, path_s, secret, ids, args.rate, 3, args.batch)
        phases = {
            "baseline_ping": run_phase(
                port, "/api/v1/ping", None, ids, args.rate, args.seconds, args.batch
            ),
            "badges": run_phase(port, path_b, secret, ids, args.rate, args.seconds, args.batch),
            "scores": run_phase(port, path_s, secret, ids, args.rate, args.seconds, args.batch),
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    result = {
        "benchmark": "badge/score batch lookup over HTTP",
        "stack": {
            "server": f"gunicorn gthread, {args.workers} workers x 4 threads",
            "database": stack["database"],
            "cache": stack["cache"],
            "client": "Python threads, open loop, same machine",
        },
        "batch": args.batch,
        "rate": args.rate,
        "seconds": args.seconds,
        "drivers": len(ids),
        "target_p99_ms": TARGET_P99_MS,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "shared machine: other processes' load is included in the figures",
        },
        "in_process_cpu": {"calls": args.cpu_calls, **cpu},
        "phases": phases,
    }
    for name, phase in phases.items():
        ok = phase["service_ms"]["p99"] <= TARGET_P99_MS
        print(
            f"{name:13s} {phase['throughput_rps']:7.1f} req/s  "
            f"service p50 {phase['service_ms']['p50']:6.2f} ms  p99 "
            f"{phase['service_ms']['p99']:6.2f} ms  (scheduled p99 "
            f"{phase['scheduled_ms']['p99']:6.2f} ms)  statuses {phase['statuses']}"
            + ("" if name.startswith("baseline") else f"  target p99<=25ms: {ok}")
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"load average after the run: {result['machine']['load_average_after']}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
