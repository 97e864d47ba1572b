"""The soak run's exchange feed: batch n is a pure function of n, so the load generator can
build it on the fly and the exactly-once check can rebuild the set of natural keys sent.

Batches come in rounds of 12, half of them positions: six `positionDriver` batches and one
each of `orderCreate`, `orderMatch`, `operatePay` (three stages of the same orders, merged
into one Trip row each), `operateLogin`, `operateLogout` and `ratedPassenger` (for the same
orders). Every natural key is unique across the run:

- position g (0, 1, 2, … over all position batches): driver g % N, time BASE + (g // N) min
  + 7 s, so each record opens its own one-minute sample bucket (POSITION_SAMPLE_SECONDS=60);
- order o of round r (o = r·B + j): OrderId `S<o>`, driver o % N;
- online event e of round r: driver e % N, at BASE + (e // N) min (+ 30 s for the logout).
"""

from __future__ import annotations

import time

COMPANY = "SOAK510100"
LICENSE_BASE = 800_000
CYCLE = (
    "positionDriver",
    "orderCreate",
    "positionDriver",
    "orderMatch",
    "positionDriver",
    "operatePay",
    "positionDriver",
    "operateLogin",
    "positionDriver",
    "operateLogout",
    "positionDriver",
    "ratedPassenger",
)
POSITIONS_PER_ROUND = CYCLE.count("positionDriver")
# position ordinal of each cycle slot (None for the other record types)
_POSITION_SLOT = {}
for _slot, _rt in enumerate(CYCLE):
    if _rt == "positionDriver":
        _POSITION_SLOT[_slot] = len(_POSITION_SLOT)


def license_no(seq: int) -> str:
    from redwheel.testing import id_number

    return id_number(LICENSE_BASE + seq)


def f14(unix: int) -> str:
    """YYYYMMDDhhmmss in Asia/Shanghai, as the exchange format writes local times."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(unix + 8 * 3600))


def order_id(o: int) -> str:
    return f"S{o:09d}"


def describe(n: int, size: int) -> tuple[str, int, int]:
    """(record type, first ordinal, round) of batch n: the ordinal counts positions for
    position batches, orders or online events for the others."""
    rnd, slot = divmod(n, len(CYCLE))
    record_type = CYCLE[slot]
    if record_type == "positionDriver":
        return record_type, (rnd * POSITIONS_PER_ROUND + _POSITION_SLOT[slot]) * size, rnd
    return record_type, rnd * size, rnd


def batch(n: int, size: int, licenses: list[str], base: int) -> tuple[str, list[dict]]:
    """Batch n's record type and records. `base` is a minute-aligned unix time."""
    record_type, first, _rnd = describe(n, size)
    drivers = len(licenses)
    records = []
    for k in range(first, first + size):
        d = k % drivers
        lic = licenses[d]
        lng = 104_065_735 + (k * 7919) % 120_000 - 60_000
        lat = 30_657_441 + (k * 104_729) % 120_000 - 60_000
        common = {"CompanyId": COMPANY}
        if record_type == "positionDriver":
            records.append(
                common
                | {
                    "LicenseId": lic,
                    "VehicleNo": "川A12345",
                    "PositionTime": base + (k // drivers) * 60 + 7,
                    "Longitude": lng,
                    "Latitude": lat,
                    "Encrypt": 1,
                    "Speed": 30,
                    "Direction": k % 360,
                    "BizStatus": 1 + k % 4,
                }
            )
            continue
        at = base + (k // drivers) * 60
        oid = order_id(k)
        if record_type == "orderCreate":
            records.append(
                common
                | {
                    "Address": "510107",
                    "OrderId": oid,
                    "OrderTime": f14(at),
                    "DepartTime": f14(at + 300),
                    "DepLongitude": lng,
                    "DepLatitude": lat,
                    "DestLongitude": lng + 9000,
                    "DestLatitude": lat + 2000,
                    "Encrypt": 1,
                }
            )
        elif record_type == "orderMatch":
            records.append(
                common
                | {
                    "OrderId": oid,
                    "LicenseId": lic,
                    "VehicleNo": "川A12345",
                    "DistributeTime": f14(at + 60),
                    "Longitude": lng,
                    "Latitude": lat,
                    "Encrypt": 1,
                }
            )
        elif record_type == "operatePay":
            records.append(
                common
                | {
                    "OrderId": oid,
                    "LicenseId": lic,
                    "FactPrice": 23.5,
                    "Price": 25,
                    "PayState": 1,
                    "PayTime": f14(at + 1600),
                }
            )
        elif record_type in ("operateLogin", "operateLogout"):
            login = record_type == "operateLogin"
            records.append(
                common
                | {
                    "LicenseId": lic,
                    ("LoginTime" if login else "LogoutTime"): f14(at if login else at + 30),
                    "Longitude": lng,
                    "Latitude": lat,
                    "Encrypt": 2,
                }
            )
        else:  # ratedPassenger
            records.append(
                common | {"OrderId": oid, "EvaluateTime": f14(at + 2000), "ServiceScore": 3 + k % 3}
            )
    return record_type, records


def minutes_of_feed(batches: int, size: int, drivers: int) -> int:
    """How many minutes after `base` the feed's latest event lies (for choosing `base`)."""
    rounds = batches // len(CYCLE) + 1
    positions = rounds * POSITIONS_PER_ROUND * size
    return positions // drivers + 30
