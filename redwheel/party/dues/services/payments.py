"""The payment ledger: append-only entries recorded by the branch. A mistake is corrected by a
reversing entry (the negative of the original), never by changing or deleting one. RedWheel
records what was paid, how and with which receipt; it moves no money."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.dates import local_date, month_start, next_month
from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.core.permissions import get_or_404
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import Method, Payment
from redwheel.party.dues.services.common import (
    _is_staff_for,
    _member_for,
    _person,
    branch_of,
    now_or,
    this_month,
)

MAX_AMOUNT = Decimal("1000000")
MAX_MONTHS = 12
# How far ahead a member may pay (months after the current one).
MAX_AHEAD = 12


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ValidationFailed(
            _("Enter an amount in yuan above zero."),
            code="bad_amount",
            details={"amount": [_("Enter an amount in yuan above zero.")]},
        )
    return dues_rules.to_fen(amount)


def payment_record(
    *,
    actor,
    member,
    period: date,
    amount: Decimal,
    method: str,
    receipt_no: str = "",
    paid_by_name: str = "",
    months: int = 1,
    voluntary: bool = False,
    paid_on: date | None = None,
    note: str = "",
    now: datetime | None = None,
) -> list[Payment]:
    """Record that `amount` was paid for each of `months` consecutive months from `period`
    (so three months at ¥15.00 are three entries of ¥15.00). `voluntary` marks an extra
    payment beyond dues, which never counts against them. `paid_by_name` names someone else
    who paid for the member. Only the member's branch (or above) records, not the member."""
    driver = _member_for(actor, member, "change")
    if not _is_staff_for(actor, driver):
        raise NotFound()
    now = now_or(now)
    amount = _amount(amount)
    if method not in Method.values:
        raise ValidationFailed(_("Choose how it was paid."), details={"method": [_("Choose.")]})
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise ValidationFailed(
            _("Record from 1 to 12 months at a time."), details={"months": [_("1 to 12.")]}
        )
    if period is None:
        raise ValidationFailed(_("Choose the month."), details={"period": [_("Choose the month.")]})
    period = month_start(period)
    latest = this_month(now)
    for _i in range(MAX_AHEAD):
        latest = next_month(latest)
    periods = [period]
    while len(periods) < months:
        periods.append(next_month(periods[-1]))
    if periods[0] < dues_rules.DEFAULT_EFFECTIVE_FROM or periods[-1] > latest:
        raise ValidationFailed(
            _("Months can be paid up to a year ahead."),
            code="bad_period",
            details={"period": [_("Months can be paid up to a year ahead.")]},
        )
    today = local_date(now)
    paid_on = paid_on or today
    if paid_on > today:
        raise ValidationFailed(
            _("The payment date cannot be in the future."),
            details={"paid_on": [_("The payment date cannot be in the future.")]},
        )
    branch = branch_of(driver)
    with transaction.atomic():
        rows = [
            Payment.objects.create(
                member=driver,
                branch=branch,
                period=p,
                amount=amount,
                voluntary=bool(voluntary),
                method=method,
                receipt_no=receipt_no.strip()[:40],
                paid_by_name=paid_by_name.strip()[:60],
                paid_on=paid_on,
                note=note[:300],
                recorded_by=_person(actor),
            )
            for p in periods
        ]
        audit.record(
            actor=actor,
            action="dues.payment_record",
            obj=rows[0],
            summary=f"{driver.name} {periods[0]:%Y-%m}×{months} ¥{amount}",
            data={
                "entries": [r.pk for r in rows],
                "amount": str(amount),
                "method": method,
                "voluntary": bool(voluntary),
                "paid_by_other": bool(paid_by_name.strip()),
            },
        )
    return rows


def payment_reverse(*, actor, payment: Payment, reason: str) -> Payment:
    """Correct an entry by adding its reversal (same month, negative amount). An entry is
    reversed at most once; a reversal is not reversed (record the payment again instead)."""
    entry = get_or_404(
        actor,
        "change",
        Payment.objects.select_related("member", "member__membership"),
        pk=getattr(payment, "pk", None),
    )
    if not _is_staff_for(actor, entry.member):
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the entry is reversed."), details={"reason": [_("Say why.")]}
        )
    if entry.is_reversal:
        raise Conflict(_("A reversal cannot be reversed; record the payment again instead."))
    try:
        with transaction.atomic():
            reversal = Payment.objects.create(
                member=entry.member,
                branch=entry.branch,
                period=entry.period,
                amount=-entry.amount,
                voluntary=entry.voluntary,
                method=entry.method,
                receipt_no=entry.receipt_no,
                paid_by_name=entry.paid_by_name,
                paid_on=local_date(),
                reverses=entry,
                note=reason[:300],
                recorded_by=_person(actor),
            )
            audit.record(
                actor=actor,
                action="dues.payment_reverse",
                obj=reversal,
                summary=f"{entry.member.name} {entry.period:%Y-%m} −¥{entry.amount}",
                reason=reason[:300],
                data={"reverses": entry.pk},
            )
    except IntegrityError as exc:
        raise Conflict(_("This entry has already been reversed."), code="already_reversed") from exc
    return reversal
