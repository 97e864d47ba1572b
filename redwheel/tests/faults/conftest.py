"""Fixtures of the fault-injection tests: a private PostgreSQL (migrated once per session), a
private Redis, the seeded data and gunicorn serving the app against them (processes.py).

These tests run only when the suite itself runs on PostgreSQL (CI's second pass, `.ci/run`):
the SQLite pass skips them. They never touch the suite's own test database.
"""

import json
from pathlib import Path

import pytest
from django.conf import settings

from redwheel.tests.faults import processes

HERE = Path(__file__).resolve().parent


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    if _on_postgres() and processes.servers_available():
        return
    reason = (
        "fault injection runs only on PostgreSQL"
        if not _on_postgres()
        else "needs the PostgreSQL server binaries and redis-server"
    )
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def private_pg():
    """A migrated private cluster; tests may stop or restart it (see `pg`)."""
    pg = processes.PrivatePostgres.launch()
    try:
        processes.run_manage(["migrate", "--no-input"], processes.app_env(pg.url))
        yield pg
    finally:
        pg.close()


@pytest.fixture
def pg(private_pg):
    """The private cluster, running again after the test whatever the test did to it."""
    yield private_pg
    if not private_pg.is_ready():
        private_pg.start()


@pytest.fixture(scope="session")
def seeded(private_pg) -> dict:
    """A city in the private database: `secret` (a token with exchange:write, badges:read and
    scores:read), `company_id`, `staff_phone`/`staff_password`, member `licenses`."""
    out = processes.run_manage(
        ["shell", "-c", "from redwheel.tests.faults.seed import main; main()"],
        processes.app_env(private_pg.url),
    )
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def private_redis():
    server = processes.PrivateRedis.launch()
    yield server
    server.close()


@pytest.fixture
def redis_server(private_redis):
    """The private Redis, running again after the test."""
    yield private_redis
    if not private_redis.is_ready():
        private_redis.start()


@pytest.fixture(scope="session")
def web(private_pg, private_redis, seeded):
    """gunicorn on the private servers, with persistent database connections (as production
    runs them), so the tests also prove that a connection broken by a restart is replaced."""
    env = processes.app_env(
        private_pg.url,
        private_redis.url,
        DATABASE_CONN_MAX_AGE="60",
        READY_WORKER_MAX_AGE_S="0",  # no task worker here: /readyz answers for the database
    )
    server = processes.WebServer.launch(env)
    yield server
    server.stop()
