"""Soak run: every kind of traffic at once over the real stack, then an exactly-once check.

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--lookup-rate 300] [--ingest-rate 5000]
                                      [--staff-rate 3] [--driver-rate 3] [--drivers 3000]
                                      [--workers 3] [--threads 4] [--batch-size 500]

Stack: a fresh PostgreSQL database (`redwheel_soak`, dropped and created each run, migrated by
`manage.py migrate` in a subprocess; SOAK_DATABASE_URL names the server, default
postgres://postgres@127.0.0.1:5432/postgres), the Redis cache at REDIS_URL (default
redis://127.0.0.1:6379/5, flushed first: use a database number nobody else uses), gunicorn
from the venv (gthread workers, keep-alive) serving config.wsgi, one `manage.py worker` (task
queue + scheduler), and a webhook receiver in this process that the platform's webhook URL
points at. DEBUG is off, with production-shaped secrets of the bench's own.

Data: a city committee, a platform with an enterprise committee and a branch, N drivers (every
tenth a verified member showing the badge; the first --accounts have a phone account and a
real session made by the session engine), today's scores, a token with badges:read and
scores:read and one with exchange:write, and two staff users (committee staff, platform
secretary) who sign in through the real login form.

Load (bench/soak_load.py, its own process, open loop, latency from each request's due time):
badge/score batch look-ups (100 ids), exchange batches (bench/soak_feed.py: half positions,
then order stages merged into trips, logins/logouts, ratings; every natural key unique),
staff pages, and drivers filing appeals (some double-submitted), switching the badge and
withdrawing their cases. Writes that time out or fail with a 5xx are retried unchanged.
Progress every 30 s. Afterwards it waits for the worker to drain the queue, then checks
(bench/soak_check.py) that every record and driver action is stored exactly once.

Verdict: PASS when there are 0 errors, 0 lost, 0 duplicated, and the look-ups' p99 (from the
due time) is within the 25 ms design target. Writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import soak_feed  # noqa: E402
import soak_report  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "soak.json"
LOGS = ROOT / "var" / "soak"
DB_NAME = "redwheel_soak"
STAFF_PASSWORD = "soak-Secret-2026"
DRAIN_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(args, webhook_port: int) -> dict:
    import psycopg

    server = os.environ.get("SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    base = server.rpartition("/")[0]
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
    import redis

    redis.Redis.from_url(redis_url, socket_connect_timeout=2).flushdb()  # our database only
    env = {
        "DATABASE_URL": f"{base}/{DB_NAME}",
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": "soak-only-secret-key-not-for-production-0123456789abcdef",
        "PII_ENCRYPTION_KEYS": "c29hay1vbmx5LWZpZWxkLWtleS0wMTIzNDU2Nzg5YWI=",
        "PII_BLIND_INDEX_KEY": "soak-only-blind-index-key-0123456789abcdef",
        "SMS_BACKEND": "redwheel.core.sms.HttpSmsBackend",
        "SMS_GATEWAY_URL": "https://sms.soak.invalid/send",
        "SMS_GATEWAY_KEY": "soak-gateway-key",
        "SMS_GATEWAY_SECRET": "soak-only-gateway-secret-0123456789abcdef",
        "LOG_LEVEL": "WARNING",
        "SCORING_LOOKUP_RATE_LIMIT": str(10**9),
        "EXCHANGE_MAX_BATCH": str(max(args.batch_size, 5000)),
        "POSITION_SAMPLE_SECONDS": "60",  # soak_feed gives each position its own minute
        # The receiver listens on 127.0.0.1; the SSRF guard would refuse it otherwise.
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True
    )
    return {"database_url": env["DATABASE_URL"], "redis_url": redis_url, "webhook": webhook_port}


# The platform's webhook endpoint ---------------------------------------------------------------

RECEIVED: Counter = Counter()
_RECEIVED_LOCK = threading.Lock()


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        nid = int(self.headers.get("X-RedWheel-Notification-Id", json.loads(body)["id"]))
        with _RECEIVED_LOCK:
            RECEIVED[nid] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver() -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


# Data ------------------------------------------------------------------------------------------


def seed(args, webhook_port: int) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from redwheel.accounts.models import Grant, Role, User
    from redwheel.accounts.services import token_create
    from redwheel.core.permissions import SystemActor
    from redwheel.drivers import services as ds
    from redwheel.drivers.models import Driver
    from redwheel.orgs import services as org
    from redwheel.scoring import defaults
    from redwheel.scoring import services as scoring

    started = time.perf_counter()
    admin = User.objects.create_superuser("13700000001", STAFF_PASSWORD, display_name="soak")
    root = org.unit_create(
        actor=admin, name="压测行业党委", kind="committee", parent=None, region_code="510100"
    )
    platform = org.platform_create(
        actor=admin,
        company_id=soak_feed.COMPANY,
        name="压测出行",
        city=root,
        webhook_url=f"http://127.0.0.1:{webhook_port}/hook",
        webhook_secret=secrets.token_hex(16),
    )
    committee = org.unit_create(
        actor=admin,
        name="压测出行党委",
        kind="enterprise_committee",
        parent=root,
        region_code="510107",
        platform=platform,
    )
    branch = org.unit_create(
        actor=admin, name="压测出行第一支部", kind="branch", parent=committee, region_code="510107"
    )
    licenses, people, member_ids = [], [], []
    for seq in range(args.drivers):
        lic = soak_feed.license_no(seq)
        licenses.append(lic)
        driver = ds.driver_create(
            actor=admin,
            name=f"司机{seq}",
            license_no=lic,
            phone=f"135{seq:08d}",
            branch=branch,
            platforms=[platform],
            create_account=seq < args.accounts,
        )
        member = seq % 10 == 0
        if member:
            m = ds.membership_declare(actor=admin, driver=driver, category="full", branch=branch)
            ds.membership_verify(actor=admin, membership=m)
            member_ids.append(driver.pk)
        if driver.user_id is not None:
            people.append({"driver_id": driver.pk, "user_id": driver.user_id, "member": member})
    # The starting badge state is seeded, not switched: the check counts only the run's switches.
    Driver.objects.filter(pk__in=member_ids).update(badge_consent=True)
    book = defaults.draft_default(actor=admin)
    scoring.rulebook_publish(actor=admin, book=book)
    scoring.scores_snapshot(actor=SystemActor.operator("soak"))
    # Drivers: a real session each, made by the session engine (they sign in by SMS code).
    users = {u.pk: u for u in User.objects.filter(pk__in=[p["user_id"] for p in people])}
    for person in people:
        user = users[person["user_id"]]
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        person["session"] = store.session_key
        person["csrf"] = secrets.token_hex(16)  # a 32-character CSRF secret, cookie and form
        person["consented"] = person["member"]
    staff = [
        ("13700000002", "市委工作人员", root, Role.STAFF),
        ("13700000003", "平台党委书记", committee, Role.SECRETARY),
    ]
    for phone, name, unit, role in staff:
        user = User.objects.create_user(phone, STAFF_PASSWORD, display_name=name)
        Grant.objects.create(user=user, unit=unit, role=role)
    _t, lookup_token = token_create(
        actor=admin, platform=platform, name="soak look-ups", scopes=["badges:read", "scores:read"]
    )
    _t, feed_token = token_create(
        actor=admin, platform=platform, name="soak feed", scopes=["exchange:write"]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {args.drivers} drivers in {time.perf_counter() - started:.0f} s", flush=True)
    return {
        "platform": platform,
        "licenses": licenses,
        "people": people,
        "driver_ids": list(Driver.objects.order_by("pk").values_list("pk", flat=True)[:500]),
        "staff_phones": [s[0] for s in staff],
        "lookup_token": lookup_token,
        "feed_token": feed_token,
    }


def staff_pages() -> list[tuple[str, str]]:
    from django.urls import reverse

    return [
        ("dashboard", reverse("insights:dashboard")),
        ("driver_list", reverse("drivers:list")),
        ("driver_detail", reverse("drivers:detail", args=[1]).replace("1", "{pk}")),
        ("appeal_list", reverse("appeals:list")),
        ("case_detail", "/appeals/{pk}/"),
        ("exchange_status", reverse("exchange:status")),
        ("exchange_rejections", reverse("exchange:rejections")),
        ("verification_queue", reverse("drivers:verification_queue")),
    ]


def sign_in(port: int, phone: str) -> str:
    """The real login form: GET it for the CSRF cookie and token, POST the credentials."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = f"csrfmiddlewaretoken={token}&username={phone}&password={STAFF_PASSWORD}"
    conn.request(
        "POST",
        "/accounts/login/",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"},
    )
    response = conn.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie", "") or "")
    if response.status != 302 or session is None:
        raise SystemExit(f"staff sign-in failed for {phone}: HTTP {response.status}")
    return session.group(1)


