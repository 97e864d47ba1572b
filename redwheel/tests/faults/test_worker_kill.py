"""A worker SIGKILLed while it runs a job: after a restart each job's effect exists once.

Each test stops a real `manage.py worker` at a chosen write by holding a lock on what the job
must write (a row lock or LOCK TABLE ... IN SHARE MODE, which still lets it read), waits until
PostgreSQL shows the worker waiting on that lock, SIGKILLs it, releases the lock and runs a new
worker until the queue is empty. The killed task is left RUNNING by django_tasks_db; the new
worker's recovery (core/task_recovery.py) sees its owner's lease is gone and runs it again.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from redwheel import testing
from redwheel.appeals import services as appeals
from redwheel.appeals.models import Activity, Case
from redwheel.core import notifications
from redwheel.core.dates import local_date
from redwheel.core.models import AuditEntry, Notification
from redwheel.drivers.imports import services as imports
from redwheel.drivers.models import Driver, ImportJob
from redwheel.exchange import metrics
from redwheel.exchange.models import DriverMonthMetric, Trip
from redwheel.scoring.models import ScoreSnapshot
from redwheel.tests.faults.workers import (  # noqa: F401 (queued: a fixture)
    DbLock,
    Receiver,
    Worker,
    only_due,
    queued,
    run_worker_once,
    worker_env,
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.usefixtures("queued"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SH)


def kill_while_blocked(lock: DbLock, env=None, *args) -> Worker:
    worker = Worker.start(env or worker_env(), "--once", *args)
    try:
        worker.wait_until_blocked()
        worker.kill()
    finally:
        worker.stop()
        lock.release()
    return worker


def task_of(path: str) -> DBTaskResult:
    return DBTaskResult.objects.get(task_path=path)


def assert_recovered(path: str, output: str) -> None:
    task = task_of(path)
    assert task.status == "SUCCESSFUL", task.traceback
    assert len(task.worker_ids) == 2  # the killed worker's claim, then the new one's
    assert "1 queued again" in output


def file_case(driver, hours: int) -> Case:
    case, _created = appeals.case_file(
        actor=driver.user,
        driver=driver,
        category="income",
        title="抽成过高",
        description="本月抽成超过平台公布的上限。",
        channel=Case.Channel.APP,
        now=MONDAY + timedelta(hours=hours),  # deadlines long past: due now, in this order
    )
    return case


def test_escalation_killed_mid_run_escalates_each_case_once():
    city = testing.city()
    cases = [file_case(city.driver(), hours) for hours in (0, 1, 2)]
    only_due("appeals_escalate_due")
    # The job commits case by case; it stops at the second case's assignment.
    kill_while_blocked(
        DbLock(("SELECT id FROM appeals_assignment WHERE case_id = %s FOR UPDATE", [cases[1].pk]))
    )
    levels = dict(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("pk", "level"))
    assert [levels[c.pk] for c in cases] == [2, 1, 1]  # the first was committed before the kill
    assert task_of("redwheel.appeals.tasks.escalate_due_cases").status == "RUNNING"

    output = run_worker_once(worker_env())

    assert_recovered("redwheel.appeals.tasks.escalate_due_cases", output)
    for case in cases:
        case.refresh_from_db()
        assert (case.level, case.escalations) == (2, 1)
        assert Activity.objects.filter(case=case, action="auto_escalate").count() == 1
        assert case.assignments.filter(level=1, end="auto_escalated").count() == 1
        assert case.assignments.filter(level=2, ended_at__isnull=True).count() == 1


def test_score_snapshot_killed_mid_write_is_stored_once():
    from redwheel.scoring.tests.helpers import published_book

    city = testing.city()
    published_book(city.admin)
    drivers = [city.driver() for _ in range(4)]
    only_due("scoring_daily_snapshots")
    kill_while_blocked(DbLock("LOCK TABLE scoring_scoresnapshot IN SHARE MODE"))
    assert not ScoreSnapshot.objects.exists()  # the killed transaction left nothing
    assert not AuditEntry.objects.filter(action="scores.snapshot").exists()

    output = run_worker_once(worker_env())

    assert_recovered("redwheel.scoring.tasks.snapshot_scores", output)
    today = local_date()
    stored = ScoreSnapshot.objects.filter(day=today)
    assert sorted(stored.values_list("driver_id", flat=True)) == sorted(d.pk for d in drivers)
    assert ScoreSnapshot.objects.count() == len(drivers)
    assert AuditEntry.objects.filter(action="scores.snapshot").count() == 1


def test_metric_recompute_killed_mid_write_ends_complete_and_unique():
    city = testing.city()
    drivers = [city.driver() for _ in range(3)]
    now = timezone.now()
    for i, driver in enumerate(drivers):
        for n in range(i + 1):  # 1, 2 and 3 completed trips this month
            Trip.objects.create(
                platform=city.platform_a,
                order_id=f"K{i}-{n}",
                license_index=driver.license_index,
                driver=driver,
                arrived_at=now - timedelta(minutes=5 + n),
                departed_at=now - timedelta(minutes=30 + n),
                fare_yuan="20.00",
            )
    only_due("exchange_recompute_metrics")
    kill_while_blocked(DbLock("LOCK TABLE exchange_drivermonthmetric IN SHARE MODE"))

    output = run_worker_once(worker_env())

    assert_recovered("redwheel.exchange.metric_tasks.recompute_recent_metrics", output)
    month = metrics.month_start(local_date())
    rows = DriverMonthMetric.objects.filter(month=month)
    assert sorted(rows.values_list("driver_id", "completed_orders")) == sorted(
        (d.pk, n) for d, n in zip(drivers, (1, 2, 3), strict=True)
    )
    keys = list(DriverMonthMetric.objects.values_list("platform_id", "license_index", "month"))
    assert len(keys) == len(set(keys)) == 3


def test_delivery_killed_after_the_receiver_answered_is_resent_once_with_the_same_id():
    city = testing.city()
    holder: dict = {}

    def hold_the_row(receiver):
        # The receiver has the request; now keep the worker from recording "sent".
        if "lock" not in holder:
            holder["lock"] = DbLock(
                ("SELECT id FROM core_notification WHERE id = %s FOR UPDATE", [holder["pk"]])
            )

    receiver = Receiver(before_answer=hold_the_row)
    try:
        city.platform_a.webhook_url = receiver.url
        city.platform_a.webhook_secret = "s3cret"
        city.platform_a.save()
        only_due(None)
        (row,) = notifications.notify_platform(
            platform=city.platform_a, event="badge.changed", payload={"n": 1}
        )
        holder["pk"] = row.pk
        env = worker_env(NOTIFICATION_LEASE_SECONDS="1")
        worker = Worker.start(env, "--once")
        try:
            worker.wait_until_blocked()
            worker.kill()
        finally:
            worker.stop()
            holder["lock"].release()
        row.refresh_from_db()
        assert row.status == Notification.Status.SENDING and row.attempts == 1
        assert receiver.ids() == [row.pk]

        # The lease (1 s) runs out; the outbox job hands the row to the next worker.
        Notification.objects.filter(pk=row.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        only_due("deliver_due_notifications")
        output = run_worker_once(env)
    finally:
        receiver.close()

    row.refresh_from_db()
    assert row.status == Notification.Status.SENT and row.attempts == 2
    # At least once: the receiver saw the id twice and keeps one.
    assert receiver.ids() == [row.pk, row.pk]
    assert {r["body"]["id"] for r in receiver.received} == {row.pk}
    assert_recovered("redwheel.core.tasks.deliver_notification", output)


def roster_job(city, staff, count: int) -> ImportJob:
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from redwheel.drivers.imports.parsing import DRIVER_COLUMNS

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in DRIVER_COLUMNS])
    for seq in range(970001, 970001 + count):
        writer.writerow(
            [
                f"司机{seq}",
                testing.id_number(seq),
                testing.mobile(seq),
                city.platform_a.company_id,
                "",
                "甲出行第一支部",
                "",
            ]
        )
    upload = SimpleUploadedFile("roster.csv", buffer.getvalue().encode("utf-8-sig"))
    job = imports.import_upload(
        actor=staff, kind="drivers", unit=city.root, uploaded_file=upload, enqueue=False
    )
    job = imports.import_validate(job_id=job.pk)
    assert job.status == ImportJob.Status.PREVIEWED and job.error_count == 0
    return imports.import_commit_request(actor=staff, job=job)


def test_roster_commit_killed_mid_transaction_is_all_or_nothing_then_completes():
    city = testing.city()
    staff = testing.staff(city.root, "staff")
    job = roster_job(city, staff, 5)
    only_due(None)
    before = Driver.objects.count()
    # The commit writes the drivers, then its progress on the job row: held there.
    kill_while_blocked(
        DbLock(("SELECT id FROM drivers_importjob WHERE id = %s FOR UPDATE", [job.pk]))
    )
    assert Driver.objects.count() == before  # the killed transaction wrote nothing
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTING

    output = run_worker_once(worker_env())

    assert_recovered("redwheel.drivers.imports.tasks.commit_import", output)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTED and job.created_count == 5
    assert Driver.objects.count() == before + 5
    assert job.activities.filter(action="commit").count() == 1


def test_recovery_spares_live_workers_and_gives_up_after_three_dead_ones():
    from redwheel.core import task_recovery
    from redwheel.core.tasks import deliver_due_notifications

    def running(*worker_ids: str) -> DBTaskResult:
        result = deliver_due_notifications.enqueue()
        DBTaskResult.objects.filter(pk=result.id).update(
            status="RUNNING", worker_ids=list(worker_ids)
        )
        return DBTaskResult.objects.get(pk=result.id)

    alive = task_recovery.WorkerLease("faults-alive")
    assert alive.acquire()
    try:
        live = running("faults-alive")
        orphan = running("faults-dead-1")
        cursed = running("faults-dead-1", "faults-dead-2", "faults-dead-3")
        assert task_recovery.recover() == {"requeued": 1, "failed": 1}
    finally:
        alive.release()
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[live.pk] == "RUNNING"  # its worker still holds the lease
    assert statuses[orphan.pk] == "READY"
    assert statuses[cursed.pk] == "FAILED"
    cursed.refresh_from_db()
    assert cursed.exception_class_path == "redwheel.core.task_recovery.WorkerLost"
