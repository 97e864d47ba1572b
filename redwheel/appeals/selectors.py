"""Reads for appeal cases, always through the viewer.

A staff member sees the cases that any unit in their scope has held (their subtree), so a
branch never sees another branch's cases; a driver sees their own; a contact member also
sees the cases assigned to them. Anything else is "not found".
"""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from redwheel.accounts.permissions import SystemActor, scope
from redwheel.appeals import deadlines
from redwheel.appeals.models import Assignment, Case, Status
from redwheel.orgs.models import OrgUnit

OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.WAITING)


def _units(viewer, action: str = "view") -> QuerySet:
    return scope(viewer, action, OrgUnit.objects.all())


def _handled_q(viewer) -> Q:
    held = Assignment.objects.filter(Q(unit__in=_units(viewer)) | Q(assignee_id=viewer.pk))
    return Q(id__in=held.values("case_id"))


def visible_cases(viewer) -> QuerySet:
    if isinstance(viewer, SystemActor):
        return Case.objects.all()
    if not getattr(viewer, "is_authenticated", False):
        return Case.objects.none()
    return Case.objects.filter(Q(driver__user_id=viewer.pk) | _handled_q(viewer))


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
    """Cases the viewer handles (staff list), newest first, filtered."""
    qs = (
        Case.objects.filter(_handled_q(viewer))
        if not isinstance(viewer, SystemActor)
        else Case.objects.all()
    )
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
        now = now or datetime.now(deadlines.UTC)
        qs = qs.filter(status__in=OPEN).filter(
            Q(resolution_due_at__lt=now) | Q(responded_at__isnull=True, response_due_at__lt=now)
        )
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(number__iexact=q) | Q(title__icontains=q) | Q(driver__name=q))
    return qs.select_related("driver", "unit", "assignee").order_by("-created_at", "-id")


def own_cases(user) -> QuerySet:
    return (
        Case.objects.filter(driver__user_id=user.pk)
        .select_related("unit")
        .order_by("-created_at", "-id")
    )


def assigned_cases(user) -> QuerySet:
    """Cases a contact party member is looking after."""
    return (
        Case.objects.filter(assignee_id=user.pk, status__in=OPEN)
        .select_related("driver", "unit")
        .order_by("escalate_at", "id")
    )


def case_get(viewer, pk: int) -> Case:
    case = (
        visible_cases(viewer)
        .filter(pk=pk)
        .select_related(
            "driver", "unit", "assignee", "platform", "punishment", "merged_into", "answered_by"
        )
        .first()
    )
    if case is None:
        raise Http404
    return case


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


def attachment_get(viewer, pk: int):
    from redwheel.appeals.models import Attachment

    attachment = Attachment.objects.filter(pk=pk, case__in=visible_cases(viewer)).first()
    if attachment is None:
        raise Http404
    return attachment


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


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=deadlines.TZ)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def accountability(viewer, month: date) -> list[UnitMonth]:
    """Per unit in the viewer's scope, for cases received in `month` (Asia/Shanghai):
    received, answered, on-time response and resolution rates, escalations out of the unit,
    satisfaction and the median time to answer. Ranked by on-time resolution, then response.
    """
    start, end = month_bounds(month)
    rows = Assignment.objects.filter(
        started_at__gte=start, started_at__lt=end, unit__in=_units(viewer)
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
    qs = (
        Case.objects.filter(_handled_q(viewer))
        if not isinstance(viewer, SystemActor)
        else Case.objects.all()
    )
    return dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


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
