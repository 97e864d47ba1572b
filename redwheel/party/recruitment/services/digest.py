"""The weekly digest: each branch secretary (a `secretary` grant on the branch) gets one inbox
message per ISO week listing the cases of their branches whose current step is overdue or due
within the next two weeks.

Exactly once per (secretary, ISO week), even with several workers running the job at once:
the `DigestSent` row is inserted first, in the same transaction as the notification; a
second worker's insert waits for the first one's commit and then fails on the unique
constraint, so it sends nothing (its savepoint rolls back)."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.accounts.models import Grant, Role
from redwheel.core.dates import local_date
from redwheel.core.notifications import notify_user
from redwheel.party.recruitment.models import OPEN_STATES, Case, DigestSent
from redwheel.party.recruitment.services.common import steps_of

DUE_WITHIN = timedelta(days=14)


def iso_week(day) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def due_cases(today):
    return (
        Case.objects.filter(
            state__in=OPEN_STATES, due_on__isnull=False, due_on__lte=today + DUE_WITHIN
        )
        .select_related("driver", "branch", "version")
        .order_by("due_on", "id")
    )


def send_weekly_digests(*, now: datetime | None = None) -> dict:
    """Send this week's digests not sent yet. Returns {"sent": n, "skipped": n}."""
    today = local_date(now or timezone.now())
    week = iso_week(today)
    by_branch = defaultdict(list)
    for case in due_cases(today):
        by_branch[case.branch_id].append(case)
    grants = Grant.objects.filter(
        role=Role.SECRETARY, unit_id__in=list(by_branch), user__is_active=True
    ).select_related("user")
    per_secretary = defaultdict(list)
    for grant in grants:
        per_secretary[grant.user].extend(by_branch[grant.unit_id])
    sent = skipped = 0
    for secretary, cases in per_secretary.items():
        if DigestSent.objects.filter(secretary=secretary, week=week).exists():
            skipped += 1
            continue
        try:
            with transaction.atomic():
                row = DigestSent.objects.create(secretary=secretary, week=week, cases=len(cases))
                [note] = notify_user(
                    user=secretary,
                    event="recruitment.digest",
                    title=_digest_title(week, cases, today),
                    body=_digest_body(cases, today),
                    payload={"week": week, "case_ids": [c.pk for c in cases]},
                )
                DigestSent.objects.filter(pk=row.pk).update(notification_id=note.pk)
            sent += 1
        except IntegrityError:
            skipped += 1  # another worker sent this secretary's digest of the week
    return {"sent": sent, "skipped": skipped, "week": week}


def _digest_title(week: str, cases, today) -> str:
    overdue = sum(1 for c in cases if c.due_on < today)
    return _("Recruitment %(week)s: %(n)s due, %(o)s overdue") % {
        "week": week,
        "n": len(cases),
        "o": overdue,
    }


def _digest_body(cases, today) -> str:
    lines = []
    for case in cases[:50]:
        step = steps_of(case.version).get(case.current_step)
        marker = _("OVERDUE") if case.due_on < today else _("due")
        lines.append(
            f"{case.driver.name} · {case.branch.name} · {case.current_step} "
            f"{step.name if step else ''} · {marker} {case.due_on:%Y-%m-%d}"
        )
    if len(cases) > 50:
        lines.append(_("… and %(n)s more") % {"n": len(cases) - 50})
    return "\n".join(lines)
