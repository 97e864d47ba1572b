"""Ingestion of exchange records: the one write path for the HTTP API, files and the demo.

`ingest()` validates a batch (validation.py), then, in one transaction, merges the valid
records into the facts and stores the batch outcome, its rejections and one audit entry.

How records become facts (see docs/exchange.md):
- Every fact has a natural key (e.g. Trip: platform + OrderId). Existing rows for the batch's
  keys are fetched in one query; each record is applied in order to an in-memory copy of its
  row; a record that changes nothing is counted `unchanged`; changed rows are written with one
  upsert (`bulk_create(update_conflicts=True)`), deletions (Flag=3) with one DELETE.
- A Trip is joined from several record types. Each stage owns its columns (set when the field
  is present) and may fill shared ones only while they are empty, so the result does not
  depend on the order in which stages arrive.
- Drivers are resolved with one query per batch, and only those affiliated with the sending
  platform: operating data about any other LicenseId is kept with `driver` empty and counted
  in `UnknownDriver`; when that platform's baseInfoDriver for the licence arrives, the driver
  is created (or the platform affiliated) and the platform's facts are back-filled.
- Feed ownership (feed_ownership.py): only the feed that created a driver changes the
  driver's name, phone and vehicles; every feed's report is kept per platform, and the ones
  that differ are conflicts for the city committee.

Permission: the caller must act for the batch's platform (its token or feed) or hold `import`
on it; anyone else gets NotFound. Driver, affiliation and vehicle writes go through
`redwheel.drivers.services` with `SystemActor.for_platform` labelled after the platform's
feed, so those services check that platform's scope and keep their own audit entries; the
batch itself gets one audit entry with the caller as actor.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from redwheel.core import audit, crypto
from redwheel.core.errors import DomainError, NotFound
from redwheel.core.permissions import SystemActor, acting_platform, is_unscoped, require
from redwheel.drivers import services as driver_services
from redwheel.drivers.models import Affiliation, Driver, Vehicle
from redwheel.exchange import feed_ownership, validation, writers
from redwheel.exchange.models import (
    Complaint,
    CreditLevel,
    DriverMonthMetric,
    DriverMonthStat,
    IngestBatch,
    LatestPosition,
    OnlineEvent,
    PositionSample,
    Punishment,
    Rating,
    Rejection,
    Source,
    TrainingRecord,
    Trip,
    UnknownDriver,
)
from redwheel.exchange.records import RECORD_TYPES

ACCEPTED, UNCHANGED = "accepted", "unchanged"
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


class _Context:
    """Per-batch state: platform, memoised blind indexes, driver lookups, unknown counts."""

    def __init__(self, platform, record_type: str):
        self.platform = platform
        self.record_type = record_type
        self.system = SystemActor.for_platform(platform.pk, f"exchange {platform.company_id}")
        self._indexes: dict[str, str] = {}
        self.masked: dict[str, str] = {}
        self.licences: dict[str, str] = {}  # index -> LicenseId, kept encrypted for unknowns
        self.drivers: dict[str, int] = {}
        self.unknown: dict[str, int] = {}
        self.extra: dict[str, int] = {}

    def index(self, license_no: str) -> str:
        idx = self._indexes.get(license_no)
        if idx is None:
            idx = self._indexes[license_no] = crypto.blind_index(license_no)
            self.masked[idx] = crypto.mask_identity(license_no)
            self.licences[idx] = license_no
        return idx

    def resolve(self, cleaned: list[tuple[int, dict]]) -> None:
        """One query: blind index → driver id for every LicenseId in the batch whose driver
        works for this platform (a licence known only to other platforms stays unknown here)."""
        wanted = {self.index(r["LicenseId"]) for _, r in cleaned if "LicenseId" in r}
        if wanted:
            self.drivers = dict(
                Driver.objects.filter(
                    writers.one_of("license_index", wanted), affiliations__platform=self.platform
                ).values_list("license_index", "id")
            )

    def note_unknown(self, idx: str) -> None:
        if idx and idx not in self.drivers:
            self.unknown[idx] = self.unknown.get(idx, 0) + 1


def _plate(text: str | None) -> str:
    if not text:
        return ""
    return "".join(ch for ch in text.upper() if ch not in " ·•.-")[:10]


# Generic keyed merge --------------------------------------------------------------------


class _Table:
    """A fact table with a natural key (after platform) and the columns records write.

    Records of one type touch only some columns (e.g. operateArrive: arrival time, drive
    distance and time); `_merge` loads and writes just those, plus the key.
    """

    def __init__(self, model, key: tuple[str, ...]):
        self.model = model
        self.key = key
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.attname not in ("platform_id", *key)
        ]
        self.columns = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}

    def load(self, platform, keys: set, columns) -> dict:
        if not keys:
            return {}
        filters, conditions = {"platform": platform}, []
        for i, name in enumerate(self.key):
            values = {k[i] for k in keys}
            if len(values) == 1:
                filters[name] = next(iter(values))
            else:
                conditions.append(writers.one_of(name, values))
        rows = self.model.objects.filter(*conditions, **filters).values("id", *self.key, *columns)
        out = {}
        nkey = len(self.key)
        for row in rows:
            k = (row[self.key[0]],) if nkey == 1 else tuple(row[name] for name in self.key)
            if k in keys:
                out[k] = row
        return out

    def write(self, platform, rows: dict, deleted_ids: list, columns) -> None:
        """Upsert `rows` (key → values of `columns`); a new row gets defaults elsewhere."""
        if deleted_ids:
            self.model.objects.filter(pk__in=deleted_ids).delete()
        if not rows:
            return
        # Columns not written by this record type keep their stored value on update and get
        # their default on insert (None columns are simply left out: NULL).
        constants = [c for c in self.columns if c not in columns and self.defaults[c] is not None]
        fixed = tuple(self.defaults[c] for c in constants)
        insert = ("platform_id", *self.key, *columns, *constants)
        pk = platform.pk
        values = [(pk, *k, *(row[c] for c in columns), *fixed) for k, row in rows.items()]
        writers.upsert(
            self.model, ("platform_id", *self.key), insert, values, update=tuple(columns)
        )


def _merge(ctx: _Context, table: _Table, ops: list) -> list[str]:
    """Apply `ops` = [(key, own: dict, fill: dict, delete: bool, license_idx)] in order.

    Returns the status per op. `own` columns are set when given (not None); `fill` columns
    only while the stored value is empty.
    """
    touched: dict = {}
    for op in ops:
        touched.update(dict.fromkeys(op[1]))
        touched.update(dict.fromkeys(op[2]))
    columns = tuple(c for c in table.columns if c in touched)
    existing = table.load(ctx.platform, {op[0] for op in ops}, columns)
    state: dict = {k: dict(row) for k, row in existing.items()}
    defaults = {c: table.defaults[c] for c in columns}
    dirty: set = set()
    statuses = []
    for key, own, fill, delete, idx in ops:
        row = state.get(key)
        if delete:
            if row is None:
                statuses.append(UNCHANGED)
            else:
                state[key] = None
                dirty.add(key)
                statuses.append(ACCEPTED)
            continue
        new = dict(row) if row is not None else {**defaults, "id": None}
        for column, value in own.items():
            if value is not None:
                new[column] = value
        for column, value in fill.items():
            if value is not None and new.get(column) in (None, ""):
                new[column] = value
        if row is not None and new == row:
            statuses.append(UNCHANGED)
            continue
        state[key] = new
        dirty.add(key)
        statuses.append(ACCEPTED)
        if idx and new.get("driver_id") is None:
            ctx.note_unknown(idx)
    deleted_ids = [existing[k]["id"] for k in dirty if state[k] is None and k in existing]
    upserts = {k: state[k] for k in dirty if state[k] is not None}
    table.write(ctx.platform, upserts, deleted_ids, columns)
    return statuses


def _driver_cols(ctx: _Context, r: dict) -> tuple[str, int | None]:
    idx = ctx.index(r["LicenseId"])
    return idx, ctx.drivers.get(idx)


# Trips: one row per order, filled stage by stage ----------------------------------------

TRIPS = _Table(Trip, ("order_id",))


def _trip_op(ctx: _Context, rt: str, r: dict):
    own, fill = {}, {}
    idx = ""
    if "LicenseId" in r:
        idx, driver_id = _driver_cols(ctx, r)
        fill.update(license_index=idx, driver_id=driver_id)
        if "VehicleNo" in r:
            fill["vehicle_no"] = _plate(r["VehicleNo"])
    if rt == "orderCreate":
        own.update(
            order_time=r["OrderTime"],
            planned_depart_time=r.get("DepartTime"),
            origin_lng=r.get("DepLongitude"),
            origin_lat=r.get("DepLatitude"),
            dest_lng=r.get("DestLongitude"),
            dest_lat=r.get("DestLatitude"),
        )
        fill["region_code"] = r.get("Address")
    elif rt == "orderMatch":
        own.update(
            matched_at=r["DistributeTime"],
            match_lng=r.get("Longitude"),
            match_lat=r.get("Latitude"),
        )
        fill["region_code"] = r.get("Address")
    elif rt == "orderCancel":
        own.update(
            cancelled_at=r["CancelTime"],
            cancel_operator=r.get("Operator"),
            cancel_type=r.get("CancelTypeCode"),
            cancel_reason=r.get("CancelReason"),
        )
        fill.update(order_time=r.get("OrderTime"), region_code=r.get("Address"))
    elif rt == "operateDepart":
        own.update(
            departed_at=r["DepTime"], wait_km=r.get("WaitMile"), wait_seconds=r.get("WaitTime")
        )
    elif rt == "operateArrive":
        own.update(
            arrived_at=r["DestTime"], drive_km=r.get("DriveMile"), drive_seconds=r.get("DriveTime")
        )
    elif rt == "operatePay":
        own.update(
            paid_at=r.get("PayTime"),
            fare_yuan=r["FactPrice"],
            price_yuan=r.get("Price"),
            pay_state=r.get("PayState"),
        )
        fill.update(
            departed_at=r.get("DepTime"),
            arrived_at=r.get("DestTime"),
            drive_km=r.get("DriveMile"),
            drive_seconds=r.get("DriveTime"),
            wait_km=r.get("WaitMile"),
            wait_seconds=r.get("WaitTime"),
            matched_at=r.get("OrderMatchTime"),
            planned_depart_time=r.get("BookDepTime"),
            region_code=r.get("OnArea"),
        )
    return (r["OrderId"],), own, fill, False, idx


def _ingest_trips(ctx, cleaned):
    ctx.resolve(cleaned)
    return _merge(ctx, TRIPS, [_trip_op(ctx, ctx.record_type, r) for _, r in cleaned])


# Facts keyed by driver or order -----------------------------------------------------------


def _keyed(table: _Table, build):
    def handler(ctx, cleaned):
        ctx.resolve(cleaned)
        return _merge(ctx, table, [build(ctx, r) for _, r in cleaned])

    return handler


def _deleted(r: dict) -> bool:
    return r.get("Flag") == 3


def _stat_op(ctx, r):
    idx, driver_id = _driver_cols(ctx, r)
    own = {
        "order_count": r["OrderCount"],
        "traffic_violations": r["TrafficViolationCount"],
        "complaints": r["ComplainedCount"],
        "driver_id": driver_id,
    }
    return (idx, r["Cycle"]), own, {}, _deleted(r), idx


def _educate_op(ctx, r):
    idx, driver_id = _driver_cols(ctx, r)
    own = {"minutes": r["Duration"], "driver_id": driver_id}
    return (idx, r["CourseName"], r["CourseDate"]), own, {}, _deleted(r), idx


def _punish_op(ctx, r):
    idx, driver_id = _driver_cols(ctx, r)
    own = {"reason": r.get("PunishReason"), "result": r.get("PunishResult"), "driver_id": driver_id}
    return (idx, r["PunishTime"]), own, {}, False, idx


def _credit_op(ctx, r):
    idx, driver_id = _driver_cols(ctx, r)
    own = {"level": r["Level"], "department": r.get("TestDepartment"), "driver_id": driver_id}
    return (idx, r["TestDate"]), own, {}, False, idx


def _online_op(kind: str, time_field: str):
    def build(ctx, r):
        idx, driver_id = _driver_cols(ctx, r)
        own = {
            "vehicle_no": _plate(r.get("VehicleNo")) or None,
            "lng": r.get("Longitude"),
            "lat": r.get("Latitude"),
            "driver_id": driver_id,
        }
        return (idx, kind, r[time_field]), own, {}, False, idx

    return build


def _rating_op(ctx, r):
    own = {
        "service_score": r["ServiceScore"],
        "driver_score": r.get("DriverScore"),
        "vehicle_score": r.get("VehicleScore"),
        "detail": r.get("Detail"),
    }
    return (r["OrderId"], r["EvaluateTime"]), own, {}, False, ""


def _complaint_op(ctx, r):
    own = {"detail": r.get("Detail"), "result": r.get("Result")}
    return (r["OrderId"], r["ComplaintTime"]), own, {}, False, ""


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
    ctx.resolve(cleaned)
    step = max(1, settings.POSITION_SAMPLE_SECONDS)
    platform = ctx.platform
    items = []
    for _, r in cleaned:
        idx, driver_id = _driver_cols(ctx, r)
        at = r["PositionTime"]
        bucket = datetime.fromtimestamp(int(at.timestamp()) // step * step, UTC)
        items.append((idx, driver_id, at, bucket, r))
    indexes = {i[0] for i in items}
    latest = {
        row["license_index"]: row
        for row in LatestPosition.objects.filter(
            writers.one_of("license_index", indexes), platform=platform
        ).values("license_index", "at")
    }
    samples = set(
        PositionSample.objects.filter(
            writers.one_of("license_index", indexes),
            writers.one_of("at", {i[3] for i in items}),
            platform=platform,
        ).values_list("license_index", "at")
    )
    pk = platform.pk
    new_latest: dict[str, tuple] = {}
    new_samples: list[tuple] = []
    statuses = []
    for idx, driver_id, at, bucket, r in items:
        changed = False
        current = new_latest.get(idx)
        current_at = current[3] if current is not None else latest.get(idx, {}).get("at")
        if current_at is None or at > current_at:
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
            changed = True
        if (idx, bucket) not in samples:
            samples.add((idx, bucket))
            new_samples.append(
                (pk, idx, driver_id, bucket, r["Longitude"], r["Latitude"], r.get("BizStatus"))
            )
            changed = True
        statuses.append(ACCEPTED if changed else UNCHANGED)
        if changed and driver_id is None:
            ctx.note_unknown(idx)
    writers.upsert(
        LatestPosition,
        ("platform_id", "license_index"),
        _LATEST_COLUMNS,
        list(new_latest.values()),
        update=_LATEST_COLUMNS[2:],
        only_if_newer="at",
    )
    writers.upsert(
        PositionSample, ("platform_id", "license_index", "at"), _SAMPLE_COLUMNS, new_samples
    )
    return statuses


# Base data: drivers and vehicles through the drivers services ----------------------------


_FIELD_FOR_CODE = {
    "duplicate_phone": "DriverPhone",
    "bad_phone": "DriverPhone",
    "bad_checksum": "LicenseId",
    "bad_length": "LicenseId",
    "bad_component": "LicenseId",
    "bad_format": "LicenseId",
    "bad_plate": "VehicleNo",
    "duplicate_driver": "LicenseId",
}


def _ingest_drivers(ctx, cleaned):
    """baseInfoDriver. Four queries per batch (drivers, their affiliations with this platform,
    feed reports and cities) plus the service writes of the records that change something."""
    platform = ctx.platform
    wanted = {ctx.index(r["LicenseId"]) for _, r in cleaned}
    drivers = {
        d.license_index: d
        for d in Driver.objects.filter(writers.one_of("license_index", wanted)).select_related(
            "branch", "membership__branch", "membership__mobile_branch"
        )
    }
    affiliations = {
        a.driver_id: a
        for a in Affiliation.objects.filter(platform=platform, driver__in=drivers.values())
    }
    ownership = feed_ownership.load(platform, list(drivers.values()))
    statuses, touched = [], set()
    for _, r in cleaned:
        idx = ctx.index(r["LicenseId"])
        driver = drivers.get(idx)
        try:
            with transaction.atomic():
                if _deleted(r) or r.get("State") == 1:
                    status = _affiliation_end(ctx, affiliations.get(driver.pk) if driver else None)
                else:
                    driver, status = _driver_upsert(ctx, ownership, driver, affiliations, r)
                    if isinstance(status, str):
                        drivers[idx] = driver
                        touched.add(idx)
        except DomainError as exc:
            statuses.append(_reject(exc.code, _FIELD_FOR_CODE.get(exc.code, ""), str(exc.message)))
            continue
        statuses.append(status)
    ownership.save()
    if touched:
        ctx.drivers.update({idx: drivers[idx].pk for idx in touched})
        _link_known_drivers(platform, touched)
    return statuses


def _affiliation_end(ctx, affiliation: Affiliation | None) -> str:
    if affiliation is None or not affiliation.is_active:
        return UNCHANGED
    affiliation.is_active = False
    affiliation.save(update_fields=["is_active", "updated_at"])
    ctx.extra["affiliations_ended"] = ctx.extra.get("affiliations_ended", 0) + 1
    return ACCEPTED


def _driver_upsert(ctx, ownership, driver: Driver | None, affiliations: dict, r: dict):
    """Create the driver, or affiliate this platform with a driver of its city; change the
    driver's name and phone only when this feed owns the driver and its report changed."""
    platform, system = ctx.platform, ctx.system
    name, phone = r["DriverName"], r["DriverPhone"]
    if driver is None:
        driver = driver_services.driver_create(
            actor=system,
            name=name,
            license_no=r["LicenseId"],
            phone=phone,
            region_code=r.get("Address", ""),
            platforms=[platform],
        )
        affiliation = Affiliation.objects.get(driver=driver, platform=platform)
        if r.get("CertificateNo") or r.get("RegisterDate"):
            affiliation.certificate_no = r.get("CertificateNo", "")
            affiliation.joined_on = r.get("RegisterDate")
            affiliation.save(update_fields=["certificate_no", "joined_on", "updated_at"])
        affiliations[driver.pk] = affiliation
        ownership.report(driver, name, phone, created=True)
        return driver, ACCEPTED
    if not ownership.in_city(driver):
        return driver, _reject("driver_other_city", "LicenseId")
    changed = False
    affiliation = affiliations.get(driver.pk)
    if affiliation is None:
        affiliation = driver_services.affiliation_add(
            actor=system,
            driver=driver,
            platform=platform,
            certificate_no=r.get("CertificateNo", ""),
            joined_on=r.get("RegisterDate"),
        )
        changed = True
    elif not affiliation.is_active:
        affiliation.is_active = True
        affiliation.save(update_fields=["is_active", "updated_at"])
        changed = True
    if ownership.owns(driver) and ownership.is_new_report(driver, name, phone):
        # driver_update changes (and audits) only what differs from the driver.
        driver_services.driver_update(actor=system, driver=driver, name=name, phone=phone)
    changed = ownership.report(driver, name, phone) or changed
    affiliations[driver.pk] = affiliation
    return driver, ACCEPTED if changed else UNCHANGED


