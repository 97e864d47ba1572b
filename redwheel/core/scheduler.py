"""Periodic jobs, enqueued by the scheduler loop inside `manage.py worker`.

`PERIODIC_JOBS` maps a job name to `(interval_seconds, dotted path of a django-tasks task)`.
Other apps add their jobs with `register()` from their `AppConfig.ready()`.

Several workers may run the scheduler at once. Each run is claimed with one conditional
UPDATE on the job's `PeriodicJob` row, which succeeds for exactly one worker per interval:

    UPDATE core_periodicjob SET last_enqueued_at = :now
    WHERE name = :name AND (last_enqueued_at IS NULL OR last_enqueued_at <= :now - interval)

Only the worker whose UPDATE changed one row enqueues the task.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from redwheel.core.models import PeriodicJob

logger = logging.getLogger(__name__)

PERIODIC_JOBS: dict[str, tuple[int, str]] = {
    "deliver_due_notifications": (60, "redwheel.core.tasks.deliver_due_notifications"),
}


def register(name: str, every_seconds: int, task_path: str) -> None:
    """Add (or replace) a periodic job. `task_path` names a django-tasks task."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")
    PERIODIC_JOBS[name] = (every_seconds, task_path)


def ensure_rows(names=None) -> None:
    names = list(PERIODIC_JOBS if names is None else names)
    PeriodicJob.objects.bulk_create(
        [PeriodicJob(name=name) for name in names], ignore_conflicts=True
    )


def claim(name: str, every_seconds: int, now: datetime | None = None) -> bool:
    """Atomically take the run of `name` that is due at `now`; False if not due or taken."""
    now = now or timezone.now()
    if not PeriodicJob.objects.filter(name=name).exists():
        ensure_rows([name])
    due = Q(last_enqueued_at__isnull=True) | Q(
        last_enqueued_at__lte=now - timedelta(seconds=every_seconds)
    )
    return PeriodicJob.objects.filter(due, name=name).update(last_enqueued_at=now) == 1


def run_due(now: datetime | None = None, log: Callable[[str], None] | None = None) -> list[str]:
    """Enqueue every periodic job that is due and that this process claimed. Returns names."""
    now = now or timezone.now()
    enqueued = []
    for name, (every_seconds, task_path) in list(PERIODIC_JOBS.items()):
        if not claim(name, every_seconds, now):
            continue
        result = import_string(task_path).enqueue()
        enqueued.append(name)
        message = f"scheduler: enqueued {name} (every {every_seconds}s) as task {result.id}"
        (log or logger.info)(message)  # the worker command prints it; elsewhere it is logged
    return enqueued


def loop(stop: threading.Event, tick: float = 5.0, log: Callable[[str], None] | None = None):
    """Run `run_due` every `tick` seconds until `stop` is set. Meant for a background thread."""
    try:
        ensure_rows()
        while not stop.is_set():
            close_old_connections()
            try:
                run_due(log=log)
            except Exception:  # a broken job or a database hiccup must not kill the loop
                logger.exception("scheduler: run failed; trying again in %ss", tick)
            stop.wait(tick)
    finally:
        connection.close()  # this thread's own connection
