"""Writes for rule books, the points ledger and score snapshots. Each takes an `actor`.

`points_grant` is the one way points are earned, for staff pages and for other capabilities
(learning, mobilisation volunteer hours, appeals, grassroots reports) alike:

    from redwheel.scoring.services import points_grant
    points_grant(actor=SystemActor.operator("mobilization"), driver=driver,
                 rule_code="volunteer_hour", occurred_at=service.ended_at, source=service,
                 note="3 h at the airport", quantity=3)

It picks the rule book version in force at `occurred_at`, checks the rule's per-day and
per-month caps while holding a lock on the (driver, rule) row, and appends one ledger entry of
`rule.points × quantity` points (`quantity` defaults to 1), clipped to the whole units that
still fit under the caps.
With a `source` object the grant is idempotent: a second grant for the same source returns the
first entry. It raises `ValidationFailed` (no rule book / unknown rule / future time),
`Conflict` with code `points_cap_reached` (cap), and `NotFound` for drivers out of scope.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit, compulsion
from redwheel.core.dates import local_date
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import (
    SystemActor,
    acting_platform,
    can,
    is_unscoped,
    require,
)
from redwheel.drivers.models import Driver
from redwheel.scoring import lookup
from redwheel.scoring import permissions as scoring_permissions
from redwheel.scoring.models import (
    COMMUNITY_WEIGHT_MAX,
    DEDUCTION_STEPS,
    Deduction,
    PointsEntry,
    PointsLock,
    Rule,
    RuleBook,
    ScoreSnapshot,
)

NOTICE_DAYS = 30
Status = RuleBook.Status


# Who may do what -----------------------------------------------------------------------------


def may_manage_rules(actor) -> bool:
    """Rule books are the city's: operators, superusers and staff granted on a city committee
    (`orgs.permissions.is_city_committee`). There is one rule book for the deployment today."""
    return scoring_permissions.may_manage_rules(actor)


def _is_api_token(actor) -> bool:
    """A platform's API token: it reads badges and scores and writes nothing here."""
    return acting_platform(actor) is not None and not isinstance(actor, SystemActor)


def may_grant(actor, driver: Driver) -> bool:
    """Operators, or whoever may change the driver's records (staff in scope, the feed of a
    platform the driver works for); never the driver themselves."""
    if is_unscoped(actor):
        return True
    if _is_api_token(actor):
        return False
    if driver.user_id is not None and driver.user_id == getattr(actor, "pk", None):
        return False
    return can(actor, "change", driver)


def _require_rules(actor, book: RuleBook | None = None) -> None:
    if not may_manage_rules(actor):
        raise NotFound()
    if book is not None:
        require(actor, "change", book)


# Rule books -----------------------------------------------------------------------------------