def _ingest_vehicles(ctx, cleaned):
    platform, system = ctx.platform, ctx.system
    plates = {r["VehicleNo"] for _, r in cleaned}
    vehicles = {v.plate: v for v in Vehicle.objects.filter(plate__in=plates)}
    # The format's vehicle record names no driver: the driver is whoever last used the plate
    # in this platform's operating data (login or order).
    users: dict[str, int] = {}
    for model, order in ((OnlineEvent, "at"), (Trip, "matched_at")):
        rows = (
            model.objects.filter(platform=platform, vehicle_no__in=plates, driver__isnull=False)
            .order_by(f"-{order}")
            .values_list("vehicle_no", "driver_id")
        )
        for plate, driver_id in rows:
            users.setdefault(plate, driver_id)
    # A feed writes vehicles only of the drivers it owns (feed_ownership.py).
    ours = feed_ownership.owned_by(
        platform, {v.driver_id for v in vehicles.values()} | set(users.values())
    )
    statuses = []
    for _, r in cleaned:
        plate = r["VehicleNo"]
        vehicle = vehicles.get(plate)
        if vehicle is None and plate in users and users[plate] not in ours:
            statuses.append(_reject("foreign_vehicle", "VehicleNo"))
            continue
        if vehicle is not None and vehicle.driver_id not in ours:
            statuses.append(_reject("foreign_vehicle", "VehicleNo"))
            continue
        if _deleted(r) or r.get("State") == 1:
            if vehicle is None:
                statuses.append(UNCHANGED)
                continue
            vehicle.delete()
            del vehicles[plate]
            ctx.extra["vehicles_deleted"] = ctx.extra.get("vehicles_deleted", 0) + 1
            statuses.append(ACCEPTED)
            continue
        wanted = {
            "brand": r.get("Brand", ""),
            "model": r.get("Model", ""),
            "seats": r.get("Seats", 5),
        }
        if vehicle is None:
            driver_id = users.get(plate)
            if driver_id is None:
                statuses.append(_reject("vehicle_driver_unknown", "VehicleNo"))
                continue
            try:
                with transaction.atomic():
                    vehicles[plate] = driver_services.vehicle_add(
                        actor=system,
                        driver=Driver.objects.get(pk=driver_id),
                        plate=plate,
                        **wanted,
                    )
            except DomainError as exc:
                statuses.append(_reject(exc.code, "VehicleNo", str(exc.message)))
                continue
            ours.add(driver_id)
            statuses.append(ACCEPTED)
            continue
        changed = [k for k, v in wanted.items() if getattr(vehicle, k) != v]
        if not changed:
            statuses.append(UNCHANGED)
            continue
        for k in changed:
            setattr(vehicle, k, wanted[k])
        vehicle.save(update_fields=[*changed, "updated_at"])
        ctx.extra["vehicles_updated"] = ctx.extra.get("vehicles_updated", 0) + 1
        statuses.append(ACCEPTED)
    return statuses


