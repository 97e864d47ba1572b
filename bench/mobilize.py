"""Mobilisation fan-out benchmark: call 10,000 drivers and deliver every webhook.

Usage: .venv/bin/python bench/mobilize.py [--drivers 10000]

Builds a fresh SQLite database in a temporary directory (migrations applied), a small city
whose platform's webhook URL points at a local receiver (`http.server` in a thread that checks
every HMAC signature), and N drivers with accounts on one fleet roster. The drivers, their
accounts and the roster are bulk-inserted (set-up only, not measured); then:

1. enqueue: `services.mobilization_call` for the fleet, through the real path: N call rows,
   N in-app rows, N webhook outbox rows, one delivery task per chunk of 500 ids in the
   django-tasks database queue, all committed. Target < 5 s.
2. deliver: `manage.py worker --once --no-scheduler` runs the queued chunk tasks; every
   webhook is POSTed to the receiver. Reported as seconds and webhooks/s (no target).

Prints both next to the target and writes bench/results/mobilize.json.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "mobilize.json"
ENQUEUE_TARGET_S = 5.0
SECRET = "bench-webhook-secret"


def setup_django(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "1"  # the receiver listens on 127.0.0.1
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


class Receiver(BaseHTTPRequestHandler):
    received = 0
    bad_signatures = 0
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        timestamp = self.headers.get("X-RedWheel-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(
                SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        ok = hmac.compare_digest(expected, self.headers.get("X-RedWheel-Signature", ""))
        with Receiver.lock:
            if ok:
                Receiver.received += 1
            else:
                Receiver.bad_signatures += 1
        self.send_response(204 if ok else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


def build(n: int, url: str):
    from django.utils import timezone

    from redwheel.accounts.models import User
    from redwheel.drivers.models import Affiliation, Driver
    from redwheel.mobilization import services
    from redwheel.mobilization.models import FleetMember
    from redwheel.testing import city, id_number, mobile

    c = city()
    c.platform_a.webhook_url, c.platform_a.webhook_secret = url, SECRET
    c.platform_a.save()
    users, drivers = [], []
    for seq in range(n):
        phone = mobile(500_000 + seq)
        user = User(display_name=f"司机{seq}")
        user.set_phone(phone)
        user.set_unusable_password()
        users.append(user)
    users = User.objects.bulk_create(users, batch_size=1000)
    for seq, user in enumerate(users):
        driver = Driver(name=user.display_name, branch=c.branch_a, user=user, region_code="510107")
        driver.set_license(id_number(500_000 + seq))
        driver.set_phone(mobile(500_000 + seq))
        drivers.append(driver)
    drivers = Driver.objects.bulk_create(drivers, batch_size=1000)
    Affiliation.objects.bulk_create(
        [Affiliation(driver=d, platform=c.platform_a) for d in drivers], batch_size=1000
    )
    fleet = services.fleet_create(
        actor=c.admin, unit=c.committee_a, name="应急保障车队", kind="emergency"
    )
    FleetMember.objects.bulk_create(
        [FleetMember(fleet=fleet, driver=d) for d in drivers], batch_size=1000
    )
    hub = services.hub_create(
        actor=c.admin, unit=c.root, name="成都东站", kind="railway", lng=104.14119, lat=30.63088
    )
    now = timezone.now()
    m = services.mobilization_open(
        actor=c.admin,
        unit=c.root,
        hub=hub,
        title="benchmark",
        reason="fan-out benchmark",
        starts_at=now,
        ends_at=now + timedelta(hours=4),
        expected_passengers=500,
        drivers_needed=n,
    )
    return c, fleet, m


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drivers", type=int, default=10_000)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp))
        from django.core.management import call_command
        from django_tasks_db.models import DBTaskResult

        from redwheel.core.models import Notification
        from redwheel.mobilization import services

        started = time.perf_counter()
        c, fleet, m = build(args.drivers, url)
        setup_s = time.perf_counter() - started

        started = time.perf_counter()
        called = services.mobilization_call(actor=c.admin, mobilization=m, fleets=[fleet])
        enqueue_s = time.perf_counter() - started
        webhooks = Notification.objects.filter(channel="webhook", event="mobilisation.call")
        outbox_rows = Notification.objects.filter(event="mobilisation.call").count()
        tasks = DBTaskResult.objects.count()

        started = time.perf_counter()
        call_command("worker", once=True, no_scheduler=True, verbosity=0)
        deliver_s = time.perf_counter() - started
        sent = webhooks.filter(status="sent").count()
        server.shutdown()

    result = {
        "benchmark": "mobilize",
        "drivers_called": called,
        "outbox_rows": outbox_rows,
        "delivery_tasks": tasks,
        "setup_s": round(setup_s, 2),
        "enqueue_s": round(enqueue_s, 3),
        "enqueue_target_s": ENQUEUE_TARGET_S,
        "enqueue_ok": enqueue_s < ENQUEUE_TARGET_S,
        "deliver_s": round(deliver_s, 2),
        "webhooks_sent": sent,
        "webhooks_received": Receiver.received,
        "bad_signatures": Receiver.bad_signatures,
        "webhooks_per_s": round(sent / deliver_s, 1) if deliver_s else None,
        "database": "sqlite",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    print(f"drivers called            {called:>10,}")
    print(f"outbox rows (inbox+hook)  {outbox_rows:>10,}  in {tasks} delivery tasks")
    print(
        f"enqueue                   {enqueue_s:>10.3f} s   target < {ENQUEUE_TARGET_S:.0f} s"
        f"   {'OK' if result['enqueue_ok'] else 'MISSED'}"
    )
    print(
        f"deliver (worker --once)   {deliver_s:>10.2f} s   {result['webhooks_per_s']} webhooks/s"
        f"   received {Receiver.received:,}, bad signatures {Receiver.bad_signatures}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if result["enqueue_ok"] and sent == called else 1


if __name__ == "__main__":
    sys.exit(main())
