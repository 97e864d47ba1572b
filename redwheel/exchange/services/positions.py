"""Driver positions: the latest position per driver and thinned samples, and their purge."""

from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from redwheel.core import audit
from redwheel.core.errors import NotFound
from redwheel.core.permissions import is_unscoped
from redwheel.exchange import writers
from redwheel.exchange.models import LatestPosition, PositionSample
from redwheel.exchange.services.common import ACCEPTED, UNCHANGED, _driver_cols

# Positions -----------------------------------------------------------------------------------


_LATEST_COLUMNS = (
    "platform_id",
    "license_index",
    "driver_id",
    "at",
    "lng",
    "lat",
    "speed_kmh",
    "direction",
    "biz_status",
    "order_id",
)
_SAMPLE_COLUMNS = ("platform_id", "license_index", "driver_id", "at", "lng", "lat", "biz_status")


def _ingest_positions(ctx, cleaned):
    """A record is accepted when it moves its driver's latest position forward (compared with
    the stored one and the batch's earlier records) or opens a sample bucket not stored yet.

    PostgreSQL: the samples are COPYed and inserted `ON CONFLICT DO NOTHING RETURNING` their
    key, so the statement itself says which buckets were new (no look-up query, and a bucket
    a concurrent batch just committed is not counted twice). Elsewhere the stored buckets
    of the batch are looked up first."""
    ctx.resolve(cleaned)
    step = max(1, settings.POSITION_SAMPLE_SECONDS)
    platform = ctx.platform
    pk = platform.pk
    items = []
    for _, r in cleaned:
        idx, driver_id = _driver_cols(ctx, r)
        at = r["PositionTime"]
        bucket = datetime.fromtimestamp(int(at.timestamp()) // step * step, UTC)
        items.append((idx, driver_id, at, bucket, r))
    indexes = {i[0] for i in items}
    latest = dict(
        LatestPosition.objects.filter(
            writers.one_of("license_index", indexes), platform=platform
        ).values_list("license_index", "at")
    )
    returning = writers.bulk_path()
    stored_samples = set() if returning else _stored_samples(platform, items)
    new_latest: dict[str, tuple] = {}
    new_samples: dict[tuple, tuple] = {}
    moved = []  # per record: did it move the latest position forward
    for idx, driver_id, at, bucket, r in items:
        current = new_latest.get(idx)
        current_at = current[3] if current is not None else latest.get(idx)
        forward = current_at is None or at > current_at
        if forward:
            new_latest[idx] = (
                pk,
                idx,
                driver_id,
                at,
                r["Longitude"],
                r["Latitude"],
                r.get("Speed"),
                r.get("Direction"),
                r.get("BizStatus"),
                r.get("OrderId", ""),
            )
        moved.append(forward)
        key = (idx, bucket)
        if key not in stored_samples and key not in new_samples:
            new_samples[key] = (
                pk,
                idx,
                driver_id,
                bucket,
                r["Longitude"],
                r["Latitude"],
                r.get("BizStatus"),
            )
    inserted = writers.upsert(
        PositionSample,
        ("platform_id", "license_index", "at"),
        _SAMPLE_COLUMNS,
        list(new_samples.values()),
        returning=returning,
    )
    # The latest positions last: their rows are shared by every batch of the same drivers, and
    # a concurrent batch waits for their row locks until this transaction ends, so they are
    # taken as late as possible. (The samples' keys are per time bucket and rarely shared.)
    writers.upsert(
        LatestPosition,
        ("platform_id", "license_index"),
        _LATEST_COLUMNS,
        list(new_latest.values()),
        update=_LATEST_COLUMNS[2:],
        only_if_newer="at",
    )
    opened = {(idx, at) for _pk, idx, at in inserted} if returning else set(new_samples)
    statuses = []
    for (idx, driver_id, _at, bucket, _r), forward in zip(items, moved, strict=True):
        key = (idx, bucket)
        # Only the batch's first record of a bucket opens it.
        opens = key in opened
        if opens:
            opened.discard(key)
        changed = forward or opens
        statuses.append(ACCEPTED if changed else UNCHANGED)
        if changed and driver_id is None:
            ctx.note_unknown(idx)
    return statuses


def _stored_samples(platform, items) -> set:
    return set(
        PositionSample.objects.filter(
            writers.one_of("license_index", {i[0] for i in items}),
            writers.one_of("at", {i[3] for i in items}),
            platform=platform,
        ).values_list("license_index", "at")
    )


def position_samples_purge(*, actor, now: datetime | None = None) -> int:
    """Delete position samples older than POSITION_RETENTION_DAYS; returns the number deleted.

    A city-wide job: operators only (the scheduler's `SystemActor.operator`)."""
    from datetime import timedelta

    if not is_unscoped(actor):
        raise NotFound()
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.POSITION_RETENTION_DAYS)
    with transaction.atomic():
        deleted, _ = PositionSample.objects.filter(at__lt=cutoff).delete()
        if deleted:
            audit.record(
                actor=actor,
                action="exchange.position_purge",
                summary=f"{deleted} position samples before {cutoff:%Y-%m-%d}",
                data={"deleted": deleted, "cutoff": cutoff.isoformat()},
            )
    return deleted
