"""The notification outbox: enqueue in the caller's transaction, deliver from the worker.

Delivery is claim, commit, send, record: a short transaction marks the row in flight with a
lease (`lease_expires_at`), the network call runs outside any transaction, and a second short
transaction stores the outcome. A worker that dies mid-send leaves the row in flight until the
lease expires; `deliver_due` then hands it to another worker.

Platform webhooks carry `X-RedWheel-Notification-Id` (the idempotency key: delivery is at
least once), `X-RedWheel-Timestamp` and `X-RedWheel-Signature: sha256=<hex>`, an
HMAC-SHA256 with the platform's webhook secret over `<timestamp>.<body>`.
"""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from redwheel.core import webhooks
from redwheel.core.models import Notification
from redwheel.core.sms import send_sms

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


# Set by the layer that owns platforms (orgs): platform id -> its current webhook target.
_webhook_target: Callable[[int], WebhookTarget | None] = lambda platform_id: None  # noqa: E731


def set_webhook_targets(lookup: Callable[[int], WebhookTarget | None]) -> None:
    global _webhook_target
    _webhook_target = lookup


class NoWebhookTarget(Exception):
    """The platform is gone or has removed its webhook URL since the row was queued."""


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
                platform_ref=platform.pk,
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
    """The network part of a delivery. Runs with no transaction open; raises on failure."""
    if notification.channel == Notification.Channel.SMS:
        send_sms(notification.recipient.phone, f"{notification.title} {notification.body}".strip())
    elif notification.channel == Notification.Channel.WEBHOOK:
        target = _webhook_target(notification.platform_ref)
        if target is None or not target.url:
            raise NoWebhookTarget(f"platform {notification.platform_ref} has no webhook URL")
        body = webhook_body(notification)
        timestamp = str(int(time.time()))
        webhooks.post(
            target.url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-RedWheel-Event": notification.event,
                # Delivery is at least once (a worker killed after the receiver got the request
                # sends it again); receivers drop repeats by this id (also the body's "id").
                "X-RedWheel-Notification-Id": str(notification.pk),
                "X-RedWheel-Timestamp": timestamp,
                "X-RedWheel-Signature": sign(target.secret, timestamp, body),
            },
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _claimable(now) -> models.Q:
    """Waiting rows, and in-flight rows whose worker let the lease run out (it crashed)."""
    return models.Q(
        status__in=[Notification.Status.PENDING, Notification.Status.FAILED]
    ) | models.Q(
        status=Notification.Status.SENDING,
        lease_expires_at__lte=now,
        attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS,
    )


def claim(notification_id: int) -> Notification | None:
    """Mark the row in flight with a lease, in one short transaction; None if not ours.

    One conditional UPDATE decides: of several workers, exactly one changes the row. The
    attempt is counted here, so a send that kills its worker still uses up an attempt, and
    `attempts` doubles as the claim's fencing token for `_record`.
    """
    now = timezone.now()
    with transaction.atomic():
        won = Notification.objects.filter(_claimable(now), pk=notification_id).update(
            status=Notification.Status.SENDING,
            lease_expires_at=now + timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS),
            attempts=models.F("attempts") + 1,
            updated_at=now,
        )
        if not won:
            return None
        return Notification.objects.select_related("recipient").get(pk=notification_id)


def _record(notification: Notification, error: Exception | None) -> str:
    """Store the outcome in a new short transaction, unless our claim was lost meanwhile."""
    now = timezone.now()
    changes: dict = {"lease_expires_at": None, "updated_at": now}
    if error is None:
        changes.update(status=Notification.Status.SENT, sent_at=now, last_error="")
    else:
        if isinstance(error, webhooks.WebhookTargetRefused | NoWebhookTarget):
            error_text = f"refused target: {error}"
            status = Notification.Status.DEAD  # the URL must be fixed; retrying cannot help
        else:
            error_text = f"{type(error).__name__}: {error}"
            give_up = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
            status = Notification.Status.DEAD if give_up else Notification.Status.FAILED
        changes.update(status=status, last_error=error_text[:500])
        if status == Notification.Status.FAILED:
            changes["next_attempt_at"] = now + retry_delay(notification.attempts)
        logger.warning("notification %s failed: %s", notification.pk, error_text)
    with transaction.atomic():
        kept = Notification.objects.filter(
            pk=notification.pk,
            status=Notification.Status.SENDING,
            attempts=notification.attempts,
        ).update(**changes)
    if not kept:
        logger.warning("notification %s: claim expired during the send", notification.pk)
        return "stale"
    return changes["status"]


def deliver(notification_id: int) -> str:
    """Claim, commit, send, record: no transaction is open during the network call.

    Returns the new status, "skipped" when the row is not claimable (sent, dead, or in flight
    in another worker) or "stale" when the lease ran out before the outcome was recorded.
    """
    notification = claim(notification_id)
    if notification is None:
        return "skipped"
    try:
        _send(notification)
    except Exception as exc:  # any transport failure is recorded and retried, never lost
        return _record(notification, exc)
    return _record(notification, None)


def deliver_due(limit: int = 500) -> int:
    """Retry failed deliveries whose backoff has passed, pick up anything left pending, and
    take back claims whose worker died (lease expired)."""
    now = timezone.now()
    stale = now - timedelta(minutes=5)
    # A worker died during the last allowed attempt: give up rather than send once more.
    Notification.objects.filter(
        status=Notification.Status.SENDING,
        lease_expires_at__lte=now,
        attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS,
    ).update(
        status=Notification.Status.DEAD,
        lease_expires_at=None,
        last_error="the worker's claim expired on the last attempt",
        updated_at=now,
    )
    due = (
        list(
            Notification.objects.filter(
                status=Notification.Status.FAILED, next_attempt_at__lte=now
            ).values_list("pk", flat=True)[:limit]
        )
        + list(
            Notification.objects.filter(
                status=Notification.Status.PENDING, created_at__lte=stale
            ).values_list("pk", flat=True)[:limit]
        )
        + list(
            Notification.objects.filter(
                status=Notification.Status.SENDING, lease_expires_at__lte=now
            ).values_list("pk", flat=True)[:limit]
        )
    )
    for pk in due:
        deliver(pk)
    return len(due)