def book_in_force(at: datetime | None = None) -> RuleBook | None:
    at = at or timezone.now()
    return (
        RuleBook.objects.filter(status=Status.PUBLISHED, effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )


def _copy_into(source: RuleBook, target: RuleBook) -> None:
    Rule.objects.bulk_create(
        Rule(
            book=target,
            code=r.code,
            name=r.name,
            category=r.category,
            points=r.points,
            evidence=r.evidence,
            daily_cap=r.daily_cap,
            monthly_cap=r.monthly_cap,
        )
        for r in source.rules.all()
    )
    Deduction.objects.bulk_create(
        Deduction(
            book=target,
            source=d.source,
            keyword=d.keyword,
            points=d.points,
            label=d.label,
            position=d.position,
        )
        for d in source.deductions.all()
    )


WEIGHT_FIELDS = (
    "weight_service",
    "weight_safety",
    "weight_credit",
    "weight_community",
    "community_points_cap",
    "credit_bonus_step",
)


def rulebook_draft(
    *, actor, title: str, change_note: str = "", based_on: RuleBook | None = None
) -> RuleBook:
    """A new draft version, copying rules, deductions and weights of `based_on` (by default
    the newest published version)."""
    _require_rules(actor, based_on)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("A title is required."))
    with transaction.atomic():
        last = RuleBook.objects.select_for_update().order_by("-version").first()
        based_on = based_on or RuleBook.objects.filter(status=Status.PUBLISHED).first()
        book = RuleBook(
            version=(last.version + 1) if last else 1,
            title=title[:150],
            change_note=change_note,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        if based_on is not None:
            for name in WEIGHT_FIELDS:
                setattr(book, name, getattr(based_on, name))
        book.save()
        if based_on is not None:
            _copy_into(based_on, book)
        audit.record(actor=actor, action="rulebook.draft", obj=book, summary=str(book))
    return book


def _draft(book: RuleBook) -> RuleBook:
    book = RuleBook.objects.select_for_update().get(pk=book.pk)
    if book.status != Status.DRAFT:
        raise InvalidTransition(_("Published rule books cannot be changed; draft a new version."))
    return book


def rulebook_weights_set(*, actor, book: RuleBook, **values) -> RuleBook:
    _require_rules(actor, book)
    unknown = set(values) - set(WEIGHT_FIELDS)
    if unknown:
        raise ValidationFailed(details={"fields": sorted(unknown)})
    with transaction.atomic():
        book = _draft(book)
        for name, value in values.items():
            setattr(book, name, int(value))
        weights = [
            book.weight_service,
            book.weight_safety,
            book.weight_credit,
            book.weight_community,
        ]
        if sum(weights) != 100 or min(weights) < 0:
            raise ValidationFailed(_("The four weights must add up to 100."), code="weights_sum")
        if book.weight_community > min(
            COMMUNITY_WEIGHT_MAX, book.weight_service, book.weight_safety
        ):
            raise ValidationFailed(
                _(
                    "Community points may weigh at most %(max)s and never more than service or "
                    "safety."
                )
                % {"max": COMMUNITY_WEIGHT_MAX},
                code="community_weight_cap",
            )
        if book.community_points_cap <= 0 or book.credit_bonus_step <= 0:
            raise ValidationFailed(_("Caps and steps must be positive."))
        book.save()
        audit.record(actor=actor, action="rulebook.weights", obj=book, data=values)
    return book


def rule_set(
    *,
    actor,
    book: RuleBook,
    code: str,
    name: str,
    category: str,
    points: int,
    evidence: str,
    daily_cap: int | None = None,
    monthly_cap: int | None = None,
) -> Rule:
    """Add or change a rule of a draft rule book."""
    _require_rules(actor, book)
    signals = compulsion.activity_words_in(code, name, evidence)
    if signals and compulsion.enforced():
        raise ValidationFailed(
            _(
                "Points come only from confirmed outcomes: this rule counts %(signals)s "
                "(no compulsion, /scoring/no-compulsion/)."
            )
            % {"signals": ", ".join(str(compulsion.ACTIVITY_SIGNALS[s]) for s in signals)},
            code="activity_not_outcome",
            details={"field": "evidence", "signals": signals},
        )
    if points <= 0:
        raise ValidationFailed(_("Points must be positive."), details={"field": "points"})
    for cap in (daily_cap, monthly_cap):
        if cap is not None and cap < points:
            raise ValidationFailed(_("A cap must allow at least one grant."))
    with transaction.atomic():
        book = _draft(book)
        rule, _created = Rule.objects.update_or_create(
            book=book,
            code=code,
            defaults={
                "name": name,
                "category": category,
                "points": points,
                "evidence": evidence,
                "daily_cap": daily_cap,
                "monthly_cap": monthly_cap,
            },
        )
        audit.record(
            actor=actor,
            action="rulebook.rule",
            obj=book,
            summary=code,
            data={"points": points, "daily_cap": daily_cap, "monthly_cap": monthly_cap},
        )
    return rule


def rule_remove(*, actor, book: RuleBook, code: str) -> None:
    _require_rules(actor, book)
    with transaction.atomic():
        book = _draft(book)
        book.rules.filter(code=code).delete()
        audit.record(actor=actor, action="rulebook.rule_remove", obj=book, summary=code)


def deduction_add(
    *, actor, book: RuleBook, source: str, keyword: str, points: int, label: str, position: int = 0
) -> Deduction:
    _require_rules(actor, book)
    if points not in DEDUCTION_STEPS:
        raise ValidationFailed(_("Deductions are 1, 3, 5, 10 or 20 points."))
    with transaction.atomic():
        book = _draft(book)
        row = Deduction.objects.create(
            book=book,
            source=source,
            keyword=keyword.strip(),
            points=points,
            label=label,
            position=position,
        )
        audit.record(actor=actor, action="rulebook.deduction", obj=book, summary=label)
    return row


def _only_adds_points(previous: RuleBook | None, book: RuleBook) -> bool:
    """True if no driver can end up with fewer points or a lower score or credit under `book`
    than under `previous`: rules only added or made more generous, everything else equal."""
    if previous is None:
        return True
    if any(getattr(previous, n) != getattr(book, n) for n in WEIGHT_FIELDS):
        return False
    new_rules = {r.code: r for r in book.rules.all()}

    def looser(old, new):
        return new is None or (old is not None and new >= old)

    for old in previous.rules.all():
        new = new_rules.get(old.code)
        if new is None or new.points < old.points or new.category != old.category:
            return False
        if not (looser(old.daily_cap, new.daily_cap) and looser(old.monthly_cap, new.monthly_cap)):
            return False

    def table(b):
        return sorted((d.source, d.keyword, d.points, d.position) for d in b.deductions.all())

    return table(previous) == table(book)


def rulebook_publish(
    *, actor, book: RuleBook, effective_from: datetime | None = None, now: datetime | None = None
) -> RuleBook:
    """Publish a draft. It takes effect at `effective_from`, which must be at least 30 days
    away unless the version only adds points (then it may take effect at once)."""
    _require_rules(actor, book)
    now = now or timezone.now()
    with transaction.atomic():
        book = _draft(book)
        if not book.rules.exists():
            raise ValidationFailed(_("A rule book needs at least one rule."), code="no_rules")
        previous = (
            RuleBook.objects.filter(status=Status.PUBLISHED).order_by("-effective_from").first()
        )
        only_adds = _only_adds_points(previous, book)
        earliest = now if only_adds else now + timedelta(days=NOTICE_DAYS)
        if previous is not None and previous.effective_from > earliest:
            earliest = previous.effective_from
        effective_from = effective_from or earliest
        if effective_from < earliest:
            raise ValidationFailed(
                _(
                    "This version takes something away from drivers, so it must be announced at "
                    "least %(days)s days ahead: effective no earlier than %(date)s."
                )
                % {"days": NOTICE_DAYS, "date": f"{timezone.localtime(earliest):%Y-%m-%d %H:%M}"},
                code="notice_period",
                details={"earliest": earliest.isoformat()},
            )
        book.status = Status.PUBLISHED
        book.published_at = now
        book.effective_from = effective_from
        book.only_adds_points = only_adds
        book.published_by = actor if getattr(actor, "pk", None) else None
        book.save()
        audit.record(
            actor=actor,
            action="rulebook.publish",
            obj=book,
            summary=str(book),
            data={"effective_from": effective_from.isoformat(), "only_adds_points": only_adds},
        )
    return book


# Points ledger -------------------------------------------------------------------------------


def _local_day(at: datetime):
    day = local_date(at)
    return day, day.replace(day=1)


def _lock(driver_id: int, rule_code: str) -> None:
    """Create (if needed) and lock the (driver, rule) row for the rest of the transaction."""
    PointsLock.objects.bulk_create(
        [PointsLock(driver_id=driver_id, rule_code=rule_code)], ignore_conflicts=True
    )
    PointsLock.objects.select_for_update().get(driver_id=driver_id, rule_code=rule_code)


def _used(driver_id: int, rule_code: str, **period) -> int:
    return (
        PointsEntry.objects.filter(driver_id=driver_id, rule_code=rule_code, **period).aggregate(
            n=Sum("amount")
        )["n"]
        or 0
    )


def points_grant(
    *,
    actor,
    driver: Driver,
    rule_code: str,
    occurred_at: datetime,
    source=None,
    note: str = "",
    quantity: int = 1,
) -> PointsEntry:
    """Grant `quantity` units of the rule (e.g. hours of volunteer service): `rule.points ×
    quantity` points, clipped to whole units that still fit under the day and month caps (the
    clipping is recorded in the entry's note); `points_cap_reached` when not one unit fits."""
    if not may_grant(actor, driver):
        raise NotFound()
    if isinstance(quantity, bool) or int(quantity) != quantity or quantity < 1:
        raise ValidationFailed(
            _("The quantity must be a whole number of at least 1."), code="invalid_quantity"
        )
    quantity = int(quantity)
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(
            _("Points are granted for things that already happened."), code="occurred_in_future"
        )
    book = book_in_force(occurred_at)
    if book is None:
        raise ValidationFailed(_("No rule book was in force at that time."), code="no_rule_book")
    rule = book.rules.filter(code=rule_code).first()
    if rule is None:
        raise ValidationFailed(
            _("The rule book in force has no rule %(code)s.") % {"code": rule_code},
            code="unknown_rule",
        )
    source_type = source._meta.label_lower if source is not None else ""
    source_id = str(source.pk) if source is not None else ""
    day, month = _local_day(occurred_at)
    with transaction.atomic():
        _lock(driver.pk, rule_code)
        if source_id:
            existing = PointsEntry.objects.filter(
                driver=driver,
                rule_code=rule_code,
                source_type=source_type,
                source_id=source_id,
                reverses__isnull=True,
            ).first()
            if existing is not None:
                return existing
        units, clipped_by = quantity, None
        for cap, period, label in (
            (rule.daily_cap, {"day": day}, _("day")),
            (rule.monthly_cap, {"month": month}, _("month")),
        ):
            if cap is None:
                continue
            used = _used(driver.pk, rule_code, **period)
            fits = (cap - used) // rule.points  # whole units still under the cap
            if fits < 1:
                raise Conflict(
                    _(
                        "The cap of %(cap)s points per %(period)s for this rule is reached "
                        "(%(used)s used)."
                    )
                    % {"cap": cap, "period": label, "used": used},
                    code="points_cap_reached",
                    details={"cap": cap, "used": used, "period": str(label)},
                )
            if fits < units:
                units, clipped_by = fits, (cap, label)
        amount = rule.points * units
        note = note or ""
        if clipped_by is not None:
            clipping = _(
                "Capped: %(granted)s of %(asked)s points (cap %(cap)s per %(period)s)."
            ) % {
                "granted": amount,
                "asked": rule.points * quantity,
                "cap": clipped_by[0],
                "period": clipped_by[1],
            }
            note = f"{note[: 299 - len(clipping)]} {clipping}" if note else clipping
        entry = PointsEntry.objects.create(
            driver=driver,
            rule=rule,
            rule_code=rule_code,
            amount=amount,
            occurred_at=occurred_at,
            day=day,
            month=month,
            source_type=source_type,
            source_id=source_id,
            granted_by=actor if getattr(actor, "pk", None) else None,
            actor_label=str(actor)[:120],
            note=note[:300],
        )
        audit.record(
            actor=actor,
            action="points.grant",
            obj=entry,
            summary=f"{driver.name} {rule_code} +{amount}",
            reason=note,
            data={
                "driver_id": driver.pk,
                "book": book.version,
                "quantity": quantity,
                "units_granted": units,
            },
        )
    return entry


def points_reverse(*, actor, entry: PointsEntry, reason: str) -> PointsEntry:
    """Correct a grant with a reversing entry (same rule, day and month, negative amount)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required."), code="reason_required")
    if not may_grant(actor, entry.driver) or not can(actor, "view", entry):
        raise NotFound()
    if entry.reverses_id is not None:
        raise InvalidTransition(_("A reversal cannot itself be reversed."))
    with transaction.atomic():
        _lock(entry.driver_id, entry.rule_code)
        if PointsEntry.objects.filter(reverses=entry).exists():
            raise Conflict(_("This entry is already reversed."), code="already_reversed")
        reversal = PointsEntry.objects.create(
            driver_id=entry.driver_id,
            rule_id=entry.rule_id,
            rule_code=entry.rule_code,
            amount=-entry.amount,
            occurred_at=entry.occurred_at,
            day=entry.day,
            month=entry.month,
            source_type=entry.source_type,
            source_id=entry.source_id,
            granted_by=actor if getattr(actor, "pk", None) else None,
            actor_label=str(actor)[:120],
            note=reason[:300],
            reverses=entry,
        )
        audit.record(
            actor=actor,
            action="points.reverse",
            obj=reversal,
            reason=reason,
            summary=f"{entry.rule_code} {reversal.amount:+d}",
            data={"driver_id": entry.driver_id, "reverses": entry.pk},
        )
    return reversal


# Score snapshots ------------------------------------------------------------------------------


@dataclass
class SnapshotRun:
    day: object
    stored: int


def scores_snapshot(*, actor, day=None, driver_ids=None) -> SnapshotRun:
    """Compute and store the day's scores (today in Asia/Shanghai by default) of every driver,
    or of `driver_ids`. A city-wide job: only operators (the scheduler's task, the demo) and
    superusers run it; anyone else is answered NotFound."""
    from redwheel.scoring import compute

    if not is_unscoped(actor):
        raise NotFound()
    day = day or local_date()
    results = compute.collect(day, driver_ids=driver_ids)
    rows = [
        ScoreSnapshot(
            driver_id=r.driver_id,
            day=day,
            score=r.score,
            credit_points=r.credit.points,
            credit_grade=r.credit.grade,
            book_id=r.book.pk,
            explanation=r.explanation(),
            lookup_json=lookup.snapshot_json(
                score=r.score,
                credit_grade=r.credit.grade,
                day=day,
                rule_book_version=r.book.version,
                components={row["component"]: row["contribution"] for row in r.rows},
            ),
        )
        for r in results.values()
    ]
    with transaction.atomic():
        ScoreSnapshot.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["driver", "day"],
            update_fields=[
                "score",
                "credit_points",
                "credit_grade",
                "book",
                "explanation",
                "lookup_json",
                "computed_at",
            ],
        )
        audit.record(
            actor=actor,
            action="scores.snapshot",
            summary=f"{day} · {len(rows)}",
            data={"day": day.isoformat(), "drivers": len(rows)},
        )
    return SnapshotRun(day=day, stored=len(rows))