# Processes -------------------------------------------------------------------------------------


def start_processes(args, port: int) -> dict:
    LOGS.mkdir(parents=True, exist_ok=True)
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(args.workers),
            "-k",
            "gthread",
            "--threads",
            str(args.threads),
            "--keep-alive",
            "30",
            "--backlog",
            "1024",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,  # its own process group: its CPU is read by group, and killed so
        stdout=(LOGS / "gunicorn.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.5"],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
        stdout=(LOGS / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return {"gunicorn": gunicorn, "worker": worker}
        except OSError:
            time.sleep(0.3)
    stop_processes({"gunicorn": gunicorn, "worker": worker})
    raise SystemExit("gunicorn did not start")


def stop_processes(procs: dict) -> None:
    for proc in procs.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def proc_cpu(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far by process kind, from /proc: our process groups by id, and every
    PostgreSQL and Redis process (shared servers: other users' work is included)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = dict.fromkeys([*groups, "postgres", "redis"], 0.0)
    by_group = {pgid: name for name, pgid in groups.items()}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[2]) in by_group:
            out[by_group[int(fields[2])]] += cpu
        elif comm.startswith("postgres"):
            out["postgres"] += cpu
        elif comm.startswith("redis-server"):
            out["redis"] += cpu
    return out


def drain(timeout: float) -> dict:
    """Wait until the worker has run every queued task and delivered every webhook."""
    from django.db.models import Q
    from django_tasks_db.models import DBTaskResult

    from redwheel.core.models import Notification

    started = time.perf_counter()
    while True:
        tasks = DBTaskResult.objects.filter(Q(status="READY") | Q(status="RUNNING")).count()
        pending = Notification.objects.filter(
            status__in=["pending", "sending", "failed"], channel=Notification.Channel.WEBHOOK
        ).count()
        waited = time.perf_counter() - started
        if (tasks == 0 and pending == 0) or waited > timeout:
            failed = DBTaskResult.objects.filter(status="FAILED").count()
            return {
                "seconds": round(waited, 1),
                "drained": tasks == 0 and pending == 0,
                "tasks_left": tasks,
                "webhooks_left": pending,
                "tasks_failed": failed,
            }
        time.sleep(1)


# The run ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--lookup-rate", type=float, default=300)
    parser.add_argument("--ingest-rate", type=float, default=5000, help="records/s")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--staff-rate", type=float, default=3)
    parser.add_argument("--driver-rate", type=float, default=3)
    parser.add_argument("--drivers", type=int, default=3000)
    parser.add_argument("--accounts", type=int, default=400, help="drivers with a session")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    seconds = args.minutes * 60
    receiver, webhook_port = start_receiver()
    configure(args, webhook_port)
    data = seed(args, webhook_port)
    port = _free_port()
    procs = start_processes(args, port)
    groups = {name: proc.pid for name, proc in procs.items()}
    try:
        sessions = [sign_in(port, phone) for phone in data["staff_phones"]]
        batches = int(seconds * args.ingest_rate / args.batch_size) + 1
        minutes_ahead = soak_feed.minutes_of_feed(batches, args.batch_size, args.drivers)
        base = (int(time.time()) - minutes_ahead * 60 - 86_400) // 60 * 60
        LOGS.mkdir(parents=True, exist_ok=True)
        spec_path, out_path = LOGS / "load-spec.json", LOGS / "load-out.json"
        spec = {
            "port": port,
            "seconds": seconds,
            "progress_s": 30,
            "out": str(out_path),
            "lookup": {
                "rate": args.lookup_rate,
                "batch": 100,
                "token": data["lookup_token"],
                "licenses": data["licenses"],
            },
            "ingest": {
                "rate": args.ingest_rate,
                "size": args.batch_size,
                "token": data["feed_token"],
                "licenses": data["licenses"],
                "base": base,
            },
            "staff": {
                "rate": args.staff_rate,
                "sessions": sessions,
                "pages": staff_pages(),
                "driver_ids": data["driver_ids"],
            },
            "driver": {"rate": args.driver_rate, "drivers": data["people"]},
        }
        spec_path.write_text(json.dumps(spec))
        from django.utils import timezone

        started_at = timezone.now()
        print(
            f"soak: {args.minutes:g} min; look-ups {args.lookup_rate:g}/s, ingestion "
            f"{args.ingest_rate:g} records/s in batches of {args.batch_size}, staff pages "
            f"{args.staff_rate:g}/s, driver actions {args.driver_rate:g}/s; gunicorn "
            f"{args.workers} x {args.threads} gthread, 1 task worker",
            flush=True,
        )
        cpu_before, load_before = proc_cpu(groups), os.getloadavg()
        generator = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "soak_load.py"), str(spec_path)],
            start_new_session=True,
        )
        groups["load_generator"] = generator.pid
        generator.wait()
        cpu_after, load_after = proc_cpu(groups), os.getloadavg()
        if generator.returncode != 0:
            raise SystemExit(f"load generator failed ({generator.returncode})")
        load = json.loads(out_path.read_text())
        spec_path.unlink()  # it holds the run's tokens and sessions; the outcome file stays
        print("load done; waiting for the worker to drain…", flush=True)
        drained = drain(DRAIN_TIMEOUT_S)
        import soak_check

        lookup_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def post(path, payload):
            lookup_conn.request(
                "POST",
                path,
                json.dumps(payload),
                {
                    "Authorization": f"Bearer {data['lookup_token']}",
                    "Content-Type": "application/json",
                },
            )
            return json.loads(lookup_conn.getresponse().read())

        from redwheel.drivers.models import Driver

        license_of = dict(
            zip(
                Driver.objects.filter(pk__in=[p["driver_id"] for p in data["people"]])
                .order_by("pk")
                .values_list("pk", flat=True),
                data["licenses"],
                strict=False,
            )
        )
        checks = {
            "exchange": soak_check.exchange(
                load["ledger"]["batches"],
                args.batch_size,
                data["licenses"],
                base,
                data["platform"],
            ),
            "drivers": soak_check.driver_actions(load["ledger"], started_at, RECEIVED),
            "badge_lookup_after_switches": soak_check.badge_answers_fresh(
                post, license_of, load["ledger"]
            ),
        }
    finally:
        stop_processes(procs)
        receiver.shutdown()
    soak_report.report(
        args,
        load,
        drained,
        checks,
        (cpu_before, cpu_after),
        (load_before, load_after),
        (LOGS, RESULTS, ROOT),
    )


if __name__ == "__main__":
    main()
