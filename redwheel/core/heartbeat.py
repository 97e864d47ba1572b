"""Worker heartbeats: each `manage.py worker` upserts its `WorkerHeartbeat` row every
WORKER_HEARTBEAT_SECONDS from a thread of its own, so a worker stuck in a long task still shows
as alive while one whose process died, or lost its database, goes stale.

`/readyz` (core.health) and the metrics (core.metrics) read the freshest row. A worker that
stops cleanly deletes its row; the rows of workers that died are pruned by the live ones once
they are PRUNE_AFTER old, so the table holds roughly one row per running worker.
"""

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Max
from django.utils import timezone

from redwheel.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# Long enough that an operator still sees a worker that died this morning in the admin.
PRUNE_AFTER = timedelta(hours=6)
# Pruning is a cheap indexed DELETE, but there is no reason to run it on every beat.
PRUNE_EVERY_BEATS = 60


def beat(worker_id: str, *, now: datetime | None = None) -> WorkerHeartbeat:
    """Record that `worker_id` (this process) is alive at `now`."""
    now = now or timezone.now()
    row, _created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "seen_at": now},
        create_defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "seen_at": now,
            "started_at": now,
        },
    )
    return row


def prune(*, now: datetime | None = None) -> int:
    """Delete the rows of workers silent for PRUNE_AFTER. Returns how many were deleted."""
    now = now or timezone.now()
    deleted, _ = WorkerHeartbeat.objects.filter(seen_at__lt=now - PRUNE_AFTER).delete()
    return deleted


def forget(worker_id: str) -> None:
    """A worker stopping cleanly takes its row with it: it no longer counts as alive."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def latest(*, now: datetime | None = None) -> tuple[float | None, int]:
    """(seconds since the freshest heartbeat or None without any row, number of rows)."""
    now = now or timezone.now()
    found = WorkerHeartbeat.objects.aggregate(seen=Max("seen_at"))["seen"]
    if found is None:
        return None, 0
    return max((now - found).total_seconds(), 0.0), WorkerHeartbeat.objects.count()


def loop(stop: threading.Event, worker_id: str, every: float | None = None) -> None:
    """Beat every `every` seconds (default WORKER_HEARTBEAT_SECONDS) until `stop` is set, then
    forget the row. Meant for a background thread of the worker."""
    every = every if every is not None else max(settings.WORKER_HEARTBEAT_SECONDS, 1)
    beats = 0
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                beat(worker_id)
                if beats % PRUNE_EVERY_BEATS == 0:
                    prune()
                beats += 1
            except Exception:  # a database hiccup must not end the heartbeat for good
                logger.exception("heartbeat: could not record; trying again in %ss", every)
            stop.wait(every)
        try:
            forget(worker_id)
        except Exception:
            logger.warning("heartbeat: could not remove the row of %s", worker_id, exc_info=True)
    finally:
        connection.close()  # this thread's own connection
