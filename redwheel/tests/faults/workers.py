"""Real `manage.py worker` processes for the fault tests, and the database tricks that stop a
job at a chosen point so it can be killed "while running" without any hook in the code.

- `worker_env(**extra)`: the environment for a worker against *this* test database (the one
  pytest-django created on PostgreSQL), with this process's keys, so the worker can read the
  rows the test wrote through the services. DEBUG is off; `--skip-checks` accepts the
  development keys the test process uses.
- `Worker.start(env)`: `manage.py worker` by Popen; `.kill()` sends SIGKILL to its PID.
- `run_worker_once(env)`: `manage.py worker --once` to the end (queue empty).
- `DbLock(statement)`: holds a lock (LOCK TABLE ... / SELECT ... FOR UPDATE) in a connection
  of its own until `.release()`; `wait_until_blocked(app_name)` waits until a worker's session
  is waiting on a lock (pg_stat_activity.wait_event_type = 'Lock').
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from redwheel.tests.faults.processes import PYTHON, ROOT, app_env, run_manage, wait_for


def database_url() -> str:
    """The URL of the database this test process uses (pytest's test_<name> database)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    env = app_env(database_url())
    env.update(
        {
            # The rows were written with this process's keys (encrypted phones, blind indexes).
            "SECRET_KEY": settings.SECRET_KEY,
            "PII_ENCRYPTION_KEYS": ",".join(settings.PII_ENCRYPTION_KEYS),
            "PII_BLIND_INDEX_KEY": settings.PII_BLIND_INDEX_KEY,
            "SMS_BACKEND": "redwheel.core.sms.ConsoleSmsBackend",
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",  # the receivers listen on 127.0.0.1
            "PGAPPNAME": "faults-worker",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def queued(settings, transactional_db, tmp_path):
    """Committed data (the worker is another process) and tasks queued in the database."""
    settings.MEDIA_ROOT = tmp_path
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "ENQUEUE_ON_COMMIT": False}
    }


def only_due(name: str | None) -> None:
    """Make `name` the one periodic job due, as if the others had just run."""
    from redwheel.core import scheduler
    from redwheel.core.models import PeriodicJob

    scheduler.ensure_rows()
    PeriodicJob.objects.update(last_enqueued_at=timezone.now())
    if name:
        PeriodicJob.objects.filter(name=name).update(last_enqueued_at=None)


class Worker:
    """One `manage.py worker` process, stopped by its PID."""

    def __init__(self, proc: subprocess.Popen, log: Path, app_name: str):
        self.proc = proc
        self.pid = proc.pid
        self.log = log
        self.app_name = app_name

    @classmethod
    def start(cls, env: dict[str, str], *args: str) -> Worker:
        log = Path(tempfile.mkstemp(prefix="rw-faults-worker-", suffix=".log")[1])
        app_name = f"faults-worker-{os.getpid()}-{time.monotonic_ns()}"
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [PYTHON, "manage.py", "worker", "--skip-checks", "--interval", "0.2", *args],
                cwd=ROOT,
                env={**env, "PGAPPNAME": app_name},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(proc, log, app_name)

    def kill(self) -> None:
        """The fault: SIGKILL, no handler runs, no transaction is committed."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_blocked(self, timeout: float = 60) -> None:
        """Until one of this worker's sessions waits on a lock that a test holds."""

        def blocked() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the worker exited early:\n{self.output()}")
            with psycopg.connect(database_url(), autocommit=True) as conn:
                return bool(
                    conn.execute(
                        "SELECT 1 FROM pg_stat_activity "
                        "WHERE application_name = %s AND wait_event_type = 'Lock'",
                        [self.app_name],
                    ).fetchone()
                )

        try:
            wait_for(blocked, timeout, "the worker blocked on the test's lock", interval=0.2)
        except TimeoutError:
            raise TimeoutError(f"worker never blocked; its output:\n{self.output()}") from None


def run_worker_once(env: dict[str, str], timeout: float = 120) -> str:
    return run_manage(["worker", "--skip-checks", "--once"], env, timeout=timeout)


class DbLock:
    """A lock held in a transaction of a separate connection until `release()`."""

    def __init__(self, *statements: tuple[str, list] | str):
        self.conn = psycopg.connect(database_url())  # not autocommit: the lock stays
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, [])
            self.conn.execute(sql, params)

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()

    def __enter__(self) -> DbLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Receiver:
    """A platform's webhook endpoint on 127.0.0.1: records every POST (headers and JSON body)
    as it arrives, then answers 200 after `before_answer()` (which may sleep or take a lock)."""

    def __init__(self, port: int = 0, before_answer=None):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict] = []
        self.before_answer = before_answer
        self.release = threading.Event()  # set at close: frees handlers held in before_answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"headers": dict(self.headers), "body": json.loads(body)})
                if receiver.before_answer is not None:
                    receiver.before_answer(receiver)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up (timeout) or died meanwhile

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def ids(self) -> list[int]:
        """Notification ids in arrival order, from the idempotency header."""
        return [int(r["headers"]["X-RedWheel-Notification-Id"]) for r in self.received]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
