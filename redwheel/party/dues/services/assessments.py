"""A member's assessment for a quarter: the basis and income figure, and what the rules make
of them. The member confirms (or corrects) their own for the current quarter; the branch may
record one from the member's declaration (on paper, by phone) for this or an earlier quarter.

The suggestion from the platforms' data (`suggestions.py`) is shown to the member only; the
service never fills in a figure from it. It only notes, on the member's own confirmation, what
the member was shown and whether they took it unchanged.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues import suggestions
from redwheel.party.dues.models import FLAT_BASES, Assessment, Basis
from redwheel.party.dues.services.common import (
    _is_self,
    _is_staff_for,
    _member_for,
    _person,
    as_rules,
    branch_of,
    now_or,
    rule_set_for,
    this_month,
)

MAX_INCOME = Decimal("10000000")
EARLIEST_QUARTER = dues_rules.DEFAULT_EFFECTIVE_FROM


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > MAX_INCOME:
        raise ValidationFailed(
            _("Enter an amount in yuan of zero or more."),
            code="bad_income",
            details={field: [_("Enter an amount in yuan of zero or more.")]},
        )
    return dues_rules.to_fen(amount)


def _figures(basis: str, income, month_incomes) -> tuple[Decimal | None, list[Decimal]]:
    """(monthly income, the previous quarter's months) for the basis, checked."""
    if basis not in Basis.values:
        raise ValidationFailed(_("Choose a basis."), details={"basis": [_("Choose a basis.")]})
    if basis in FLAT_BASES:
        return None, []
    if basis == Basis.NO_WAGE:
        months = list(month_incomes or [])
        if len(months) != 3 or any(m is None or m == "" for m in months):
            raise ValidationFailed(
                _("Enter the net income of each of the three months (0 for a month without)."),
                code="three_months_needed",
                details={"month_incomes": [_("Enter all three months.")]},
            )
        figures = [_money(m, "month_incomes") for m in months]
        return dues_rules.quarter_average(figures), figures
    if income is None or income == "":
        raise ValidationFailed(
            _("Enter the monthly income after tax."),
            code="income_needed",
            details={"income": [_("Enter the monthly income after tax.")]},
        )
    return _money(income, "income"), []


def assessment_save(
    *,
    actor,
    member,
    basis: str,
    income: Decimal | None = None,
    month_incomes: list | None = None,
    quarter: date | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Assessment:
    """Confirm (the member) or record (the branch) the member's assessment for `quarter`
    (default: the current one). Basis `no_wage` takes the three months of the previous
    quarter in `month_incomes`; `wage` and `retired` take the monthly `income`; flat bases
    take nothing. Saving again replaces the quarter's figures (the audit log keeps each)."""
    driver = _member_for(actor, member, "change")
    own = _is_self(actor, driver)
    if not own and not _is_staff_for(actor, driver):
        raise NotFound()
    now = now_or(now)
    current = dues_rules.quarter_start(this_month(now))
    quarter = dues_rules.quarter_start(quarter) if quarter is not None else current
    if own and quarter != current:
        raise ValidationFailed(
            _("You can confirm your income for the current quarter only."),
            code="current_quarter_only",
        )
    if quarter > current or quarter < EARLIEST_QUARTER:
        raise ValidationFailed(
            _("Choose the current quarter or an earlier one."),
            code="bad_quarter",
            details={"quarter": [_("Choose the current quarter or an earlier one.")]},
        )
    income_value, months = _figures(basis, income, month_incomes)
    suggested, used = None, False
    if own:
        shown = suggestions.for_member(actor, driver, quarter)
        if shown is not None and shown.has_data:
            suggested = shown.average
            used = basis == Basis.NO_WAGE and months == [
                dues_rules.to_fen(m) for m in shown.month_incomes
            ]
    branch = branch_of(driver)
    with transaction.atomic():
        rule_set = rule_set_for(branch, quarter)
        rate, amount = dues_rules.monthly_amount(as_rules(rule_set), basis, income_value)
        values = {
            "branch": branch,
            "basis": basis,
            "income": income_value,
            "month_incomes": [str(m) for m in months],
            "rate": rate,
            "monthly_amount": amount,
            "rule_set": rule_set,
            "source": Assessment.Source.MEMBER if own else Assessment.Source.BRANCH,
            "suggested_income": suggested,
            "used_suggestion": used,
            "confirmed_by": _person(actor),
            "confirmed_at": now,
            "note": note[:300],
        }
        existing = (
            Assessment.objects.select_for_update().filter(member=driver, quarter=quarter).first()
        )
        if existing is None:
            assessment = Assessment.objects.create(member=driver, quarter=quarter, **values)
        else:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save()
            assessment = existing
        audit.record(
            actor=actor,
            action="dues.assessment_confirm" if own else "dues.assessment_record",
            obj=assessment,
            summary=f"{driver.name} {dues_rules.quarter_label(quarter)} ¥{amount}",
            # The income itself is the member's private figure: the log keeps the outcome.
            data={
                "quarter": quarter.isoformat(),
                "basis": basis,
                "rate": None if rate is None else str(rate),
                "monthly_amount": str(amount),
                "rules_version": rule_set.version,
                "replaced": existing is not None,
                "used_suggestion": used,
            },
        )
    return assessment
