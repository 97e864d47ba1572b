"""Reads for appeal cases, always through the viewer and the one permission mechanism.

Who sees a case is declared in `redwheel/appeals/permissions.py`: the units that held it (a
grant covers its unit's subtree, so a branch never sees another branch's cases), the
platform it concerns, the driver it is about and the contact member it is assigned to.
Anything else is "not found".
"""

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from redwheel.appeals.models import Assignment, Attachment, Case, Status
from redwheel.core.dates import month_bounds
from redwheel.core.errors import NotFound
from redwheel.core.permissions import get_or_404, scope
from redwheel.orgs.models import OrgUnit

OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.WAITING)


def visible_cases(viewer, action: str = "view") -> QuerySet:
    return scope(viewer, action, Case.objects.all())


def case_list(
    viewer,
    *,
    status: str = "",
    level: int | None = None,
    category: str = "",
    overdue: bool = False,
    q: str = "",
    unit: OrgUnit | None = None,
    now: datetime | None = None,
) -> QuerySet:
    """Cases the viewer may see (the staff list), newest first, filtered."""
    qs = visible_cases(viewer)
    if status == "open":
        qs = qs.filter(status__in=OPEN)
    elif status:
        qs = qs.filter(status=status)
    if level:
        qs = qs.filter(level=level)
    if category:
        qs = qs.filter(category=category)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if overdue:
        now = now or datetime.now(UTC)
        qs = qs.filter(status__in=OPEN).filter(
            Q(resolution_due_at__lt=now) | Q(responded_at__isnull=True, response_due_at__lt=now)
        )
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(number__iexact=q) | Q(title__icontains=q) | Q(driver__name=q))
    return qs.select_related("driver", "unit", "assignee").order_by("-created_at", "-id")


def own_cases(user) -> QuerySet:
    """The signed-in driver's own cases (of those in scope, the ones about them)."""
    return (
        visible_cases(user)
        .filter(driver__user_id=user.pk)
        .select_related("unit")
        .order_by("-created_at", "-id")
    )


def assigned_cases(user) -> QuerySet:
    """Open cases a contact party member is looking after."""
    return (
        visible_cases(user)
        .filter(assignee_id=user.pk, status__in=OPEN)
        .select_related("driver", "unit")
        .order_by("escalate_at", "id")
    )


def case_get(viewer, pk: int) -> Case:
    cases = Case.objects.select_related(
        "driver", "unit", "assignee", "platform", "punishment", "merged_into", "answered_by"
    )
    try:
        return get_or_404(viewer, "view", cases, pk=pk)
    except NotFound:
        raise Http404 from None


def timeline(case: Case, *, for_driver: bool) -> QuerySet:
    qs = case.activities.select_related("unit", "actor").prefetch_related("attachments")
    if for_driver:
        qs = qs.filter(visible_to_driver=True)
    return qs.order_by("at", "id")


def merge_targets(viewer, case: Case) -> QuerySet:
    return (
        visible_cases(viewer)
        .filter(driver_id=case.driver_id, status__in=OPEN)
        .exclude(pk=case.pk)
        .order_by("-created_at")[:20]
    )


def punishments_of(driver):
    from redwheel.exchange.models import Punishment

    return (
        Punishment.objects.filter(driver=driver)
        .select_related("platform")
        .order_by("-punished_at")[:50]
    )


def attachment_get(viewer, pk: int) -> Attachment:
    try:
        return get_or_404(viewer, "view", Attachment.objects.all(), pk=pk)
    except NotFound:
        raise Http404 from None


# Accountability ------------------------------------------------------------------------------


@dataclass
class UnitMonth:
    unit: OrgUnit
    received: int
    answered: int
    response_on_time: float | None
    resolution_on_time: float | None
    escalations: int
    satisfaction: float | None
    median_hours: float | None
    rank: int = 0

    @property
    def on_time_rate(self) -> float:
        return self.resolution_on_time if self.resolution_on_time is not None else -1.0


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def accountability(viewer, month: date) -> list[UnitMonth]:
    """Per unit in the viewer's scope, for cases received in `month` (Asia/Shanghai):
    received, answered, on-time response and resolution rates, escalations out of the unit,
    satisfaction and the median time to answer. Ranked by on-time resolution, then response.
    """
    start, end = month_bounds(month)
    # Stints of cases the viewer may see, at units the viewer may see: a branch ranks itself,
    # not the level above that took its escalated cases.
    rows = scope(viewer, "view", Assignment.objects.all()).filter(
        started_at__gte=start,
        started_at__lt=end,
        unit__in=scope(viewer, "view", OrgUnit.objects.all()),
    )
    grouped = rows.values("unit").annotate(
        received=Count("id"),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        resp_yes=Count("id", filter=Q(responded_on_time=True)),
        resp_known=Count("id", filter=Q(responded_on_time__isnull=False)),
        res_yes=Count("id", filter=Q(answered_on_time=True)),
        res_known=Count("id", filter=Q(answered_on_time__isnull=False)),
        escalated=Count(
            "id", filter=Q(end__in=[Assignment.End.ESCALATED, Assignment.End.AUTO_ESCALATED])
        ),
        sat_yes=Count("id", filter=Q(satisfied=True)),
        sat_known=Count("id", filter=Q(satisfied__isnull=False)),
    )
    durations: dict[int, list[float]] = {}
    for unit_id, seconds in rows.filter(answer_seconds__isnull=False).values_list(
        "unit", "answer_seconds"
    ):
        durations.setdefault(unit_id, []).append(seconds)
    units = OrgUnit.objects.in_bulk([row["unit"] for row in grouped])
    result = []
    for row in grouped:
        spent = durations.get(row["unit"])
        result.append(
            UnitMonth(
                unit=units[row["unit"]],
                received=row["received"],
                answered=row["answered"],
                response_on_time=_pct(row["resp_yes"], row["resp_known"]),
                resolution_on_time=_pct(row["res_yes"], row["res_known"]),
                escalations=row["escalated"],
                satisfaction=_pct(row["sat_yes"], row["sat_known"]),
                median_hours=round(statistics.median(spent) / 3600, 1) if spent else None,
            )
        )
    result.sort(
        key=lambda r: (
            -r.on_time_rate,
            -(r.response_on_time if r.response_on_time is not None else -1),
            -r.received,
            r.unit.path,
        )
    )
    for index, row in enumerate(result, start=1):
        row.rank = index
    return result


def status_counts(viewer) -> dict[str, int]:
    qs = visible_cases(viewer)
    return dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def intake_units(viewer) -> QuerySet:
    """The units whose drivers the viewer may record appeals for at the intake desk."""
    return scope(viewer, "change", OrgUnit.objects.all())


def driver_for_intake(viewer, number: str):
    """The driver whose full mobile or licence number this is, among those the viewer may
    change; None if there is none (so nothing leaks about drivers outside scope)."""
    import re

    from redwheel.core import crypto
    from redwheel.drivers.models import Driver

    compact = re.sub(r"\s+", "", number or "").upper()
    if len(compact) < 11:
        return None
    index = crypto.blind_index(compact)
    return (
        scope(viewer, "change", Driver.objects.all())
        .filter(Q(phone_index=index) | Q(license_index=index))
        .first()
    )
