"""Real processes for the fault-injection tests: a private PostgreSQL cluster, a private Redis
and the web application served by gunicorn. The tests break *these*, never the machine's shared
PostgreSQL (5432) or Redis (6379), which other processes use.

The API, kept small on purpose (the worker tests import it too):

- `PrivatePostgres.launch()` -> a running cluster; `.url` (DATABASE_URL of its `redwheel`
  database), `.stop()`, `.start()`, `.restart()` (pg_ctl -m fast, what `pg_ctlcluster restart`
  does), `.is_ready()`, `.close()` (stop and remove its directory).
- `PrivateRedis.launch()` -> `.url`, `.stop()`, `.start()` (same port), `.close()`.
- `WebServer.launch(env)` -> gunicorn serving `config.wsgi`; `.url`, `.pid`, `.stop()`.
- `run_manage(args, env)` -> `manage.py <args>` in a subprocess, raising on failure.
- `app_env(database_url, redis_url=None, **extra)` -> the environment those subprocesses need.

Every process is started by its own PID and stopped by that PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the project directory (manage.py)
PYTHON = sys.executable
BIN = Path(PYTHON).parent  # the venv's bin/, where gunicorn lives


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll `check()` until it is true; raise naming `what` when `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout}s")


def terminate(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM the process by its PID, SIGKILL it if it has not gone after `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def _pg_bindir() -> Path:
    # Debian keeps the server binaries out of PATH, one directory per major version.
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3])
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    if not found:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    return Path(found).resolve().parent


def servers_available() -> bool:
    """Whether this machine has the PostgreSQL server binaries and redis-server."""
    try:
        _pg_bindir()
    except RuntimeError:
        return False
    return shutil.which("redis-server") is not None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster in a temp directory, on a free port, trust auth."""

    def __init__(self, directory: Path, port: int, bindir: Path, as_user: list[str]):
        self.directory = directory
        self.datadir = directory / "data"
        self.port = port
        self.bindir = bindir
        self._as_user = as_user
        self.url = f"postgres://postgres@127.0.0.1:{port}/redwheel"
        self.admin_url = f"postgres://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def launch(cls) -> PrivatePostgres:
        bindir = _pg_bindir()
        directory = Path(tempfile.mkdtemp(prefix="rw-faults-pg-"))
        # initdb refuses to run as root: the cluster belongs to the `postgres` OS user.
        as_user = []
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        pg = cls(directory, free_port(), bindir, as_user)
        pg._run(
            "initdb",
            "-D",
            str(pg.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        with open(pg.datadir / "postgresql.conf", "a") as conf:
            # Speed over durability: this cluster lives for one test session.
            conf.write(
                f"port = {pg.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{directory}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 60\nshared_buffers = 32MB\n"
            )
        pg.start()
        pg._run("createdb", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "redwheel")
        return pg

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self._as_user, str(self.bindir / tool), *args],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=self.directory,
        )

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.directory / "log"), "-w", *args)

    def is_ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.admin_url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def start(self) -> None:
        self._ctl("start")
        wait_for(self.is_ready, 30, "private PostgreSQL")

    def stop(self) -> None:
        """Fast shutdown: open connections are closed at once, as in a real restart."""
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")
        wait_for(self.is_ready, 30, "private PostgreSQL")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one statement on the `redwheel` database (for counting what was stored)."""
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port, no persistence, as a child process."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    @classmethod
    def launch(cls) -> PrivateRedis:
        server = cls(free_port())
        server.start()
        return server

    def is_ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.is_ready, 15, "private Redis")

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)
            self.proc = None

    def close(self) -> None:
        self.stop()


@functools.cache
def _session_secrets() -> dict[str, str]:
    from redwheel.testing import production_secrets

    return production_secrets()


def app_env(database_url: str, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment for manage.py / gunicorn against the private servers: production-like
    (DEBUG off, so an error would be the real 500 page, never a debug traceback), fresh secrets,
    and no .env file of the checkout leaking in. The secrets are the same for every process of
    a test session: data encrypted by one (a seeding script) must be readable by the next."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST_"))
    }
    env.update(_session_secrets())
    env.update(
        {
            "ENV_FILE": os.devnull,
            "DEBUG": "0",
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def run_manage(args: list[str], env: dict[str, str], timeout: float = 300, input: str = "") -> str:
    """`manage.py <args>` in a subprocess; returns its stdout, raises with its output on failure."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


class WebServer:
    """gunicorn serving the project (threaded workers), started and stopped by PID."""

    def __init__(self, proc: subprocess.Popen, port: int, log: Path):
        self.proc = proc
        self.pid = proc.pid
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    @classmethod
    def launch(cls, env: dict[str, str], workers: int = 1, threads: int = 4) -> WebServer:
        port = free_port()
        log = Path(tempfile.mkstemp(prefix="rw-faults-web-", suffix=".log")[1])
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--worker-class",
                    "gthread",
                    "--timeout",
                    "120",
                    "--graceful-timeout",
                    "2",
                    # Its default path is shared by every gunicorn of the user: parallel test
                    # sessions would take each other's socket.
                    "--no-control-socket",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = cls(proc, port, log)
        try:
            wait_for(server._answers, 60, "web server")
        except TimeoutError:
            server.stop()
            raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}") from None
        return server

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()}")
        try:
            urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=5).close()
            return True
        except urllib.error.HTTPError:
            return True  # it answered
        except OSError:
            return False

    def stop(self) -> None:
        terminate(self.proc)

    def output(self) -> str:
        """What the server logged (tracebacks of a 500 show up here)."""
        return self.log.read_text(errors="replace")
