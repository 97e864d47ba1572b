"""`manage.py worker`: the django-tasks-db worker plus the periodic-job scheduler.

manage.py worker                 run until SIGINT/SIGTERM
manage.py worker --once          enqueue due periodic jobs, run every queued task, exit
manage.py worker --interval 2    poll the queue every 2 s when idle

Every worker records a heartbeat (core.heartbeat) that /readyz and the metrics read: from a
thread of its own while it runs, and at the start and end of a `--once` run.
"""

import logging
import signal
import threading

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import (
    DEFAULT_TASK_BACKEND_ALIAS,
    DEFAULT_TASK_QUEUE_NAME,
    task_backends,
)
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import (
    Worker,
    valid_interval,
    validate_worker_id,
)

from redwheel.core import heartbeat, scheduler, task_recovery
from redwheel.core.checks import refuse_unsafe_settings

SIGNALS = [signal.SIGINT, signal.SIGTERM]


class Command(BaseCommand):
    help = "Run background tasks from the database queue and enqueue periodic jobs when due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Enqueue due periodic jobs, run all queued tasks, then exit (tests, cron).",
        )
        parser.add_argument(
            "--interval",
            type=valid_interval,
            default=1.0,
            help="Seconds to wait between queue polls when idle (default: 1).",
        )
        parser.add_argument(
            "--scheduler-tick",
            type=valid_interval,
            default=5.0,
            help="Seconds between checks for due periodic jobs (default: 5).",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Only run queued tasks; another worker enqueues periodic jobs.",
        )
        parser.add_argument(
            "--queue-name",
            default=DEFAULT_TASK_QUEUE_NAME,
            help="Queues to process, comma-separated; '*' for all (default: %(default)s).",
        )
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS, dest="backend_name")
        parser.add_argument(
            "--worker-id",
            type=validate_worker_id,
            default=None,
            help="Unique id of this worker in the pool (default: random).",
        )

    def handle(
        self,
        *,
        once,
        interval,
        scheduler_tick,
        no_scheduler,
        queue_name,
        backend_name,
        worker_id,
        verbosity,
        **options,
    ):
        if not options.get("skip_checks"):
            try:
                refuse_unsafe_settings()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
        DbWorkerCommand(stdout=self.stdout, stderr=self.stderr).configure_logging(verbosity)
        backend = task_backends[backend_name]
        queued_in_db = isinstance(backend, DatabaseBackend)
        if not queued_in_db and not once:
            raise CommandError(
                f"The task backend {backend_name!r} ({type(backend).__name__}) does not queue "
                "tasks in the database; set TASKS_BACKEND=django_tasks_db.DatabaseBackend."
            )
        worker = Worker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=once,
            backend_name=backend_name,
            startup_delay=not once,
            max_tasks=None,
            worker_id=worker_id or get_random_string(32),
            excluded_queue_names=[],
        )
        # The lease tells other workers this one is alive; without it they would take its
        # running task for a dead worker's and queue it again (core/task_recovery.py).
        lease = task_recovery.WorkerLease(worker.worker_id)
        if queued_in_db and lease.acquire():
            recovered = task_recovery.recover()
            if any(recovered.values()):
                self._say(
                    "worker: tasks of dead workers: {requeued} queued again, "
                    "{failed} failed".format(**recovered)
                )
            if not once:
                lease.start()
        try:
            if once:
                self._run_once(worker, queued_in_db, no_scheduler)
            else:
                self._run_forever(worker, scheduler_tick, no_scheduler)
        finally:
            lease.release()

    def _say(self, message: str) -> None:
        self.stdout.write(message)

    def _run_once(self, worker: Worker, queued_in_db: bool, no_scheduler: bool) -> None:
        heartbeat.beat(worker.worker_id)
        try:
            self._run_batch(worker, queued_in_db, no_scheduler)
        finally:
            # Kept, not forgotten: a cron-driven `--once` worker is alive until its next run.
            heartbeat.beat(worker.worker_id)

    def _run_batch(self, worker: Worker, queued_in_db: bool, no_scheduler: bool) -> None:
        if not no_scheduler:
            scheduler.ensure_rows()
            enqueued = scheduler.run_due(log=self._say)
            if not enqueued:
                self._say("scheduler: no periodic job is due")
        if not queued_in_db:
            self._say("worker: the task backend runs tasks itself; nothing queued to run")
            return
        previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
        for sig in SIGNALS:
            signal.signal(sig, worker.shutdown)
        try:
            worker.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self._say(f"worker: ran {worker._run_tasks} task(s); queue empty, exiting")

    def _run_forever(self, worker: Worker, tick: float, no_scheduler: bool) -> None:
        stop = threading.Event()
        pulse = threading.Thread(
            target=heartbeat.loop, args=(stop, worker.worker_id), name="heartbeat", daemon=True
        )
        pulse.start()
        thread = None
        if not no_scheduler:
            thread = threading.Thread(
                target=scheduler.loop, args=(stop, tick, self._say), name="scheduler", daemon=True
            )
            jobs = ", ".join(
                f"{name} every {every}s" for name, (every, _path) in scheduler.PERIODIC_JOBS.items()
            )
            self._say(f"scheduler: checking every {tick}s for due jobs ({jobs})")
            thread.start()
        self._say(
            f"worker {worker.worker_id}: processing queues {','.join(worker.queue_names)}; "
            "Ctrl+C or SIGTERM stops after the current task"
        )

        def shutdown(signum, frame):
            stop.set()  # the scheduler stops at its next tick; the worker may exit right here
            worker.shutdown(signum, frame)

        for sig in SIGNALS:
            signal.signal(sig, shutdown)
        try:
            worker.run()
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=tick + 5)
            pulse.join(timeout=10)
            logging.getLogger(__name__).info("worker %s stopped", worker.worker_id)
            self._say(f"worker {worker.worker_id}: stopped after {worker._run_tasks} task(s)")
