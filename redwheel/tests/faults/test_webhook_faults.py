"""A platform's webhook receiver down (closed port), then slow (answers after the timeout),
then back: its deliveries back off per `retry_delay` and resume; another platform's deliveries
are not held up meanwhile; nothing is lost; each notification ends SENT once.

Delivery is at least once: a request that timed out may have reached the receiver, which then
gets it again and drops the repeat by `X-RedWheel-Notification-Id`.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from redwheel import testing
from redwheel.core import notifications
from redwheel.core.models import Notification
from redwheel.tests.faults.processes import free_port
from redwheel.tests.faults.workers import (  # noqa: F401 (queued: a fixture)
    Receiver,
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

S = Notification.Status


def notify(platform, count: int, start: int = 0) -> list[int]:
    return [
        notifications.notify_platform(
            platform=platform, event="badge.changed", payload={"n": start + i}
        )[0].pk
        for i in range(count)
    ]


def rows(ids) -> list[Notification]:
    return list(Notification.objects.filter(pk__in=ids).order_by("pk"))


def clock_jumps_past_the_backoff(ids) -> None:
    """As if the backoff had passed (30 s, then 60 s): the rows become due."""
    Notification.objects.filter(pk__in=ids).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    only_due("deliver_due_notifications")


def test_receiver_down_then_slow_backs_off_without_holding_up_others():
    city = testing.city()
    a, b = city.platform_a, city.platform_b
    port_a = free_port()  # nothing listens there yet: connection refused
    good = Receiver()
    a.webhook_url, a.webhook_secret = f"http://127.0.0.1:{port_a}/hook", "secret-a"
    b.webhook_url, b.webhook_secret = good.url, "secret-b"
    a.save()
    b.save()
    env = worker_env(WEBHOOK_TIMEOUT_SECONDS="1")
    slow = None
    try:
        only_due(None)
        to_a, to_b = notify(a, 3), notify(b, 3)

        # 1. A is down: each of its rows failed once and waits 30 s; B's went out.
        run_worker_once(env)
        for row in rows(to_a):
            assert (row.status, row.attempts) == (S.FAILED, 1)
            assert row.next_attempt_at - row.updated_at == timedelta(seconds=30)
            assert "ConnectionRefused" in row.last_error
        assert [r.status for r in rows(to_b)] == [S.SENT] * 3
        assert sorted(good.ids()) == to_b

        # 2. A answers, but only after the timeout (it hangs): the second try fails too and
        # waits 60 s. B's new rows go out in the same run, while A's receiver still hangs.
        slow = Receiver(port=port_a, before_answer=lambda r: r.release.wait(60))
        clock_jumps_past_the_backoff(to_a)
        more_b = notify(b, 2, start=3)
        run_worker_once(env)
        for row in rows(to_a):
            assert (row.status, row.attempts) == (S.FAILED, 2)
            assert row.next_attempt_at - row.updated_at == timedelta(seconds=60)
            assert "timed out" in row.last_error
        assert [r.status for r in rows(more_b)] == [S.SENT] * 2
        assert sorted(slow.ids()) == to_a  # A's receiver did get them, late

        # 3. A is back to normal: the third try delivers everything.
        slow.release.set()
        clock_jumps_past_the_backoff(to_a)
        run_worker_once(env)
    finally:
        good.close()
        if slow is not None:
            slow.close()

    for row in rows(to_a):
        assert (row.status, row.attempts) == (S.SENT, 3)
    assert [r.status for r in rows(to_b + more_b)] == [S.SENT] * 5
    assert all(r.attempts == 1 for r in rows(to_b + more_b))
    # Nothing lost: every notification reached its own platform's receiver ...
    assert sorted(set(slow.ids())) == to_a
    assert sorted(good.ids()) == sorted(to_b + more_b)  # B: exactly once each
    # ... and A's receiver, which got the timed-out tries too, keeps one per id.
    assert sorted(slow.ids()) == sorted(to_a * 2)
    assert {r["body"]["id"] for r in slow.received} == set(to_a)
