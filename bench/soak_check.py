"""The soak run's exactly-once check: what the load generator sent against what is stored.

Exchange records: the ledger says which batches were answered 200 with every record accepted
or unchanged ("ok") and which gave up after their retries ("failed": outcome unknown to the
client, so their records may be stored or not, but all or none since a batch is one
transaction). Each table is read back by natural key and compared with the keys the feed
module rebuilds for those batches: every key of an ok batch stored exactly once, none missing,
none duplicated, nothing stored that was never sent.

Driver actions: one case per idempotency key (double submits included), one withdrawal
activity per reason text, one consent event per badge switch, and each of those switches
delivered to the platform's webhook (at least once; repeats are counted, not failed).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import soak_feed

_STAGES = {"orderCreate": "order_time", "orderMatch": "matched_at", "operatePay": "paid_at"}


def _keys_by_type(batches: dict, size: int, drivers: int) -> dict:
    """record type -> {"ok": int64 keys, "failed": [int64 keys per failed batch]}."""
    out: dict[str, dict] = {}
    for n, outcome in batches.items():
        record_type, first, _rnd = soak_feed.describe(int(n), size)
        k = np.arange(first, first + size, dtype=np.int64)
        if record_type == "positionDriver" or record_type.startswith("operateLog"):
            keys = (k % drivers) * 1_000_000 + k // drivers  # driver, minute
        else:
            keys = k  # the order ordinal
        slot = out.setdefault(record_type, {"ok": [], "failed": []})
        slot["ok" if outcome == "ok" else "failed"].append(keys)
    for slot in out.values():
        slot["ok"] = np.concatenate(slot["ok"]) if slot["ok"] else np.zeros(0, np.int64)
    return out


def _compare(expected_ok, failed_batches, stored: np.ndarray) -> dict:
    unique, counts = np.unique(stored, return_counts=True)
    missing = np.setdiff1d(expected_ok, unique, assume_unique=False)
    extra = np.setdiff1d(unique, expected_ok)
    partial = 0
    for keys in failed_batches:
        present = np.isin(keys, unique).sum()
        if 0 < present < len(keys):
            partial += 1
        extra = np.setdiff1d(extra, keys)
    return {
        "sent_ok": len(expected_ok),
        "stored": len(stored),
        "missing": len(missing),
        "duplicated": int((counts > 1).sum()),
        "never_sent": len(extra),
        "failed_batches": len(failed_batches),
        "partly_stored_failed_batches": partial,
        "missing_examples": [int(x) for x in missing[:5]],
    }


def exchange(ledger_batches: dict, size: int, licenses: list[str], base: int, platform) -> dict:
    from django.db import connection

    from redwheel.core.crypto import blind_index

    drivers = len(licenses)
    driver_of = {blind_index(lic): d for d, lic in enumerate(licenses)}
    expected = _keys_by_type(ledger_batches, size, drivers)
    out = {}
    with connection.cursor() as cursor:

        def rows(sql):
            cursor.execute(sql, [platform.pk])
            while chunk := cursor.fetchmany(100_000):
                yield from chunk

        def minute_key(idx, epoch, offset=0):
            return driver_of.get(idx, 999_999) * 1_000_000 + (int(epoch) - offset - base) // 60

        if "positionDriver" in expected:
            stored = np.fromiter(
                (
                    minute_key(i, e)
                    for i, e in rows(
                        "SELECT license_index, EXTRACT(EPOCH FROM at) "
                        "FROM exchange_positionsample WHERE platform_id = %s"
                    )
                ),
                np.int64,
            )
            e = expected["positionDriver"]
            out["positionDriver"] = _compare(e["ok"], e["failed"], stored)
        events = list(
            rows(
                "SELECT license_index, kind, EXTRACT(EPOCH FROM at) "
                "FROM exchange_onlineevent WHERE platform_id = %s"
            )
        )
        for record_type, kind, offset in (
            ("operateLogin", "login", 0),
            ("operateLogout", "logout", 30),
        ):
            if record_type in expected:
                stored = np.array(
                    [minute_key(i, t, offset) for i, k, t in events if k == kind], np.int64
                )
                e = expected[record_type]
                out[record_type] = _compare(e["ok"], e["failed"], stored)
        trips = list(
            rows(
                "SELECT order_id, order_time IS NOT NULL, matched_at IS NOT NULL, "
                "paid_at IS NOT NULL FROM exchange_trip WHERE platform_id = %s"
            )
        )
        for column, (record_type, _name) in enumerate(_STAGES.items(), start=1):
            if record_type in expected:
                stored = np.array(
                    [int(t[0][1:]) for t in trips if t[0].startswith("S") and t[column]],
                    np.int64,
                )
                e = expected[record_type]
                out[record_type] = _compare(e["ok"], e["failed"], stored)
        # One Trip row per order, whatever stages arrived (the merge never forks a row).
        per_order = Counter(t[0] for t in trips)
        out["trip_rows"] = {
            "orders": len(per_order),
            "duplicated": sum(1 for c in per_order.values() if c > 1),
        }
        if "ratedPassenger" in expected:
            stored = np.array(
                [
                    int(o[1:])
                    for (o,) in rows("SELECT order_id FROM exchange_rating WHERE platform_id = %s")
                    if o.startswith("S")
                ],
                np.int64,
            )
            e = expected["ratedPassenger"]
            out["ratedPassenger"] = _compare(e["ok"], e["failed"], stored)
    return out


def driver_actions(ledger: dict, started_at, received: Counter) -> dict:
    from redwheel.appeals.models import Activity, Case
    from redwheel.core.models import Notification
    from redwheel.drivers.models import BadgeConsentEvent, Driver

    # Appeals: one case per (user, idempotency key).
    keys = {f["key"] for f in ledger["files"]}
    stored = Counter(
        Case.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    files = {"sent": len(ledger["files"]), "double_submits": 0, "missing": 0, "duplicated": 0}
    files["forked_answers"] = 0
    for f in ledger["files"]:
        files["double_submits"] += f["copies"] > 1
        count = stored.get(f["key"], 0)
        if count > 1:
            files["duplicated"] += 1
        elif count == 0 and f["pks"]:
            files["missing"] += 1
        if len(f["pks"]) > 1:  # the two copies of a double submit were sent to two cases
            files["forked_answers"] += 1
    files["stored"] = sum(stored.values())
    # Withdrawals: one activity per reason text, on the case it was sent for.
    texts = {w["text"]: w for w in ledger["withdraws"]}
    found = Counter(
        Activity.objects.filter(action="withdraw", note__in=list(texts)).values_list(
            "note", "case_id"
        )
    )
    withdraws = {"sent": len(texts), "missing": 0, "duplicated": 0, "wrong_case": 0}
    for text, w in texts.items():
        hits = {case: n for (note, case), n in found.items() if note == text}
        total = sum(hits.values())
        if total > 1:
            withdraws["duplicated"] += 1
        elif total == 0 and w["ok"]:
            withdraws["missing"] += 1
        elif total and set(hits) != {w["case"]}:
            withdraws["wrong_case"] += 1
    # Badge switches: one consent event per switch sent, and the last one wins.
    sent = Counter(t["driver_id"] for t in ledger["toggles"] if t["ok"])
    uncertain = {t["driver_id"] for t in ledger["toggles"] if not t["ok"]}
    events = Counter(
        BadgeConsentEvent.objects.filter(at__gte=started_at).values_list("driver_id", flat=True)
    )
    last = {t["driver_id"]: t["consented"] for t in ledger["toggles"]}
    final = dict(Driver.objects.filter(pk__in=list(last)).values_list("pk", "badge_consent"))
    toggles = {"sent": sum(sent.values()), "stored": sum(events.values())}
    toggles["missing"] = sum(
        max(0, n - events.get(d, 0)) for d, n in sent.items() if d not in uncertain
    )
    toggles["duplicated"] = sum(
        max(0, events.get(d, 0) - n) for d, n in sent.items() if d not in uncertain
    )
    toggles["wrong_final_state"] = sum(
        1 for d, v in last.items() if d not in uncertain and final.get(d) != v
    )
    # Webhooks the worker delivered for those switches (a withdrawal sends none).
    rows = list(
        Notification.objects.filter(
            channel=Notification.Channel.WEBHOOK, created_at__gte=started_at
        ).values_list("pk", "event", "status")
    )
    by_event = Counter(event for _pk, event, _s in rows)
    webhooks = {
        "queued": len(rows),
        "badge_changed": by_event.get("badge.changed", 0),
        "not_sent": sum(1 for _pk, _e, status in rows if status != Notification.Status.SENT),
        "never_received": sum(1 for pk, _e, _s in rows if received.get(pk, 0) == 0),
        "received_more_than_once": sum(1 for pk, _e, _s in rows if received.get(pk, 0) > 1),
    }
    # Every switch makes exactly one webhook row; more or fewer is a lost or doubled event.
    webhooks["badge_rows_vs_events"] = webhooks["badge_changed"] - toggles["stored"]
    return {"appeal_file": files, "appeal_withdraw": withdraws, "badge_switch": toggles} | {
        "webhooks": webhooks
    }


def badge_answers_fresh(client_post, licenses_by_driver: dict, ledger: dict) -> dict:
    """After the run, the badge look-up (through the server and its cache) must show each
    switched driver's last choice: a withdrawn consent hides the badge at once."""
    last = {t["driver_id"]: t["consented"] for t in ledger["toggles"] if t["ok"]}
    if not last:
        return {"checked": 0, "stale": 0}
    ids = [licenses_by_driver[d] for d in last]
    answer = client_post("/api/v1/badges:lookup", {"license_ids": ids})
    shown = {r["license_id"]: r["badge"] for r in answer["results"]}
    stale = sum(1 for d, v in last.items() if shown.get(licenses_by_driver[d]) != v)
    return {"checked": len(last), "stale": stale}
