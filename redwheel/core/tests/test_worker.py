import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from redwheel import testing
from redwheel.core import notifications, scheduler
from redwheel.core.models import Notification, PeriodicJob
from redwheel.core.sms import MemorySmsBackend

DUE_JOB = "deliver_due_notifications"
DUE_TASK = "redwheel.core.tasks.deliver_due_notifications"


@pytest.fixture(autouse=True)
def only_the_core_job(monkeypatch):
    """Other apps register their own periodic jobs; these tests count the core one only."""
    monkeypatch.setattr(scheduler, "PERIODIC_JOBS", {DUE_JOB: (60, DUE_TASK)})


@pytest.fixture
def db_tasks(settings, transactional_db, monkeypatch):
    """The database queue, and only core's own periodic job (other apps register more).

    Transactional: the worker closes old connections between tasks, as in production, which
    would close the connection holding a wrapping test transaction on PostgreSQL.
    """
    monkeypatch.setattr(scheduler, "PERIODIC_JOBS", {DUE_JOB: (60, DUE_TASK)})
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "ENQUEUE_ON_COMMIT": False}
    }


def run_worker(*args) -> str:
    out = StringIO()
    call_command("worker", "--once", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_worker_once_runs_a_queued_task(db_tasks):
    person = testing.user()
    _inbox, sms = notifications.notify_user(user=person, event="e", title="你好", sms=True)
    sms.refresh_from_db()
    assert sms.status == Notification.Status.PENDING  # queued, not run yet
    assert MemorySmsBackend.outbox == []
    queued = DBTaskResult.objects.get(task_path="redwheel.core.tasks.deliver_notification")
    assert queued.status == "READY"

    output = run_worker()

    sms.refresh_from_db()
    assert sms.status == Notification.Status.SENT
    assert MemorySmsBackend.outbox == [(person.phone, "你好")]
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert "ran 2 task(s)" in output  # the notification and the due periodic job
    assert f"enqueued {DUE_JOB}" in output
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_periodic_job_picks_up_a_notification_whose_task_was_lost(db_tasks):
    person = testing.user()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _inbox, sms = notifications.notify_user(user=person, event="e", title="补发", sms=True)
        DBTaskResult.objects.all().delete()  # e.g. the queue was flushed
        traveller.shift(timedelta(minutes=6))
        output = run_worker()
    sms.refresh_from_db()
    assert sms.status == Notification.Status.SENT
    assert "ran 1 task(s)" in output


def test_claiming_twice_in_a_row_enqueues_once(db_tasks):
    now = timezone.now()
    assert scheduler.claim("nightly", 60, now) is True
    assert scheduler.claim("nightly", 60, now) is False
    assert scheduler.claim("nightly", 60, now + timedelta(seconds=59)) is False
    assert scheduler.claim("nightly", 60, now + timedelta(seconds=60)) is True
    assert PeriodicJob.objects.get(name="nightly").last_enqueued_at == now + timedelta(seconds=60)

    assert scheduler.run_due(now) == [DUE_JOB]
    assert scheduler.run_due(now) == []
    assert DBTaskResult.objects.filter(task_path=DUE_TASK).count() == 1

    output = run_worker()  # the job is not due again, so the worker does not enqueue it
    assert "no periodic job is due" in output
    assert DBTaskResult.objects.filter(task_path=DUE_TASK).count() == 1


def test_a_stale_claim_by_another_worker_blocks_this_one(db_tasks):
    """Simulates worker B reading the row before worker A's claim: B's UPDATE matches nothing."""
    now = timezone.now()
    scheduler.ensure_rows([DUE_JOB])
    PeriodicJob.objects.filter(name=DUE_JOB).update(last_enqueued_at=now)  # worker A won
    assert scheduler.run_due(now + timedelta(seconds=30)) == []
    assert scheduler.run_due(now + timedelta(seconds=60)) == [DUE_JOB]


def test_other_apps_can_register_periodic_jobs(db_tasks):
    scheduler.register("escalate", 300, "redwheel.core.tasks.deliver_due_notifications")
    assert sorted(scheduler.run_due()) == [DUE_JOB, "escalate"]
    with pytest.raises(ValueError):
        scheduler.register("broken", 0, DUE_TASK)


def test_the_long_running_worker_needs_the_database_backend(db, monkeypatch):
    monkeypatch.setattr(scheduler, "PERIODIC_JOBS", {DUE_JOB: (60, DUE_TASK)})
    with pytest.raises(CommandError):
        call_command("worker", stdout=StringIO())
    # With the in-process backend, --once still enqueues (and so runs) due periodic jobs.
    assert f"enqueued {DUE_JOB}" in run_worker()


@pytest.mark.slow
def test_the_worker_stops_cleanly_on_sigterm(tmp_path: Path):
    env = {
        **os.environ,
        **testing.production_secrets(),  # DEBUG off: the deploy checks want real secrets
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DEBUG": "false",
    }
    manage = [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=120)
    worker = subprocess.Popen(
        [*manage, "worker", "--interval", "0.2", "--scheduler-tick", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = worker.stdout.readline()
            lines.append(line)
            if f"enqueued {DUE_JOB}" in line:
                break
        assert any(f"enqueued {DUE_JOB}" in line for line in lines), lines
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "stopped after" in output
