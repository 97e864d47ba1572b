"""Give back the tasks of workers that died while running them (SIGKILL, OOM, lost machine).

django_tasks_db claims a task by setting it RUNNING and appending the worker's id to
`worker_ids`; only the worker itself ever finishes it. A worker that dies in between leaves the
task RUNNING for ever and nothing runs it again: a killed score snapshot or roster commit would
simply never happen.

Liveness, on PostgreSQL: every worker holds a session-level advisory lock keyed by its worker id
on a connection of its own for as long as it lives (`WorkerLease`). The server drops that lock
the moment the process dies, because its connection goes with it, so no clock, timeout or
heartbeat guess is involved. `recover()` looks at each RUNNING task: if the lock of the worker
that last claimed it can be taken, that worker is gone, and the task goes back to READY to run
again, or to FAILED once `MAX_CLAIMS` workers died running it (a task that kills every worker
that takes it must not loop for ever). Workers run `recover()` when they start and every
`RECOVER_EVERY_SECONDS` after that.

Re-running is only safe because every task is idempotent (docs/operations.md, "Behaviour under
faults"): the periodic jobs claim their rows one by one or upsert on unique keys, the roster
commit is one transaction, notifications are claimed with a lease.

Limits: a worker whose lease connection breaks (a database restart) looks dead until the keeper
takes the lock again, so its current task may be started a second time meanwhile; idempotency
covers that too. On SQLite (one machine, development) there is no such lock and nothing is
recovered automatically.
"""

import contextlib
import hashlib
import logging
import threading

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# First half of the two-int advisory lock key ("RWKR"), so these locks cannot collide with any
# other advisory lock taken in the same database.
LOCK_NAMESPACE = 0x52574B52
MAX_CLAIMS = 3
RECOVER_EVERY_SECONDS = 30.0
WORKER_LOST = "redwheel.core.task_recovery.WorkerLost"


class WorkerLost(Exception):
    """Recorded as a task's error when its workers kept dying while running it."""


def _key(worker_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(worker_id.encode(), digest_size=4).digest(), "big") - (
        1 << 31
    )


def _supported(alias: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[alias].vendor == "postgresql"


class WorkerLease:
    """The advisory lock that says "worker <id> is alive", on a connection Django never closes
    (close_old_connections between tasks must not drop it), kept up by a daemon thread that
    also runs `recover()` periodically."""

    def __init__(self, worker_id: str, *, alias: str = DEFAULT_DB_ALIAS):
        self.worker_id = worker_id
        self.alias = alias
        self._conn = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        if not _supported(self.alias):
            return False
        if self._conn is None:
            self._conn = connections.create_connection(self.alias)
            self._conn.inc_thread_sharing()  # taken here, checked by the keeper thread
        with self._conn.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, _key(self.worker_id)]
            )
            held = cursor.fetchone()[0]
        if not held:
            logger.error("worker id %s is already held by a live worker", self.worker_id)
        return held

    def _check(self) -> None:
        """Take the lock again if the connection was lost (the database restarted)."""
        try:
            with self._conn.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:
            logger.warning("worker %s lost its lease connection; reconnecting", self.worker_id)
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn.connection = None
            try:
                self.acquire()
            except Exception:
                logger.exception("worker %s could not renew its lease", self.worker_id)

    def start(self, every: float = RECOVER_EVERY_SECONDS) -> None:
        """Keep the lease and recover other workers' lost tasks every `every` seconds."""
        if self._conn is None:
            return

        def keep():
            try:
                while not self._stop.wait(every):
                    self._check()
                    try:
                        recover(alias=self.alias)
                    except Exception:  # the next round tries again; the worker goes on
                        logger.exception("task recovery failed")
            finally:
                connections[self.alias].close()  # this thread's own connection

        self._thread = threading.Thread(target=keep, name="task-lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # ends the session, which frees the lock
            self._conn = None


def _owner_alive(cursor, worker_id: str) -> bool:
    # Transaction-scoped: a lock taken here is gone at the end of recover()'s transaction.
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, _key(worker_id)])
    return not cursor.fetchone()[0]


def recover(*, alias: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Re-queue (or fail, after MAX_CLAIMS) every RUNNING task whose worker is gone."""
    counts = {"requeued": 0, "failed": 0}
    if not _supported(alias):
        return counts
    running = DBTaskResult.objects.using(alias).filter(status=TaskResultStatus.RUNNING)
    for pk in list(running.values_list("pk", flat=True)):
        with transaction.atomic(using=alias):
            # skip_locked: another worker is recovering this one right now, or finishing it.
            task = running.select_for_update(skip_locked=True).filter(pk=pk).first()
            if task is None:
                continue
            owner = task.worker_ids[-1] if task.worker_ids else ""
            with connections[alias].cursor() as cursor:
                if owner and _owner_alive(cursor, owner):
                    continue
            claims = len(task.worker_ids)
            if claims >= MAX_CLAIMS:
                task.status = TaskResultStatus.FAILED
                task.finished_at = timezone.now()
                task.exception_class_path = WORKER_LOST
                task.traceback = (
                    f"{WORKER_LOST}: {claims} workers died while running this task "
                    f"(last: {owner or 'unknown'}); it is not retried again.\n"
                )
                task.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                counts["failed"] += 1
                logger.error("task %s (%s) failed: %s", task.pk, task.task_path, task.traceback)
            else:
                task.status = TaskResultStatus.READY
                task.save(update_fields=["status"])
                counts["requeued"] += 1
                logger.warning(
                    "task %s (%s): worker %s died while running it; queued again (claim %s)",
                    task.pk,
                    task.task_path,
                    owner or "unknown",
                    claims,
                )
    return counts
