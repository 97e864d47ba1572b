"""The service: validate one batch, store it with the record type's handler, and keep its
outcome, rejections and audit entry.
"""

from dataclasses import dataclass, field

from django.db import transaction

from redwheel.core import audit
from redwheel.core.errors import NotFound
from redwheel.core.permissions import acting_platform, require
from redwheel.exchange import validation, writers
from redwheel.exchange.models import (
    Complaint,
    CreditLevel,
    DriverMonthStat,
    IngestBatch,
    OnlineEvent,
    Punishment,
    Rating,
    Rejection,
    Source,
    TrainingRecord,
    UnknownDriver,
)
from redwheel.exchange.records import RECORD_TYPES
from redwheel.exchange.services.base_data import _ingest_drivers, _ingest_vehicles
from redwheel.exchange.services.common import ACCEPTED, UNCHANGED, _Context, _Table
from redwheel.exchange.services.facts import (
    _complaint_op,
    _credit_op,
    _educate_op,
    _ingest_trips,
    _keyed,
    _online_op,
    _punish_op,
    _rating_op,
    _stat_op,
)
from redwheel.exchange.services.positions import _ingest_positions

_WRITE_BATCH = 1000


@dataclass
class IngestResult:
    batch: IngestBatch
    received: int
    accepted: int
    unchanged: int
    rejected: int
    rejections: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch.pk,
            "record_type": self.batch.record_type,
            "received": self.received,
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejections": [{k: v for k, v in r.items() if k != "excerpt"} for r in self.rejections],
        }


HANDLERS = {
    "baseInfoDriver": _ingest_drivers,
    "baseInfoVehicle": _ingest_vehicles,
    "baseInfoDriverStat": _keyed(_Table(DriverMonthStat, ("license_index", "month")), _stat_op),
    "baseInfoDriverEducate": _keyed(
        _Table(TrainingRecord, ("license_index", "course_name", "course_date")), _educate_op
    ),
    "orderCreate": _ingest_trips,
    "orderMatch": _ingest_trips,
    "orderCancel": _ingest_trips,
    "operateLogin": _keyed(
        _Table(OnlineEvent, ("license_index", "kind", "at")),
        _online_op(OnlineEvent.Kind.LOGIN, "LoginTime"),
    ),
    "operateLogout": _keyed(
        _Table(OnlineEvent, ("license_index", "kind", "at")),
        _online_op(OnlineEvent.Kind.LOGOUT, "LogoutTime"),
    ),
    "operateDepart": _ingest_trips,
    "operateArrive": _ingest_trips,
    "operatePay": _ingest_trips,
    "positionDriver": _ingest_positions,
    "ratedPassenger": _keyed(_Table(Rating, ("order_id", "evaluated_at")), _rating_op),
    "ratedPassengerComplaint": _keyed(
        _Table(Complaint, ("order_id", "complained_at")), _complaint_op
    ),
    "ratedDriverPunish": _keyed(_Table(Punishment, ("license_index", "punished_at")), _punish_op),
    "ratedDriver": _keyed(_Table(CreditLevel, ("license_index", "tested_on")), _credit_op),
}
assert set(HANDLERS) == set(RECORD_TYPES)

# The service ---------------------------------------------------------------------------------


def ingest(
    *, actor, platform, record_type: str, records: list[dict], source: str, source_name: str = ""
) -> IngestResult:
    """Validate and store one batch of one record type from `platform`.

    Valid records are stored and invalid ones rejected (with index, field, code and message);
    the batch is one transaction. `actor` acts for `platform` (`SystemActor.for_platform`
    for its token or file feed), is an operator, or is a person with `import` on it.
    """
    _require_feed(actor, platform)
    if record_type not in HANDLERS:
        raise NotFound(code="unknown_record_type")
    if source not in Source.values:
        raise ValueError(f"unknown source {source!r}")
    records = list(records)
    valid, rejections = validation.validate_batch(record_type, records, platform.company_id)
    ctx = _Context(platform, record_type)
    accepted = unchanged = 0
    with transaction.atomic():
        statuses = HANDLERS[record_type](ctx, valid) if valid else []
        for (index, _), status in zip(valid, statuses, strict=True):
            if status == ACCEPTED:
                accepted += 1
            elif status == UNCHANGED:
                unchanged += 1
            else:
                excerpt = validation.excerpt(records[index])
                rejections.append(status | {"index": index, "excerpt": excerpt})
        rejections.sort(key=lambda r: r["index"])
        _record_unknown(ctx)
        batch = IngestBatch.objects.create(
            platform=platform,
            record_type=record_type,
            source=source,
            source_name=source_name[:200],
            received=len(records),
            accepted=accepted,
            unchanged=unchanged,
            rejected=len(rejections),
        )
        Rejection.objects.bulk_create(
            [
                Rejection(
                    batch=batch,
                    index=r["index"],
                    field=r["field"][:40],
                    code=r["code"][:40],
                    message=r["message_en"][:300],
                    excerpt=r["excerpt"],
                )
                for r in rejections
            ],
            batch_size=_WRITE_BATCH,
        )
        audit.record(
            actor=actor,
            action="exchange.ingest",
            obj=batch,
            summary=f"{platform.company_id} {record_type}",
            data={
                "received": len(records),
                "accepted": accepted,
                "unchanged": unchanged,
                "rejected": len(rejections),
                "unknown_drivers": len(ctx.unknown),
                **ctx.extra,
            },
        )
    return IngestResult(
        batch=batch,
        received=len(records),
        accepted=accepted,
        unchanged=unchanged,
        rejected=len(rejections),
        rejections=rejections,
    )


def _require_feed(actor, platform) -> None:
    """The platform's own token or feed, or a person with `import` on the platform (or an
    operator); anyone else, including another platform, is told the platform is not found."""
    action = "change" if acting_platform(actor) is not None else "import"
    require(actor, action, platform)


def _record_unknown(ctx: _Context) -> None:
    if not ctx.unknown:
        return
    existing = {
        u.license_index: u
        for u in UnknownDriver.objects.filter(
            writers.one_of("license_index", ctx.unknown), platform=ctx.platform
        )
    }
    new, changed = [], []
    for idx, count in ctx.unknown.items():
        row = existing.get(idx)
        if row is None:
            new.append(
                UnknownDriver(
                    platform=ctx.platform,
                    license_no=ctx.licences.get(idx, ""),
                    license_index=idx,
                    license_masked=ctx.masked.get(idx, ""),
                    first_seen_type=ctx.record_type,
                    records=count,
                )
            )
        else:
            row.records += count
            row.license_no = row.license_no or ctx.licences.get(idx, "")  # rows from before 0002
            changed.append(row)
    UnknownDriver.objects.bulk_create(new, batch_size=_WRITE_BATCH)
    UnknownDriver.objects.bulk_update(changed, ["records", "license_no"], batch_size=_WRITE_BATCH)
