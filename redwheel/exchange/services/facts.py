"""Operating facts: trips joined stage by stage from the order and operate records, and the
facts keyed by driver or order (stats, training, penalties, credit, logins, ratings).
"""

from redwheel.exchange.models import Trip
from redwheel.exchange.services.common import (
    _Context,
    _deleted,
    _driver_cols,
    _merge,
    _plate,
    _Table,
)

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
