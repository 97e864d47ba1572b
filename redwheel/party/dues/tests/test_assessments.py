"""Assessments: the member confirms, the branch records, the quarterly average, the
suggestion from the platforms' data (never applied without the member), probation start."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from redwheel import testing
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.models import AuditEntry
from redwheel.exchange.models import DriverMonthMetric
from redwheel.party.dues import selectors, services
from redwheel.party.dues.models import Assessment, RuleSet
from redwheel.party.dues.tests.factories import member

SH = ZoneInfo("Asia/Shanghai")
MAY_2026 = datetime(2026, 5, 12, 10, 0, tzinfo=SH)  # in Q2; the previous quarter is Q1
D = Decimal


@pytest.fixture
def may():
    with time_machine.travel(MAY_2026, tick=False):
        yield


def test_member_confirms_no_wage_income_as_the_previous_quarters_average(city, may):
    m = member(city)
    a = services.assessment_save(
        actor=m.user, member=m, basis="no_wage", month_incomes=["6000", "0", "3000"]
    )
    assert a.quarter == date(2026, 4, 1)
    assert a.income == D("3000.00")  # (6000 + 0 + 3000) / 3, the empty month counted
    assert a.rate == D("0.005") and a.monthly_amount == D("15.00")
    assert a.source == Assessment.Source.MEMBER and a.confirmed_by == m.user
    assert a.month_incomes == ["6000.00", "0.00", "3000.00"]
    assert a.rule_set.version == 1  # the built-in rules, stored for the city on first use
    assert RuleSet.objects.get(city=city.root).wage_bands[0] == {"up_to": "3000", "rate": "0.005"}
    entry = AuditEntry.objects.get(action="dues.assessment_confirm")
    assert "3000" not in str(entry.data)  # the income stays out of the audit log
    assert entry.data["monthly_amount"] == "15.00"


def test_no_wage_needs_all_three_months(city, may):
    m = member(city)
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_save(actor=m.user, member=m, basis="no_wage", month_incomes=["1", ""])
    assert exc.value.code == "three_months_needed"
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("basis", "income", "amount"),
    [("wage", "8000", "120.00"), ("retired", "5000", "25.00"), ("student", None, "0.20"),
     ("unemployed", None, "0.20"), ("minimum_allowance", None, "0.20")],
)  # fmt: skip
def test_other_bases(city, may, basis, income, amount):
    m = member(city)
    a = services.assessment_save(actor=m.user, member=m, basis=basis, income=income)
    assert a.monthly_amount == D(amount)


def test_confirming_again_replaces_the_quarters_figures(city, may):
    m = member(city)
    services.assessment_save(actor=m.user, member=m, basis="wage", income="8000")
    services.assessment_save(actor=m.user, member=m, basis="wage", income="4000")
    assert Assessment.objects.get(member=m).monthly_amount == D("40.00")
    assert AuditEntry.objects.filter(action="dues.assessment_confirm").count() == 2


def test_member_confirms_the_current_quarter_only(city, may):
    m = member(city)
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_save(
            actor=m.user, member=m, basis="wage", income="1", quarter=date(2026, 1, 1)
        )
    assert exc.value.code == "current_quarter_only"


def test_branch_records_an_earlier_quarter_not_a_future_one(city, may):
    m = member(city)
    secretary = testing.staff(city.branch_a, "secretary")
    a = services.assessment_save(
        actor=secretary, member=m, basis="wage", income="4000", quarter=date(2026, 1, 15)
    )
    assert a.quarter == date(2026, 1, 1) and a.source == Assessment.Source.BRANCH
    with pytest.raises(ValidationFailed):
        services.assessment_save(
            actor=secretary, member=m, basis="wage", income="4000", quarter=date(2026, 7, 1)
        )


def test_outsiders_and_read_only_roles_cannot_assess(city, may):
    m = member(city)
    other = member(city, "他人")
    for actor in (
        other.user,  # another member
        testing.staff(city.branch_b, "secretary"),  # another platform's branch
        testing.staff(city.root, "viewer"),  # reads only
        testing.staff(testing.city().root),  # another city's committee
    ):
        with pytest.raises(NotFound):
            services.assessment_save(actor=actor, member=m, basis="wage", income="1")
    assert not Assessment.objects.exists()


def test_drivers_who_are_not_verified_members_have_no_dues(city, may):
    applicant = city.driver("申请人")
    with pytest.raises(services.NotAMember):
        services.assessment_save(actor=city.admin, member=applicant, basis="wage", income="1000")


# The suggestion --------------------------------------------------------------------------------


def _turnover(m, platform, month: date, revenue: str, orders: int = 200):
    DriverMonthMetric.objects.create(
        platform=platform, license_index=m.license_index, driver=m, month=month,
        completed_orders=orders, revenue_yuan=D(revenue),
    )  # fmt: skip


def test_the_suggestion_is_the_previous_quarters_turnover_on_every_platform(city, may):
    m = member(city)
    _turnover(m, city.platform_a, date(2026, 1, 1), "9000.00")
    _turnover(m, city.platform_b, date(2026, 1, 1), "1000.00")
    _turnover(m, city.platform_a, date(2026, 3, 1), "8000.00")
    _turnover(m, city.platform_a, date(2026, 4, 1), "99999.00")  # this quarter: not used
    s = selectors.suggestion_for(m.user, m)
    assert s.quarter == date(2026, 1, 1)
    assert s.month_incomes == [D("10000.00"), D("0"), D("8000.00")]  # February: nothing
    assert s.average == D("6000.00")


def test_the_suggestion_is_never_applied_without_the_member(city, may):
    m = member(city)
    for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
        _turnover(m, city.platform_a, month, "9000.00")
    # Data alone assesses nothing: nothing is due and the member is asked to confirm.
    dues = selectors.member_dues(m)
    assert dues.monthly_amount is None and dues.arrears == 0
    assert selectors.me_summary(m.user)["needs_confirmation"] is True
    # The branch recording figures never reads the platforms' data.
    secretary = testing.staff(city.branch_a, "secretary")
    a = services.assessment_save(actor=secretary, member=m, basis="wage", income="2000")
    assert a.suggested_income is None and a.used_suggestion is False
    assert a.monthly_amount == D("10.00")
    # The member corrects the turnover to their net income: the correction is what counts.
    a = services.assessment_save(
        actor=m.user, member=m, basis="no_wage", month_incomes=["4500", "4500", "4500"]
    )
    assert a.income == D("4500.00") and a.monthly_amount == D("45.00")
    assert a.suggested_income == D("9000.00") and a.used_suggestion is False
    # Taking the figures unchanged is the member's own act, and is recorded as such.
    a = services.assessment_save(
        actor=m.user, member=m, basis="no_wage", month_incomes=["9000", "9000", "9000"]
    )
    assert a.used_suggestion is True and a.monthly_amount == D("135.00")


def test_staff_do_not_see_a_members_suggestion_page(city, may, client):
    m = member(city)
    _turnover(m, city.platform_a, date(2026, 1, 1), "9000.00")
    other = member(city, "他人")
    assert selectors.suggestion_for(other.user, m) is None  # someone else's data: nothing


# Probation --------------------------------------------------------------------------------------


def test_probationary_member_owes_from_the_month_of_joining(city, may):
    m = member(city, category="probationary", joined=date(2026, 2, 20))
    secretary = testing.staff(city.branch_a, "secretary")
    services.assessment_save(
        actor=secretary, member=m, basis="wage", income="4000", quarter=date(2026, 1, 1)
    )
    dues = selectors.member_dues(m)
    assert dues.start == date(2026, 2, 1)
    assert dues.line(date(2026, 1, 1)) is None  # before the 入党时间: nothing owed
    assert dues.line(date(2026, 2, 1)).due == D("40.00")  # the month of joining owes
    assert dues.arrears_months == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert dues.arrears == D("120.00")
    assert dues.monthly_amount == D("40.00")  # May: Q1's assessment carried over
    assert dues.carried_over is True
