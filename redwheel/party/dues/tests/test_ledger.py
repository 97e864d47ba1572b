"""The payment ledger: append-only, corrections as reversing entries, arrears, extras."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from redwheel import testing
from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.core.models import AuditEntry
from redwheel.party.dues import selectors, services
from redwheel.party.dues.models import Payment
from redwheel.party.dues.tests.factories import member

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


@pytest.fixture
def may():
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=SH), tick=False):
        yield


@pytest.fixture
def assessed(city, may):
    """A member owing ¥40.00 a month from January 2026 (the branch recorded Q1)."""
    m = member(city)
    secretary = testing.staff(city.branch_a, "secretary")
    services.assessment_save(
        actor=secretary, member=m, basis="wage", income="4000", quarter=date(2026, 1, 1)
    )
    return m, secretary


def pay(actor, m, period, amount="40.00", **extra):
    extra.setdefault("method", "cash")
    return services.payment_record(actor=actor, member=m, period=period, amount=amount, **extra)


def test_arrears_are_the_unpaid_past_months(assessed):
    m, secretary = assessed
    pay(secretary, m, date(2026, 1, 1))
    pay(secretary, m, date(2026, 3, 1), amount="25.00")  # part of March
    dues = selectors.member_dues(m)
    assert dues.arrears_months == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert dues.arrears == D("40.00") + D("15.00") + D("40.00")
    assert dues.months_in_arrears == 3
    assert dues.monthly_amount == D("40.00")  # May, carried over from Q1
    assert dues.outstanding_this_month == D("40.00")  # due, but not in arrears yet


def test_several_months_at_once_and_paid_by_someone_else(assessed):
    m, secretary = assessed
    rows = pay(
        secretary, m, date(2026, 1, 1), months=4, method="wechat", receipt_no="R-7",
        paid_by_name="妻子 李某",
    )  # fmt: skip
    assert [r.period for r in rows] == [date(2026, m_, 1) for m_ in (1, 2, 3, 4)]
    assert {r.paid_by_name for r in rows} == {"妻子 李某"}
    assert {r.recorded_by for r in rows} == {secretary}
    assert selectors.member_dues(m).arrears == 0
    assert AuditEntry.objects.filter(action="dues.payment_record").count() == 1


def test_a_voluntary_extra_never_counts_against_dues(assessed):
    m, secretary = assessed
    pay(secretary, m, date(2026, 1, 1), amount="100.00", voluntary=True)
    dues = selectors.member_dues(m)
    assert dues.line(date(2026, 1, 1)).outstanding == D("40.00")
    assert dues.voluntary_total == D("100.00")
    assert dues.arrears == D("160.00")  # January to April


def test_an_overpayment_does_not_cover_another_month(assessed):
    m, secretary = assessed
    pay(secretary, m, date(2026, 1, 1), amount="160.00")
    dues = selectors.member_dues(m)
    assert dues.line(date(2026, 1, 1)).outstanding == 0
    assert dues.arrears == D("120.00")  # February to April still open


def test_a_correction_is_a_reversing_entry(assessed):
    m, secretary = assessed
    (wrong,) = pay(secretary, m, date(2026, 1, 1), amount="400.00")
    reversal = services.payment_reverse(actor=secretary, payment=wrong, reason="多记了一个零")
    assert reversal.amount == D("-400.00") and reversal.reverses == wrong
    assert reversal.period == wrong.period
    wrong.refresh_from_db()
    assert wrong.amount == D("400.00")  # the original stays as it was
    assert selectors.member_dues(m).line(date(2026, 1, 1)).paid == 0
    with pytest.raises(Conflict):
        services.payment_reverse(actor=secretary, payment=wrong, reason="again")
    with pytest.raises(Conflict):
        services.payment_reverse(actor=secretary, payment=reversal, reason="undo")
    with pytest.raises(ValidationFailed):
        services.payment_reverse(actor=secretary, payment=wrong, reason=" ")
    assert Payment.objects.count() == 2


def test_ledger_rows_refuse_update_and_delete(assessed):
    m, secretary = assessed
    (entry,) = pay(secretary, m, date(2026, 1, 1))
    entry.amount = D("1.00")
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        Payment.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(TypeError):
        Payment.objects.filter(pk=entry.pk).delete()
    assert Payment.objects.get(pk=entry.pk).amount == D("40.00")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_raw_updates_of_the_ledger(assessed):
    m, secretary = assessed
    (entry,) = pay(secretary, m, date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Payment._meta.db_table} SET amount = 1 WHERE id = %s", [entry.pk])


def test_the_member_does_not_record_their_own_payments(assessed):
    m, _secretary = assessed
    with pytest.raises(NotFound):
        pay(m.user, m, date(2026, 1, 1))
    for outsider in (
        testing.staff(m.membership.branch, "viewer"),
        testing.staff(m.membership.branch, "instructor"),
        testing.staff(testing.city().root),
    ):
        with pytest.raises(NotFound):
            pay(outsider, m, date(2026, 1, 1))
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"amount": "0"}, "amount"), ({"amount": "-5"}, "amount"), ({"method": "gold"}, "method"),
     ({"months": 13}, "months"), ({"period": date(2027, 6, 1)}, "period"),
     ({"paid_on": date(2026, 5, 13)}, "paid_on")],
)  # fmt: skip
def test_bad_payments_are_refused(assessed, changes, field):
    m, secretary = assessed
    kwargs = {"period": date(2026, 1, 1), "amount": "40.00", "method": "cash", **changes}
    with pytest.raises(ValidationFailed) as exc:
        services.payment_record(actor=secretary, member=m, **kwargs)
    assert field in exc.value.details
    assert not Payment.objects.exists()


def test_paying_a_year_ahead_is_allowed(assessed):
    m, secretary = assessed
    rows = pay(secretary, m, date(2027, 5, 1))
    assert rows[0].period == date(2027, 5, 1)
    assert selectors.member_dues(m).line(date(2027, 5, 1)).paid == D("40.00")