def _reject(code: str, field_name: str, message: str | None = None) -> dict:
    """A rejection found while storing; `ingest` sets its index and excerpt."""
    rejection = validation.rejection(0, field_name, code)
    if message and code not in validation.MESSAGES:
        rejection["message"] = message
    return rejection


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


def feed_conflict_resolve(
    *, actor, driver: Driver, platform_id: int | None = None, note: str = ""
) -> Driver:
    """Settle a driver's feed conflicts: take the name and phone that platform `platform_id`
    reported, or keep the driver's (None). City committee only; see feed_ownership.py."""
    return feed_ownership.resolve_conflict(
        actor=actor, driver=driver, platform_id=platform_id, note=note
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


DRIVER_FACTS = (
    Trip,
    Punishment,
    CreditLevel,
    TrainingRecord,
    DriverMonthStat,
    OnlineEvent,
    LatestPosition,
    PositionSample,
    DriverMonthMetric,
)


def _link_known_drivers(platform, license_indexes) -> int:
    """Link `platform`'s facts about these licences to their drivers, now affiliated with it,
    and mark its UnknownDriver rows resolved. Other platforms' facts wait for their own base
    record: a licence never links a platform's data to a driver who does not work for it."""
    indexes = list(license_indexes)
    driver_id = Subquery(
        Driver.objects.filter(
            license_index=OuterRef("license_index"), affiliations__platform=platform
        ).values("id")[:1]
    )
    linked = 0
    for model in DRIVER_FACTS:
        linked += model.objects.filter(
            platform=platform, license_index__in=indexes, driver__isnull=True
        ).update(driver_id=driver_id)
    UnknownDriver.objects.filter(
        platform=platform, license_index__in=indexes, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
    return linked


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
