import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from redwheel import testing
from redwheel.core import notifications
from redwheel.core.models import Notification
from redwheel.core.sms import MemorySmsBackend
from redwheel.orgs.services import platform_update

SECRET = "whsec-test-1234567890"


@pytest.fixture(autouse=True)
def _local_webhook_targets(settings):
    """These endpoints listen on 127.0.0.1, which production refuses (test_webhooks_safety)."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


class WebhookServer:
    """A real HTTP endpoint on localhost that records requests and answers `status`."""

    def __init__(self):
        self.requests: list = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append((self.headers, body))  # case-insensitive
                self.send_response(server.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/redwheel"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    yield server
    server.close()


@pytest.fixture
def hooked_platform(city, webhook_server):
    return platform_update(
        actor=city.admin,
        platform=city.platform_a,
        webhook_url=webhook_server.url,
        webhook_secret=SECRET,
    )


def test_a_webhook_reaches_the_platform_with_a_valid_signature(hooked_platform, webhook_server):
    [row] = notifications.notify_platform(
        platform=hooked_platform, event="badge.changed", payload={"driver_id": 7, "badge": True}
    )
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.attempts == 1
    assert row.sent_at is not None

    [(headers, body)] = webhook_server.requests
    timestamp = headers["X-RedWheel-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    assert headers["X-RedWheel-Signature"] == "sha256=" + expected.hexdigest()
    assert headers["X-RedWheel-Event"] == "badge.changed"
    assert json.loads(body) == {
        "id": row.pk,
        "event": "badge.changed",
        "data": {"driver_id": 7, "badge": True},
    }
    wrong = hmac.new(b"another-secret", timestamp.encode() + b"." + body, hashlib.sha256)
    assert headers["X-RedWheel-Signature"] != "sha256=" + wrong.hexdigest()


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(
    hooked_platform, webhook_server, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    webhook_server.status = 500
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        [row] = notifications.notify_platform(
            platform=hooked_platform, event="badge.changed", payload={"driver_id": 7}
        )
        row.refresh_from_db()
        assert row.status == Notification.Status.FAILED
        assert row.attempts == 1
        assert row.next_attempt_at == timezone.now() + notifications.retry_delay(1)
        assert "500" in row.last_error

        assert notifications.deliver_due() == 0  # backoff not over yet
        traveller.shift(notifications.retry_delay(1))
        assert notifications.deliver_due() == 1
        row.refresh_from_db()
        assert row.status == Notification.Status.FAILED
        assert row.attempts == 2
        assert row.next_attempt_at == timezone.now() + notifications.retry_delay(2)

        traveller.shift(notifications.retry_delay(2))
        notifications.deliver_due()
        row.refresh_from_db()
        assert row.status == Notification.Status.DEAD
        assert row.attempts == 3
        traveller.shift(timedelta(days=1))
        assert notifications.deliver_due() == 0
    assert len(webhook_server.requests) == 3


def test_an_unreachable_endpoint_fails_and_a_later_retry_succeeds(city, webhook_server):
    platform = platform_update(
        actor=city.admin,
        platform=city.platform_b,
        webhook_url="http://127.0.0.1:9/closed",
        webhook_secret=SECRET,
    )
    [row] = notifications.notify_platform(platform=platform, event="ping", payload={})
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert row.next_attempt_at is not None

    platform_update(actor=city.admin, platform=platform, webhook_url=webhook_server.url)
    assert notifications.deliver(row.pk) == Notification.Status.SENT
    assert len(webhook_server.requests) == 1


def test_a_queued_webhook_uses_the_platforms_current_secret_and_dies_without_a_url(
    city, webhook_server
):
    platform = platform_update(
        actor=city.admin,
        platform=city.platform_b,
        webhook_url="http://127.0.0.1:9/closed",
        webhook_secret=SECRET,
    )
    [rotated, removed] = [
        notifications.notify_platform(platform=platform, event="ping", payload={"n": n})[0]
        for n in (1, 2)
    ]
    platform_update(
        actor=city.admin,
        platform=platform,
        webhook_url=webhook_server.url,
        webhook_secret="whsec-rotated-0987654321",
    )
    assert notifications.deliver(rotated.pk) == Notification.Status.SENT
    [(headers, body)] = webhook_server.requests
    expected = hmac.new(
        b"whsec-rotated-0987654321",
        headers["X-RedWheel-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    )
    assert headers["X-RedWheel-Signature"] == "sha256=" + expected.hexdigest()

    platform_update(actor=city.admin, platform=platform, webhook_url="")
    assert notifications.deliver(removed.pk) == Notification.Status.DEAD
    removed.refresh_from_db()
    assert "no webhook URL" in removed.last_error
    assert len(webhook_server.requests) == 1


def test_sms_notifications_go_through_the_sms_backend(db):
    person = testing.user("收信人")
    inbox_row, sms_row = notifications.notify_user(
        user=person, event="appeal.answered", title="诉求已答复", body="请查看", sms=True
    )
    sms_row.refresh_from_db()
    assert sms_row.status == Notification.Status.SENT
    assert MemorySmsBackend.outbox == [(person.phone, "诉求已答复 请查看")]
    assert inbox_row.status == Notification.Status.SENT


# The inbox page ------------------------------------------------------------------------------


def test_the_inbox_shows_only_my_inbox_notifications(client, db):
    me, other = testing.user("我"), testing.user("别人")
    notifications.notify_user(user=me, event="e", title="给我的通知", sms=True)
    notifications.notify_user(user=other, event="e", title="给别人的通知")
    client.force_login(me)
    response = client.get(reverse("core:inbox"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "给我的通知" in content
    assert "给别人的通知" not in content
    assert list(response.context["page"].object_list.values_list("channel", flat=True)) == ["inbox"]
    assert response.context["unread"] == 1


def test_the_inbox_has_an_empty_state_and_needs_login(client, db):
    assert client.get(reverse("core:inbox")).status_code == 302
    client.force_login(testing.user())
    response = client.get(reverse("core:inbox"))
    assert response.status_code == 200
    assert not response.context["page"].object_list
    assert 'class="empty"' in response.content.decode()


def test_the_inbox_is_paginated_with_bounded_queries(client, db, django_assert_max_num_queries):
    me = testing.user()
    for i in range(25):
        notifications.notify_user(user=me, event="e", title=f"通知{i:02d}")
    client.force_login(me)
    with django_assert_max_num_queries(8):
        first = client.get(reverse("core:inbox"))
    assert len(first.context["page"].object_list) == 20
    assert "通知24" in first.content.decode()  # newest first
    second = client.get(reverse("core:inbox"), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert "通知00" in second.content.decode()


def test_marking_as_read_works_for_my_own_and_404s_for_others(client, db):
    me, other = testing.user("我"), testing.user("别人")
    [mine] = notifications.notify_user(user=me, event="e", title="我的")
    [theirs] = notifications.notify_user(user=other, event="e", title="别人的")
    client.force_login(me)

    response = client.post(reverse("core:inbox_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    assert client.get(reverse("core:inbox_read", args=[mine.pk])).status_code == 405
    response = client.post(reverse("core:inbox_read", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_marking_as_read_with_htmx_returns_the_updated_item(client, db):
    me = testing.user()
    [row] = notifications.notify_user(user=me, event="e", title="新消息")
    client.force_login(me)
    response = client.post(
        reverse("core:inbox_read", args=[row.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f'id="notification-{row.pk}"' in content
    assert "<html" not in content
    assert reverse("core:inbox_read", args=[row.pk]) not in content  # no button any more


def test_mark_all_read_touches_only_my_notifications(client, db):
    me, other = testing.user(), testing.user()
    for _ in range(3):
        notifications.notify_user(user=me, event="e", title="x")
    notifications.notify_user(user=other, event="e", title="y")
    client.force_login(me)
    assert client.post(reverse("core:inbox_read_all")).status_code == 302
    assert not Notification.objects.filter(recipient=me, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 1
