"""Party dues over JSON: a member's dues status for staff in scope (and for the member
themself), from the browser session. Platforms get nothing here: dues are party matters and
money (no token scope reads them). Out of scope → 404."""

from datetime import date
from decimal import Decimal

from ninja import Field, Router, Schema

from redwheel.core.api_auth import session_auth
from redwheel.core.api_schemas import error_responses
from redwheel.party.dues import selectors

router = Router(tags=["party-dues"], auth=session_auth)


class DuesStatusOut(Schema):
    member_id: int
    name: str
    branch: str
    month: date = Field(description="The current month (first day).")
    monthly_amount: Decimal | None = Field(
        description="Due this month after any approved relief; null when not assessed."
    )
    basis: str | None = Field(description="wage, no_wage, retired, student, unemployed, …")
    assessed_quarter: date | None = Field(description="The quarter of the assessment used.")
    carried_over: bool = Field(description="The assessment is of an earlier quarter.")
    paid_this_month: Decimal
    arrears: Decimal = Field(description="Outstanding amounts of the months before this one.")
    months_in_arrears: int
    arrears_months: list[date]
    needs_confirmation: bool = Field(description="The member's income for this quarter is due.")


@router.get(
    "/party/dues/members/{member_id}",
    response={200: DuesStatusOut, **error_responses(404)},
    summary="A member's party dues status (staff session)",
)
def dues_status(request, member_id: int):
    member = selectors.member_get(request.auth, member_id)
    dues = selectors.member_dues(member)
    current = dues.current
    return DuesStatusOut(
        member_id=member.pk,
        name=member.name,
        branch=member.membership.branch.name,
        month=dues.month,
        monthly_amount=dues.monthly_amount,
        basis=current.basis if current else None,
        assessed_quarter=current.quarter if current else None,
        carried_over=dues.carried_over,
        paid_this_month=dues.paid_this_month,
        arrears=dues.arrears,
        months_in_arrears=dues.months_in_arrears,
        arrears_months=dues.arrears_months,
        needs_confirmation=selectors.needs_confirmation(dues, member),
    )
