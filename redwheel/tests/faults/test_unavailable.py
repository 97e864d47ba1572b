"""Which database errors count as "unavailable" (503) and which stay bugs (500), checked on
errors raised by real PostgreSQL connections, not hand-made exceptions."""

import copy

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.utils import load_backend

from redwheel.core.unavailable import is_unavailable
from redwheel.tests.faults import processes

pytestmark = pytest.mark.faults


def test_a_refused_connection_is_unavailable(django_db_blocker):
    params = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    params.update(HOST="127.0.0.1", PORT=str(processes.free_port()))  # nothing listens there
    dead = load_backend(params["ENGINE"]).DatabaseWrapper(params, "faults-dead")
    with django_db_blocker.unblock(), pytest.raises(OperationalError) as refused:
        dead.ensure_connection()
    assert is_unavailable(refused.value)


@pytest.mark.django_db
def test_a_failing_query_on_a_live_connection_is_not_unavailable():
    with (
        pytest.raises(OperationalError) as cancelled,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
    assert cancelled.value.__cause__.sqlstate == "57014"  # query_canceled: a slow query, a bug
    assert not is_unavailable(cancelled.value)
