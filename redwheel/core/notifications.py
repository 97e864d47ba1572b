"""The notification outbox: enqueue in the caller's transaction, deliver from the worker.

Platform webhooks carry `X-RedWheel-Timestamp` and `X-RedWheel-Signature: sha256=<hex>`, an
HMAC-SHA256 with the platform's webhook secret over `<timestamp>.<body>`.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from redwheel.core.models import Notification
from redwheel.core.sms import send_sms

logger = logging.getLogger(__name__)


def notify_user(
    *,
    user,
    event: str,
    title: str,
    body: str = "",
    payload: dict | None = None,
    sms: bool = False,
) -> list[Notification]:
    rows = [
        Notification(
            channel=Notification.Channel.INBOX,
            recipient=user,
            event=event,
            title=title,
            body=body,
            payload=payload or {},
            status=Notification.Status.SENT,
            sent_at=timezone.now(),
        )
    ]
    if sms:
        rows.append(
            Notification(
                channel=Notification.Channel.SMS,
                recipient=user,
                event=event,
                title=title,
                body=body,
                payload=payload or {},
            )
        )
    return _enqueue(rows)


def notify_platform(*, platform, event: str, payload: dict) -> list[Notification]:
    if not platform.webhook_url:
        return []
    return _enqueue(
        [
            Notification(
                channel=Notification.Channel.WEBHOOK,
                platform=platform,
                event=event,
                payload=payload,
            )
        ]
    )


def _enqueue(rows: list[Notification]) -> list[Notification]:
    from redwheel.core.tasks import deliver_notification

    created = Notification.objects.bulk_create(rows)
    for row in created:
        if row.status == Notification.Status.PENDING:
            # django-tasks enqueues on commit, so the worker never sees an uncommitted row.
            deliver_notification.enqueue(row.pk)
    return created


BULK_CHUNK_SIZE = 500


def enqueue_many(rows: list[Notification], *, chunk_size: int = BULK_CHUNK_SIZE) -> int:
    """Fan-out to many recipients (e.g. a mobilisation call to 10,000 drivers).

    Inserts the outbox rows with `fast_bulk_insert` (multi-row INSERT ... RETURNING, no
    per-row ORM work) and enqueues ONE delivery task
    per chunk of pending ids (`deliver_notifications`) instead of one task per row. In-app
    rows are built already SENT by the caller (like `notify_user`); webhook/SMS rows are
    PENDING. Returns the number of rows created.
    """
    from redwheel.core.tasks import deliver_notifications

    fast_bulk_insert(Notification, rows)
    pending = [row.pk for row in rows if row.status == Notification.Status.PENDING]
    for start in range(0, len(pending), chunk_size):
        deliver_notifications.enqueue(pending[start : start + chunk_size])
    return len(rows)


def fast_bulk_insert(model, objs: list) -> list[int]:
    """Insert unsaved instances of `model` with multi-row `INSERT ... RETURNING pk` statements
    and return the new pks in order. Far cheaper than `bulk_create` for tens of thousands of
    rows: values go in as they are, only JSON and datetime values are adapted (each distinct
    datetime once). `auto_now`/`auto_now_add` fields get the current time; no signals, no
    `save()`. Needs RETURNING (PostgreSQL, SQLite >= 3.35)."""
    if not objs:
        return []
    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    stamped = [
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    dates: dict = {}

    def adapt(field, value):
        if value is None:
            return None
        if isinstance(field, models.JSONField):
            return ops.adapt_json_value(value, field.encoder)
        if isinstance(field, models.DateTimeField):
            if value not in dates:
                dates[value] = field.get_db_prep_save(value, connection)
            return dates[value]
        return value

    plain = [not isinstance(f, (models.JSONField, models.DateTimeField)) for f in fields]
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    pk = ops.quote_name(model._meta.pk.column)
    batch = max(1, min(BULK_CHUNK_SIZE, ops.bulk_batch_size(fields, objs)))
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params = []
            for obj in chunk:
                for attname in stamped:
                    setattr(obj, attname, now)
                for field, is_plain in zip(fields, plain, strict=True):
                    value = getattr(obj, field.attname)
                    params.append(value if is_plain else adapt(field, value))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "
                + ", ".join([placeholder] * len(chunk))
                + f" RETURNING {pk}",
                params,
            )
            ids += [r[0] for r in cursor.fetchall()]
    for obj, new_pk in zip(objs, ids, strict=True):
        obj.pk = new_pk
        obj._state.adding = False
    return ids


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(notification: Notification) -> bytes:
    return json.dumps(
        {"id": notification.pk, "event": notification.event, "data": notification.payload},
        ensure_ascii=False,
        sort_keys=True,
    ).encode()


def _send(notification: Notification) -> None:
    if notification.channel == Notification.Channel.SMS:
        send_sms(notification.recipient.phone, f"{notification.title} {notification.body}".strip())
    elif notification.channel == Notification.Channel.WEBHOOK:
        platform = notification.platform
        body = webhook_body(notification)
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            platform.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-RedWheel-Event": notification.event,
                "X-RedWheel-Timestamp": timestamp,
                "X-RedWheel-Signature": sign(platform.webhook_secret, timestamp, body),
            },
        )
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as resp:
            if resp.status >= 300:
                raise urllib.error.HTTPError(
                    platform.webhook_url, resp.status, "unexpected status", resp.headers, None
                )


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def deliver(notification_id: int) -> str:
    """Try once to deliver; on failure schedule a retry with exponential backoff."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("platform", "recipient")
            .filter(
                pk=notification_id,
                status__in=[Notification.Status.PENDING, Notification.Status.FAILED],
            )
            .first()
        )
        if notification is None:
            return "skipped"
        notification.attempts += 1
        try:
            _send(notification)
        except Exception as exc:  # any transport failure is retried, never lost
            notification.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                notification.status = Notification.Status.DEAD
            else:
                notification.status = Notification.Status.FAILED
                notification.next_attempt_at = timezone.now() + retry_delay(notification.attempts)
            logger.warning("notification %s failed: %s", notification.pk, notification.last_error)
        else:
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
        notification.save()
        return notification.status


def deliver_due(limit: int = 500) -> int:
    """Retry failed deliveries whose backoff has passed and pick up anything left pending."""
    stale = timezone.now() - timedelta(minutes=5)
    due = list(
        Notification.objects.filter(
            status=Notification.Status.FAILED, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)[:limit]
    ) + list(
        Notification.objects.filter(
            status=Notification.Status.PENDING, created_at__lte=stale
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        deliver(pk)
    return len(due)
