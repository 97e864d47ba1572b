"""/healthz, /readyz and the worker heartbeat (core.health, core.heartbeat)."""

import socket
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from redwheel.core import health, heartbeat
from redwheel.core.models import WorkerHeartbeat

CHECKS = {"database", "cache", "migrations", "worker"}


@pytest.fixture(autouse=True)
def _fresh_migration_answer(monkeypatch):
    """Each test starts as a new process would: the migrations are looked at once."""
    monkeypatch.setattr(health._Migrations, "all_applied", False)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readyz(client=None, **headers):
    response = (client or Client()).get("/readyz", **headers)
    return response, response.json()


# /healthz --------------------------------------------------------------------------------------


def test_healthz_answers_ok_without_touching_the_database():
    # No `db` fixture: pytest-django makes any database access in this test an error.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Cache-Control"] == "no-store"


def test_probes_skip_host_checks_https_redirects_and_login(settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["redwheel.example"]
    heartbeat.beat("w-probe")
    client = Client(enforce_csrf_checks=True)
    # A load balancer probes the node by IP over plain HTTP, with no session or language.
    health_response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    ready_response = client.get("/readyz", HTTP_HOST="10.1.2.3:8000")
    assert (health_response.status_code, ready_response.status_code) == (200, 200), (
        ready_response.content
    )
    # The same host on a page is refused, so the probes really were exempt.
    assert client.get("/accounts/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_probes_accept_get_and_head_only(db):
    client = Client(enforce_csrf_checks=True)
    assert client.head("/healthz").status_code == 200
    # 405, not a CSRF 403 nor a login redirect.
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


# /readyz ---------------------------------------------------------------------------------------


def test_readyz_is_200_with_every_check_ok_when_a_worker_just_beat(db):
    heartbeat.beat("w-1")
    response, body = readyz()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    assert all(check["ok"] is True for check in body["checks"].values()), body
    assert all(isinstance(check["detail"], str) for check in body["checks"].values())
    assert response["Cache-Control"] == "no-store"
    assert "Retry-After" not in response


def test_readyz_is_503_without_any_worker_heartbeat(db):
    response, body = readyz()
    assert response.status_code == 503
    assert response["Retry-After"] == str(health.RETRY_AFTER_SECONDS)
    assert body["status"] == "fail"
    assert body["checks"]["worker"] == {"ok": False, "detail": "no worker heartbeat"}
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    assert body["checks"]["migrations"]["ok"]


def test_readyz_is_503_when_the_freshest_heartbeat_is_too_old(settings, db):
    settings.READY_WORKER_MAX_AGE_S = 120
    heartbeat.beat("w-old", now=timezone.now() - timedelta(seconds=300))
    response, body = readyz()
    assert response.status_code == 503
    worker = body["checks"]["worker"]
    assert worker["ok"] is False
    assert worker["detail"].startswith("last heartbeat 300s ago (limit 120s)")


def test_one_fresh_worker_among_stale_ones_is_enough(db):
    heartbeat.beat("w-dead", now=timezone.now() - timedelta(minutes=30))
    heartbeat.beat("w-live")
    response, body = readyz()
    assert response.status_code == 200, body


def test_the_worker_check_can_be_turned_off(settings, db):
    settings.READY_WORKER_MAX_AGE_S = 0
    response, body = readyz()
    assert response.status_code == 200, body
    assert body["checks"]["worker"]["ok"] is True
    assert "not checked" in body["checks"]["worker"]["detail"]


def test_readyz_reports_an_unreachable_cache_as_degraded_but_stays_ready(settings, db):
    """The look-ups carry on without Redis (scoring/cache.py), so a lost cache must not take
    every node out of the load balancer at once."""
    heartbeat.beat("w-1")
    port = unused_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    response, body = readyz()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["cache"]["detail"].startswith("error: ")
    # The public body names the error's kind, not the address it failed on.
    assert str(port) not in response.content.decode()
    assert body["checks"]["database"]["ok"] is True


def test_readyz_is_503_while_a_migration_is_unapplied(db):
    heartbeat.beat("w-1")
    MigrationRecorder(connection).record_unapplied("core", "0006_add_worker_heartbeat")
    response, body = readyz()
    assert response.status_code == 503
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] is False
    assert "core.0006_add_worker_heartbeat" in migrations["detail"]


def test_all_applied_is_remembered_so_later_probes_skip_the_migration_loader(db):
    heartbeat.beat("w-1")
    assert readyz()[0].status_code == 200
    # Once true it stays true for the process: the loader is not run again.
    MigrationRecorder(connection).record_unapplied("core", "0006_add_worker_heartbeat")
    response, body = readyz()
    assert response.status_code == 200, body
    assert body["checks"]["migrations"] == {"ok": True, "detail": "all applied"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a network database")
def test_readyz_is_503_not_500_when_the_database_does_not_answer(db, monkeypatch):
    # The probe's own connection is built from the default one's settings: point those at a
    # port nobody listens on, a real refused connection.
    monkeypatch.setitem(connection.settings_dict, "PORT", str(unused_port()))
    response, body = readyz()
    assert response.status_code == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["worker"] == {"ok": False, "detail": "skipped: database unavailable"}
    assert body["checks"]["migrations"]["ok"] is False


# Heartbeats ------------------------------------------------------------------------------------


def test_worker_once_records_a_heartbeat_that_makes_readyz_pass(db):
    assert readyz()[0].status_code == 503
    call_command("worker", "--once", "--no-scheduler", stdout=StringIO(), stderr=StringIO())
    row = WorkerHeartbeat.objects.get()
    assert row.pid > 0 and row.hostname
    assert timezone.now() - row.seen_at < timedelta(minutes=1)
    assert readyz()[0].status_code == 200


def test_beat_upserts_one_row_per_worker_and_keeps_its_start(db):
    start = timezone.now() - timedelta(minutes=5)
    heartbeat.beat("w-1", now=start)
    heartbeat.beat("w-1", now=start + timedelta(seconds=10))
    row = WorkerHeartbeat.objects.get(worker_id="w-1")
    assert (row.started_at, row.seen_at) == (start, start + timedelta(seconds=10))


def test_prune_removes_only_long_silent_workers(db):
    now = timezone.now()
    heartbeat.beat("gone", now=now - heartbeat.PRUNE_AFTER - timedelta(seconds=1))
    heartbeat.beat("quiet", now=now - heartbeat.PRUNE_AFTER + timedelta(minutes=1))
    heartbeat.beat("live", now=now)
    assert heartbeat.prune(now=now) == 1
    assert set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == {"quiet", "live"}


def test_the_heartbeat_thread_beats_until_stopped_then_forgets_its_row(transactional_db):
    stop = threading.Event()
    thread = threading.Thread(target=heartbeat.loop, args=(stop, "w-thread", 0.05))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        seen = set()
        while len(seen) < 2 and time.monotonic() < deadline:
            seen.update(WorkerHeartbeat.objects.values_list("seen_at", flat=True))
            time.sleep(0.02)
        assert len(seen) >= 2, "the thread beat once at most"
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert not WorkerHeartbeat.objects.filter(worker_id="w-thread").exists()
